//! Feeds the query index (derived data, ARCHITECTURE decision 5) from
//! finalized, applied blocks, in height order, off the consensus path.
//!
//! It follows the chain by height rather than by notification, so after a
//! restart — or if the index file is deleted — it simply catches up from
//! the block archive: the index is always rebuildable from the blocks.

use crate::handle::NodeHandle;
use std::{collections::HashMap, sync::Arc, time::Duration};
use tracechain_executor::capture::capture_events;
use tracechain_index::{BlockUpdate, Compaction, EventMeta, Index, IndexedEvent};
use tracechain_state::{domain, records, store::StorageContext};
use tracechain_types::{Block, Payload, PublicKey};
use tracing::{debug, warn};

/// Most blocks written in one index transaction.
const CATCH_UP_BATCH: u64 = 64;
/// Updates after which a transaction is closed even if more blocks wait.
const BATCH_UPDATES: usize = 20_000;
/// The index is compacted (ADR 0021) once the chain has been idle this
/// long…
const COMPACT_AFTER_IDLE_MS: u64 = 30_000;
/// …and at least this many updates were indexed since the last time.
const COMPACT_AFTER_UPDATES: usize = 100_000;
/// Under load, the least time from the start of one index transaction to
/// the start of the next: blocks finalized meanwhile share one transaction,
/// so the tables keyed at random (names, event hashes) copy each touched
/// page once for more events.
const GATHER_UNDER_LOAD_MS: u64 = 1_000;
/// A round that wrote at least this many updates means load.
const LOAD_UPDATES: usize = 1_000;

/// What one finalized block adds to the index: applied captures' events and
/// error declarations, and applied recalls.
pub async fn block_updates<E: StorageContext + rand_core::CryptoRng>(
    node: &NodeHandle<E>,
    block: &Block,
) -> Result<Vec<BlockUpdate>, records::RecordError> {
    let mut updates = Vec::new();
    // A block holds many captures from few agents.
    let mut organisations: HashMap<&PublicKey, Option<String>> = HashMap::new();
    for (index, tx) in block.txs.iter().enumerate() {
        if !node.applied_in(block, index).await? {
            continue;
        }
        match tx.payload() {
            Payload::Capture { .. } => {
                let organisation = match organisations.get(tx.sender()) {
                    Some(known) => known.clone(),
                    None => {
                        let found = domain::agent(node.reader(), tx.sender())
                            .await?
                            .map(|agent| agent.organisation);
                        organisations.insert(tx.sender(), found.clone());
                        found
                    }
                };
                let Some(organisation) = organisation else {
                    continue;
                };
                let Ok(events) = capture_events(tx) else {
                    continue;
                };
                for event in events.iter() {
                    if event.error_declaration.is_some() {
                        updates.push(BlockUpdate::DeclaredInError {
                            original: event.hash(),
                            declaration: tx.id().0,
                        });
                        continue;
                    }
                    let meta = EventMeta {
                        organisation: organisation.clone(),
                        height: block.header.height,
                        block_time_ms: block.header.timestamp_ms,
                        tx: tx.id().0,
                    };
                    updates.push(BlockUpdate::Event(IndexedEvent::from_epcis(event, meta)));
                }
            }
            Payload::AcceptHandoff { handoff, .. } => {
                if let Some(update) = handoff_event(node, block, tx, handoff).await? {
                    updates.push(update);
                }
            }
            Payload::Recall { target, reason } => {
                let Ok(id) = tracechain_epcis::Identifier::parse(target.trim()) else {
                    continue;
                };
                updates.push(BlockUpdate::Recalled {
                    identifier: id.canonical().to_string(),
                    by_tx: tx.id().0,
                    reason: reason.clone(),
                });
            }
            _ => {}
        }
    }
    Ok(updates)
}

/// The EPCIS event an accepted hand-off was recorded as (kept in state by
/// the executor, so it is indexed exactly as hashed).
async fn handoff_event<E: StorageContext + rand_core::CryptoRng>(
    node: &NodeHandle<E>,
    block: &Block,
    tx: &tracechain_types::Transaction,
    handoff: &tracechain_types::Digest,
) -> Result<Option<BlockUpdate>, records::RecordError> {
    let Some(done) = tracechain_state::parcels::handoff(node.reader(), &handoff.0).await? else {
        return Ok(None);
    };
    let Ok(events) = tracechain_epcis::parse_capture(&done.event_json).map(|c| c.into_events())
    else {
        return Ok(None);
    };
    Ok(events.first().map(|event| {
        BlockUpdate::Event(IndexedEvent::from_epcis(
            event,
            EventMeta {
                organisation: done.proposal.to.clone(),
                height: block.header.height,
                block_time_ms: block.header.timestamp_ms,
                tx: tx.id().0,
            },
        ))
    }))
}

