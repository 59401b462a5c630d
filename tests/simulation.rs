//! Whole-network simulations of 4 validators on commonware's deterministic
//! runtime and simulated network: the real node stack (simplex, marshal,
//! stateful, our application and executor, transaction gossip) with
//! simulated time, links, crashes and a Byzantine validator.
//!
//! Every run asserts: no conflicting finalization (the harness's tracker),
//! progress of every honest validator, transactions actually executed, and
//! equal state and log roots at equal heights on every honest node, read
//! from each node's own databases.

// The stateful actor's future is deeply nested; its layout needs a
// deeper query limit than the default.
#![recursion_limit = "256"]

use commonware_consensus::{
    simplex::{
        elector::RoundRobin,
        mocks::{equivocator, relay::Relay},
        scheme::ed25519::Scheme,
    },
    types::Epoch,
};
use commonware_cryptography::{Sha256, Signer};
use commonware_glue::simulate::{
    action::{Action, Crash, Schedule},
    engine::{EngineDefinition, InitContext},
    exit::ExitCondition,
    plan::{PlanBuilder, PlanResult},
    processed::ProcessedHeight,
    property::Property,
    reporter::MonitorReporter,
    tracker::ProgressTracker,
};
use commonware_p2p::simulated::Link;
use commonware_runtime::{Clock, Handle, Quota, Spawner, Supervisor, deterministic};
use commonware_utils::{ordered::Set, probability};
use std::{
    future::Future,
    pin::Pin,
    sync::{Arc, Mutex},
    time::Duration,
};
use tracechain_node::{
    ChainSpec, EngineConfig, NodeHandle, engine,
    engine::{Channels, consensus_namespace},
    pruner::{self, PrunePolicy},
};
use tracechain_state::records;
use tracechain_types::{
    Genesis, GenesisValidator, Payload, PrivateKey, PublicKey, UnsignedTransaction, hash, to_hex,
};

const VALIDATORS: u64 = 4;

/// A running node's handle, emptied when the node crashes: a crashed
/// node's databases must close before it restarts, and the harness keeps
/// the old state around until then.
type HandleSlot = Arc<Mutex<Option<NodeHandle<deterministic::Context>>>>;

/// What a property can inspect of one validator.
#[derive(Clone)]
enum NodeState {
    Honest {
        handle: HandleSlot,
        /// (simulated ms, height) of every finalized block applied.
        history: Arc<Mutex<Vec<(u64, u64)>>>,
    },
    Byzantine,
}

impl NodeState {
    fn handle(&self) -> Option<NodeHandle<deterministic::Context>> {
        match self {
            NodeState::Honest { handle, .. } => handle.lock().unwrap().clone(),
            NodeState::Byzantine => None,
        }
    }
}

impl ProcessedHeight for NodeState {
    async fn processed_height(&self) -> u64 {
        match self {
            NodeState::Honest { .. } => match self.handle() {
                Some(handle) => handle.finalized().await.map_or(0, |f| f.height),
                None => 0,
            },
            // Never holds the run back.
            NodeState::Byzantine => u64::MAX,
        }
    }
}

/// Empties a handle slot when dropped (its task is aborted with the node).
struct ClearOnDrop(HandleSlot);

impl Drop for ClearOnDrop {
    fn drop(&mut self) {
        if let Ok(mut slot) = self.0.lock() {
            slot.take();
        }
    }
}

#[derive(Clone)]
struct Network {
    keys: Vec<PrivateKey>,
    spec: ChainSpec,
    byzantine: Option<usize>,
}

impl Network {
    fn new(byzantine: Option<usize>) -> Self {
        let keys: Vec<PrivateKey> = (0..VALIDATORS).map(PrivateKey::from_seed).collect();
        let genesis = Genesis {
            chain_id: "simulation".into(),
            genesis_time_ms: 0,
            validators: keys
                .iter()
                .enumerate()
                .map(|(i, key)| GenesisValidator {
                    name: format!("validator-{i}"),
                    public_key: to_hex(key.public_key()),
                    p2p_address: format!("127.0.0.1:{}", 4000 + i).parse().unwrap(),
                })
                .collect(),
            full_nodes: Vec::new(),
            organisations: Vec::new(),
        };
        let spec = ChainSpec::new::<deterministic::Context>(genesis);
        Self {
            keys,
            spec,
            byzantine,
        }
    }

    fn key(&self, index: usize) -> PublicKey {
        self.keys[index].public_key()
    }

    fn engine_config(index: usize) -> EngineConfig {
        let mut config = EngineConfig::new(format!("validator-{index}"));
        config.cache_pages = 256;
        // Small sections, so the pruner removes some within a short run.
        config.state_section_ops = commonware_utils::NZU64!(64);
        config
    }
}

