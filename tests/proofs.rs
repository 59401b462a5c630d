//! Proof bundles end to end over HTTP on a demo localnet: every kind
//! verifies offline against the genesis (library and `tracechain
//! verify-proof`); flipping any byte of any part makes it fail; a bundle
//! checked against another chain's genesis fails; a certificate with fewer
//! than a quorum of signatures fails.

mod support;

use commonware_codec::{Decode, Encode};
use commonware_consensus::simplex::{scheme::ed25519::Scheme, types::Finalization};
use commonware_cryptography::Signer;
use serde_json::Value;
use std::process::Command;
use support::{BIN, Demo, exclusive, get};
use tracechain_proof::{Bundle, Trust, VerifyError, verify};
use tracechain_types::{Digest, Genesis};

const LOAF: &str = "urn:epc:id:sgtin:4023456.000022.1002";
const RECALLED: &str = "urn:epc:id:sgtin:4023456.000022.2004";
const PARCEL: &str = "urn:epc:id:sscc:4023456.0000000777";

fn genesis(demo: &Demo) -> Genesis {
    let text = std::fs::read_to_string(demo.dir.path().join("genesis.json")).expect("genesis");
    serde_json::from_str(&text).expect("genesis JSON")
}

fn bundle_of(answer: &Value) -> Bundle {
    let bundle = answer.get("proof").unwrap_or(answer);
    serde_json::from_value(bundle.clone()).expect("a bundle")
}

fn check(bundle: &Bundle, trust: &Trust) -> Result<tracechain_proof::Verified, VerifyError> {
    verify(bundle, trust, rand::random())
}

/// Every kind of bundle the API hands out, by name.
async fn bundles(demo: &Demo) -> Vec<(&'static str, Bundle)> {
    let client = demo.client();
    let trace = get(
        &client,
        &format!("/v1/trace/{LOAF}?direction=back&proof=true"),
    )
    .await;
    let first_event = trace["events"][0]["eventHash"]
        .as_str()
        .expect("event")
        .to_string();
    vec![
        (
            "verify",
            bundle_of(&get(&client, &format!("/v1/verify/{LOAF}?proof=true")).await),
        ),
        (
            "recalled",
            bundle_of(&get(&client, &format!("/v1/verify/{RECALLED}?proof=true")).await),
        ),
        ("trace", bundle_of(&trace)),
        (
            "event",
            bundle_of(&get(&client, &format!("/v1/proofs/events/{first_event}")).await),
        ),
        (
            "state",
            bundle_of(&get(&client, &format!("/v1/proofs/state/{LOAF}")).await),
        ),
        (
            "never commissioned",
            bundle_of(
                &get(
                    &client,
                    "/v1/proofs/state/urn:epc:id:sgtin:4023456.000022.424242",
                )
                .await,
            ),
        ),
        (
            "parcel",
            bundle_of(&get(&client, &format!("/v1/parcels/{PARCEL}?proof=true")).await),
        ),
        (
            "consistency",
            bundle_of(&get(&client, "/v1/proofs/consistency?from=3").await),
        ),
    ]
}

/// What each kind must establish beyond "it verifies".
fn check_claims(kind: &str, verified: &tracechain_proof::Verified) {
    match kind {
        "verify" | "recalled" | "state" => {
            assert!(
                verified
                    .states
                    .iter()
                    .any(|(label, present)| label.starts_with("item") && *present)
            )
        }
        "never commissioned" => assert!(verified.states.iter().all(|(_, present)| !present)),
        "trace" => assert!(verified.events.len() >= 10, "{verified:?}"),
        "event" => assert_eq!(verified.events.len(), 1),
        "parcel" => {
            assert_eq!(verified.events.len(), 5);
            assert_eq!(verified.states.len(), 6);
        }
        "consistency" => assert_eq!(verified.consistent_from, Some(3)),
        _ => {}
    }
    if kind == "recalled" {
        let recall = verified
            .states
            .iter()
            .find(|(label, _)| label.starts_with("recall"));
        // The loaf itself is not recalled; its wheat lot is (a derived verdict).
        assert!(recall.is_some());
    }
}

/// Every hex string of the bundle, by JSON pointer.
fn hex_fields(value: &Value, pointer: String, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, inner) in map {
                hex_fields(inner, format!("{pointer}/{key}"), out);
            }
        }
        Value::Array(items) => {
            for (i, inner) in items.iter().enumerate() {
                hex_fields(inner, format!("{pointer}/{i}"), out);
            }
        }
        Value::String(text) if !text.is_empty() && hex::decode(text).is_ok() => out.push(pointer),
        _ => {}
    }
}

/// Flips one bit of the byte at `at` of the hex string at `pointer`.
fn flipped(bundle: &Bundle, pointer: &str, at: usize) -> Bundle {
    let mut value = serde_json::to_value(bundle).expect("bundle JSON");
    let text = value.pointer_mut(pointer).expect("field");
    let mut bytes = hex::decode(text.as_str().expect("hex")).expect("hex");
    let at = at % bytes.len();
    bytes[at] ^= 0x01;
    *text = Value::String(hex::encode(bytes));
    serde_json::from_value(value).expect("bundle")
}

