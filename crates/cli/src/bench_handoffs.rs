//! `tracechain bench handoffs`: parcels handed back and forth between two
//! carriers, each hand-off signed by both sides, measured by a subscriber
//! of the event stream on another node.

use crate::bench::{Latency, fresh_keys, register_agents};
use anyhow::{Context, Result, bail};
use clap::Args;
use commonware_cryptography::Signer;
use hdrhistogram::Histogram;
use std::{
    collections::HashMap,
    path::{Path, PathBuf},
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};
use tokio::sync::oneshot;
use tracechain_client::Client;
use tracechain_types::{
    Digest, Payload, PrivateKey, UnsignedTransaction, digest_from_hex,
    parcel::{DocumentAnchor, RouteStop},
};

const SENDER: &str = "golden-crust-bakery";
const CARRIERS: [&str; 2] = ["swift-freight", "metro-couriers"];

#[derive(Args, Clone)]
pub struct HandoffArgs {
    /// Node APIs (comma-separated): parcels are spread over all but the
    /// last, which hosts the measuring subscriber.
    #[arg(long, value_delimiter = ',')]
    api: Vec<String>,
    /// Parcels in motion at once (each one hand-off at a time).
    #[arg(long, default_value_t = 200)]
    parcels: usize,
    /// Seconds of hand-offs.
    #[arg(long, default_value_t = 30)]
    duration: u64,
    /// The network directory holding `demo/` keys.
    #[arg(long)]
    demo_dir: PathBuf,
}

#[derive(serde::Serialize)]
pub struct HandoffSummary {
    bench: &'static str,
    nodes: usize,
    parcels: usize,
    duration_s: f64,
    handoffs: u64,
    failed: u64,
    handoffs_per_s: f64,
    /// From the accepting signature to the subscriber's receipt.
    accept_to_subscriber_ms: Latency,
    first_error: Option<String>,
}

/// Transactions whose feed record someone awaits, by id.
type Waiters = Arc<Mutex<HashMap<Digest, oneshot::Sender<Instant>>>>;

#[derive(Default)]
struct Counters {
    handoffs: AtomicU64,
    failed: AtomicU64,
    latencies: Mutex<Option<Histogram<u64>>>,
    first_error: Mutex<Option<String>>,
}

impl Counters {
    fn fail(&self, error: String) {
        self.failed.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut first) = self.first_error.lock() {
            first.get_or_insert(error);
        }
    }
}

/// One parcel's signers: the sender's and each carrier's agent.
struct Parties {
    sender: PrivateKey,
    carriers: [PrivateKey; 2],
    nonces: HashMap<String, u64>,
}

impl Parties {
    fn sign(
        &mut self,
        chain_id: &str,
        who: Option<usize>,
        payload: Payload,
    ) -> tracechain_types::Transaction {
        let key = match who {
            None => &self.sender,
            Some(i) => &self.carriers[i],
        };
        let nonce = self
            .nonces
            .entry(tracechain_types::to_hex(key.public_key()))
            .or_default();
        let tx = UnsignedTransaction {
            chain_id: chain_id.to_string(),
            sender: key.public_key(),
            nonce: *nonce,
            payload,
        }
        .sign(key);
        *nonce += 1;
        tx
    }
}

fn admin(dir: &Path, org: &str) -> Result<PrivateKey> {
    tracechain_crypto::read_key_file(&dir.join("demo").join(org).join("admin.key"))
        .with_context(|| format!("the {org} admin key of a demo network in {}", dir.display()))
}

