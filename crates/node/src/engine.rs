//! Wires one node's consensus stack, generic over the runtime and the p2p
//! network, so the same code runs on tokio with authenticated TCP and on the
//! deterministic runtime with the simulated network:
//!
//! ```text
//! tx gossip ─► mempool ◄── API
//!                 │
//! simplex ◄─► Deferred ◄─► stateful (App: build / verify / execute)
//!    │                         ▲ finalized blocks, in order
//!    └──► marshal ─────────────┘  (archives, backfill from peers)
//! ```

use crate::{
    application::{App, BlockPolicy},
    chain::ChainEvents,
    gossip::{self, TxGossip},
    mempool::Mempool,
    metrics::NodeMetrics,
    statesync::NoStateSync,
};
use commonware_broadcast::buffered;
use commonware_consensus::{
    Reporter,
    marshal::{
        self,
        core::{Actor as MarshalActor, Mailbox as MarshalMailbox},
        resolver::p2p as marshal_resolver,
        standard::{Deferred, Standard},
    },
    simplex::{
        self,
        config::{ForwardPolicy, SkipPolicy},
        elector::RoundRobin,
        scheme::ed25519::Scheme,
    },
    types::{Epoch, FixedEpocher, ViewDelta},
};
use commonware_cryptography::{
    Digested, Digestible, Sha256, Signer, certificate::ConstantProvider,
};
use commonware_glue::stateful::{
    Config as StatefulConfig, Mailbox as StatefulMailbox, Stateful, SyncPlan, db::SyncEngineConfig,
};
use commonware_p2p::{Blocker, Provider, Receiver, Sender};
use commonware_parallel::Sequential;
use commonware_runtime::{Handle, Quota, buffer::paged::CacheRef};
use commonware_storage::{archive::prunable, translator::TwoCap};
use commonware_utils::{NZDuration, NZU32, NZU64, NZUsize, ordered::Set};
use std::time::Duration;
use tracechain_state::{LogDb, LookupDb, StateDb, StorageConfig, store::StorageContext};
use tracechain_types::{Block, Genesis, PrivateKey, PublicKey};

pub use tracechain_types::consensus_namespace;

/// p2p channels, in the order [`Channels`] holds them.
pub const CHANNEL_VOTES: u64 = 0;
pub const CHANNEL_CERTIFICATES: u64 = 1;
pub const CHANNEL_CONSENSUS_RESOLVER: u64 = 2;
pub const CHANNEL_BACKFILL: u64 = 3;
pub const CHANNEL_BLOCKS: u64 = 4;
pub const CHANNEL_STATE_SYNC: u64 = 5;
pub const CHANNEL_TXS: u64 = 6;

/// Every channel with its per-peer rate limit.
pub fn channel_quotas() -> Vec<(u64, Quota)> {
    // p2p preallocates each channel's inbox at peers × burst messages (and
    // the router's at their sum): a burst equal to the rate cost ~750 MB
    // per node before it did anything. A burst of 1,024 messages still
    // covers a block's worth of votes, certificates and gossip batches.
    let generous = Quota::per_second(NZU32!(50_000)).allow_burst(NZU32!(1_024));
    vec![
        (CHANNEL_VOTES, generous),
        (CHANNEL_CERTIFICATES, generous),
        (CHANNEL_CONSENSUS_RESOLVER, generous),
        (CHANNEL_BACKFILL, generous),
        (CHANNEL_BLOCKS, generous),
        (CHANNEL_STATE_SYNC, generous),
        (CHANNEL_TXS, generous),
    ]
}

/// Largest p2p message: a full block plus framing, or a certificate.
pub fn max_message_size(participants: u32) -> u32 {
    let sizes = [
        simplex::max_payload_size::<Scheme, tracechain_types::Digest>(participants),
        marshal::max_payload_size::<Standard<Block>, Scheme>(participants, &()),
        gossip::MAX_BATCH_BYTES,
    ];
    let biggest = sizes.into_iter().max().unwrap_or(gossip::MAX_BATCH_BYTES);
    u32::try_from(biggest + 64 * 1024).unwrap_or(u32::MAX)
}

/// One registered channel: (sender, receiver).
pub type Channel<S, R> = (S, R);

/// The node's p2p channels, registered by the caller on its network.
pub struct Channels<S, R> {
    pub votes: Channel<S, R>,
    pub certificates: Channel<S, R>,
    pub consensus_resolver: Channel<S, R>,
    pub backfill: Channel<S, R>,
    pub blocks: Channel<S, R>,
    pub state_sync: Channel<S, R>,
    pub txs: Channel<S, R>,
}