/// Any single flipped bit anywhere fails verification.
fn check_tampering(kind: &str, bundle: &Bundle, trust: &Trust) {
    let mut fields = Vec::new();
    hex_fields(
        &serde_json::to_value(bundle).expect("json"),
        String::new(),
        &mut fields,
    );
    assert!(!fields.is_empty());
    for pointer in &fields {
        let len = hex::decode(
            serde_json::to_value(bundle)
                .unwrap()
                .pointer(pointer)
                .unwrap()
                .as_str()
                .unwrap(),
        )
        .unwrap()
        .len();
        // First, last and a spread of bytes in between.
        let positions: Vec<usize> = [0, len / 3, len / 2, 2 * len / 3, len - 1].into();
        for at in positions {
            let tampered = flipped(bundle, pointer, at);
            assert!(
                check(&tampered, trust).is_err(),
                "{kind}: flipping byte {at} of {pointer} still verifies"
            );
        }
    }
    // Moving an event to another position fails too.
    if let Some(first) = bundle.events.first() {
        let mut moved = bundle.clone();
        moved.events[0].location = first.location + 1;
        assert!(
            check(&moved, trust).is_err(),
            "{kind}: moved event still verifies"
        );
    }
}

/// The same bundle against another chain: other id, other validators.
fn check_other_chain(bundle: &Bundle, genesis: &Genesis) {
    let mut other = genesis.clone();
    other.chain_id = "another-chain".into();
    let err = check(bundle, &Trust::from_genesis(&other)).unwrap_err();
    assert!(matches!(err, VerifyError::ChainId { .. }), "{err}");
    // Relabelled as the other chain, the signatures no longer verify.
    let mut relabelled = bundle.clone();
    relabelled.chain_id = "another-chain".into();
    let err = check(&relabelled, &Trust::from_genesis(&other)).unwrap_err();
    assert!(matches!(err, VerifyError::Signatures { .. }), "{err}");
    // Same id, different validators.
    let mut strangers = genesis.clone();
    strangers.validators[0].public_key =
        tracechain_types::to_hex(tracechain_types::PrivateKey::from_seed(99).public_key());
    let err = check(bundle, &Trust::from_genesis(&strangers)).unwrap_err();
    assert_eq!(err, VerifyError::Validators);
}

/// A certificate cut down to fewer signatures than a quorum fails.
fn check_quorum(bundle: &Bundle, trust: &Trust) {
    let raw = hex::decode(&bundle.anchor.certificate).expect("hex");
    let n = trust.validators.len();
    let mut finalization =
        Finalization::<Scheme, Digest>::decode_cfg(raw, &n).expect("certificate");
    let keep: Vec<_> = finalization.certificate.signers.iter().take(2).collect();
    finalization.certificate.signatures.truncate(2);
    finalization.certificate.signers =
        commonware_cryptography::certificate::Signers::new(n as u32, keep).expect("signers");
    let mut weak = bundle.clone();
    weak.anchor.certificate = hex::encode(finalization.encode());
    let err = check(&weak, trust).unwrap_err();
    assert!(
        matches!(
            err,
            VerifyError::NoQuorum {
                signers: 2,
                quorum: 3,
                ..
            }
        ),
        "{err}"
    );
}

/// `tracechain verify-proof`: exit 0 and a summary, or exit 1 naming the
/// failed check.
fn check_cli(demo: &Demo, bundle: &Bundle) {
    let dir = demo.dir.path();
    let good = dir.join("bundle.json");
    std::fs::write(&good, serde_json::to_string(bundle).unwrap()).unwrap();
    let genesis = dir.join("genesis.json");
    let ok = Command::new(BIN)
        .arg("verify-proof")
        .arg(&good)
        .arg("--genesis")
        .arg(&genesis)
        .output()
        .unwrap();
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert!(String::from_utf8_lossy(&ok.stdout).contains("signed by"));
    let bad = dir.join("tampered.json");
    let tampered = flipped(bundle, "/anchor/header", 40);
    std::fs::write(&bad, serde_json::to_string(&tampered).unwrap()).unwrap();
    let failed = Command::new(BIN)
        .arg("verify-proof")
        .arg(&bad)
        .arg("--genesis")
        .arg(&genesis)
        .output()
        .unwrap();
    assert_eq!(failed.status.code(), Some(1));
    let said = String::from_utf8_lossy(&failed.stderr);
    assert!(said.contains("verification failed"), "{said}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
// The guard serializes whole networks (see `exclusive`).
#[allow(clippy::await_holding_lock)]
async fn proof_bundles_verify_offline_and_resist_tampering() {
    let _exclusive = exclusive();
    let demo = Demo::start();
    let genesis = genesis(&demo);
    let trust = Trust::from_genesis(&genesis);
    let all = bundles(&demo).await;
    for (kind, bundle) in &all {
        let verified = check(bundle, &trust).unwrap_or_else(|e| panic!("{kind}: {e}"));
        assert!(verified.signers >= 3, "{kind}: {verified:?}");
        assert_eq!(verified.validators, 4);
        check_claims(kind, &verified);
        check_tampering(kind, bundle, &trust);
    }
    let (_, parcel) = all
        .iter()
        .find(|(k, _)| *k == "parcel")
        .expect("parcel bundle");
    check_other_chain(parcel, &genesis);
    check_quorum(parcel, &trust);
    check_cli(&demo, parcel);
}
