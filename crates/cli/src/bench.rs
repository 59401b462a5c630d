//! `tracechain bench`: load generators that drive a running network over
//! its real HTTP API and measure what it finalizes.

use crate::{bench_disk, bench_limits};
use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use commonware_cryptography::Signer;
use hdrhistogram::Histogram;
use std::{
    collections::HashMap,
    path::PathBuf,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};
use tracechain_client::{Client, ClientError};
use tracechain_types::{
    Digest, Payload, PrivateKey, Transaction, UnsignedTransaction, genesis::FoundingOrganisation,
    hash, to_hex,
};

#[derive(Subcommand)]
pub enum BenchCommand {
    /// Signed notes from many distinct signers, open loop at a target rate.
    ///
    /// Prints progress every second on stderr and one JSON summary line on
    /// stdout: submitted, accepted, rejected, finalized, lost, throughput
    /// and submission-to-finality latency percentiles.
    Notes(LoadArgs),
    /// EPCIS captures, each a separately signed document with one
    /// commissioning ObjectEvent of a new item, from many agents.
    ///
    /// Needs a network started with the demo organisations (`tracechain up`
    /// or `localnet --demo`): it registers `--signers` fresh agents of the
    /// demo bakery with its admin key first.
    Capture {
        #[command(flatten)]
        load: LoadArgs,
        /// The network directory holding `demo/` keys.
        #[arg(long)]
        demo_dir: PathBuf,
    },
    /// Parcels handed between two carriers, each hand-off proposed by the
    /// holder and accepted by the receiver once the proposal is final.
    ///
    /// Prints hand-offs finalized per second and the latency from the
    /// accepting signature to an event-stream subscriber's receipt of the
    /// accepted hand-off. Needs a demo network, like `capture`.
    Handoffs(crate::bench_handoffs::HandoffArgs),
    /// How fast a node that is behind (a fresh full node, or a restarted
    /// one) replays the chain up to a reference node.
    ///
    /// Polls both nodes' status, prints progress every second and, once
    /// the follower reaches the reference's height, one JSON line with
    /// blocks and log entries per second and whether both nodes hold the
    /// same roots at the same height. Exit code 1 if the roots differ or
    /// `--timeout` passes.
    Catchup(crate::bench_catchup::CatchupArgs),
    /// HTTP latency of trace back and verification (with a proof bundle)
    /// of random items on running nodes.
    ///
    /// Identifiers come from `--ids` or from the first node's events.
    /// Prints p50/p90/p99/max per kind; non-2xx answers count as errors.
    Queries(crate::bench_queries::QueryArgs),
}

#[derive(Args, Clone)]
pub struct LoadArgs {
    /// Node APIs to spread submissions over (comma-separated).
    #[arg(long, value_delimiter = ',')]
    api: Vec<String>,
    /// Distinct signing keys.
    #[arg(long, default_value_t = 10_000)]
    signers: usize,
    /// Target submissions per second.
    #[arg(long, default_value_t = 1_000)]
    rate: u64,
    /// Seconds of submission.
    #[arg(long, default_value_t = 30)]
    duration: u64,
    /// Most requests in flight.
    #[arg(long, default_value_t = 256)]
    concurrency: usize,
    /// Seconds to wait after submission ends for the rest to finalize.
    #[arg(long, default_value_t = 20)]
    drain: u64,
    /// Closed loop at the network's pace instead of `--rate`: keep
    /// `--window` transactions submitted but not yet final, sending the
    /// next as each one finalizes.
    #[arg(long)]
    closed_loop: bool,
    /// Transactions in flight (submitted, not final) in `--closed-loop`.
    #[arg(long, default_value_t = 4_000)]
    window: usize,
    /// Transactions signed, verified, executed and committed on one core
    /// after the run to measure this machine's limits and the ceiling
    /// (0 skips the measurement).
    #[arg(long, default_value_t = 20_000)]
    limits_sample: usize,
    /// Transactions per HTTP request: 1 sends each on its own (captures
    /// to `/v1/capture`), more sends up to that many ready at once,
    /// each still separately signed, to `/v1/transactions/batch`.
    #[arg(long, default_value_t = 1)]
    batch: usize,
    /// Sign the first N transactions before the clock starts, so that while
    /// it runs the generator only sends them (in a deployment, clients sign
    /// on their own devices, not on a validator's cores). Transactions past
    /// N are signed while the clock runs; the summary says how many.
    #[arg(long, default_value_t = 0)]
    presign: u64,
    /// Sample the disk under DIR while the load runs (a 4 KiB write and a
    /// sync every 50 ms) and report how long its syncs took: validators
    /// sync before they vote, so a stalling disk shows as finality tails.
    /// `capture` samples its `--demo-dir` unless this names another.
    #[arg(long, value_name = "DIR")]
    disk_probe: Option<PathBuf>,
}