pub async fn run(args: HandoffArgs) -> Result<HandoffSummary> {
    if args.api.len() < 2 || args.parcels == 0 {
        bail!("--api needs at least two nodes and --parcels must be positive");
    }
    let clients: Vec<Client> = args.api.iter().map(|a| Client::new(a)).collect();
    let (submitters, observer) = clients.split_at(clients.len() - 1);
    let chain_id = clients[0].status().await?.chain_id;
    let parties = register(&clients[0], &args).await?;

    let waiters: Waiters = Arc::default();
    let from = observer[0].status().await?.height + 1;
    let stream = observer[0].stream(&format!("from={from}"), None).await?;
    let subscriber = tokio::spawn(follow(stream, waiters.clone()));

    let counters = Arc::new(Counters {
        latencies: Mutex::new(Some(Histogram::new(3)?)),
        ..Default::default()
    });
    let started = Instant::now();
    let deadline = started + Duration::from_secs(args.duration);
    let run = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() % 100_000)
        .unwrap_or_default();
    let tasks: Vec<_> = parties
        .into_iter()
        .enumerate()
        .map(|(i, parties)| {
            let parcel = format!("urn:epc:id:sscc:4023456.{:05}{i:05}", run % 100_000);
            let lane = Lane {
                client: submitters[i % submitters.len()].clone(),
                chain_id: chain_id.clone(),
                waiters: waiters.clone(),
                counters: counters.clone(),
                parcel,
            };
            tokio::spawn(lane.drive(parties, deadline))
        })
        .collect();
    for task in tasks {
        let _ = task.await;
    }
    subscriber.abort();
    let window = started.elapsed().as_secs_f64();
    let handoffs = counters.handoffs.load(Ordering::Relaxed);
    let histogram = counters.latencies.lock().ok().and_then(|h| h.clone());
    Ok(HandoffSummary {
        bench: "handoffs",
        nodes: args.api.len(),
        parcels: args.parcels,
        duration_s: window,
        handoffs,
        failed: counters.failed.load(Ordering::Relaxed),
        handoffs_per_s: handoffs as f64 / window,
        accept_to_subscriber_ms: Latency::of(histogram.as_ref()),
        first_error: counters.first_error.lock().ok().and_then(|e| e.clone()),
    })
}

/// Fresh agents (role `shipment:handoff`) for every parcel's three parties.
async fn register(client: &Client, args: &HandoffArgs) -> Result<Vec<Parties>> {
    let mut keys = Vec::new();
    for org in std::iter::once(SENDER).chain(CARRIERS) {
        let fresh = fresh_keys(args.parcels);
        eprintln!("registering {} agents of {org}…", fresh.len());
        register_agents(
            client,
            &admin(&args.demo_dir, org)?,
            &fresh,
            "shipment:handoff",
        )
        .await?;
        keys.push(fresh);
    }
    let [senders, first, second]: [Vec<PrivateKey>; 3] = keys
        .try_into()
        .map_err(|_| anyhow::anyhow!("three organisations"))?;
    Ok(senders
        .into_iter()
        .zip(first.into_iter().zip(second))
        .map(|(sender, (a, b))| Parties {
            sender,
            carriers: [a, b],
            nonces: HashMap::new(),
        })
        .collect())
}

/// Marks the arrival of every awaited transaction's first record.
async fn follow(mut stream: tracechain_client::RecordStream, waiters: Waiters) {
    loop {
        let record = match stream.next().await {
            Ok(Some(record)) => record,
            Ok(None) => {
                eprintln!("the subscriber's stream ended");
                return;
            }
            Err(err) => {
                eprintln!("the subscriber's stream failed: {err}");
                return;
            }
        };
        let arrived = Instant::now();
        let Some(id) = record["transaction"].as_str().and_then(digest_from_hex) else {
            continue;
        };
        let waiter = waiters.lock().ok().and_then(|mut w| w.remove(&id));
        if let Some(waiter) = waiter {
            let _ = waiter.send(arrived);
        }
    }
}

/// One parcel, handed over again and again until the deadline.
struct Lane {
    client: Client,
    chain_id: String,
    waiters: Waiters,
    counters: Arc<Counters>,
    parcel: String,
}