impl EngineDefinition for Network {
    type PublicKey = PublicKey;
    type Engine = Handle<()>;
    type State = NodeState;

    fn participants(&self) -> Vec<PublicKey> {
        self.keys.iter().map(|k| k.public_key()).collect()
    }

    fn channels(&self) -> Vec<(u64, Quota)> {
        engine::channel_quotas()
    }

    fn max_message_size(&self) -> u32 {
        engine::max_message_size(VALIDATORS as u32)
    }

    async fn init(&self, ctx: InitContext<'_, PublicKey>) -> (Handle<()>, NodeState) {
        let InitContext {
            context,
            index,
            public_key,
            oracle,
            channels,
            monitor,
            ..
        } = ctx;
        if self.byzantine == Some(index) {
            return (
                self.start_equivocator(context, index, channels),
                NodeState::Byzantine,
            );
        }
        let channels = Channels::from_ordered(channels).expect("all channels registered");
        let pk = public_key.clone();
        let load_context = context.child("load");
        let started = engine::start(
            context,
            self.keys[index].clone(),
            &self.spec,
            Self::engine_config(index),
            channels,
            oracle.manager(),
            oracle.control(pk.clone()),
            move |stateful| MonitorReporter::new(pk, monitor, stateful),
        )
        .await;
        let handle = NodeHandle::new(
            load_context.child("handle"),
            self.spec.genesis.chain_id.clone(),
            &started,
            None,
        )
        .await;
        let history = Arc::new(Mutex::new(Vec::new()));
        record_history(
            load_context.child("history"),
            handle.clone(),
            history.clone(),
        );
        submit_load(load_context.child("submit"), handle.clone(), index as u64);
        // Pruned as often as possible, so crashes land around prunes.
        let policy = PrunePolicy {
            every: Duration::from_millis(500),
            margin_blocks: PRUNE_MARGIN_BLOCKS,
            min_step_ops: 1,
        };
        let pruned = handle.clone();
        load_context
            .child("pruner")
            .spawn(move |_| pruner::run(pruned, policy));
        let slot: HandleSlot = Arc::new(Mutex::new(Some(handle)));
        let guard = ClearOnDrop(slot.clone());
        load_context.spawn(move |_| async move {
            let _guard = guard;
            futures::future::pending::<()>().await;
        });
        (
            started.consensus,
            NodeState::Honest {
                handle: slot,
                history,
            },
        )
    }

    fn start(engine: Handle<()>) -> Handle<()> {
        engine
    }
}

impl Network {
    fn start_equivocator(
        &self,
        context: deterministic::Context,
        index: usize,
        channels: Vec<
            engine::Channel<
                impl commonware_p2p::Sender<PublicKey = PublicKey>,
                impl commonware_p2p::Receiver<PublicKey = PublicKey>,
            >,
        >,
    ) -> Handle<()> {
        let participants: Set<PublicKey> = Set::from_iter_dedup(self.participants());
        let namespace = consensus_namespace(&self.spec.genesis.chain_id);
        let scheme = Scheme::signer(&namespace, participants, self.keys[index].clone())
            .expect("byzantine validator is a participant");
        let mut channels = channels.into_iter();
        let votes = channels.next().expect("vote channel");
        let certificates = channels.next().expect("certificate channel");
        let equivocator = equivocator::Equivocator::<_, _, _, Sha256>::new(
            context,
            equivocator::Config {
                scheme,
                elector: RoundRobin::<Sha256>::default(),
                epoch: Epoch::zero(),
                relay: Arc::new(Relay::new()),
            },
        );
        equivocator.start(votes, certificates)
    }
}

/// Records when each finalized block was applied (simulated time).
fn record_history(
    context: deterministic::Context,
    handle: NodeHandle<deterministic::Context>,
    history: Arc<Mutex<Vec<(u64, u64)>>>,
) {
    context.spawn(move |context| async move {
        let mut watch = handle.events().watch();
        while watch.changed().await.is_ok() {
            let height = watch.borrow().as_ref().map(|f| f.height);
            if let Some(height) = height {
                let now = context
                    .current()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap_or_default();
                history
                    .lock()
                    .unwrap()
                    .push((now.as_millis() as u64, height));
            }
        }
    });
}