/// Indexes every applied block, forever.
///
/// Each block is turned into index updates as soon as it is finalized,
/// while its documents are still parsed in memory (the shared parse cache
/// holds a second or two of them at full load); the updates are written
/// when due, under load a gathering interval apart (see [`gather_wait`]).
pub async fn run<E: StorageContext + rand_core::CryptoRng>(node: NodeHandle<E>, index: Arc<Index>) {
    let mut watch = node.events().watch();
    let mut compaction = CompactionPolicy::default();
    let mut pending = Pending::default();
    let mut last_round = Round::default();
    loop {
        let more = match pending.prepare(&node, &index).await {
            Ok(more) => more,
            Err(err) => {
                warn!(%err, "preparing index updates failed; retrying");
                pending = Pending::default();
                false
            }
        };
        let now_ms = node.now_ms();
        if pending.due(&last_round, now_ms) {
            last_round = Round {
                started_ms: now_ms,
                written: pending.write(&index),
            };
            compaction.indexed(last_round.written, node.now_ms());
        }
        if compaction.due(node.now_ms()) {
            compaction.ran(index.compact());
        }
        if more {
            continue;
        }
        // A new block, the end of a gathering interval, or a periodic check
        // (after a restart nothing new may be applied for a while, yet the
        // archive is ahead of the index).
        let wait = last_round.gathering(node.now_ms()).unwrap_or(IDLE_CHECK);
        futures::future::select(Box::pin(watch.changed()), Box::pin(node.sleep(wait))).await;
    }
}

/// How often an idle indexer looks for blocks it was not told about.
const IDLE_CHECK: Duration = Duration::from_millis(500);

/// The last write to the index.
#[derive(Default)]
struct Round {
    started_ms: u64,
    written: usize,
}

impl Round {
    /// How much longer blocks should gather before the next write.
    fn gathering(&self, now_ms: u64) -> Option<Duration> {
        gather_wait(self.written, now_ms.saturating_sub(self.started_ms))
    }
}

/// Updates of finalized blocks not written to the index yet.
#[derive(Default)]
struct Pending {
    blocks: Vec<(u64, Vec<BlockUpdate>)>,
    updates: usize,
    /// The next height to prepare; read from the index when unknown.
    next: Option<u64>,
}

impl Pending {
    /// Prepares the updates of every finalized block not prepared yet, up
    /// to one transaction's worth; `true` when more blocks are waiting.
    async fn prepare<E: StorageContext + rand_core::CryptoRng>(
        &mut self,
        node: &NodeHandle<E>,
        index: &Index,
    ) -> Result<bool, IndexingError> {
        let Some(applied) = node.finalized().await.map(|f| f.height) else {
            return Ok(false);
        };
        let mut next = match self.next {
            Some(next) => next,
            None => index.indexed_height()?.map_or(1, |h| h + 1),
        };
        while next <= applied && !self.full() {
            let Some(block) = node.block(next).await else {
                break;
            };
            let rows = block_updates(node, &block).await?;
            self.updates += rows.len();
            self.blocks.push((next, rows));
            next += 1;
            self.next = Some(next);
        }
        Ok(next <= applied && self.full())
    }

    fn full(&self) -> bool {
        self.updates >= BATCH_UPDATES || self.blocks.len() as u64 >= CATCH_UP_BATCH
    }

    /// Whether to write now, given the last write.
    fn due(&self, last: &Round, now_ms: u64) -> bool {
        !self.blocks.is_empty() && (self.full() || last.gathering(now_ms).is_none())
    }

