//! The block-level state machine handed to commonware's `stateful` actor:
//! how a leader builds a block, how a validator checks one, and what
//! happens once a block is final.
//!
//! `stateful` forks QMDB batches from the parent's state for us, keeps the
//! result of each pending block, applies the finalized one and recovers
//! after a crash (see docs/adr/0002).

use crate::{chain::ChainEvents, mempool::Mempool, metrics::NodeMetrics};
use commonware_consensus::{
    marshal::ancestry::Ancestry, simplex::scheme::ed25519::Scheme, types::Height,
};
use commonware_cryptography::{BatchEntry, BatchVerifier, Digestible};
use commonware_glue::stateful::{Application, Finality, Input, Proposed, db::DatabaseSet};
use commonware_runtime::Clock;
use futures::StreamExt;
use std::{sync::Arc, time::Duration};
use tracechain_executor::{BlockEnv, build_block, capture, execute_block};
use tracechain_state::{BlockBatches, Databases, store::Roots};
use tracechain_types::{
    Block, Digest, Header, Payload, PublicKey, Transaction,
    block::{BlockContext, MAX_BLOCK_TX_BYTES, MAX_BLOCK_TXS, tx_root},
    genesis::FoundingOrganisation,
    recent::Recent,
    transaction::TX_NAMESPACE,
};
use tracing::{debug, warn};

/// How blocks are paced and bounded.
#[derive(Clone, Copy, Debug)]
pub struct BlockPolicy {
    /// A leader with pending transactions waits at least this long after the
    /// parent's timestamp, so transactions arriving together share a block.
    pub min_interval: Duration,
    /// A leader with nothing to include still proposes (an empty block)
    /// after this long, so time and finality keep moving.
    pub max_interval: Duration,
    /// How far ahead of a validator's clock a block timestamp may be.
    pub max_future_drift: Duration,
    pub max_txs: usize,
    pub max_bytes: usize,
}

impl Default for BlockPolicy {
    fn default() -> Self {
        Self {
            min_interval: Duration::from_millis(50),
            max_interval: Duration::from_millis(500),
            max_future_drift: Duration::from_secs(2),
            max_txs: MAX_BLOCK_TXS,
            max_bytes: MAX_BLOCK_TX_BYTES,
        }
    }
}

/// Why a received block is rejected (logged; the vote is "no").
#[derive(Debug, thiserror::Error)]
pub enum Rejection {
    #[error("height {found} does not follow parent height {parent}")]
    Height { parent: u64, found: u64 },
    #[error("parent digest does not match")]
    Parent,
    #[error("timestamp {found} is not after the parent's {parent}")]
    TimestampNotAfterParent { parent: u64, found: u64 },
    #[error("timestamp {found} is more than the allowed drift ahead of local time {now}")]
    TimestampInFuture { now: u64, found: u64 },
    #[error("transaction count or root does not match the transactions")]
    Transactions,
    #[error("block is over the size limits")]
    TooLarge,
    #[error("a transaction signature is invalid")]
    Signature,
    #[error("execution: {0}")]
    Execution(String),
    #[error("roots after execution do not match the header")]
    Roots,
}

/// The application: chain parameters plus shared handles.
#[derive(Clone)]
pub struct App {
    chain_id: Arc<str>,
    founding: Arc<Vec<FoundingOrganisation>>,
    genesis: Arc<Block>,
    mempool: Mempool,
    events: ChainEvents,
    policy: BlockPolicy,
    metrics: NodeMetrics,
    /// The blocks this node built or processed, by digest (a peer's block
    /// often extends this node's own proposal).
    processed: Arc<Recent<Digest, Processed>>,
}

/// What this node learned building or processing a block.
#[derive(Clone)]
struct Processed {
    /// A block's checks need only its parent's header; asking glue's
    /// ancestry for the parent makes marshal read, decompress and decode
    /// the whole parent block (1.8–2.4 s of a 25 s catch-up,
    /// BENCHMARKS.md). A digest names one header.
    header: Header,
    /// Positions of its failed transactions: handed on with the block once
    /// it is finalized, so followers need not read every receipt back.
    failed_at: Arc<[u32]>,
}

/// Processed blocks remembered: the finalized tip and the forks above it.
const PROCESSED_BLOCKS: usize = 256;

