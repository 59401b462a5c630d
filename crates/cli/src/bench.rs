//! `tracechain bench`: load generators that drive a running network over
//! its real HTTP API and measure what it finalizes.

use anyhow::{Context, Result, bail};
use clap::Subcommand;
use commonware_cryptography::Signer;
use hdrhistogram::Histogram;
use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};
use tracechain_client::{Client, ClientError};
use tracechain_types::{Digest, Payload, PrivateKey, UnsignedTransaction, hash};

#[derive(Subcommand)]
pub enum BenchCommand {
    /// Signed notes from many distinct signers, open loop at a target rate.
    ///
    /// Prints progress every second on stderr and one JSON summary line on
    /// stdout: submitted, accepted, rejected, finalized, lost, throughput
    /// and submission-to-finality latency percentiles.
    Notes {
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
    },
}

pub fn run(command: BenchCommand) -> Result<()> {
    match command {
        BenchCommand::Notes {
            api,
            signers,
            rate,
            duration,
            concurrency,
            drain,
        } => {
            if api.is_empty() || signers == 0 || rate == 0 {
                bail!("--api, --signers and --rate must be non-empty / positive");
            }
            let runtime = ::tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()?;
            let summary = runtime.block_on(notes(NotesConfig {
                apis: api,
                signers,
                rate,
                duration: Duration::from_secs(duration),
                concurrency,
                drain: Duration::from_secs(drain),
            }))?;
            println!("{}", serde_json::to_string(&summary)?);
            Ok(())
        }
    }
}

struct NotesConfig {
    apis: Vec<String>,
    signers: usize,
    rate: u64,
    duration: Duration,
    concurrency: usize,
    drain: Duration,
}

/// Shared counters and the submission times of accepted transactions.
#[derive(Default)]
struct Tracker {
    submitted: AtomicU64,
    accepted: AtomicU64,
    rejected: AtomicU64,
    in_flight: Mutex<HashMap<Digest, Instant>>,
    finalized: AtomicU64,
    latencies: Mutex<Option<Histogram<u64>>>,
    first_error: Mutex<Option<String>>,
}

#[derive(serde::Serialize)]
struct Summary {
    bench: &'static str,
    nodes: usize,
    signers: usize,
    target_rate: u64,
    duration_s: f64,
    submitted: u64,
    accepted: u64,
    rejected: u64,
    finalized: u64,
    lost: u64,
    throughput_tps: f64,
    latency_ms: Latency,
    first_error: Option<String>,
}

#[derive(serde::Serialize)]
struct Latency {
    p50: u64,
    p90: u64,
    p99: u64,
    max: u64,
}

