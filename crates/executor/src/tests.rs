use super::*;
use commonware_cryptography::{Signer, ed25519};
use futures::executor::block_on;
use tracechain_state::{MemoryStore, records};
use tracechain_types::{Payload, RecordKind, UnsignedTransaction, hash};

const CHAIN: &str = "test-chain";

fn env(height: u64) -> BlockEnv {
    BlockEnv {
        chain_id: CHAIN.into(),
        height,
        timestamp_ms: 1_000 * height,
        founding: Default::default(),
        acting: Default::default(),
    }
}

fn tx(seed: u64, nonce: u64, payload: Payload) -> Transaction {
    let key = ed25519::PrivateKey::from_seed(seed);
    UnsignedTransaction {
        chain_id: CHAIN.into(),
        sender: key.public_key(),
        nonce,
        payload,
    }
    .sign(&key)
}

fn register(seed: u64, nonce: u64, name: &str) -> Transaction {
    tx(seed, nonce, Payload::RegisterAccount { name: name.into() })
}

fn note(seed: u64, nonce: u64, data: &[u8]) -> Transaction {
    tx(
        seed,
        nonce,
        Payload::Note {
            hash: hash(data),
            label: "doc".into(),
        },
    )
}

#[test]
fn applies_notes_and_accounts_and_logs_them() {
    block_on(async {
        let mut store = MemoryStore::default();
        let txs = vec![register(1, 0, "acme"), note(1, 1, b"file")];
        let summary = execute_block(&mut store, &env(1), &txs).await.unwrap();
        assert_eq!(
            summary,
            BlockSummary {
                applied: 2,
                failed_at: Vec::new(),
            }
        );
        assert_eq!(store.log.len(), 2);
        assert_eq!(store.log[1].kind, RecordKind::Note);
        assert_eq!(store.log[1].subject, hash(b"file"));
        let receipt = records::receipt(&store, &txs[1].id())
            .await
            .unwrap()
            .unwrap();
        assert_eq!((receipt.height, receipt.index), (1, 1));
        assert_eq!(records::nonce(&store, txs[0].sender()).await.unwrap(), 2);
    });
}

#[test]
fn failed_payload_consumes_nonce_and_changes_nothing_else() {
    block_on(async {
        let mut store = MemoryStore::default();
        execute_block(&mut store, &env(1), &[register(1, 0, "acme")])
            .await
            .unwrap();
        let before_log = store.log.len();
        let taken = register(2, 0, "acme");
        let summary = execute_block(&mut store, &env(2), std::slice::from_ref(&taken))
            .await
            .unwrap();
        assert_eq!(summary.failed(), 1);
        assert_eq!(summary.failed_at, vec![0]);
        assert_eq!(store.log.len(), before_log);
        assert_eq!(
            records::account_name(&store, taken.sender()).await.unwrap(),
            None
        );
        assert_eq!(records::nonce(&store, taken.sender()).await.unwrap(), 1);
        let receipt = records::receipt(&store, &taken.id())
            .await
            .unwrap()
            .unwrap();
        assert!(
            matches!(receipt.outcome, Outcome::Failed { ref code, .. } if code == "name_taken")
        );
    });
}

#[test]
fn replayed_nonce_makes_a_block_invalid() {
    block_on(async {
        let mut store = MemoryStore::default();
        let first = note(1, 0, b"a");
        execute_block(&mut store, &env(1), std::slice::from_ref(&first))
            .await
            .unwrap();
        let err = execute_block(&mut store, &env(2), &[first])
            .await
            .unwrap_err();
        assert!(matches!(
            err,
            InvalidBlock::Transaction {
                reason: Inadmissible::WrongNonce {
                    expected: 1,
                    found: 0
                },
                ..
            }
        ));
    });
}

#[test]
fn wrong_chain_makes_a_block_invalid_and_is_refused_at_admission() {
    block_on(async {
        let key = ed25519::PrivateKey::from_seed(3);
        let foreign = UnsignedTransaction {
            chain_id: "other-chain".into(),
            sender: key.public_key(),
            nonce: 0,
            payload: Payload::Note {
                hash: hash(b"x"),
                label: "x".into(),
            },
        }
        .sign(&key);
        let mut store = MemoryStore::default();
        assert!(
            execute_block(&mut store, &env(1), std::slice::from_ref(&foreign))
                .await
                .is_err()
        );
        assert!(matches!(
            check_admission(&store, CHAIN, &foreign).await,
            Err(AdmissionError::Inadmissible(
                Inadmissible::WrongChain { .. }
            ))
        ));
    });
}

#[test]
fn builder_skips_what_cannot_be_included_and_keeps_order() {
    block_on(async {
        let mut store = MemoryStore::default();
        let candidates = vec![
            note(1, 1, b"gap"),
            note(1, 0, b"first"),
            note(2, 0, b"other"),
            note(1, 1, b"second"),
        ];
        let (included, summary) = build_block(&mut store, &env(1), candidates.clone())
            .await
            .unwrap();
        assert_eq!(summary.applied, 3);
        let ids: Vec<_> = included.iter().map(Transaction::id).collect();
        // The nonce-1 note with a gap before it is skipped; the later one fits.
        assert_eq!(
            ids,
            vec![candidates[1].id(), candidates[2].id(), candidates[3].id()]
        );
        // A validator executing the built block reaches the same state.
        let mut replay = MemoryStore::default();
        execute_block(&mut replay, &env(1), &included)
            .await
            .unwrap();
        assert_eq!(replay.state, store.state);
        assert_eq!(replay.log, store.log);
    });
}

#[test]
fn execution_is_deterministic() {
    block_on(async {
        let txs: Vec<_> = (0..50)
            .map(|i| note(i % 7, i / 7, &i.to_be_bytes()))
            .collect();
        let mut a = MemoryStore::default();
        let mut b = MemoryStore::default();
        execute_block(&mut a, &env(1), &txs).await.unwrap();
        execute_block(&mut b, &env(1), &txs).await.unwrap();
        assert_eq!(a.state, b.state);
        assert_eq!(a.log, b.log);
    });
}

#[test]
fn first_note_of_a_hash_is_kept() {
    block_on(async {
        let mut store = MemoryStore::default();
        let first = note(1, 0, b"doc");
        execute_block(&mut store, &env(1), std::slice::from_ref(&first))
            .await
            .unwrap();
        execute_block(&mut store, &env(2), &[note(2, 0, b"doc")])
            .await
            .unwrap();
        let kept = records::note(&store, &hash(b"doc")).await.unwrap().unwrap();
        assert_eq!((kept.tx, kept.height), (first.id(), 1));
        assert_eq!(store.log.len(), 2);
    });
}

#[test]
fn account_names_are_checked() {
    for bad in ["ab", "Acme", "-acme", "ac me", &"a".repeat(65)] {
        assert!(payload_check(bad).is_err(), "{bad} accepted");
    }
    for good in ["acme", "acme-foods.eu", "0xa_b"] {
        assert!(payload_check(good).is_ok(), "{good} refused");
    }
}

fn payload_check(name: &str) -> Result<(), Failure> {
    payload::check_account_name(name)
}