impl App {
    pub fn new(
        chain_id: &str,
        founding: Vec<FoundingOrganisation>,
        genesis: Block,
        mempool: Mempool,
        events: ChainEvents,
        policy: BlockPolicy,
        metrics: NodeMetrics,
    ) -> Self {
        let processed = Recent::new(PROCESSED_BLOCKS);
        processed.insert(
            genesis.header.digest(),
            Processed {
                header: genesis.header.clone(),
                failed_at: Arc::new([]),
            },
        );
        Self {
            chain_id: chain_id.into(),
            founding: Arc::new(founding),
            genesis: Arc::new(genesis),
            mempool,
            events,
            policy,
            metrics,
            processed: Arc::new(processed),
        }
    }

    fn env(&self, height: u64, timestamp_ms: u64) -> BlockEnv {
        BlockEnv {
            chain_id: self.chain_id.to_string(),
            height,
            timestamp_ms,
            founding: self.founding.clone(),
            acting: Default::default(),
        }
    }

    /// Waits until there is something worth proposing, or until an empty
    /// block is due.
    async fn pace<E: Clock>(&self, context: &E, parent_ms: u64) {
        let min_due = parent_ms + self.policy.min_interval.as_millis() as u64;
        let max_due = parent_ms + self.policy.max_interval.as_millis() as u64;
        loop {
            let now = now_ms(context);
            if now >= max_due || (now >= min_due && !self.mempool.is_empty()) {
                return;
            }
            let step = if now < min_due { min_due - now } else { 10 };
            context
                .sleep(Duration::from_millis(step.clamp(1, 10)))
                .await;
        }
    }

    /// Checks everything about a block that does not need its execution.
    fn check_shape<E: Clock + rand_core::CryptoRng>(
        &self,
        context: &mut E,
        block: &Block,
        parent: &Header,
        finality: Finality,
    ) -> Result<(), Rejection> {
        let header = &block.header;
        if header.height != parent.height + 1 {
            return Err(Rejection::Height {
                parent: parent.height,
                found: header.height,
            });
        }
        if header.parent != parent.digest() {
            return Err(Rejection::Parent);
        }
        if header.timestamp_ms <= parent.timestamp_ms {
            return Err(Rejection::TimestampNotAfterParent {
                parent: parent.timestamp_ms,
                found: header.timestamp_ms,
            });
        }
        if block.txs.len() > self.policy.max_txs {
            return Err(Rejection::TooLarge);
        }
        if header.tx_count as usize != block.txs.len() || header.tx_root != tx_root(&block.txs) {
            return Err(Rejection::Transactions);
        }
        if finality == Finality::Candidate {
            // Clock-dependent, so only for voting: a finalized block was
            // already accepted by a quorum.
            let now = now_ms(&*context);
            let limit = now + self.policy.max_future_drift.as_millis() as u64;
            if header.timestamp_ms > limit {
                return Err(Rejection::TimestampInFuture {
                    now,
                    found: header.timestamp_ms,
                });
            }
            self.check_signatures(context, &block.txs)?;
        }
        Ok(())
    }

    /// Batch-verifies the signatures this node has not already verified on
    /// their way into its mempool.
    fn check_signatures<E: rand_core::CryptoRng>(
        &self,
        rng: &mut E,
        txs: &[Transaction],
    ) -> Result<(), Rejection> {
        let unverified: Vec<(&Transaction, bytes::Bytes)> = txs
            .iter()
            .filter(|tx| !self.mempool.is_verified(tx))
            .map(|tx| (tx, commonware_codec::Encode::encode(tx.body())))
            .collect();
        if unverified.is_empty() {
            return Ok(());
        }
        // The runtime's randomness is unpredictable to whoever built the batch.
        let ok = PublicKey::verify_batch(
            rng,
            &unverified,
            |_, (tx, message)| BatchEntry {
                namespace: TX_NAMESPACE,
                message,
                public_key: tx.sender(),
                signature: tx.signature(),
            },
            &commonware_parallel::Sequential,
        );
        if ok {
            Ok(())
        } else {
            Err(Rejection::Signature)
        }
    }
}

/// Milliseconds since the Unix epoch on the runtime's clock.
pub fn now_ms<E: Clock>(context: &E) -> u64 {
    context
        .current()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or_default()
}

