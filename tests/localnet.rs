//! End-to-end tests with real processes: 4 `tracechain node` processes on
//! 127.0.0.1, clients over HTTP, a validator SIGKILLed and restarted.

use commonware_codec::Encode;
use commonware_cryptography::Signer;
use std::{
    process::Command,
    time::{Duration, Instant},
};
use tracechain_client::ClientError;
use tracechain_types::{
    Payload, PrivateKey, Transaction, UnsignedTransaction, hash, to_hex, transaction::MAX_TX_BYTES,
};

mod support;

use support::{BIN, Network, bench_summary, exclusive, start_detached, stop_detached, wait_height};

fn note(
    key: &PrivateKey,
    chain_id: &str,
    nonce: u64,
    data: &[u8],
) -> tracechain_types::Transaction {
    UnsignedTransaction {
        chain_id: chain_id.into(),
        sender: key.public_key(),
        nonce,
        payload: Payload::Note {
            hash: hash(data),
            label: "e2e".into(),
        },
    }
    .sign(key)
}

fn problem(err: ClientError) -> tracechain_client::Problem {
    match err {
        ClientError::Problem(problem) => problem,
        other => panic!("expected a problem+json answer, got {other}"),
    }
}

/// Checks that every rejection is clear and changes nothing.
async fn check_rejections(network: &Network) {
    let client = network.client(0);
    let key = PrivateKey::from_seed(77);
    let applied = note(&key, "e2e", 0, b"first");
    client.submit(&applied).await.expect("valid note accepted");
    client
        .wait_final(&applied.id(), Duration::from_secs(30))
        .await
        .expect("valid note final");
    let before = client
        .account(&to_hex(key.public_key()))
        .await
        .expect("account");
    assert_eq!(before.next_nonce, 1);

    // Bad signature: a valid transaction with another transaction's signature.
    let other = note(&key, "e2e", 1, b"other");
    let forged = note(&key, "e2e", 1, b"forged").with_signature(other.signature().clone());
    let p = problem(client.submit(&forged).await.unwrap_err());
    assert_eq!(
        (p.status, p.field.as_deref()),
        (400, Some("signature")),
        "{p}"
    );
    assert!(p.kind.ends_with("bad-signature"));

    // Wrong chain id.
    let foreign = note(&key, "another-chain", 1, b"foreign");
    let p = problem(client.submit(&foreign).await.unwrap_err());
    assert_eq!(
        (p.status, p.field.as_deref()),
        (422, Some("chain_id")),
        "{p}"
    );

    // Replayed nonce: the applied transaction again, and a new one reusing nonce 0.
    let p = problem(client.submit(&applied).await.unwrap_err());
    assert_eq!((p.status, p.field.as_deref()), (409, Some("nonce")), "{p}");
    let reused = note(&key, "e2e", 0, b"reused nonce");
    let p = problem(client.submit(&reused).await.unwrap_err());
    assert_eq!((p.status, p.field.as_deref()), (409, Some("nonce")), "{p}");

    // Oversized transaction.
    let p = problem(
        client
            .submit_bytes(vec![0u8; MAX_TX_BYTES + 1])
            .await
            .unwrap_err(),
    );
    assert_eq!(
        (p.status, p.field.as_deref()),
        (413, Some("transaction")),
        "{p}"
    );

    // Malformed bytes: a truncated valid transaction, and garbage.
    let truncated = applied.encode()[..40].to_vec();
    let p = problem(client.submit_bytes(truncated).await.unwrap_err());
    assert_eq!(
        (p.status, p.field.as_deref()),
        (400, Some("transaction")),
        "{p}"
    );
    let p = problem(
        client
            .submit_bytes(b"not a transaction".to_vec())
            .await
            .unwrap_err(),
    );
    assert_eq!(
        (p.status, p.field.as_deref()),
        (400, Some("transaction")),
        "{p}"
    );

    // Nothing changed: no rejected transaction is pending or known, the
    // nonce is where it was, and the next valid transaction applies.
    for rejected in [&forged, &foreign, &reused] {
        let p = problem(
            client
                .transaction(&to_hex(rejected.id()))
                .await
                .unwrap_err(),
        );
        assert_eq!(p.status, 404);
    }
    let after = client
        .account(&to_hex(key.public_key()))
        .await
        .expect("account");
    assert_eq!(after.next_nonce, before.next_nonce);
    let next = note(&key, "e2e", 1, b"next");
    client
        .submit(&next)
        .await
        .expect("next valid note accepted");
    let status = client
        .wait_final(&next.id(), Duration::from_secs(30))
        .await
        .expect("final");
    assert_eq!(status.status, "applied");
    check_batch_rejections(network, &key, &applied).await;
}