pub fn run(command: BenchCommand) -> Result<()> {
    let runtime = ::tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let summary = match command {
        BenchCommand::Notes(load) => {
            let run = runtime.block_on(notes(load.clone()))?;
            serde_json::to_string(&with_limits(run, &load)?)?
        }
        BenchCommand::Capture { load, demo_dir } => {
            let run = runtime.block_on(capture(load.clone(), demo_dir))?;
            serde_json::to_string(&with_limits(run, &load)?)?
        }
        BenchCommand::Handoffs(args) => {
            serde_json::to_string(&runtime.block_on(crate::bench_handoffs::run(args))?)?
        }
        BenchCommand::Catchup(args) => {
            let summary = runtime.block_on(crate::bench_catchup::run(args))?;
            println!("{}", serde_json::to_string(&summary)?);
            return summary.verdict();
        }
        BenchCommand::Queries(args) => {
            serde_json::to_string(&runtime.block_on(crate::bench_queries::run(args))?)?
        }
    };
    println!("{summary}");
    Ok(())
}

/// Builds the i-th transaction of a workload, signed by `key` with `nonce`.
type MakeTx = Arc<dyn Fn(u64, &PrivateKey, u64) -> Transaction + Send + Sync>;

/// A finished load run and what measuring the machine's limits needs.
struct LoadRun {
    summary: Summary,
    make: MakeTx,
    chain_id: String,
    validators: usize,
    /// The founding organisations that let the sample's signers (given
    /// admin and agent keys) do what the workload does.
    founding: fn(&PrivateKey, &[PrivateKey]) -> Vec<FoundingOrganisation>,
}

/// Measures the limits after the run (on the same machine, now idle) and
/// adds them, the ceiling and the efficiency to the summary.
fn with_limits(run: LoadRun, load: &LoadArgs) -> Result<Summary> {
    let mut summary = run.summary;
    if load.limits_sample == 0 {
        return Ok(summary);
    }
    eprintln!(
        "measuring this machine's limits ({} transactions)…",
        load.limits_sample
    );
    let keys = fresh_keys(load.signers.min(load.limits_sample));
    let admin = PrivateKey::from_seed(u64::MAX);
    let (transactions, sign_rate) = bench_limits::sign_all(load.limits_sample, &keys, &*run.make);
    let workload = bench_limits::Workload {
        transactions,
        founding: (run.founding)(&admin, &keys),
        chain_id: run.chain_id,
    };
    let live_share = summary.signed_during_run as f64 / summary.submitted.max(1) as f64;
    let limits =
        bench_limits::Limits::measure(&workload, run.validators, sign_rate, live_share.min(1.0))?;
    eprintln!("{}", limits.describe());
    summary.efficiency = Some(summary.throughput_tps / limits.ceiling_tps);
    summary.limits = Some(limits);
    Ok(summary)
}

/// Fresh keys per run, so every signer starts at nonce 0.
pub(crate) fn fresh_keys(count: usize) -> Vec<PrivateKey> {
    let run_seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or_default();
    (0..count as u64)
        .map(|i| PrivateKey::from_seed(run_seed.wrapping_add(i)))
        .collect()
}

