//! Feeds the query index (derived data, ARCHITECTURE decision 5) from
//! finalized, applied blocks, in height order, off the consensus path.
//!
//! It follows the chain by height rather than by notification, so after a
//! restart — or if the index file is deleted — it simply catches up from
//! the block archive: the index is always rebuildable from the blocks.

use crate::handle::NodeHandle;
use std::{collections::HashMap, sync::Arc, time::Duration};
use tracechain_executor::capture::parse_document;
use tracechain_index::{BlockUpdate, Compaction, EventMeta, Index, IndexedEvent};
use tracechain_state::{domain, records, store::StorageContext};
use tracechain_types::{Block, Outcome, Payload, PublicKey};
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
    for tx in &block.txs {
        let applied = records::receipt(node.reader(), &tx.id())
            .await?
            .is_some_and(|r| r.outcome == Outcome::Applied);
        if !applied {
            continue;
        }
        match tx.payload() {
            Payload::Capture { document } => {
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
                let Ok(events) = parse_document(document) else {
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
pub async fn run<E: StorageContext + rand_core::CryptoRng>(node: NodeHandle<E>, index: Arc<Index>) {
    let mut watch = node.events().watch();
    let mut compaction = CompactionPolicy::default();
    loop {
        // Blocks finalized while a batch is written go into the next one
        // together: under load, one transaction covers several blocks.
        let started_ms = node.now_ms();
        let written = match catch_up(&node, &index).await {
            Ok(updates) => updates,
            Err(err) => {
                warn!(%err, "indexing failed; retrying");
                0
            }
        };
        compaction.indexed(written, node.now_ms());
        if compaction.due(node.now_ms()) {
            compaction.ran(index.compact());
        }
        if let Some(wait) = gather_wait(written, node.now_ms().saturating_sub(started_ms)) {
            node.sleep(wait).await;
            continue;
        }
        // A new block, or a periodic check (after a restart nothing new may
        // be applied for a while, yet the archive is ahead of the index).
        futures::future::select(
            Box::pin(watch.changed()),
            Box::pin(node.sleep(Duration::from_millis(500))),
        )
        .await;
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

/// Indexes every applied block not indexed yet; returns how many updates
/// it wrote.
async fn catch_up<E: StorageContext + rand_core::CryptoRng>(
    node: &NodeHandle<E>,
    index: &Index,
) -> Result<usize, IndexingError> {
    let Some(applied) = node.finalized().await.map(|f| f.height) else {
        return Ok(0);
    };
    let mut written = 0;
    let mut next = index.indexed_height()?.map_or(1, |h| h + 1);
    while next <= applied {
        let last = applied.min(next + CATCH_UP_BATCH - 1);
        let mut batch = Vec::new();
        let mut updates = 0;
        for height in next..=last {
            let Some(block) = node.block(height).await else {
                break;
            };
            let rows = block_updates(node, &block).await?;
            updates += rows.len();
            batch.push((height, rows));
            if updates >= BATCH_UPDATES {
                break;
            }
        }
        if batch.is_empty() {
            break;
        }
        let reached = batch.last().map(|(h, _)| *h).unwrap_or(next);
        index.apply_blocks(batch)?;
        written += updates;
        debug!(from = next, to = reached, "indexed");
        next = reached + 1;
    }
    Ok(written)
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