fn header_with_roots(
    context: BlockContext,
    parent: &Block,
    timestamp_ms: u64,
    txs: &[Transaction],
    roots: &Roots,
) -> Header {
    Header {
        context,
        height: parent.header.height + 1,
        parent: parent.digest(),
        timestamp_ms,
        tx_root: tx_root(txs),
        tx_count: txs.len() as u32,
        state_root: roots.state_root,
        state_ops_root: roots.state_ops_root,
        state_floor: roots.state_floor,
        state_size: roots.state_size,
        log_root: roots.log_root,
        log_floor: roots.log_floor,
        log_size: roots.log_size,
        lookup_root: roots.lookup_root,
        lookup_floor: roots.lookup_floor,
        lookup_size: roots.lookup_size,
    }
}

fn roots_match(header: &Header, roots: &Roots) -> bool {
    header.state_root == roots.state_root
        && header.state_ops_root == roots.state_ops_root
        && header.state_floor == roots.state_floor
        && header.state_size == roots.state_size
        && header.log_root == roots.log_root
        && header.log_floor == roots.log_floor
        && header.log_size == roots.log_size
        && header.lookup_root == roots.lookup_root
        && header.lookup_floor == roots.lookup_floor
        && header.lookup_size == roots.lookup_size
}

/// Sync targets a header commits to: what state sync and `stateful`
/// compare executed state against.
pub fn sync_targets_of<E>(header: &Header) -> <Databases<E> as DatabaseSet<E>>::SyncTargets
where
    E: tracechain_state::store::StorageContext,
{
    use commonware_storage::{mmr::Location, qmdb::sync::Target};
    use commonware_utils::non_empty_range;
    (
        Target::new(
            header.state_ops_root,
            non_empty_range!(
                Location::new(header.state_floor),
                Location::new(header.state_size)
            ),
        ),
        Target::new(
            header.log_root,
            non_empty_range!(
                Location::new(header.log_floor),
                Location::new(header.log_size)
            ),
        ),
        Target::new(
            header.lookup_root,
            non_empty_range!(
                Location::new(header.lookup_floor),
                Location::new(header.lookup_size)
            ),
        ),
    )
}

impl<E> Application<E> for App
where
    E: tracechain_state::store::StorageContext + rand_core::CryptoRng,
{
    type SigningScheme = Scheme;
    type Context = BlockContext;
    type Block = Block;
    type Databases = Databases<E>;
    type Captured = ();
    type Provider = ();
    type Input = ();

    fn sync_targets(block: &Block) -> <Databases<E> as DatabaseSet<E>>::SyncTargets {
        sync_targets_of::<E>(&block.header)
    }

    async fn genesis(&mut self) -> Block {
        self.genesis.as_ref().clone()
    }

    async fn propose(
        &mut self,
        context: (E, BlockContext),
        ancestry: impl Ancestry<Block>,
        batches: <Databases<E> as DatabaseSet<E>>::Unmerkleized,
        _input: Input<(), ()>,
    ) -> Option<Proposed<Self, E>> {
        let (runtime, consensus) = context;
        let mut ancestry = ancestry;
        let parent = ancestry.next().await?;
        let parent = parent.inner();
        self.pace(&runtime, parent.header.timestamp_ms).await;

        let timestamp_ms = now_ms(&runtime).max(parent.header.timestamp_ms + 1);
        let env = self.env(parent.header.height + 1, timestamp_ms);
        let candidates = self
            .mempool
            .candidates(self.policy.max_txs, self.policy.max_bytes);
        let mut store = BlockBatches::new(batches);
        let (txs, summary) = match build_block(&mut store, &env, candidates).await {
            Ok(built) => built,
            Err(err) => {
                warn!(%err, "could not build a block");
                return None;
            }
        };
        let (merkleized, roots) = match store.merkleize().await {
            Ok(done) => done,
            Err(err) => {
                warn!(%err, "could not merkleize a proposal");
                return None;
            }
        };
        debug!(
            height = env.height,
            txs = txs.len(),
            failed = summary.failed(),
            "proposing"
        );
        let header = header_with_roots(consensus, parent, timestamp_ms, &txs, &roots);
        self.processed.insert(
            header.digest(),
            Processed {
                header: header.clone(),
                failed_at: summary.failed_at.into(),
            },
        );
        Some(Proposed {
            block: Block { header, txs },
            merkleized,
        })
    }

    async fn process(
        &mut self,
        context: (E, BlockContext),
        ancestry: impl Ancestry<Block>,
        batches: <Databases<E> as DatabaseSet<E>>::Unmerkleized,
        finality: Finality,
    ) -> Option<<Databases<E> as DatabaseSet<E>>::Merkleized> {
        let (mut runtime, _) = context;
        let mut ancestry = ancestry;
        let block = ancestry.next().await?;
        let block = block.inner();
        let parent = match self.processed.get(&block.header.parent) {
            Some(processed) => processed.header,
            None => ancestry.next().await?.inner().header.clone(),
        };
        let result = self
            .process_block(&mut runtime, block, &parent, batches, finality)
            .await;
        match result {
            Ok(merkleized) => Some(merkleized),
            Err(rejection) => {
                warn!(height = block.header.height, %rejection, ?finality, "rejecting block");
                self.metrics.rejected_blocks.inc();
                None
            }
        }
    }

    async fn capture(
        &mut self,
        _context: (E, BlockContext),
        _block: &Block,
        _batches: &<Databases<E> as DatabaseSet<E>>::Merkleized,
        _readers: <Databases<E> as DatabaseSet<E>>::Readers,
    ) {
    }

    async fn finalized(
        &mut self,
        _context: (E, BlockContext),
        block: &Block,
        _captured: (),
        _readers: <Databases<E> as DatabaseSet<E>>::Readers,
    ) {
        self.mempool.remove_included(&block.txs);
        let processed = self.processed.get(&block.header.digest());
        self.events
            .finalized(block, processed.map(|processed| processed.failed_at));
        let metrics = &self.metrics;
        metrics.finalized_height.set(block.header.height as i64);
        metrics.finalized_txs.inc_by(block.txs.len() as u64);
        metrics.mempool_txs.set(self.mempool.len() as i64);
        metrics.mempool_bytes.set(self.mempool.bytes() as i64);
    }
}