fn check(load: &LoadArgs) -> Result<Vec<Client>> {
    if load.api.is_empty() || load.signers == 0 || load.rate == 0 {
        bail!("--api, --signers and --rate must be non-empty / positive");
    }
    Ok(load.api.iter().map(|a| Client::new(a)).collect())
}

async fn notes(load: LoadArgs) -> Result<LoadRun> {
    let clients = check(&load)?;
    let status = clients[0].status().await.context("reading chain status")?;
    let (chain_id, validators) = (status.chain_id, status.validators.len());
    let tx_chain = chain_id.clone();
    let make: MakeTx = Arc::new(move |i, key, nonce| {
        UnsignedTransaction {
            chain_id: tx_chain.clone(),
            sender: key.public_key(),
            nonce,
            payload: Payload::Note {
                hash: hash(&i.to_be_bytes()),
                label: format!("bench note {i}"),
            },
        }
        .sign(key)
    });
    let summary = drive(
        "notes",
        &load,
        clients,
        fresh_keys(load.signers),
        make.clone(),
        load.disk_probe.clone(),
    )
    .await?;
    Ok(LoadRun {
        summary,
        make,
        chain_id,
        validators,
        founding: |_, _| Vec::new(),
    })
}

/// Registers `keys` as agents of `admin`'s organisation with `role`.
pub(crate) async fn register_agents(
    client: &Client,
    admin: &PrivateKey,
    keys: &[PrivateKey],
    role: &str,
) -> Result<()> {
    let chain_id = client.status().await?.chain_id;
    let mut nonce = client
        .account(&to_hex(admin.public_key()))
        .await?
        .nonce_for_next();
    let mut last = None;
    for key in keys {
        for payload in [
            Payload::RegisterAgent {
                agent: key.public_key(),
                display_name: "bench agent".into(),
            },
            Payload::GrantRole {
                agent: key.public_key(),
                role: role.into(),
            },
        ] {
            let tx = UnsignedTransaction {
                chain_id: chain_id.clone(),
                sender: admin.public_key(),
                nonce,
                payload,
            }
            .sign(admin);
            client.submit(&tx).await?;
            nonce += 1;
            last = Some(tx.id());
        }
    }
    if let Some(id) = last {
        let status = client.wait_final(&id, Duration::from_secs(120)).await?;
        if status.status != "applied" {
            bail!("registering bench agents failed: {:?}", status.reason);
        }
    }
    Ok(())
}

async fn capture(load: LoadArgs, demo_dir: PathBuf) -> Result<LoadRun> {
    let clients = check(&load)?;
    let admin =
        tracechain_crypto::read_key_file(&demo_dir.join("demo/golden-crust-bakery/admin.key"))
            .context("the bakery admin key of a demo network")?;
    let keys = fresh_keys(load.signers);
    eprintln!("registering {} bench agents…", keys.len());
    register_agents(&clients[0], &admin, &keys, "capture:commissioning").await?;
    let status = clients[0].status().await?;
    let (chain_id, validators) = (status.chain_id, status.validators.len());
    let tx_chain = chain_id.clone();
    // Item serials unique to this run: thousands of distinct identifiers.
    let run = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    let make: MakeTx = Arc::new(move |i, key, nonce| {
        let event = serde_json::json!({
            "type": "ObjectEvent",
            "eventTime": "2025-06-01T12:00:00.000Z",
            "eventTimeZoneOffset": "+02:00",
            "epcList": [format!("urn:epc:id:sgtin:4023456.000022.R{run}N{i}")],
            "action": "ADD",
            "bizStep": "commissioning",
            "disposition": "active",
            "readPoint": {"id": "urn:epc:id:sgln:4023456.00001.0"},
            "bizLocation": {"id": "urn:epc:id:sgln:4023456.00001.0"},
        });
        let document = serde_json::json!({
            "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
            "type": "EPCISDocument", "schemaVersion": "2.0",
            "creationDate": "2025-06-01T12:00:00Z",
            "epcisBody": {"eventList": [event]},
        });
        UnsignedTransaction {
            chain_id: tx_chain.clone(),
            sender: key.public_key(),
            nonce,
            payload: Payload::Capture {
                document: document.to_string().into_bytes(),
            },
        }
        .sign(key)
    });
    let probe_dir = load.disk_probe.clone().unwrap_or(demo_dir);
    let summary = drive(
        "capture",
        &load,
        clients,
        keys,
        make.clone(),
        Some(probe_dir),
    )
    .await?;
    Ok(LoadRun {
        summary,
        make,
        chain_id,
        validators,
        founding: |admin, keys| {
            vec![bench_limits::bench_organisation(
                BAKERY_PREFIX,
                admin,
                keys,
                "capture:commissioning",
            )]
        },
    })
}