/// A batch judges each transaction on its own; a batch whose framing is
/// broken is refused whole.
async fn check_batch_rejections(network: &Network, key: &PrivateKey, applied: &Transaction) {
    let client = network.client(0);
    let valid = note(key, "e2e", 2, b"batched");
    let forged = note(key, "e2e", 3, b"forged in a batch")
        .with_signature(note(key, "e2e", 3, b"x").signature().clone());
    let answer = client
        .submit_batch(&[valid.clone(), forged, applied.clone()])
        .await
        .expect("a well-formed batch is answered");
    assert_eq!((answer.accepted, answer.rejected), (1, 2), "{answer:?}");
    assert_eq!(
        answer.results[0].id.as_deref(),
        Some(to_hex(valid.id()).as_str())
    );
    let fields: Vec<_> = answer.results[1..]
        .iter()
        .map(|r| r.problem.as_ref().and_then(|p| p.field.clone()))
        .collect();
    assert_eq!(
        fields,
        [
            Some("transactions[1].signature".to_string()),
            Some("transactions[2].nonce".to_string())
        ]
    );

    let unsent = note(key, "e2e", 3, b"in a broken batch");
    let mut body = tracechain_types::transaction::encode_batch([&unsent]);
    body.extend_from_slice(&1_000u32.to_be_bytes());
    body.extend_from_slice(b"short");
    let p = problem(client.submit_batch_bytes(body).await.unwrap_err());
    assert_eq!(
        (p.status, p.field.as_deref()),
        (400, Some("transactions[1]")),
        "{p}"
    );
    let p = problem(client.transaction(&to_hex(unsent.id())).await.unwrap_err());
    assert_eq!(p.status, 404, "a refused batch submits nothing");
    let status = client
        .wait_final(&valid.id(), Duration::from_secs(30))
        .await
        .expect("batched note final");
    assert_eq!(status.status, "applied");
}

/// Submits `count` notes spread over the given nodes and waits until all
/// are final on `observer`.
async fn submit_notes(network: &Network, nodes: &[usize], observer: usize, seed: u64, count: u64) {
    let chain = network
        .client(observer)
        .status()
        .await
        .expect("status")
        .chain_id;
    let mut ids = Vec::new();
    for i in 0..count {
        let key = PrivateKey::from_seed(seed + i % 8);
        let nonce = i / 8;
        let tx = note(
            &key,
            &chain,
            nonce,
            &[seed.to_be_bytes(), i.to_be_bytes()].concat(),
        );
        let target = nodes[(i as usize) % nodes.len()];
        network
            .client(target)
            .submit(&tx)
            .await
            .expect("note accepted");
        ids.push(tx.id());
    }
    for id in ids {
        let status = network
            .client(observer)
            .wait_final(&id, Duration::from_secs(60))
            .await
            .expect("note final");
        assert_eq!(status.status, "applied");
    }
}