impl Lane {
    async fn drive(self, mut parties: Parties, deadline: Instant) {
        if let Err(err) = self.register(&mut parties).await {
            self.counters
                .fail(format!("registering {}: {err:#}", self.parcel));
            return;
        }
        // The sender hands to carrier 0; then the carriers alternate.
        let mut holder: Option<usize> = None;
        while Instant::now() < deadline {
            let to = holder.map_or(0, |h| 1 - h);
            match self.handoff(&mut parties, holder, to).await {
                Ok(latency) => {
                    self.counters.handoffs.fetch_add(1, Ordering::Relaxed);
                    if let Ok(mut h) = self.counters.latencies.lock()
                        && let Some(h) = h.as_mut()
                    {
                        let _ = h.record(latency.as_millis().max(1) as u64);
                    }
                    holder = Some(to);
                }
                Err(err) => {
                    self.counters.fail(format!("{}: {err:#}", self.parcel));
                    return;
                }
            }
        }
    }

    async fn register(&self, parties: &mut Parties) -> Result<()> {
        let readers: Vec<String> = std::iter::once(SENDER)
            .chain(CARRIERS)
            .map(String::from)
            .collect();
        let info = serde_json::json!({"contents": "bench parcel", "parcel": self.parcel});
        let (fingerprint, ciphertext_hash) = self
            .client
            .upload_document(&parties.sender, &readers, &info)
            .await?;
        let payload = Payload::RegisterParcel {
            parcel: self.parcel.clone(),
            recipient: "freshmart".into(),
            route: CARRIERS
                .iter()
                .map(|c| RouteStop {
                    organisation: c.to_string(),
                    location: None,
                })
                .collect(),
            document: DocumentAnchor {
                fingerprint,
                ciphertext_hash,
                readers,
                label: "bench".into(),
            },
        };
        let tx = parties.sign(&self.chain_id, None, payload);
        self.final_record(&tx).await.map(|_| ())
    }

    /// Proposes (by `from`, the sender when `None`) and accepts (by `to`);
    /// returns the time from signing the acceptance to its record arriving.
    async fn handoff(
        &self,
        parties: &mut Parties,
        from: Option<usize>,
        to: usize,
    ) -> Result<Duration> {
        let proposal = parties.sign(
            &self.chain_id,
            from,
            Payload::ProposeHandoff {
                parcel: self.parcel.clone(),
                to: CARRIERS[to].into(),
                next: None,
                location: None,
                step: None,
                wait_ms: 600_000,
            },
        );
        self.final_record(&proposal).await?;
        let signed = Instant::now();
        let acceptance = parties.sign(
            &self.chain_id,
            Some(to),
            Payload::AcceptHandoff {
                parcel: self.parcel.clone(),
                handoff: proposal.id(),
            },
        );
        let arrived = self.final_record(&acceptance).await?;
        Ok(arrived.duration_since(signed))
    }

    /// Submits `tx` and waits for the subscriber to see its record; a
    /// transaction that failed in its block has none, so its status is
    /// checked whenever the wait runs long.
    async fn final_record(&self, tx: &tracechain_types::Transaction) -> Result<Instant> {
        let (sender, mut receiver) = oneshot::channel();
        if let Ok(mut waiters) = self.waiters.lock() {
            waiters.insert(tx.id(), sender);
        }
        self.client.submit(tx).await?;
        let started = Instant::now();
        loop {
            match tokio::time::timeout(Duration::from_secs(5), &mut receiver).await {
                Ok(Ok(arrived)) => return Ok(arrived),
                Ok(Err(_)) => bail!("the subscriber stopped"),
                Err(_) => {}
            }
            let status = self
                .client
                .transaction(&tracechain_types::to_hex(tx.id()))
                .await?;
            if status.status == "failed" {
                bail!(
                    "{} failed: {}",
                    tx.payload().kind(),
                    status.reason.unwrap_or_default()
                );
            }
            if started.elapsed() > Duration::from_secs(60) {
                bail!("{} not seen by the subscriber in 60 s", tx.payload().kind());
            }
        }
    }
}