/// The demo bakery's GS1 company prefix (the bench commissions its GTINs).
const BAKERY_PREFIX: &str = "4023456";

/// Shared counters and the submission times of accepted transactions.
#[derive(Default)]
struct Tracker {
    submitted: AtomicU64,
    accepted: AtomicU64,
    rejected: AtomicU64,
    /// Transactions signed while the clock ran (past `--presign`).
    signed_during_run: AtomicU64,
    in_flight: Mutex<HashMap<Digest, Instant>>,
    finalized: AtomicU64,
    latencies: Mutex<Option<Histogram<u64>>>,
    first_error: Mutex<Option<String>>,
    /// In `--closed-loop`: one permit per transaction that may be in flight.
    window: Option<Arc<::tokio::sync::Semaphore>>,
}

impl Tracker {
    /// A transaction left the flight (finalized or rejected).
    fn landed(&self) {
        if let Some(window) = &self.window {
            window.add_permits(1);
        }
    }
}

#[derive(serde::Serialize)]
struct Summary {
    bench: &'static str,
    nodes: usize,
    signers: usize,
    /// `open` (paced at `target_rate`) or `closed` (paced by finality).
    mode: &'static str,
    /// Most transactions per HTTP request (`--batch`).
    batch: usize,
    target_rate: u64,
    duration_s: f64,
    submitted: u64,
    /// Transactions signed before the clock started (`--presign`).
    presigned: u64,
    /// Transactions the generator signed while the clock ran.
    signed_during_run: u64,
    accepted: u64,
    rejected: u64,
    finalized: u64,
    lost: u64,
    throughput_tps: f64,
    latency_ms: Latency,
    first_error: Option<String>,
    /// How long the disk under the network took to sync a small write
    /// while the load ran (`--disk-probe`).
    #[serde(skip_serializing_if = "Option::is_none")]
    disk_sync: Option<bench_disk::DiskSync>,
    /// This machine's limits measured after the run, and the ceiling.
    #[serde(skip_serializing_if = "Option::is_none")]
    limits: Option<bench_limits::Limits>,
    /// `throughput_tps / limits.ceiling_tps`.
    #[serde(skip_serializing_if = "Option::is_none")]
    efficiency: Option<f64>,
}

#[derive(serde::Serialize)]
pub(crate) struct Latency {
    p50: u64,
    p90: u64,
    p99: u64,
    max: u64,
}

impl Latency {
    /// Percentiles in milliseconds (zeros when nothing was measured).
    pub(crate) fn of(histogram: Option<&Histogram<u64>>) -> Self {
        let at = |q: f64| histogram.map_or(0, |h| h.value_at_quantile(q));
        Self {
            p50: at(0.50),
            p90: at(0.90),
            p99: at(0.99),
            max: histogram.map_or(0, Histogram::max),
        }
    }
}