impl<S, R> Channels<S, R> {
    /// Takes channels in [`channel_quotas`] order.
    pub fn from_ordered(channels: Vec<Channel<S, R>>) -> Option<Self> {
        let mut it = channels.into_iter();
        Some(Self {
            votes: it.next()?,
            certificates: it.next()?,
            consensus_resolver: it.next()?,
            backfill: it.next()?,
            blocks: it.next()?,
            state_sync: it.next()?,
            txs: it.next()?,
        })
    }
}

/// Tunables that differ between production and simulation.
#[derive(Clone, Debug)]
pub struct EngineConfig {
    /// Prefix of every storage partition of this node.
    pub partition_prefix: String,
    pub block_policy: BlockPolicy,
    pub leader_timeout: Duration,
    pub certification_timeout: Duration,
    pub timeout_retry: Duration,
    pub fetch_timeout: Duration,
    /// Pages (4 KiB) of storage cache.
    pub cache_pages: usize,
    /// Operations per state journal section (see `StorageConfig`).
    pub state_section_ops: std::num::NonZeroU64,
}

impl EngineConfig {
    pub fn new(partition_prefix: impl Into<String>) -> Self {
        Self {
            partition_prefix: partition_prefix.into(),
            block_policy: BlockPolicy::default(),
            leader_timeout: Duration::from_secs(2),
            certification_timeout: Duration::from_secs(3),
            timeout_retry: Duration::from_secs(1),
            fetch_timeout: Duration::from_secs(2),
            cache_pages: 16_384,
            state_section_ops: tracechain_state::db::STATE_SECTION_OPS,
        }
    }
}

/// The marshal mailbox type of a tracechain node.
pub type Marshal = MarshalMailbox<Scheme, Standard<Block>>;

/// Handles to a running node's stack.
pub struct Started<E: StorageContext + rand_core::CryptoRng> {
    pub marshal: Marshal,
    pub stateful: StatefulMailbox<E, App>,
    pub mempool: Mempool,
    pub events: ChainEvents,
    pub gossip: TxGossip,
    pub validators: Vec<PublicKey>,
    /// The consensus engine; finishes only when the node stops.
    pub consensus: Handle<()>,
}

/// Everything a node needs to know about its chain.
#[derive(Clone)]
pub struct ChainSpec {
    pub genesis: Genesis,
    pub genesis_block: Block,
}

impl ChainSpec {
    /// Derives the genesis block. The genesis state is the empty state; its
    /// roots are what an empty database reports, so they are computed, not
    /// configured.
    pub fn new<E: StorageContext>(genesis: Genesis) -> Self {
        use commonware_glue::stateful::db::DatabaseSet;
        let (state, log, lookup) =
            <tracechain_state::Databases<E> as DatabaseSet<E>>::initial_sync_targets();
        let validators = genesis.validator_keys();
        let leader = validators
            .first()
            .cloned()
            .unwrap_or_else(|| PrivateKey::from_seed(0).public_key());
        let roots = tracechain_types::Header {
            context: simplex::types::Context {
                round: commonware_consensus::types::Round::zero(),
                leader,
                parent: (commonware_consensus::types::View::zero(), genesis.hash()),
            },
            height: 0,
            parent: genesis.hash(),
            timestamp_ms: genesis.genesis_time_ms,
            tx_root: tracechain_types::block::tx_root(&[]),
            tx_count: 0,
            state_root: tracechain_state::empty_state_root(),
            state_ops_root: state.root,
            state_floor: state.range.start().as_u64(),
            state_size: state.range.end().as_u64(),
            log_root: log.root,
            log_floor: log.range.start().as_u64(),
            log_size: log.range.end().as_u64(),
            lookup_root: lookup.root,
            lookup_floor: lookup.range.start().as_u64(),
            lookup_size: lookup.range.end().as_u64(),
        };
        let genesis_block = Block::genesis(genesis.hash(), &roots);
        Self {
            genesis,
            genesis_block,
        }
    }
}

/// Views per section of marshal's cache archives (the unit it prunes).
const CACHE_VIEWS_PER_SECTION: u64 = 32;

/// Views marshal keeps verified and notarized blocks after finality.
/// Finalized blocks are in the (compressed) finalized archive, by height
/// and by digest, so the cache's copies serve only views not yet final;
/// under load a view carries a block of thousands of captures, and 64
/// views kept ~0.3 KB per event on disk.
const CACHE_VIEW_RETENTION: u64 = 16;

/// Finalized blocks a node behind the chain fetches from its peers at a
/// time (marshal's `max_repair`). Each one is held encoded and decoded
/// until it is stored: a node catching up a loaded chain (blocks of
/// thousands of captures) peaked ~300 MB higher with 64 in flight than
/// with 16, and caught up no faster (ADR 0027).
const BLOCKS_FETCHED_AT_ONCE: usize = 16;

