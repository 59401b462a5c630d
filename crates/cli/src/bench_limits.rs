//! What this machine allows, measured in the same run as a load benchmark:
//! the per-core cost of each step every validator repeats for every
//! transaction, and from those the throughput ceiling of the network under
//! test (ADR 0010 explains the model).

use crate::run_node::NodeContext;
use anyhow::{Context, Result, bail};
use commonware_runtime::{Runner as _, Supervisor as _};
use commonware_storage::{merkle::Location, qmdb::floor::Proportional};
use std::{
    collections::HashMap,
    sync::Arc,
    time::{Duration, Instant},
};
use tracechain_executor::BlockEnv;
use tracechain_kernel_cache::KernelCached;
use tracechain_state::{MemoryStore, StateRead, StateValue, StorageConfig, Store, StoreError};
use tracechain_types::{
    Digest, LogRecord, Payload, PrivateKey, Transaction, domain::OrganisationSpec,
    genesis::FoundingOrganisation, transaction::verify_batch,
};

/// Transactions per block in the execution and commit measurements (what a
/// loaded 4-validator network packs into one block).
const BLOCK: usize = 1_000;

/// Per-core rates of the steps a validator repeats for every transaction,
/// and the ceiling they imply for the network under test.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Limits {
    /// Transactions measured per step.
    pub sample: usize,
    /// ed25519 signatures made per second on one core (the load generator).
    pub sign_per_core: f64,
    /// Share of the run's transactions signed while its clock ran: only
    /// those count against the ceiling (1 unless `--presign`).
    pub live_sign_share: f64,
    /// ed25519 batch verifications per second on one core.
    pub verify_per_core: f64,
    /// EPCIS documents parsed, validated and event-hashed per second on one
    /// core (captures only).
    pub epcis_per_core: Option<f64>,
    /// Transactions executed per second on one core (in memory; includes the
    /// EPCIS parse and the permission checks).
    pub execute_per_core: f64,
    /// Transactions' state writes and log records merkleized and committed
    /// to disk per second (blocks of 1,000, one writer).
    pub commit_per_s: f64,
    /// Cores this machine has.
    pub cores: usize,
    /// Validators of the network under test.
    pub validators: usize,
    /// Core-microseconds the network spends per transaction: every
    /// validator verifies, executes and commits it, and the generator signs
    /// it once (if it signs while the clock runs).
    pub cpu_us_per_tx: f64,
    /// Transactions per second this machine could finalize if nothing but
    /// those steps cost anything: `cores / cpu_per_tx`.
    pub ceiling_tps: f64,
}

/// A workload's transactions and what execution needs to apply them.
pub struct Workload {
    pub transactions: Vec<Transaction>,
    pub founding: Vec<FoundingOrganisation>,
    pub chain_id: String,
}

impl Limits {
    /// Measures each step on one thread, then the ceiling for `validators`
    /// validators sharing this machine's cores with the load generator.
    /// `live_sign_share` is the part of the run's transactions the generator
    /// signed while the clock ran (the rest were signed before, `--presign`).
    pub fn measure(
        workload: &Workload,
        validators: usize,
        sign_per_core: f64,
        live_sign_share: f64,
    ) -> Result<Self> {
        let txs = &workload.transactions;
        if txs.is_empty() {
            bail!("the limits measurement needs at least one transaction");
        }
        let verify_per_core = measure_verify(txs)?;
        let epcis_per_core = measure_epcis(txs)?;
        let (execute_per_core, blocks) = measure_execute(workload)?;
        let commit_per_s = measure_commit(&blocks)?;
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let validator_us = 1e6 / verify_per_core + 1e6 / execute_per_core + 1e6 / commit_per_s;
        let cpu_us_per_tx =
            validators as f64 * validator_us + live_sign_share * 1e6 / sign_per_core;
        Ok(Self {
            sample: txs.len(),
            sign_per_core,
            live_sign_share,
            verify_per_core,
            epcis_per_core,
            execute_per_core,
            commit_per_s,
            cores,
            validators,
            cpu_us_per_tx,
            ceiling_tps: cores as f64 * 1e6 / cpu_us_per_tx,
        })
    }

    /// One line for the progress output.
    pub fn describe(&self) -> String {
        let epcis = self
            .epcis_per_core
            .map(|r| format!(", EPCIS {r:.0}/s/core"))
            .unwrap_or_default();
        format!(
            "limits: sign {:.0}/s/core, batch verify {:.0}/s/core{epcis}, execute {:.0}/s/core, \
             commit {:.0}/s → ceiling {:.0} tx/s for {} validators on {} cores",
            self.sign_per_core,
            self.verify_per_core,
            self.execute_per_core,
            self.commit_per_s,
            self.ceiling_tps,
            self.validators,
            self.cores
        )
    }
}

