//! Property tests: proofs made by the real databases over random contents
//! verify at random positions, and fail once any byte changes.

use commonware_codec::Encode;
use commonware_runtime::{Runner as _, Supervisor as _, deterministic};
use commonware_storage::{merkle::Location, qmdb::floor::Proportional};
use commonware_utils::NZU64;
use proptest::prelude::*;
use tracechain_proof::{EventProof, StateProof};
use tracechain_state::{LogDb, StateDb, StateValue, StorageConfig};
use tracechain_types::{LogRecord, RecordKind, hash, hash_parts};

const NAMESPACE: u8 = 13;

fn flip(text: &str, at: usize) -> String {
    let mut bytes = hex::decode(text).expect("hex");
    let at = at % bytes.len();
    bytes[at] ^= 0x80;
    hex::encode(bytes)
}

/// Appends `blocks` of event records; returns (size, root) after each and
/// every record's location.
async fn build_log(
    context: deterministic::Context,
    blocks: &[usize],
) -> (
    LogDb<deterministic::Context>,
    Vec<(u64, tracechain_types::Digest)>,
    Vec<(u64, LogRecord)>,
) {
    let (_, config, _) = StorageConfig::new("log", 64).databases::<deterministic::Context>();
    let mut log = LogDb::init(context.child("log"), config, None)
        .await
        .expect("log");
    let (mut after, mut records) = (Vec::new(), Vec::new());
    for (block, count) in blocks.iter().enumerate() {
        let mut batch = log.new_batch();
        let start = *log.bounds().end;
        for i in 0..*count {
            let record = LogRecord {
                kind: RecordKind::Event,
                tx: hash(&(block as u64).to_be_bytes()),
                subject: hash(format!("{block}/{i}").as_bytes()),
            };
            records.push((start + i as u64, record));
            batch = batch.append(record);
        }
        let merkleized = batch
            .merkleize(&log, None, Location::new(0))
            .await
            .expect("merkleize");
        log = log.apply_batch(merkleized).await.expect("apply");
        after.push((*log.bounds().end, log.root()));
    }
    (log, after, records)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]

    #[test]
    fn log_entries_verify_at_any_position(
        blocks in proptest::collection::vec(1usize..40, 1..6),
        pick in any::<prop::sample::Index>(),
        flip_at in any::<usize>(),
    ) {
        deterministic::Runner::default().start(|context| async move {
            let (log, after, records) = build_log(context, &blocks).await;
            let (location, record) = records[pick.index(records.len())];
            // Against the newest root and against the root right after it.
            for &(size, root) in after.iter().filter(|(size, _)| *size > location) {
                let (proof, _) = log
                    .historical_proof(Location::new(size), Location::new(location), NZU64!(1))
                    .await
                    .expect("proof");
                let good = EventProof {
                    event_hash: hex::encode(record.subject),
                    location,
                    record: hex::encode(record.encode()),
                    proof: hex::encode(proof.encode()),
                };
                assert!(tracechain_proof::verify::verify_event(0, &good, &root, 1).is_ok());
                let mut bad = good.clone();
                bad.proof = flip(&good.proof, flip_at);
                assert!(tracechain_proof::verify::verify_event(0, &bad, &root, 1).is_err());
                let mut moved = good.clone();
                moved.location = location + 1;
                assert!(tracechain_proof::verify::verify_event(0, &moved, &root, 1).is_err());
                let mut other = good.clone();
                other.event_hash = hex::encode(hash(b"another event"));
                assert!(tracechain_proof::verify::verify_event(0, &other, &root, 1).is_err());
            }
        });
    }

    #[test]
    fn state_entries_and_absences_verify(
        keys in proptest::collection::btree_set(any::<u32>(), 1..300),
        pick in any::<prop::sample::Index>(),
        absent in any::<u32>(),
        flip_at in any::<usize>(),
    ) {
        deterministic::Runner::default().start(|context| async move {
            let (config, _, _) = StorageConfig::new("state", 64).databases::<deterministic::Context>();
            let mut db = StateDb::init(context.child("state"), config, None).await.expect("db");
            let keys: Vec<u32> = keys.into_iter().collect();
            let mut batch = db.new_batch();
            for key in &keys {
                let key_hash = hash_parts(&[&[NAMESPACE], &key.to_be_bytes()]);
                batch = batch.write(key_hash, Some(StateValue(key.to_le_bytes().to_vec())));
            }
            let merkleized = batch.merkleize(&db, None, &mut Proportional).await.expect("merkleize");
            db = db.apply_batch(merkleized).await.expect("apply");
            let root = db.root();

            let present = keys[pick.index(keys.len())];
            let key_hash = hash_parts(&[&[NAMESPACE], &present.to_be_bytes()]);
            let proof = db.key_value_proof(key_hash).await.expect("proof");
            let good = StateProof {
                label: format!("key {}", hex::encode(present.to_be_bytes())),
                namespace: NAMESPACE,
                logical: hex::encode(present.to_be_bytes()),
                value: Some(hex::encode(present.to_le_bytes())),
                proof: hex::encode(proof.encode()),
            };
            assert!(tracechain_proof::verify::verify_state(0, &good, &root, 1).is_ok());
            let mut bad = good.clone();
            bad.proof = flip(&good.proof, flip_at);
            assert!(tracechain_proof::verify::verify_state(0, &bad, &root, 1).is_err());
            let mut wrong = good.clone();
            wrong.value = Some(hex::encode((present ^ 1).to_le_bytes()));
            assert!(tracechain_proof::verify::verify_state(0, &wrong, &root, 1).is_err());

            if !keys.contains(&absent) {
                let absent_hash = hash_parts(&[&[NAMESPACE], &absent.to_be_bytes()]);
                let proof = db.exclusion_proof(&absent_hash).await.expect("exclusion");
                let none = StateProof {
                    label: format!("key {}", hex::encode(absent.to_be_bytes())),
                    namespace: NAMESPACE,
                    logical: hex::encode(absent.to_be_bytes()),
                    value: None,
                    proof: hex::encode(proof.encode()),
                };
                assert!(tracechain_proof::verify::verify_state(0, &none, &root, 1).is_ok());
                // The same absence shown under another key's name fails.
                let mut relabelled = none.clone();
                relabelled.label = good.label.clone();
                assert!(tracechain_proof::verify::verify_state(0, &relabelled, &root, 1).is_err());
                // The same absence proof says nothing about a present key.
                let mut present_claim = none.clone();
                present_claim.logical = good.logical.clone();
                assert!(tracechain_proof::verify::verify_state(0, &present_claim, &root, 1).is_err());
            }
        });
    }
}