/// Each honest validator's clients submit a few notes every 200 ms.
fn submit_load(
    context: deterministic::Context,
    handle: NodeHandle<deterministic::Context>,
    node: u64,
) {
    context.spawn(move |context| async move {
        let clients: Vec<PrivateKey> = (0..2)
            .map(|c| PrivateKey::from_seed(1_000 + node * 10 + c))
            .collect();
        let mut round = 0u64;
        loop {
            context.sleep(Duration::from_millis(200)).await;
            for client in &clients {
                let Ok(nonce) = records::nonce(handle.reader(), &client.public_key()).await else {
                    continue;
                };
                // Only top up once the previous note of this client applied,
                // so a restarted node resumes cleanly from on-chain nonces.
                let pending = UnsignedTransaction {
                    chain_id: handle.chain_id().to_string(),
                    sender: client.public_key(),
                    nonce,
                    payload: Payload::Note {
                        hash: hash(&[node.to_be_bytes(), round.to_be_bytes()].concat()),
                        label: format!("node {node} round {round}"),
                    },
                }
                .sign(client);
                let _ = handle.submit(pending).await;
            }
            round += 1;
        }
    });
}

/// Stop once `nodes` running validators applied `height` (the harness's
/// own count includes crashed validators, so it is not used).
#[derive(Clone)]
struct AppliedHeight {
    height: u64,
    nodes: usize,
}

impl ExitCondition<PublicKey, NodeState> for AppliedHeight {
    fn name(&self) -> &str {
        "applied_height"
    }

    fn requires_polling(&self) -> bool {
        true
    }

    fn reached<'a>(
        &'a self,
        _tracker: &'a ProgressTracker<PublicKey>,
        states: &'a [&'a NodeState],
        _target_count: usize,
    ) -> Pin<Box<dyn Future<Output = Result<bool, String>> + Send + 'a>> {
        Box::pin(async move {
            let mut reached = 0;
            for state in states {
                if state.processed_height().await >= self.height {
                    reached += 1;
                }
            }
            Ok(reached >= self.nodes)
        })
    }
}

/// Every honest node's databases hold exactly the roots its block header at
/// that height commits to, headers agree across nodes, and transactions
/// really executed.
#[derive(Clone)]
struct EqualRoots;

impl Property<PublicKey, NodeState> for EqualRoots {
    fn name(&self) -> &str {
        "equal_roots"
    }

    fn check<'a>(
        &'a self,
        _tracker: &'a ProgressTracker<PublicKey>,
        states: &'a [&'a NodeState],
    ) -> Pin<Box<dyn Future<Output = Result<(), String>> + Send + 'a>> {
        Box::pin(async move {
            let honest: Vec<_> = states.iter().filter_map(|s| s.handle()).collect();
            let mut heights = Vec::new();
            for handle in &honest {
                heights.push(check_own_roots(handle).await?);
            }
            let common = heights.iter().copied().min().ok_or("no honest node")?;
            let mut digest = None;
            for handle in &honest {
                let block = handle
                    .block(common)
                    .await
                    .ok_or(format!("block {common} missing"))?;
                let this = block.header.digest();
                if *digest.get_or_insert(this) != this {
                    return Err(format!("headers differ at height {common}"));
                }
            }
            let log_size = honest[0].reader().roots().await.log_size;
            eprintln!("honest heights {heights:?}, common {common}, log size {log_size}");
            // One commit per block plus at least one record per some block.
            if log_size <= common + 1 {
                return Err(format!(
                    "no records executed (log size {log_size} at height {common})"
                ));
            }
            Ok(())
        })
    }
}

/// Pruned this far below the applied tip (above the 16 blocks the stateful
/// actor may acknowledge ahead, like the default policy).
const PRUNE_MARGIN_BLOCKS: u64 = 20;

/// Compares a node's database roots with its header at the applied height,
/// and checks the state was pruned (only ever below its floor).
/// The application hook that advances "applied height" runs right after the
/// databases apply a block, so the databases may be one block ahead.
async fn check_own_roots(handle: &NodeHandle<deterministic::Context>) -> Result<u64, String> {
    let height = handle.finalized().await.ok_or("nothing finalized")?.height;
    let roots = handle.reader().roots().await;
    let (retained_from, floor) = handle.reader().state_retained().await;
    // Long enough runs must have pruned (the floor passes a section of
    // 64 operations within a few blocks of load).
    let expected = height >= 3 * PRUNE_MARGIN_BLOCKS;
    if (expected && retained_from == 0) || retained_from > floor {
        return Err(format!(
            "state pruned to {retained_from} with its floor at {floor} (height {height})"
        ));
    }
    for candidate in [height, height + 1] {
        let Some(block) = handle.block(candidate).await else {
            continue;
        };
        let header = &block.header;
        if header.state_root == roots.state_root
            && header.log_root == roots.log_root
            && header.log_size == roots.log_size
        {
            return Ok(height);
        }
    }
    Err(format!(
        "database roots match no header at height {height} or {}",
        height + 1
    ))
}

fn good_link() -> Link {
    Link {
        latency: Duration::from_millis(20),
        jitter: Duration::from_millis(5),
        success_rate: probability!(1.0),
    }
}