/// Signs `count` transactions with `make` and returns them with the rate.
pub fn sign_all(
    count: usize,
    keys: &[PrivateKey],
    make: &(dyn Fn(u64, &PrivateKey, u64) -> Transaction + Send + Sync),
) -> (Vec<Transaction>, f64) {
    let started = Instant::now();
    let txs: Vec<Transaction> = (0..count as u64)
        .map(|i| crate::bench::sign_nth(i, keys, make))
        .collect();
    (txs, per_second(count, started.elapsed()))
}

fn per_second(count: usize, elapsed: Duration) -> f64 {
    count as f64 / elapsed.as_secs_f64().max(1e-9)
}

fn measure_verify(txs: &[Transaction]) -> Result<f64> {
    let mut rng = rand::rng();
    let started = Instant::now();
    for chunk in txs.chunks(BLOCK) {
        let refs: Vec<&Transaction> = chunk.iter().collect();
        if !verify_batch(&refs, &mut rng).is_empty() {
            bail!("a benchmark transaction has a bad signature");
        }
    }
    Ok(per_second(txs.len(), started.elapsed()))
}

fn measure_epcis(txs: &[Transaction]) -> Result<Option<f64>> {
    let documents: Vec<&[u8]> = txs
        .iter()
        .filter_map(|tx| match tx.payload() {
            Payload::Capture { document } => Some(document.as_slice()),
            _ => None,
        })
        .collect();
    if documents.is_empty() {
        return Ok(None);
    }
    let started = Instant::now();
    for document in &documents {
        let text = std::str::from_utf8(document).context("a capture is not UTF-8")?;
        let capture = tracechain_epcis::parse_capture(text)
            .map_err(|e| anyhow::anyhow!("a benchmark capture is invalid: {e:?}"))?;
        for event in capture.into_events() {
            std::hint::black_box(event.hash());
        }
    }
    Ok(Some(per_second(documents.len(), started.elapsed())))
}

/// One block's writes, as execution produced them.
#[derive(Default)]
pub struct BlockWrites {
    state: Vec<(Digest, Vec<u8>)>,
    lookup: Vec<(Digest, Vec<u8>)>,
    log: Vec<LogRecord>,
    transactions: usize,
}

/// Reads through to the chain so far, records what the block writes.
struct Recording<'a> {
    base: &'a MemoryStore,
    written: HashMap<Digest, Vec<u8>>,
    writes: BlockWrites,
}

impl StateRead for Recording<'_> {
    async fn get(&self, key: &Digest) -> Result<Option<Vec<u8>>, StoreError> {
        if let Some(value) = self.written.get(key) {
            return Ok(Some(value.clone()));
        }
        self.base.get(key).await
    }
}

impl Store for Recording<'_> {
    fn put(&mut self, key: Digest, value: Vec<u8>) {
        self.written.insert(key, value.clone());
        self.writes.state.push((key, value));
    }

    fn put_lookup(&mut self, key: Digest, value: Vec<u8>) {
        // One key space for reads: lookup keys come from other namespaces.
        self.written.insert(key, value.clone());
        self.writes.lookup.push((key, value));
    }

    fn append(&mut self, record: LogRecord) {
        self.writes.log.push(record);
    }
}

/// Executes the workload in blocks of [`BLOCK`] on one thread; returns the
/// rate and each block's writes (the input of the commit measurement).
fn measure_execute(workload: &Workload) -> Result<(f64, Vec<BlockWrites>)> {
    let founding = Arc::new(workload.founding.clone());
    let runtime = ::tokio::runtime::Builder::new_current_thread().build()?;
    let mut chain = MemoryStore::default();
    let mut blocks = Vec::new();
    let mut elapsed = Duration::ZERO;
    for (height, txs) in workload.transactions.chunks(BLOCK).enumerate() {
        let env = BlockEnv {
            chain_id: workload.chain_id.clone(),
            height: height as u64 + 1,
            timestamp_ms: 1_700_000_000_000 + height as u64,
            founding: founding.clone(),
            acting: Default::default(),
        };
        let mut block = Recording {
            base: &chain,
            written: HashMap::new(),
            writes: BlockWrites::default(),
        };
        let started = Instant::now();
        let summary = runtime
            .block_on(tracechain_executor::execute_block(&mut block, &env, txs))
            .context("executing a benchmark block")?;
        elapsed += started.elapsed();
        if summary.failed() > 0 {
            bail!(
                "{} benchmark transactions failed to execute",
                summary.failed()
            );
        }
        let mut writes = block.writes;
        writes.transactions = txs.len();
        for (key, value) in writes.state.iter().chain(&writes.lookup) {
            chain.state.insert(*key, value.clone());
        }
        blocks.push(writes);
    }
    Ok((per_second(workload.transactions.len(), elapsed), blocks))
}