/// Runs a workload open loop and summarizes what finalized.
async fn drive(
    bench: &'static str,
    load: &LoadArgs,
    clients: Vec<Client>,
    keys: Vec<PrivateKey>,
    make: MakeTx,
    probe_dir: Option<PathBuf>,
) -> Result<Summary> {
    let tracker = Arc::new(Tracker {
        latencies: Mutex::new(Some(Histogram::new(3)?)),
        window: load
            .closed_loop
            .then(|| Arc::new(::tokio::sync::Semaphore::new(load.window.max(1)))),
        ..Default::default()
    });
    let start_height = clients[0].status().await?.height;
    let watcher = ::tokio::spawn(watch_blocks(
        clients[0].clone(),
        tracker.clone(),
        start_height,
    ));
    // Signing is CPU-bound: keep this runtime's other worker free meanwhile.
    let presigned = ::tokio::task::block_in_place(|| presign(load, &keys, &make));
    let presigned_count = presigned.len() as u64;
    let probe = probe_dir
        .map(|dir| bench_disk::DiskProbe::start(&dir))
        .transpose()?;
    let worst_sync = probe.as_ref().map(bench_disk::DiskProbe::worst_handle);
    let progress = ::tokio::spawn(report_progress(tracker.clone(), worst_sync));

    let started = Instant::now();
    let workload = Workload {
        keys: Arc::new(keys),
        make,
        presigned: presigned.into_iter(),
    };
    submit_open_loop(load, &clients, workload, tracker.clone()).await;
    let window = started
        .elapsed()
        .max(Duration::from_millis(1))
        .as_secs_f64();

    let drain_deadline = Instant::now() + Duration::from_secs(load.drain);
    while Instant::now() < drain_deadline
        && !tracker
            .in_flight
            .lock()
            .map(|m| m.is_empty())
            .unwrap_or(true)
    {
        ::tokio::time::sleep(Duration::from_millis(100)).await;
    }
    watcher.abort();
    progress.abort();
    let disk_sync = probe.map(bench_disk::DiskProbe::finish).transpose()?;

    let finalized = tracker.finalized.load(Ordering::Relaxed);
    let histogram = tracker.latencies.lock().ok().and_then(|h| h.clone());
    let latency = Latency::of(histogram.as_ref());
    let accepted = tracker.accepted.load(Ordering::Relaxed);
    Ok(Summary {
        bench,
        nodes: load.api.len(),
        signers: load.signers,
        mode: if load.closed_loop { "closed" } else { "open" },
        batch: load.batch.max(1),
        target_rate: if load.closed_loop { 0 } else { load.rate },
        duration_s: window,
        submitted: tracker.submitted.load(Ordering::Relaxed),
        presigned: presigned_count,
        signed_during_run: tracker.signed_during_run.load(Ordering::Relaxed),
        accepted,
        rejected: tracker.rejected.load(Ordering::Relaxed),
        finalized,
        lost: accepted.saturating_sub(finalized),
        throughput_tps: finalized as f64 / window,
        latency_ms: latency,
        first_error: tracker.first_error.lock().ok().and_then(|e| e.clone()),
        disk_sync,
        limits: None,
        efficiency: None,
    })
}