impl App {
    async fn process_block<E>(
        &self,
        runtime: &mut E,
        block: &Block,
        parent: &Header,
        batches: <Databases<E> as DatabaseSet<E>>::Unmerkleized,
        finality: Finality,
    ) -> Result<<Databases<E> as DatabaseSet<E>>::Merkleized, Rejection>
    where
        E: tracechain_state::store::StorageContext + rand_core::CryptoRng,
    {
        self.check_shape(runtime, block, parent, finality)?;
        prewarm_documents(runtime, block);
        let env = self.env(block.header.height, block.header.timestamp_ms);
        let mut store = BlockBatches::new(batches);
        let timer = self.metrics.execute_duration.timer(runtime);
        let summary = execute_block(&mut store, &env, &block.txs)
            .await
            .map_err(|e| Rejection::Execution(e.to_string()))?;
        timer.observe(runtime);
        let timer = self.metrics.merkleize_duration.timer(runtime);
        let (merkleized, roots) = store
            .merkleize()
            .await
            .map_err(|e| Rejection::Execution(e.to_string()))?;
        timer.observe(runtime);
        if !roots_match(&block.header, &roots) {
            return Err(Rejection::Roots);
        }
        self.processed.insert(
            block.header.digest(),
            Processed {
                header: block.header.clone(),
                failed_at: summary.failed_at.into(),
            },
        );
        Ok(merkleized)
    }
}

/// Starts parsing the block's capture documents from the end on another
/// thread while execution parses them from the start (see
/// `capture::prewarm_backwards`), unless the last one is cached already —
/// as on a validator that admitted them.
fn prewarm_documents<E: commonware_runtime::Spawner>(runtime: &E, block: &Block) {
    let captures: Vec<Transaction> = block
        .txs
        .iter()
        .filter(|tx| matches!(tx.payload(), Payload::Capture { .. }))
        .cloned()
        .collect();
    match captures.last() {
        Some(last) if captures.len() > 1 && !capture::is_parsed(last) => {}
        _ => return,
    }
    runtime
        .child("prewarm")
        .shared(true)
        .spawn(move |_| async move { capture::prewarm_backwards(&captures) });
}

/// Height type conversion for callers outside consensus.
pub fn height(value: u64) -> Height {
    Height::new(value)
}