async fn notes(config: NotesConfig) -> Result<Summary> {
    let clients: Vec<Client> = config.apis.iter().map(|a| Client::new(a)).collect();
    let chain_id = clients[0]
        .status()
        .await
        .context("reading chain status")?
        .chain_id;
    // Fresh keys per run, so every signer starts at nonce 0.
    let run_seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or_default();
    let keys: Arc<Vec<PrivateKey>> = Arc::new(
        (0..config.signers as u64)
            .map(|i| PrivateKey::from_seed(run_seed.wrapping_add(i)))
            .collect(),
    );
    let tracker = Arc::new(Tracker {
        latencies: Mutex::new(Some(Histogram::new(3)?)),
        ..Default::default()
    });
    let start_height = clients[0].status().await?.height;
    let watcher = ::tokio::spawn(watch_blocks(
        clients[0].clone(),
        tracker.clone(),
        start_height,
    ));
    let progress = ::tokio::spawn(report_progress(tracker.clone()));

    let started = Instant::now();
    submit_open_loop(&config, &clients, &chain_id, keys, tracker.clone()).await;
    let submit_window = started.elapsed();

    let drain_deadline = Instant::now() + config.drain;
    while Instant::now() < drain_deadline
        && !tracker
            .in_flight
            .lock()
            .map(|m| m.is_empty())
            .unwrap_or(true)
    {
        ::tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let elapsed = started.elapsed();
    watcher.abort();
    progress.abort();

    let finalized = tracker.finalized.load(Ordering::Relaxed);
    let histogram = tracker.latencies.lock().ok().and_then(|h| h.clone());
    let latency = histogram.map_or(
        Latency {
            p50: 0,
            p90: 0,
            p99: 0,
            max: 0,
        },
        |h| Latency {
            p50: h.value_at_quantile(0.50),
            p90: h.value_at_quantile(0.90),
            p99: h.value_at_quantile(0.99),
            max: h.max(),
        },
    );
    let accepted = tracker.accepted.load(Ordering::Relaxed);
    // Throughput over the submission window plus the time the tail needed.
    let window = submit_window.max(Duration::from_millis(1)).as_secs_f64();
    let _ = elapsed;
    Ok(Summary {
        bench: "notes",
        nodes: config.apis.len(),
        signers: config.signers,
        target_rate: config.rate,
        duration_s: window,
        submitted: tracker.submitted.load(Ordering::Relaxed),
        accepted,
        rejected: tracker.rejected.load(Ordering::Relaxed),
        finalized,
        lost: accepted.saturating_sub(finalized),
        throughput_tps: finalized as f64 / window,
        latency_ms: latency,
        first_error: tracker.first_error.lock().ok().and_then(|e| e.clone()),
    })
}

/// Issues transaction i at time i / rate, round-robin over signers and nodes.
async fn submit_open_loop(
    config: &NotesConfig,
    clients: &[Client],
    chain_id: &str,
    keys: Arc<Vec<PrivateKey>>,
    tracker: Arc<Tracker>,
) {
    let semaphore = Arc::new(::tokio::sync::Semaphore::new(config.concurrency));
    let total = config.rate * config.duration.as_secs();
    let start = Instant::now();
    let mut nonces = vec![0u64; keys.len()];
    for i in 0..total {
        let due = start + Duration::from_nanos(i * 1_000_000_000 / config.rate);
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            ::tokio::time::sleep(wait).await;
        }
        let signer = (i as usize) % keys.len();
        let nonce = nonces[signer];
        nonces[signer] += 1;
        let Ok(permit) = semaphore.clone().acquire_owned().await else {
            return;
        };
        let client = clients[(i as usize) % clients.len()].clone();
        let keys = keys.clone();
        let tracker = tracker.clone();
        let chain_id = chain_id.to_string();
        ::tokio::spawn(async move {
            let key = &keys[signer];
            let tx = UnsignedTransaction {
                chain_id,
                sender: key.public_key(),
                nonce,
                payload: Payload::Note {
                    hash: hash(&i.to_be_bytes()),
                    label: format!("bench note {i}"),
                },
            }
            .sign(key);
            tracker.submitted.fetch_add(1, Ordering::Relaxed);
            let sent = Instant::now();
            if let Ok(mut in_flight) = tracker.in_flight.lock() {
                in_flight.insert(tx.id(), sent);
            }
            match client.submit(&tx).await {
                Ok(_) => {
                    tracker.accepted.fetch_add(1, Ordering::Relaxed);
                }
                Err(err) => {
                    if let Ok(mut in_flight) = tracker.in_flight.lock() {
                        in_flight.remove(&tx.id());
                    }
                    record_error(&tracker, err);
                }
            }
            drop(permit);
        });
    }
    // Wait for the last submissions to be answered.
    let _ = semaphore.acquire_many(config.concurrency as u32).await;
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
                let ms = seen.duration_since(sent).as_millis() as u64;
                if let Some(Some(h)) = latencies.as_deref_mut() {
                    let _ = h.record(ms.max(1));
                }
            }
        }
        next += 1;
    }
}

async fn report_progress(tracker: Arc<Tracker>) {
    let start = Instant::now();
    loop {
        ::tokio::time::sleep(Duration::from_secs(1)).await;
        eprintln!(
            "[{:>4}s] submitted {} accepted {} rejected {} finalized {} pending {}",
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