/// Replays the blocks' writes into the node's on-disk databases (same
/// configuration), merkleizing and committing after every block.
fn measure_commit(blocks: &[BlockWrites]) -> Result<f64> {
    let dir = tempdir()?;
    let config = commonware_runtime::tokio::Config::new()
        .with_storage_directory(&dir)
        .with_worker_threads(1);
    let files = dir.clone();
    let result = commonware_runtime::tokio::Runner::new(config).start(|context| async move {
        commit_blocks(
            KernelCached::new(context).reading_files_under(&files),
            blocks,
        )
        .await
    });
    let _ = std::fs::remove_dir_all(&dir);
    result
}

fn tempdir() -> Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!(
        "tracechain-bench-limits-{}-{}",
        std::process::id(),
        Instant::now().elapsed().as_nanos()
    ));
    std::fs::create_dir_all(&dir).context("creating a scratch directory")?;
    Ok(dir)
}

async fn commit_blocks(context: NodeContext, blocks: &[BlockWrites]) -> Result<f64> {
    let (state_config, log_config, lookup_config) =
        StorageConfig::new("limits", 16_384).databases::<NodeContext>();
    let mut lookup = tracechain_state::LookupDb::init(context.child("lookup"), lookup_config, None)
        .await
        .map_err(|e| anyhow::anyhow!("opening the lookup database: {e}"))?;
    let mut log = tracechain_state::LogDb::init(context.child("log"), log_config, None)
        .await
        .map_err(|e| anyhow::anyhow!("opening the log: {e}"))?;
    let mut state = tracechain_state::StateDb::init(context.child("state"), state_config, None)
        .await
        .map_err(|e| anyhow::anyhow!("opening the state: {e}"))?;
    let started = Instant::now();
    let mut transactions = 0;
    for block in blocks {
        let mut log_batch = log.new_batch();
        for record in &block.log {
            log_batch = log_batch.append(*record);
        }
        let mut state_batch = state.new_batch();
        for (key, value) in &block.state {
            state_batch = state_batch.write(*key, Some(StateValue(value.clone())));
        }
        let merkleized = log_batch
            .merkleize(&log, None, Location::new(0))
            .await
            .map_err(|e| anyhow::anyhow!("merkleizing the log: {e}"))?;
        log = log
            .apply_batch(merkleized)
            .await
            .map_err(|e| anyhow::anyhow!("applying the log: {e}"))?
            .commit()
            .await
            .map_err(|e| anyhow::anyhow!("committing the log: {e}"))?;
        let merkleized = state_batch
            .merkleize(&state, None, &mut Proportional)
            .await
            .map_err(|e| anyhow::anyhow!("merkleizing the state: {e}"))?;
        state = state
            .apply_batch(merkleized)
            .await
            .map_err(|e| anyhow::anyhow!("applying the state: {e}"))?
            .commit()
            .await
            .map_err(|e| anyhow::anyhow!("committing the state: {e}"))?;
        let mut lookup_batch = lookup.new_batch();
        for (key, value) in &block.lookup {
            lookup_batch = lookup_batch.write(*key, Some(StateValue(value.clone())));
        }
        let merkleized = lookup_batch
            .merkleize(&lookup, None, &mut Proportional)
            .await
            .map_err(|e| anyhow::anyhow!("merkleizing the lookup database: {e}"))?;
        lookup = lookup
            .apply_batch(merkleized)
            .await
            .map_err(|e| anyhow::anyhow!("applying the lookup database: {e}"))?
            .commit()
            .await
            .map_err(|e| anyhow::anyhow!("committing the lookup database: {e}"))?;
        transactions += block.transactions;
    }
    let rate = per_second(transactions, started.elapsed());
    let _ = log.destroy().await;
    let _ = state.destroy().await;
    let _ = lookup.destroy().await;
    Ok(rate)
}

/// A founding organisation owning `prefix` whose agents are `keys`, each
/// holding `role` — the bench agents as if genesis had named them.
pub fn bench_organisation(
    prefix: &str,
    admin: &PrivateKey,
    keys: &[PrivateKey],
    role: &str,
) -> FoundingOrganisation {
    use commonware_cryptography::Signer;
    FoundingOrganisation {
        spec: OrganisationSpec {
            id: "bench".into(),
            name: "Bench".into(),
            company_prefixes: vec![prefix.into()],
            glns: vec![],
            admin: admin.public_key(),
            encryption_key: [7; 32],
            regulator: false,
        },
        agents: keys
            .iter()
            .map(|key| (key.public_key(), "bench agent".into(), vec![role.into()]))
            .collect(),
    }
}