    /// Writes the prepared blocks in one transaction; returns how many
    /// updates it wrote. On failure the blocks are prepared again.
    fn write(&mut self, index: &Index) -> usize {
        let blocks = std::mem::take(&mut self.blocks);
        let updates = std::mem::take(&mut self.updates);
        let (from, to) = match (blocks.first(), blocks.last()) {
            (Some(first), Some(last)) => (first.0, last.0),
            _ => return 0,
        };
        match index.apply_blocks(blocks) {
            Ok(()) => {
                debug!(from, to, "indexed");
                updates
            }
            Err(err) => {
                warn!(%err, "indexing failed; retrying");
                self.next = None;
                0
            }
        }
    }
}

/// How long to let blocks gather before the next round, given what the
/// last round wrote and how long it took: nothing unless under load.
fn gather_wait(written: usize, elapsed_ms: u64) -> Option<Duration> {
    (written >= LOAD_UPDATES && elapsed_ms < GATHER_UNDER_LOAD_MS)
        .then(|| Duration::from_millis(GATHER_UNDER_LOAD_MS - elapsed_ms))
}

/// When to compact: after enough indexing, once the chain is idle.
#[derive(Default)]
struct CompactionPolicy {
    updates_since: usize,
    last_update_ms: u64,
}

impl CompactionPolicy {
    fn indexed(&mut self, updates: usize, now_ms: u64) {
        if updates > 0 {
            self.updates_since += updates;
            self.last_update_ms = now_ms;
        }
    }

    fn due(&self, now_ms: u64) -> bool {
        self.updates_since >= COMPACT_AFTER_UPDATES
            && now_ms.saturating_sub(self.last_update_ms) >= COMPACT_AFTER_IDLE_MS
    }

    fn ran(&mut self, outcome: Result<Compaction, tracechain_index::IndexError>) {
        match outcome {
            // A query was running: try again on the next round.
            Ok(Compaction::ReadersActive) => {}
            Ok(done) => {
                debug!(?done, "index compacted");
                self.updates_since = 0;
            }
            Err(err) => {
                warn!(%err, "index compaction failed");
                self.updates_since = 0;
            }
        }
    }
}

#[derive(Debug, thiserror::Error)]
enum IndexingError {
    #[error(transparent)]
    Index(#[from] tracechain_index::IndexError),
    #[error(transparent)]
    State(#[from] records::RecordError),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compaction_waits_for_enough_indexing_and_an_idle_chain() {
        let mut policy = CompactionPolicy::default();
        policy.indexed(COMPACT_AFTER_UPDATES - 1, 1_000);
        assert!(!policy.due(1_000 + COMPACT_AFTER_IDLE_MS));
        policy.indexed(1, 2_000);
        assert!(!policy.due(2_000 + COMPACT_AFTER_IDLE_MS - 1));
        assert!(policy.due(2_000 + COMPACT_AFTER_IDLE_MS));
        // Nothing indexed in a round does not restart the idle clock.
        policy.indexed(0, 40_000);
        assert!(policy.due(40_000));
        // Readers in the way: still due; done: not again until more indexing.
        policy.ran(Ok(Compaction::ReadersActive));
        assert!(policy.due(40_000));
        policy.ran(Ok(Compaction::Compacted));
        assert!(!policy.due(1_000_000));
    }

    #[test]
    fn prepared_blocks_are_written_when_gathered_or_full() {
        let mut pending = Pending::default();
        let loaded = Round {
            started_ms: 10_000,
            written: LOAD_UPDATES,
        };
        assert!(!pending.due(&Round::default(), 0), "nothing to write");
        pending.blocks.push((1, Vec::new()));
        pending.updates = 1;
        assert!(pending.due(&Round::default(), 0), "light traffic: at once");
        assert!(!pending.due(&loaded, 10_500), "under load: gathering");
        assert!(pending.due(&loaded, 10_000 + GATHER_UNDER_LOAD_MS));
        pending.updates = BATCH_UPDATES;
        assert!(pending.due(&loaded, 10_500), "a full transaction goes now");
    }

    #[test]
    fn blocks_gather_only_under_load() {
        // Light traffic: the next block is indexed as soon as it is applied.
        assert_eq!(gather_wait(LOAD_UPDATES - 1, 0), None);
        // Load: the next round starts a gathering interval after this one.
        assert_eq!(
            gather_wait(LOAD_UPDATES, 300),
            Some(Duration::from_millis(GATHER_UNDER_LOAD_MS - 300))
        );
        // A round that took the whole interval goes straight on.
        assert_eq!(gather_wait(50_000, GATHER_UNDER_LOAD_MS), None);
    }
}