fn run(plan: PlanBuilder<Network>) -> Vec<PlanResult<Network>> {
    // `RUST_LOG=info cargo test ...` shows what the nodes do.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
    match plan.run() {
        Ok(results) => results,
        Err(err) => panic!("simulation failed: {err}"),
    }
}

/// A 4-validator plan that ends when `nodes` validators applied `height`.
fn base(network: Network, height: u64, nodes: usize) -> PlanBuilder<Network> {
    PlanBuilder::new(network)
        .link(good_link())
        .exit_condition(AppliedHeight { height, nodes })
        .property(EqualRoots)
        .timeout(Duration::from_secs(120))
}

#[test]
fn all_online() {
    run(base(Network::new(None), 20, 4).seeds([1, 2, 3]));
}

#[test]
fn one_validator_offline_from_the_start() {
    let network = Network::new(None);
    let offline = network.key(3);
    let schedule = Schedule::new().at(Duration::ZERO, Action::Crash(offline));
    run(base(network, 15, 3)
        .crash(Crash::Schedule(schedule))
        .seeds([4, 5]));
}

#[test]
fn lossy_jittery_links() {
    run(base(Network::new(None), 12, 4)
        .link(Link {
            latency: Duration::from_millis(50),
            jitter: Duration::from_millis(40),
            success_rate: probability!(0.8),
        })
        .seeds([6, 7]));
}

#[test]
fn crash_and_restart_recovers_the_same_roots() {
    let network = Network::new(None);
    let victim = network.key(2);
    let schedule = Schedule::new()
        .at(Duration::from_secs(4), Action::Crash(victim.clone()))
        .at(Duration::from_secs(7), Action::Restart(victim));
    // Height 80 comes within ~8 simulated seconds under this load, well
    // after the restart, so the victim must catch up dozens of blocks.
    let results = run(base(network, 80, 4)
        .crash(Crash::Schedule(schedule))
        .seeds([8, 9]));
    for result in results {
        assert_eq!(result.crashes, 1);
        assert_eq!(result.scheduled_actions, 2);
    }
}

#[test]
fn equivocating_validator_cannot_cause_conflicting_finality() {
    run(base(Network::new(Some(0)), 15, 4).seeds([10, 11]));
}

#[test]
fn partition_two_two_stops_finality_until_healed() {
    let network = Network::new(None);
    let keys: Vec<PublicKey> = (0..4).map(|i| network.key(i)).collect();
    let cut = Link {
        latency: Duration::from_millis(20),
        jitter: Duration::ZERO,
        success_rate: probability!(0.0),
    };
    let (start, heal) = (Duration::from_secs(3), Duration::from_secs(12));
    let mut schedule = Schedule::new();
    for a in [0, 1] {
        for b in [2, 3] {
            for (from, to) in [(a, b), (b, a)] {
                schedule = schedule.at(
                    start,
                    Action::UpdateLink {
                        from: keys[from].clone(),
                        to: keys[to].clone(),
                        link: cut.clone(),
                    },
                );
            }
        }
    }
    schedule = schedule.at(heal, Action::Heal(good_link()));
    run(base(network, 80, 4)
        .crash(Crash::Schedule(schedule))
        .property(NoFinalityDuring {
            from_ms: start.as_millis() as u64 + 2_000,
            to_ms: heal.as_millis() as u64,
        })
        .seeds([12]));
}

/// No honest node applies a finalized block in the window.
#[derive(Clone)]
struct NoFinalityDuring {
    from_ms: u64,
    to_ms: u64,
}

impl Property<PublicKey, NodeState> for NoFinalityDuring {
    fn name(&self) -> &str {
        "no_finality_during_partition"
    }

    fn check<'a>(
        &'a self,
        _tracker: &'a ProgressTracker<PublicKey>,
        states: &'a [&'a NodeState],
    ) -> Pin<Box<dyn Future<Output = Result<(), String>> + Send + 'a>> {
        Box::pin(async move {
            for state in states {
                let NodeState::Honest { history, .. } = state else {
                    continue;
                };
                let history = history.lock().unwrap().clone();
                if let Some((at, height)) = history
                    .iter()
                    .find(|(at, _)| (self.from_ms..self.to_ms).contains(at))
                {
                    return Err(format!(
                        "height {height} finalized at {at} ms during the partition"
                    ));
                }
                if !history.iter().any(|(at, _)| *at >= self.to_ms) {
                    return Err("no finality after the partition healed".into());
                }
            }
            Ok(())
        })
    }
}

#[test]
fn same_seed_same_outcome() {
    let first = run(base(Network::new(None), 10, 4).seed(42));
    let second = run(base(Network::new(None), 10, 4).seed(42));
    assert_eq!(first[0].state, second[0].state);
    let third = run(base(Network::new(None), 10, 4).seed(43));
    assert_ne!(
        first[0].state, third[0].state,
        "different seeds should differ"
    );
}