/// Signs transactions `0..--presign` (capped at an open loop's total) on
/// every core, in the order the run sends them.
fn presign(load: &LoadArgs, keys: &[PrivateKey], make: &MakeTx) -> Vec<Transaction> {
    let count = load.presign.min(most_sent(load));
    if count == 0 {
        return Vec::new();
    }
    eprintln!("signing {count} transactions before the clock starts…");
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()) as u64;
    let per_thread = count.div_ceil(threads);
    std::thread::scope(|scope| {
        let parts: Vec<_> = (0..threads)
            .map(|t| {
                let range = (t * per_thread).min(count)..((t + 1) * per_thread).min(count);
                scope.spawn(move || {
                    range
                        .map(|i| sign_nth(i, keys, &**make))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        parts
            .into_iter()
            .flat_map(|part| {
                part.join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    })
}

/// The most transactions a run sends: an open loop's `rate × duration`;
/// a closed loop's is bounded by time alone.
fn most_sent(load: &LoadArgs) -> u64 {
    if load.closed_loop {
        u64::MAX
    } else {
        load.rate * load.duration
    }
}

/// The i-th transaction of a run: signers take turns, so the signer of
/// transaction i is at nonce i / signers.
pub(crate) fn sign_nth(
    i: u64,
    keys: &[PrivateKey],
    make: &(dyn Fn(u64, &PrivateKey, u64) -> Transaction + Send + Sync),
) -> Transaction {
    let signers = keys.len() as u64;
    make(i, &keys[(i % signers) as usize], i / signers)
}

/// What a run sends: transactions signed ahead, then ones signed as sent.
struct Workload {
    keys: Arc<Vec<PrivateKey>>,
    make: MakeTx,
    presigned: std::vec::IntoIter<Transaction>,
}

impl Workload {
    /// Transactions `first..first + count`: pre-signed ones now, and the
    /// indices of the rest, to sign off the submission loop.
    fn take(&mut self, first: u64, count: u64) -> (Vec<Transaction>, std::ops::Range<u64>) {
        let ready: Vec<Transaction> = self.presigned.by_ref().take(count as usize).collect();
        let signed = ready.len() as u64;
        (ready, first + signed..first + count)
    }
}

/// Issues transaction i at time i / rate (or as the window frees up),
/// round-robin over signers and nodes, up to `--batch` per request.
async fn submit_open_loop(
    load: &LoadArgs,
    clients: &[Client],
    mut workload: Workload,
    tracker: Arc<Tracker>,
) {
    let semaphore = Arc::new(::tokio::sync::Semaphore::new(load.concurrency));
    let total = most_sent(load);
    let start = Instant::now();
    let deadline = ::tokio::time::Instant::from_std(start + Duration::from_secs(load.duration));
    let mut next = 0u64;
    while next < total {
        let count = match &tracker.window {
            Some(window) => window_batch(window, deadline, load.batch).await,
            None => due_batch(load, start, next, total).await,
        };
        if count == 0 {
            break;
        }
        let (mut txs, to_sign) = workload.take(next, count);
        let Ok(permit) = semaphore.clone().acquire_owned().await else {
            return;
        };
        let client = clients[(next as usize) % clients.len()].clone();
        next += count;
        let (keys, tracker, make) = (
            workload.keys.clone(),
            tracker.clone(),
            workload.make.clone(),
        );
        ::tokio::spawn(async move {
            tracker
                .signed_during_run
                .fetch_add(to_sign.end - to_sign.start, Ordering::Relaxed);
            txs.extend(to_sign.map(|i| sign_nth(i, &keys, &*make)));
            submit_request(&client, txs, &tracker).await;
            drop(permit);
        });
    }
    // Wait for the last submissions to be answered.
    let _ = semaphore.acquire_many(load.concurrency as u32).await;
}

/// Closed loop: waits for one free slot of the window, then takes the
/// others already free, up to `batch`. 0 once `deadline` passes.
async fn window_batch(
    window: &::tokio::sync::Semaphore,
    deadline: ::tokio::time::Instant,
    batch: usize,
) -> u64 {
    match ::tokio::time::timeout_at(deadline, window.acquire()).await {
        Ok(Ok(permit)) => permit.forget(),
        _ => return 0,
    }
    let mut count = 1;
    while count < batch.max(1) {
        match window.try_acquire() {
            Ok(permit) => permit.forget(),
            Err(_) => break,
        }
        count += 1;
    }
    count as u64
}

/// Open loop: waits until transaction `next` is due, then takes the ones
/// also due by now, up to `--batch`.
async fn due_batch(load: &LoadArgs, start: Instant, next: u64, total: u64) -> u64 {
    let due = |i: u64| start + Duration::from_nanos(i * 1_000_000_000 / load.rate.max(1));
    if let Some(wait) = due(next).checked_duration_since(Instant::now()) {
        ::tokio::time::sleep(wait).await;
    }
    let now = Instant::now();
    let mut count = 1;
    while count < load.batch.max(1) as u64 && next + count < total && due(next + count) <= now {
        count += 1;
    }
    count
}

/// Sends `txs` (one request) and accounts for each.
async fn submit_request(client: &Client, txs: Vec<Transaction>, tracker: &Tracker) {
    tracker
        .submitted
        .fetch_add(txs.len() as u64, Ordering::Relaxed);
    if let Ok(mut in_flight) = tracker.in_flight.lock() {
        let now = Instant::now();
        for tx in &txs {
            in_flight.insert(tx.id(), now);
        }
    }
    let outcomes: Vec<Result<(), ClientError>> = match txs.as_slice() {
        [tx] if matches!(tx.payload(), Payload::Capture { .. }) => {
            vec![client.submit_capture(tx).await.map(drop)]
        }
        [tx] => vec![client.submit(tx).await.map(drop)],
        _ => match client.submit_batch(&txs).await {
            Ok(answer) => answer
                .results
                .into_iter()
                .map(|item| {
                    item.problem
                        .map_or(Ok(()), |p| Err(ClientError::Problem(p)))
                })
                .collect(),
            Err(err) => {
                let detail = err.to_string();
                txs.iter()
                    .map(|_| {
                        Err(ClientError::Unexpected {
                            url: "batch".into(),
                            detail: detail.clone(),
                        })
                    })
                    .collect()
            }
        },
    };
    for (tx, outcome) in txs.iter().zip(outcomes) {
        match outcome {
            Ok(()) => {
                tracker.accepted.fetch_add(1, Ordering::Relaxed);
            }
            Err(err) => {
                if let Ok(mut in_flight) = tracker.in_flight.lock() {
                    in_flight.remove(&tx.id());
                }
                record_error(tracker, err);
                tracker.landed();
            }
        }
    }
}

fn record_error(tracker: &Tracker, err: ClientError) {
    tracker.rejected.fetch_add(1, Ordering::Relaxed);
    if let Ok(mut first) = tracker.first_error.lock()
        && first.is_none()
    {
        *first = Some(err.to_string());
    }
}

/// Follows finalized blocks on one node and matches their transactions.
async fn watch_blocks(client: Client, tracker: Arc<Tracker>, mut next: u64) {
    next += 1;
    loop {
        let Ok(block) = client.block(&next.to_string()).await else {
            ::tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        let seen = Instant::now();
        let ids = block["transactions"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let mut in_flight = match tracker.in_flight.lock() {
            Ok(guard) => guard,
            Err(_) => return,
        };
        let mut latencies = tracker.latencies.lock().ok();
        for id in ids.iter().filter_map(|v| v.as_str()) {
            let Some(digest) = tracechain_types::digest_from_hex(id) else {
                continue;
            };
            if let Some(sent) = in_flight.remove(&digest) {
                tracker.finalized.fetch_add(1, Ordering::Relaxed);
                tracker.landed();
                let ms = seen.duration_since(sent).as_millis() as u64;
                if let Some(Some(h)) = latencies.as_deref_mut() {
                    let _ = h.record(ms.max(1));
                }
            }
        }
        next += 1;
    }
}

async fn report_progress(tracker: Arc<Tracker>, worst_sync: Option<bench_disk::WorstSync>) {
    let start = Instant::now();
    loop {
        ::tokio::time::sleep(Duration::from_secs(1)).await;
        let disk = worst_sync
            .as_ref()
            .map(|worst| format!(" disk sync max {:.0} ms", worst.take()))
            .unwrap_or_default();
        eprintln!(
            "[{:>4}s] submitted {} accepted {} rejected {} finalized {} pending {}{disk}",
            start.elapsed().as_secs(),
            tracker.submitted.load(Ordering::Relaxed),
            tracker.accepted.load(Ordering::Relaxed),
            tracker.rejected.load(Ordering::Relaxed),
            tracker.finalized.load(Ordering::Relaxed),
            tracker
                .in_flight
                .lock()
                .map(|m| m.len())
                .unwrap_or_default(),
        );
    }
}