/// Header roots at `height` as every node reports them. A node in
/// `repaired` may lack the block's own certificate: after a restart marshal
/// repairs the blocks it missed by walking parents back from the first
/// finalization it sees, so it knows them final through a descendant's
/// certificate (proof bundles anchor there, ADR 0009). Every other node
/// saw each finalization and must hold it.
async fn roots_at(
    network: &Network,
    nodes: &[usize],
    repaired: &[usize],
    height: u64,
) -> Vec<(String, String, String)> {
    let mut roots = Vec::new();
    for &index in nodes {
        let block = network
            .client(index)
            .block(&height.to_string())
            .await
            .expect("block");
        let header = &block["header"];
        roots.push((
            header["digest"].as_str().unwrap_or_default().to_string(),
            header["state_root"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
            header["log_root"].as_str().unwrap_or_default().to_string(),
        ));
        // A finalized block carries a quorum certificate over its digest.
        let certificate = &block["certificate"];
        if certificate.is_null() && repaired.contains(&index) {
            continue;
        }
        assert_eq!(
            certificate["payload"], header["digest"],
            "node {index} at {height}"
        );
        assert!(certificate["signers"].as_array().map_or(0, Vec::len) >= 3);
    }
    roots
}

/// `tracechain bench catchup` of node `follower` to node `reference`: it
/// must finish with identical roots; returns its summary.
async fn bench_catchup(network: &Network, follower: usize, reference: usize) -> serde_json::Value {
    let (api, reference) = (
        network.apis[follower].clone(),
        network.apis[reference].clone(),
    );
    let output = tokio::task::spawn_blocking(move || {
        Command::new(BIN)
            .args(["bench", "catchup", "--api", &api, "--reference", &reference])
            .args(["--timeout", "120"])
            .output()
            .expect("run bench catchup")
    })
    .await
    .expect("bench catchup thread");
    let summary = bench_summary(&output, "catchup");
    assert_eq!(summary["roots_identical"], true, "{summary}");
    summary
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
// The guard serializes whole tests (see `exclusive`); holding it across
// awaits is the point.
#[allow(clippy::await_holding_lock)]
async fn four_processes_survive_a_sigkill_and_catch_up() {
    let _exclusive = exclusive();
    // Four validators and a non-voting full node (index 4).
    let mut network = Network::start(4, 1);
    for index in 0..5 {
        wait_height(&network, index, 1, Duration::from_secs(90)).await;
    }
    submit_notes(&network, &[0, 1, 2, 3], 0, 1_000, 24).await;
    check_rejections(&network).await;

    // SIGKILL validator 3; the other three keep finalizing.
    let before = network.client(0).status().await.expect("status").height;
    network.kill(3);
    submit_notes(&network, &[0, 1, 2], 1, 2_000, 24).await;
    let during = wait_height(&network, 0, before + 5, Duration::from_secs(60)).await;
    assert!(during >= before + 5);

    // Restart it: it catches up from its peers to the same roots, as
    // `bench catchup` measures (and checks).
    network.spawn(3);
    let target = network.client(0).status().await.expect("status").height;
    let catchup = bench_catchup(&network, 3, 0).await;
    assert!(
        catchup["height"].as_u64().unwrap_or(0) >= target,
        "{catchup}"
    );
    wait_height(&network, 3, target, Duration::from_secs(120)).await;
    let roots = roots_at(&network, &[0, 1, 2, 3], &[3], target).await;
    assert!(
        roots.windows(2).all(|w| w[0] == w[1]),
        "roots differ at {target}: {roots:?}"
    );
    // And it keeps up with new transactions it did not see while down.
    submit_notes(&network, &[3], 3, 3_000, 8).await;
    let recovered = network.client(3).status().await.expect("status");
    assert!(recovered.height > target);
    // Same applied state at the same height on every node, the full node
    // included; transactions submitted to the full node reach the chain.
    submit_notes(&network, &[4], 4, 4_000, 8).await;
    let common = network.client(4).status().await.expect("status").height;
    for index in 0..4 {
        wait_height(&network, index, common, Duration::from_secs(30)).await;
    }
    let roots = roots_at(&network, &[0, 1, 2, 3, 4], &[3], common).await;
    assert!(
        roots.windows(2).all(|w| w[0] == w[1]),
        "roots differ at {common}: {roots:?}"
    );
}

#[test]
fn localnet_command_detaches_and_stops() {
    let _exclusive = exclusive();
    let dir = tempfile::tempdir().expect("temp dir");
    let output = start_detached(dir.path(), &[]);
    let stop = || stop_detached(dir.path());
    if !output.status.success() {
        let _ = stop();
        panic!(
            "localnet failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    assert_eq!(report["ready"], true);
    assert_eq!(report["nodes"].as_array().map(Vec::len), Some(4));
    let api = report["nodes"][0]["api"].as_str().expect("api").to_string();
    // Ready means finalizing; the last peer connection may still be forming.
    let start = Instant::now();
    let status = loop {
        let output = Command::new(BIN)
            .args(["status", "--json", "--api", &api])
            .output()
            .expect("status");
        let status: serde_json::Value =
            serde_json::from_slice(&output.stdout).expect("status json");
        if status["peers_connected"] == 3 || start.elapsed() > Duration::from_secs(30) {
            break status;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let stopped = stop().expect("stop");
    assert!(stopped.status.success());
    assert_eq!(status["validators"], 4);
    assert!(status["height"].as_u64().unwrap_or(0) >= 1);
    assert_eq!(status["peers_connected"], 3);
}

/// A CI-sized run of the notes benchmark so it never rots (numbers are not
/// checked against thresholds; only that nothing accepted is lost).
#[test]
fn bench_notes_smoke_run_loses_nothing() {
    let _exclusive = exclusive();
    let network = Network::start(4, 0);
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        for index in 0..4 {
            wait_height(&network, index, 1, Duration::from_secs(90)).await;
        }
    });
    let output = Command::new(BIN)
        .args([
            "bench",
            "notes",
            "--signers",
            "500",
            "--rate",
            "100",
            "--duration",
            "3",
            "--drain",
            "30",
            "--limits-sample",
            "300",
        ])
        .args(["--api", &network.apis.join(",")])
        .output()
        .expect("run bench");
    let summary = bench_summary(&output, "notes");
    assert_eq!(summary["submitted"], 300);
    assert_eq!(summary["rejected"], 0, "{summary}");
    assert_eq!(summary["finalized"], summary["accepted"], "{summary}");
    assert_eq!(summary["lost"], 0);
    assert!(summary["latency_ms"]["p50"].as_u64().unwrap_or(0) > 0);
    // Notes carry no EPCIS: that limit is absent, the others measured.
    assert!(summary["limits"]["epcis_per_core"].is_null(), "{summary}");
    assert!(
        summary["limits"]["ceiling_tps"].as_f64().unwrap_or(0.0) > 0.0,
        "{summary}"
    );
    assert!(
        summary["efficiency"].as_f64().unwrap_or(0.0) > 0.0,
        "{summary}"
    );
}