/// zstd level of the finalized-block archive (ADR 0014): a block's
/// capture documents repeat most of their text, so level 3 stores them in
/// about a ninth of the space (signatures and keys stay as they are).
const BLOCK_COMPRESSION: u8 = 3;

fn archive_config<C>(
    prefix: &str,
    name: &str,
    page_cache: CacheRef,
    compression: Option<u8>,
    codec: C,
) -> prunable::Config<TwoCap, C> {
    let buffer = NZUsize!(64 * 1024);
    prunable::Config {
        translator: TwoCap,
        metadata_partition: format!("{prefix}-{name}-metadata"),
        key_partition: format!("{prefix}-{name}-key"),
        key_page_cache: page_cache,
        value_partition: format!("{prefix}-{name}-value"),
        compression,
        codec_config: codec,
        items_per_section: NZU64!(4096),
        key_write_buffer: buffer,
        value_write_buffer: buffer,
        replay_buffer: buffer,
    }
}

/// Starts a validator's whole stack and returns handles to it.
///
/// `observe` wraps the reporter that receives finalized blocks from marshal
/// (simulations add a progress monitor; production passes it through).
/// The consensus engine runs on `context` itself, so aborting its handle
/// stops every actor of the node (they run on children of `context`).
#[allow(clippy::too_many_arguments)]
pub async fn start<E, S, R, P, B, W, Rep>(
    context: E,
    signer: PrivateKey,
    spec: &ChainSpec,
    config: EngineConfig,
    channels: Channels<S, R>,
    peers: P,
    blocker: B,
    observe: W,
) -> Started<E>
where
    W: FnOnce(StatefulMailbox<E, App>) -> Rep,
    Rep: Reporter<Activity = marshal::Update<Block>>,
    E: StorageContext + rand_core::CryptoRng + commonware_runtime::Network,
    S: Sender<PublicKey = PublicKey>,
    R: Receiver<PublicKey = PublicKey>,
    P: Provider<PublicKey = PublicKey> + Clone,
    B: Blocker<PublicKey = PublicKey> + Clone,
{
    let public_key = signer.public_key();
    let validators = spec.genesis.validator_keys();
    let participants: Set<PublicKey> = Set::from_iter_dedup(validators.iter().cloned());
    let namespace = consensus_namespace(&spec.genesis.chain_id);
    let scheme = Scheme::signer(&namespace, participants.clone(), signer.clone())
        .unwrap_or_else(|| Scheme::verifier(&namespace, participants.clone()));
    let prefix = config.partition_prefix.clone();
    let mut storage = StorageConfig::new(prefix.clone(), config.cache_pages);
    storage.state_section_ops = config.state_section_ops;
    let page_cache = storage.page_cache.clone();
    let epocher = FixedEpocher::new(NZU64!(u64::MAX));
    let mailbox = NZUsize!(1024);
    let buffer = NZUsize!(64 * 1024);

    // Mempool and transaction gossip.
    let mempool = Mempool::new(Default::default());
    let events = ChainEvents::new();
    let gossip = gossip::start(
        context.child("tx_gossip"),
        mempool.clone(),
        spec.genesis.chain_id.clone(),
        channels.txs,
    );

    // Marshal's backfill resolver and the block broadcast buffer.
    let resolver = marshal_resolver::init(
        context.child("marshal_resolver"),
        marshal_resolver::Config {
            public_key: public_key.clone(),
            peer_provider: peers.clone(),
            blocker: blocker.clone(),
            mailbox_size: mailbox,
            fetch_timeout: NZDuration!(config.fetch_timeout),
            fetch_retry_delay: Duration::from_millis(200),
            priority_requests: false,
            priority_responses: false,
        },
        channels.backfill,
    );
    let (broadcast_engine, buffer_mailbox) = buffered::Engine::new(
        context.child("broadcast"),
        buffered::Config {
            public_key: public_key.clone(),
            mailbox_size: mailbox,
            // Blocks kept per sender, decoded: a peer asks for a proposal
            // within a few views, and marshal's cache serves anything older.
            // 32 held ~170 MB of recent blocks on a loaded validator for no
            // throughput (BENCHMARKS.md, issue 6 steps).
            deque_size: 4,
            priority: false,
            codec_config: (),
            peer_provider: peers.clone(),
            strategy: Sequential,
        },
    );
    broadcast_engine.start(channels.blocks);

    // Marshal: finalized blocks and certificates, kept forever (the chain's
    // history is served from here).
    let finalizations = prunable::Archive::init(
        context.child("finalizations_by_height"),
        archive_config(
            &prefix,
            "finalizations",
            page_cache.clone(),
            None,
            scheme_certificate_cfg(&scheme),
        ),
    )
    .await
    .expect("cannot open the finalizations archive");
    let blocks = prunable::Archive::init(
        context.child("finalized_blocks"),
        archive_config(
            &prefix,
            "blocks",
            page_cache.clone(),
            Some(BLOCK_COMPRESSION),
            (),
        ),
    )
    .await
    .expect("cannot open the blocks archive");

    let plan = SyncPlan::init(context.child("sync_plan"), prefix.clone()).await;
    let provider = ConstantProvider::new(scheme.clone());
    let genesis_digest = spec.genesis_block.digest();
    let (marshal_actor, marshal, floor) = MarshalActor::<_, Standard<Block>, _, _, _, _, _>::init(
        context.child("marshal"),
        finalizations,
        blocks,
        marshal::Config {
            provider: provider.clone(),
            epocher: epocher.clone(),
            start: plan.marshal_start(Digested::precomputed(
                spec.genesis_block.clone(),
                genesis_digest,
            )),
            partition_prefix: prefix.clone(),
            mailbox_size: mailbox,
            view_retention: ViewDelta::new(CACHE_VIEW_RETENTION),
            // Marshal's cache keeps every verified block until its section
            // of views is pruned: sections of 4,096 views held a second copy
            // of every block of the last ~4,096 views (0.65 KB per event at
            // full load). Small sections let it go soon after finality.
            prunable_items_per_section: NZU64!(CACHE_VIEWS_PER_SECTION),
            page_cache: page_cache.clone(),
            replay_buffer: buffer,
            key_write_buffer: buffer,
            value_write_buffer: buffer,
            block_codec_config: (),
            max_repair: NZUsize!(BLOCKS_FETCHED_AT_ONCE),
            max_pending_acks: NZUsize!(16),
            strategy: Sequential,
        },
    )
    .await;

    // Nothing is served on the state-sync channel (see statesync.rs); it
    // stays registered so enabling state sync later keeps channel numbers.
    drop(channels.state_sync);

    // The application and the stateful actor that drives it.
    let app = App::new(
        &spec.genesis.chain_id,
        spec.genesis.founding_organisations().unwrap_or_default(),
        spec.genesis_block.clone(),
        mempool.clone(),
        events.clone(),
        config.block_policy,
        NodeMetrics::register(&context.child("tracechain")),
    );
    let (stateful_actor, stateful) = Stateful::new(
        context.child("stateful"),
        StatefulConfig {
            application: app,
            db_config: storage.databases::<E>(),
            provider: (),
            marshal: (marshal.clone(), floor),
            mailbox_size: mailbox,
            plan,
            resolvers: (
                NoStateSync::<StateDb<E>>::new(),
                NoStateSync::<LogDb<E>>::new(),
                NoStateSync::<LookupDb<E>>::new(),
            ),
            sync_config: SyncEngineConfig {
                fetch_batch_size: NZU64!(1024),
                apply_batch_size: NZU64!(1024),
                max_outstanding_requests: NZUsize!(8),
            },
            prune_config: None,
            strategy: Sequential,
        },
    );
    let deferred = Deferred::new(
        context.child("deferred"),
        stateful.clone(),
        marshal.clone(),
        epocher,
    );
    marshal_actor.start(observe(stateful.clone()), buffer_mailbox, resolver);
    stateful_actor.start();

    // Consensus.
    let engine = simplex::Engine::new(
        context,
        simplex::Config {
            scheme,
            elector: RoundRobin::<Sha256>::default(),
            blocker,
            automaton: deferred.clone(),
            relay: deferred.clone(),
            reporter: deferred,
            strategy: Sequential,
            partition: format!("{prefix}-simplex"),
            mailbox_size: mailbox,
            epoch: Epoch::zero(),
            floor: simplex::config::Floor::Genesis(genesis_digest),
            replay_buffer: buffer,
            write_buffer: buffer,
            page_cache,
            leader_timeout: config.leader_timeout,
            certification_timeout: config.certification_timeout,
            timeout_retry: config.timeout_retry,
            view_retention: ViewDelta::new(64),
            skip: SkipPolicy::Enabled {
                timeout: config.leader_timeout * 3,
                budget: simplex::SkipBudget::Participants,
            },
            fetch_timeout: NZDuration!(config.fetch_timeout),
            fetch_retry_delay: Duration::from_millis(500),
            forward: ForwardPolicy::Disabled,
            track_historical_votes: false,
        },
    );
    let consensus = engine.start(
        channels.votes,
        channels.certificates,
        channels.consensus_resolver,
    );

    Started {
        marshal,
        stateful,
        mempool,
        events,
        gossip,
        validators,
        consensus,
    }
}

fn scheme_certificate_cfg(
    scheme: &Scheme,
) -> <commonware_consensus::simplex::types::Finalization<Scheme, tracechain_types::Digest> as commonware_codec::Read>::Cfg{
    use commonware_cryptography::certificate::Verifier as _;
    scheme.certificate_codec_config()
}
