//! Proof generation and proof sizes at 1,000,000 events (and items), on
//! disk with the node's own database configuration; proofs checked with
//! the verifier as they are made.
//!
//! cargo run --release -p tracechain-proof --example bench_generate [-- EVENTS]

use commonware_codec::Encode;
use commonware_runtime::{Runner as _, Supervisor as _, tokio};
use commonware_storage::{merkle::Location, qmdb::floor::Proportional};
use commonware_utils::NZU64;
use std::time::Instant;
use tracechain_proof::{
    EventProof, StateProof,
    verify::{verify_event, verify_state},
};
use tracechain_state::{LogDb, StateDb, StateValue, StorageConfig};
use tracechain_types::{LogRecord, RecordKind, hash, hash_parts};

const PER_BLOCK: u64 = 2_000;
const SAMPLES: usize = 2_000;
const ITEM: u8 = 13;

fn percentiles(mut ms: Vec<f64>) -> String {
    ms.sort_by(f64::total_cmp);
    format!(
        "p50 {:.3} ms, p99 {:.3} ms",
        ms[ms.len() / 2],
        ms[ms.len() * 99 / 100]
    )
}

fn main() {
    let events: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let dir = std::env::temp_dir().join(format!("tracechain-proof-bench-{}", std::process::id()));
    let config = tokio::Config::new()
        .with_storage_directory(&dir)
        .with_worker_threads(2);
    tokio::Runner::new(config).start(|context| async move {
        let (state_config, log_config, _) =
            StorageConfig::new("bench", 65_536).databases::<tokio::Context>();
        let mut log = LogDb::init(context.child("log"), log_config, None)
            .await
            .expect("log");
        let mut state = StateDb::init(context.child("state"), state_config, None)
            .await
            .expect("state");
        let started = Instant::now();
        let mut made = 0;
        while made < events {
            let mut log_batch = log.new_batch();
            let mut state_batch = state.new_batch();
            for i in made..(made + PER_BLOCK).min(events) {
                let subject = hash(&i.to_be_bytes());
                log_batch = log_batch.append(LogRecord {
                    kind: RecordKind::Event,
                    tx: subject,
                    subject,
                });
                let key = hash_parts(&[&[ITEM], &i.to_be_bytes()]);
                state_batch = state_batch.write(key, Some(StateValue(vec![7; 120])));
            }
            made = (made + PER_BLOCK).min(events);
            let m = log_batch
                .merkleize(&log, None, Location::new(0))
                .await
                .expect("merkleize");
            log = log.apply_batch(m).await.expect("apply");
            let m = state_batch
                .merkleize(&state, None, &mut Proportional)
                .await
                .expect("merkleize");
            state = state.apply_batch(m).await.expect("apply");
        }
        println!(
            "built {events} events and {events} items in {:.1} s",
            started.elapsed().as_secs_f64()
        );
        let (size, log_root, state_root) = (*log.bounds().end, log.root(), state.root());

        let (mut make, mut check, mut bytes) = (Vec::new(), Vec::new(), 0);
        for sample in 0..SAMPLES as u64 {
            // Spread over the whole log: an initial commit, then each block's
            // records followed by its commit.
            let i = (sample * 7_919 * 127) % events;
            let location = 1 + i + i / PER_BLOCK;
            let start = Instant::now();
            let (proof, ops) = log
                .historical_proof(Location::new(size), Location::new(location), NZU64!(1))
                .await
                .expect("proof");
            make.push(start.elapsed().as_secs_f64() * 1e3);
            let record = LogRecord {
                kind: RecordKind::Event,
                tx: hash(&i.to_be_bytes()),
                subject: hash(&i.to_be_bytes()),
            };
            assert_eq!(
                ops[0].encode(),
                commonware_storage::qmdb::keyless::fixed::Operation::<
                    commonware_storage::mmr::Family,
                    LogRecord,
                >::Append(record)
                .encode()
            );
            let bundle_part = EventProof {
                event_hash: hex::encode(record.subject),
                location,
                record: hex::encode(record.encode()),
                proof: hex::encode(proof.encode()),
            };
            bytes = proof.encode().len();
            let start = Instant::now();
            verify_event(0, &bundle_part, &log_root, 1).expect("verifies");
            check.push(start.elapsed().as_secs_f64() * 1e3);
        }
        println!(
            "event inclusion proof: {bytes} bytes; generate {}; verify {}",
            percentiles(make),
            percentiles(check)
        );

        let mut tally = Tally::default();
        for sample in 0..SAMPLES as u64 {
            let i = (sample * 104_729) % events;
            let key = hash_parts(&[&[ITEM], &i.to_be_bytes()]);
            let start = Instant::now();
            let proof = state.key_value_proof(key).await.expect("proof");
            tally.made(start);
            tally.verify(i, Some([7; 120].as_slice()), &proof.encode(), &state_root);
        }
        tally.report("item state proof");

        let mut tally = Tally::default();
        for sample in 0..SAMPLES as u64 {
            let i = events + sample;
            let key = hash_parts(&[&[ITEM], &i.to_be_bytes()]);
            let start = Instant::now();
            let proof = state.exclusion_proof(&key).await.expect("proof");
            tally.made(start);
            tally.verify(i, None, &proof.encode(), &state_root);
        }
        tally.report("never-commissioned (exclusion) proof");
        log.destroy().await.expect("destroy");
        state.destroy().await.expect("destroy");
    });
    let _ = std::fs::remove_dir_all(dir);
}

/// Generation and verification times of one kind of state proof.
#[derive(Default)]
struct Tally {
    make: Vec<f64>,
    check: Vec<f64>,
    bytes: usize,
}

impl Tally {
    fn made(&mut self, start: Instant) {
        self.make.push(start.elapsed().as_secs_f64() * 1e3);
    }

    /// Checks the proof of item `i` (with `value`, or absent) as a bundle
    /// part against `root`.
    fn verify(
        &mut self,
        i: u64,
        value: Option<&[u8]>,
        proof: &[u8],
        root: &tracechain_types::Digest,
    ) {
        let part = StateProof {
            label: String::new(),
            namespace: ITEM,
            logical: hex::encode(i.to_be_bytes()),
            value: value.map(hex::encode),
            proof: hex::encode(proof),
        };
        self.bytes = proof.len();
        let start = Instant::now();
        verify_state(0, &part, root, 1).expect("verifies");
        self.check.push(start.elapsed().as_secs_f64() * 1e3);
    }

    fn report(self, name: &str) {
        println!(
            "{name}: {} bytes; generate {}; verify {}",
            self.bytes,
            percentiles(self.make),
            percentiles(self.check)
        );
    }
}
