//! End-to-end traceability over HTTP against a 4-validator localnet with
//! the demo supply chain: verification verdicts, traces, EPCIS queries with
//! paging, item state, recalls, captures with permission denials and
//! malformed documents, error declarations, roles and membership.

mod support;

use serde_json::{Value, json};
use std::{
    collections::BTreeSet,
    path::{Path, PathBuf},
    process::Command,
    time::Duration,
};
use support::{BIN, Demo, bench_summary, exclusive, get, problem};
use tracechain_client::Client;
use tracechain_types::{PrivateKey, digest_from_hex};

const CONTEXT: &str = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld";

fn loaf(serial: u32) -> String {
    format!("urn:epc:id:sgtin:4023456.000022.{serial}")
}

fn document(events: Vec<Value>) -> Vec<u8> {
    json!({"@context": [CONTEXT], "type": "EPCISDocument", "schemaVersion": "2.0",
           "creationDate": "2025-06-01T00:00:00Z", "epcisBody": {"eventList": events}})
    .to_string()
    .into_bytes()
}

fn object(epc: &str, step: &str, location: &str, time: &str) -> Value {
    json!({"type": "ObjectEvent", "eventTime": time, "eventTimeZoneOffset": "+00:00",
           "epcList": [epc], "action": "OBSERVE", "bizStep": step, "bizLocation": {"id": location}})
}

/// Captures and waits; returns the capture job.
async fn capture(client: &Client, key: &PrivateKey, events: Vec<Value>) -> Value {
    let (id, _) = client
        .capture(key, document(events))
        .await
        .expect("capture accepted");
    client
        .wait_final(&id, Duration::from_secs(60))
        .await
        .expect("capture final");
    client
        .capture_status(&tracechain_types::to_hex(id))
        .await
        .expect("capture job")
}

fn error_code(job: &Value) -> &str {
    job["errors"][0]["code"].as_str().unwrap_or_default()
}

async fn check_verdicts(demo: &Demo) {
    let client = demo.client();
    let verdict = |v: &Value| v["verdict"].as_str().unwrap_or_default().to_string();
    for (serial, expected) in [
        (1001, "genuine"),
        (1002, "genuine"),
        (2004, "recalled"),
        (1003, "suspicious"),
        (9999, "unknown"),
    ] {
        let by_urn = get(&client, &format!("/v1/verify/{}", loaf(serial))).await;
        assert_eq!(verdict(&by_urn), expected, "loaf {serial}: {by_urn}");
        let path = tracechain_epcis::Identifier::parse(&loaf(serial))
            .unwrap()
            .digital_link_path()
            .unwrap()
            .to_string();
        let by_link = get(&client, &path).await;
        assert_eq!(verdict(&by_link), expected, "Digital Link {path}");
    }
    let sold = get(&client, &format!("/v1/verify/{}", loaf(1001))).await;
    assert!(sold["reasons"].to_string().contains("sold once"), "{sold}");
    let recalled = get(&client, &format!("/v1/verify/{}", loaf(2004))).await;
    assert!(
        recalled["reasons"].to_string().contains("WHEAT-B"),
        "{recalled}"
    );
}

async fn check_traces(demo: &Demo) {
    let client = demo.client();
    let back = get(&client, &format!("/v1/trace/{}?direction=back", loaf(1002))).await;
    let nodes: BTreeSet<String> = back["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["id"].as_str().unwrap().to_string())
        .collect();
    assert!(
        nodes.iter().any(|n| n.ends_with("/10/WHEAT-A")),
        "made from wheat lot A: {nodes:?}"
    );
    assert!(
        !nodes.iter().any(|n| n.ends_with("/10/WHEAT-B")),
        "not from lot B: {nodes:?}"
    );
    assert!(
        nodes.iter().any(|n| n.ends_with("/00/040345670000000117")),
        "travelled in case 1: {nodes:?}"
    );
    assert!(
        nodes.iter().any(|n| n.ends_with("/00/040345670000000018")),
        "travelled on the pallet: {nodes:?}"
    );
    let hashes: Vec<&str> = back["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["eventHash"].as_str().unwrap())
        .collect();
    let unique: BTreeSet<&&str> = hashes.iter().collect();
    assert_eq!(unique.len(), hashes.len(), "every event once");
    assert!(hashes.len() >= 15, "{} events", hashes.len());
    for edge in back["edges"].as_array().unwrap() {
        assert!(
            hashes.contains(&edge["event"].as_str().unwrap()),
            "edge event included: {edge}"
        );
    }

    let forward = get(
        &client,
        "/v1/trace/urn:epc:class:lgtin:4012345.000011.WHEAT-B?direction=forward",
    )
    .await;
    let reached: BTreeSet<String> = forward["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["id"].as_str().unwrap().to_string())
        .collect();
    for serial in 2001..=2006 {
        assert!(
            reached
                .iter()
                .any(|n| n.ends_with(&format!("/21/{serial}"))),
            "loaf {serial} made from lot B"
        );
    }
    assert!(
        !reached.iter().any(|n| n.ends_with("/21/1001")),
        "lot A's loaves are not"
    );
    let shallow = get(
        &client,
        "/v1/trace/urn:epc:class:lgtin:4012345.000011.WHEAT-B?direction=forward&depth=1",
    )
    .await;
    assert!(
        shallow["nodes"].as_array().unwrap().len() < forward["nodes"].as_array().unwrap().len()
    );
    let bad = problem(
        client
            .get_json("/v1/trace/urn:epc:id:sgtin:1?direction=sideways")
            .await
            .unwrap_err(),
    );
    assert_eq!(bad.status, 400);
}

async fn check_queries(demo: &Demo) {
    let client = demo.client();
    let shipping = get(&client, "/v1/events?EQ_bizStep=shipping").await;
    let events = shipping["events"].as_array().unwrap();
    assert!(events.len() >= 5);
    assert!(
        events
            .iter()
            .all(|e| e["bizStep"] == "https://ref.gs1.org/cbv/BizStep-shipping")
    );

    let transformations = get(&client, "/v1/events?eventType=TransformationEvent").await;
    assert_eq!(transformations["events"].as_array().unwrap().len(), 2);
    let deletes = get(&client, "/v1/events?EQ_action=DELETE").await;
    assert!(
        deletes["events"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["action"] == "DELETE")
    );
    let shop = get(
        &client,
        "/v1/events?EQ_bizLocation=urn:epc:id:sgln:4067890.00001.0&EQ_organisation=freshmart",
    )
    .await;
    assert!(
        shop["events"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["organisation"] == "freshmart")
    );
    let one_loaf = get(&client, &format!("/v1/events?MATCH_epc={}", loaf(1001))).await;
    let steps: Vec<&str> = one_loaf["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["bizStep"].as_str())
        .collect();
    assert!(
        steps.iter().any(|s| s.ends_with("retail_selling")),
        "{steps:?}"
    );

    // A time window: everything before the first event is empty.
    let none = get(&client, "/v1/events?LT_eventTime=2000-01-01T00:00:00Z").await;
    assert!(none["events"].as_array().unwrap().is_empty());
    let all = get(&client, "/v1/events?perPage=1000").await;
    let all: Vec<String> = all["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["eventHash"].as_str().unwrap().to_string())
        .collect();
    let first_time = get(&client, "/v1/events?perPage=1").await["events"][0]["eventTimeMs"]
        .as_i64()
        .unwrap();
    let later = get(
        &client,
        &format!(
            "/v1/events?GE_eventTime={}&perPage=1000",
            millis_to_rfc3339(first_time + 1)
        ),
    )
    .await;
    assert!(later["events"].as_array().unwrap().len() < all.len());

    // Paging: small pages concatenate to the full list, no gaps, no repeats.
    let mut paged = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let path = match &token {
            Some(t) => format!("/v1/events?perPage=3&nextPageToken={t}"),
            None => "/v1/events?perPage=3".to_string(),
        };
        let page = get(&client, &path).await;
        paged.extend(
            page["events"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["eventHash"].as_str().unwrap().to_string()),
        );
        token = page["nextPageToken"].as_str().map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    assert_eq!(paged, all);
    let bad = problem(
        client
            .get_json("/v1/events?GE_eventTime=yesterday")
            .await
            .unwrap_err(),
    );
    assert_eq!(
        (bad.status, bad.field.as_deref()),
        (400, Some("query.GE_eventTime"))
    );
}

fn millis_to_rfc3339(ms: i64) -> String {
    let seconds = ms.div_euclid(1000);
    let millis = ms.rem_euclid(1000);
    let output = Command::new("date")
        .args(["-u", "-d", &format!("@{seconds}"), "+%Y-%m-%dT%H:%M:%S"])
        .output()
        .expect("date");
    format!(
        "{}.{millis:03}Z",
        String::from_utf8_lossy(&output.stdout).trim()
    )
}

async fn check_items_and_recall(demo: &Demo) {
    let client = demo.client();
    let inside = get(&client, &format!("/v1/items/{}", loaf(1005))).await;
    assert_eq!(
        inside["custodian"], "freshmart",
        "held through its case: {inside}"
    );
    assert!(
        inside["parent"]
            .as_str()
            .unwrap()
            .ends_with("/00/040345670000000131")
    );
    let affected = get(
        &client,
        "/v1/recalls/urn:epc:class:lgtin:4012345.000011.WHEAT-B/affected",
    )
    .await;
    assert!(
        affected["recall"]["reason"]
            .as_str()
            .unwrap()
            .contains("Salmonella")
    );
    let items = affected["affected"].as_array().unwrap();
    for serial in 2001..=2006 {
        assert!(items.iter().any(|i| {
            i["id"]
                .as_str()
                .unwrap()
                .ends_with(&format!("/21/{serial}"))
        }));
    }
    let at_shop = items
        .iter()
        .filter(|i| i["holder"]["custodian"] == "freshmart")
        .count();
    assert_eq!(
        at_shop, 3,
        "loaves 2004-2006 sit in case 3 at FreshMart: {items:?}"
    );
    let unknown = problem(
        client
            .get_json("/v1/items/urn:epc:id:sgtin:4023456.000022.424242")
            .await
            .unwrap_err(),
    );
    assert_eq!(unknown.status, 404);
}

async fn check_captures(demo: &Demo) {
    let client = demo.client();
    let farm = demo.key("greenfield-farm", "agent");
    let shop = "urn:epc:id:sgln:4067890.00001.0";

    // Custody: the farm does not hold the loaf.
    let job = capture(
        &client,
        &farm,
        vec![object(
            &loaf(1002),
            "inspecting",
            shop,
            "2025-06-02T10:00:00Z",
        )],
    )
    .await;
    assert_eq!(
        (job["success"].as_bool(), error_code(&job)),
        (Some(false), "not_custodian"),
        "{job}"
    );
    // Brand: the farm cannot commission the bakery's GTIN.
    let commission = json!({"type": "ObjectEvent", "eventTime": "2025-06-02T10:00:00Z", "eventTimeZoneOffset": "+00:00",
        "epcList": [loaf(7777)], "action": "ADD", "bizStep": "commissioning"});
    let job = capture(&client, &farm, vec![commission.clone()]).await;
    assert_eq!(error_code(&job), "not_brand_owner", "{job}");
    // The bakery can; the job reports the block and each event's hash.
    let bakery = demo.key("golden-crust-bakery", "agent");
    let job = capture(&client, &bakery, vec![commission]).await;
    assert_eq!(job["success"], true, "{job}");
    assert!(job["blockHeight"].as_u64().unwrap() > 0);
    assert!(
        job["events"][0]["eventHash"]
            .as_str()
            .unwrap()
            .starts_with("ni:///sha-256;")
    );

    // A tampered body breaks the header signature.
    let key = demo.key("freshmart", "agent");
    let body = document(vec![object(
        &loaf(1002),
        "inspecting",
        shop,
        "2025-06-02T11:00:00Z",
    )]);
    let status = client.status().await.unwrap();
    let nonce = client
        .account(&tracechain_types::to_hex(
            commonware_cryptography::Signer::public_key(&key),
        ))
        .await
        .unwrap()
        .next_nonce;
    let signed = tracechain_types::UnsignedTransaction {
        chain_id: status.chain_id,
        sender: commonware_cryptography::Signer::public_key(&key),
        nonce,
        payload: tracechain_types::Payload::Capture {
            document: body.clone(),
        },
    }
    .sign(&key);
    let mut tampered = body.clone();
    let at = tampered.iter().position(|b| *b == b'1').unwrap();
    tampered[at] = b'2';
    let response = reqwest::Client::new()
        .post(format!("{}/v1/capture", demo.api))
        .header("content-type", "application/ld+json")
        .header(
            "tracechain-signer",
            tracechain_types::to_hex(commonware_cryptography::Signer::public_key(&key)),
        )
        .header("tracechain-nonce", nonce.to_string())
        .header(
            "tracechain-signature",
            tracechain_types::to_hex(signed.signature()),
        )
        .body(tampered)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    let p: Value = response.json().await.unwrap();
    assert_eq!(p["field"], "signature", "{p}");
    // Missing headers are named.
    let response = reqwest::Client::new()
        .post(format!("{}/v1/capture", demo.api))
        .header("content-type", "application/ld+json")
        .body(body)
        .send()
        .await
        .unwrap();
    let p: Value = response.json().await.unwrap();
    assert_eq!(p["field"], "header.tracechain-signer", "{p}");
}

/// Every OpenEPCIS capture document is accepted by the API's validation;
/// every invalid one is refused with a problem naming the field.
async fn check_conformance(demo: &Demo) {
    let client = demo.client();
    let agent = demo.key("food-safety-authority", "agent");
    let dir = support::shared_dir().join("conformance/openepcis/Capture");
    for kind in ["Documents", "Events"] {
        for file in files(&dir.join(kind)) {
            let bytes = std::fs::read(&file).unwrap();
            let (_, answer) = client
                .capture(&agent, bytes)
                .await
                .unwrap_or_else(|e| panic!("{} refused: {e}", file.display()));
            assert!(
                !answer["events"].as_array().unwrap().is_empty(),
                "{}",
                file.display()
            );
        }
    }
    for file in files(&dir.join("Invalid")) {
        let bytes = std::fs::read(&file).unwrap();
        let p = problem(client.capture(&agent, bytes).await.unwrap_err());
        assert_eq!(p.status, 400, "{}: {p}", file.display());
        let field = p.field.unwrap_or_default();
        assert!(
            field.starts_with('/'),
            "{}: field '{field}' should be a JSON pointer",
            file.display()
        );
    }
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json" || x == "jsonld"))
        .collect();
    files.sort();
    files
}

/// A correction: the clone sighting declared in error; the loaf is genuine
/// again and the event stays visible, marked.
async fn check_error_declaration(demo: &Demo) {
    let client = demo.client();
    let freshmart = demo.key("freshmart", "agent");
    let events = get(
        &client,
        &format!(
            "/v1/events?MATCH_epc={}&EQ_bizLocation=urn:epc:id:sgln:4067890.00002.0",
            loaf(1003)
        ),
    )
    .await;
    let sighting = events["events"][0].clone();
    let mut declared = sighting["event"].clone();
    declared["errorDeclaration"] =
        json!({"declarationTime": "2025-06-03T00:00:00Z", "reason": "incorrect_data"});
    let job = capture(&client, &freshmart, vec![declared]).await;
    assert_eq!(job["success"], true, "{job}");
    // The index follows the chain shortly after finality.
    let hash = sighting["eventHash"].as_str().unwrap().to_string();
    let mut marked = Value::Null;
    for _ in 0..50 {
        marked = get(&client, &format!("/v1/events/{}", hash.replace('?', "%3F"))).await;
        if !marked["declaredInError"].is_null() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(!marked["declaredInError"].is_null(), "{marked}");
    let verdict = get(&client, &format!("/v1/verify/{}", loaf(1003))).await;
    assert_eq!(verdict["verdict"], "genuine", "{verdict}");
}

async fn check_roles_and_membership(demo: &Demo) {
    let client = demo.client();
    let admin = demo.key("freshmart", "admin");
    let clerk = tracechain_crypto::generate();
    let clerk_key = commonware_cryptography::Signer::public_key(&clerk);
    let run = |key: PrivateKey, payload: tracechain_types::Payload| {
        let client = client.clone();
        async move {
            let tx = client
                .sign_and_submit(&key, payload)
                .await
                .expect("submitted");
            client
                .wait_final(&tx.id(), Duration::from_secs(60))
                .await
                .expect("final")
        }
    };
    use tracechain_types::Payload;
    let status = run(
        admin.clone(),
        Payload::RegisterAgent {
            agent: clerk_key.clone(),
            display_name: "till clerk".into(),
        },
    )
    .await;
    assert_eq!(status.status, "applied");
    let status = run(
        admin.clone(),
        Payload::GrantRole {
            agent: clerk_key.clone(),
            role: "capture:inspecting".into(),
        },
    )
    .await;
    assert_eq!(status.status, "applied");
    let shop = "urn:epc:id:sgln:4067890.00001.0";
    let ok = capture(
        &client,
        &clerk,
        vec![object(
            &loaf(1002),
            "inspecting",
            shop,
            "2025-06-04T10:00:00Z",
        )],
    )
    .await;
    assert_eq!(ok["success"], true, "{ok}");
    let denied = capture(
        &client,
        &clerk,
        vec![object(
            &loaf(1002),
            "retail_selling",
            shop,
            "2025-06-04T10:05:00Z",
        )],
    )
    .await;
    assert_eq!(error_code(&denied), "role_missing", "{denied}");
    let agent = get(
        &client,
        &format!("/v1/agents/{}", tracechain_types::to_hex(&clerk_key)),
    )
    .await;
    assert_eq!(agent["organisation"], "freshmart");

    // A new member needs more than two thirds of the 7 admins (5).
    let newcomer_admin = tracechain_crypto::generate();
    let spec = tracechain_types::OrganisationSpec {
        id: "northern-mill".into(),
        name: "Northern Mill".into(),
        company_prefixes: vec!["4089012".into()],
        glns: vec![],
        admin: commonware_cryptography::Signer::public_key(&newcomer_admin),
        encryption_key: tracechain_crypto::generate_encryption_key().public,
        regulator: false,
    };
    let farm_admin = demo.key("greenfield-farm", "admin");
    let proposal = client
        .sign_and_submit(
            &farm_admin,
            Payload::ProposeMembership {
                change: tracechain_types::MembershipChange::Add(Box::new(spec)),
            },
        )
        .await
        .unwrap();
    client
        .wait_final(&proposal.id(), Duration::from_secs(60))
        .await
        .unwrap();
    let id = proposal.id();
    for (count, member) in [
        "golden-crust-bakery",
        "packright",
        "swift-freight",
        "central-dc",
        "freshmart",
    ]
    .into_iter()
    .enumerate()
    {
        let joined = client
            .get_json("/v1/organisations/northern-mill")
            .await
            .is_ok();
        assert!(!joined, "joined after only {} approvals", count + 1);
        let status = run(
            demo.key(member, "admin"),
            Payload::ApproveProposal { proposal: id },
        )
        .await;
        assert_eq!(status.status, "applied");
    }
    let joined = get(&client, "/v1/organisations/northern-mill").await;
    assert_eq!(joined["active"], true);
    let record = get(
        &client,
        &format!("/v1/proposals/{}", tracechain_types::to_hex(id)),
    )
    .await;
    // More than two thirds of the 8 members: 6 approvals.
    assert_eq!(record["approvals"].as_array().unwrap().len(), 6);
    assert!(digest_from_hex(&tracechain_types::to_hex(id)).is_some());
}

/// `tracechain capture` signs, submits, waits and prints every event's
/// hash and the block.
fn check_cli_capture(demo: &Demo) {
    let file = demo.dir.path().join("cli-capture.jsonld");
    let events = vec![
        object(
            &loaf(1002),
            "inspecting",
            "urn:epc:id:sgln:4067890.00001.0",
            "2025-06-05T09:00:00Z",
        ),
        object(
            &loaf(1002),
            "inspecting",
            "urn:epc:id:sgln:4067890.00001.0",
            "2025-06-05T09:30:00Z",
        ),
    ];
    std::fs::write(&file, document(events)).unwrap();
    let key = demo.dir.path().join("demo/freshmart/agent.key");
    let output = Command::new(BIN)
        .args(["capture", "--json", "--api", &demo.api, "--key"])
        .arg(&key)
        .arg(&file)
        .output()
        .expect("run tracechain capture");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let job: Value = serde_json::from_slice(&output.stdout).expect("capture --json");
    assert_eq!(job["success"], true);
    assert!(job["blockHeight"].as_u64().unwrap() > 0);
    let hashes: Vec<&str> = job["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["eventHash"].as_str().unwrap())
        .collect();
    assert_eq!(hashes.len(), 2);
    assert!(hashes.iter().all(|h| h.starts_with("ni:///sha-256;")) && hashes[0] != hashes[1]);
    let human = Command::new(BIN)
        .args(["capture", "--api", &demo.api, "--key"])
        .arg(&key)
        .arg(&file)
        .output()
        .expect("run tracechain capture again");
    // The same events again are duplicates: the command fails and says so.
    assert!(!human.status.success());
    assert!(String::from_utf8_lossy(&human.stderr).contains("duplicate_event"));
}

/// Runs `tracechain bench capture` on the demo with `args` and returns
/// its summary.
fn run_capture_bench(demo: &Demo, args: &[&str]) -> Value {
    let output = Command::new(BIN)
        .args(["bench", "capture", "--signers", "4", "--drain", "30"])
        .args(args)
        .args(["--api", &demo.api])
        .arg("--demo-dir")
        .arg(demo.dir.path())
        .output()
        .expect("run bench capture");
    bench_summary(&output, "capture")
}

/// A CI-sized run of the capture benchmark (never a timing threshold).
fn check_capture_bench(demo: &Demo) {
    let summary = run_capture_bench(demo, &["--rate", "20", "--duration", "2"]);
    assert_eq!(summary["submitted"], 40);
    assert_eq!(summary["rejected"], 0, "{summary}");
    assert_eq!(summary["lost"], 0, "{summary}");
    assert_eq!(summary["finalized"], 40, "{summary}");
    // The disk under the demo was sampled while the load ran.
    assert!(
        summary["disk_sync"]["samples"].as_u64().unwrap_or(0) > 0,
        "{summary}"
    );
    assert!(
        summary["disk_sync"]["max_ms"].as_f64().unwrap_or(0.0) > 0.0,
        "{summary}"
    );

    // Closed loop, up to 10 separately signed captures per request; the
    // first 30 signed before the clock starts, the rest while it runs (each
    // signer's nonces continue across the two).
    let summary = run_capture_bench(
        demo,
        &[
            "--closed-loop",
            "--window",
            "40",
            "--batch",
            "10",
            "--duration",
            "2",
            "--limits-sample",
            "0",
            "--presign",
            "30",
        ],
    );
    assert_eq!(summary["batch"], 10, "{summary}");
    let submitted = summary["submitted"].as_u64().unwrap_or(0);
    assert!(submitted >= 40, "{summary}");
    assert_eq!(summary["presigned"], 30, "{summary}");
    assert_eq!(summary["signed_during_run"], submitted - 30, "{summary}");
    assert_eq!(summary["rejected"], 0, "{summary}");
    assert_eq!(summary["lost"], 0, "{summary}");
    assert_eq!(summary["finalized"], summary["submitted"], "{summary}");
}

/// Runs `tracechain bench queries` with tiny numbers and returns its summary.
fn run_queries_bench(demo: &Demo, ids: Option<&str>) -> Value {
    let mut command = Command::new(BIN);
    command
        .args(["bench", "queries", "--requests", "20", "--concurrency", "2"])
        .args(["--api", &demo.apis[..2].join(",")]);
    if let Some(ids) = ids {
        command.args(["--ids", ids, "--proof"]);
    }
    let output = command.output().expect("run bench queries");
    bench_summary(&output, "queries")
}

/// CI-sized runs of the query latency benchmark (never a timing threshold).
fn check_queries_bench(demo: &Demo) {
    // Given identifiers: a loaf (URN), a recalled loaf (Digital Link path),
    // the pallet and a wheat lot; every answer is a 2xx.
    let ids = format!(
        "{},01/04023456000222/21/2004,urn:epc:id:sscc:4034567.0000000001,{}",
        loaf(1002),
        "urn:epc:class:lgtin:4012345.000011.WHEAT-B"
    );
    let summary = run_queries_bench(demo, Some(&ids));
    assert_eq!(summary["ids"], 4, "{summary}");
    for kind in ["trace", "verify"] {
        assert_eq!(summary[kind]["count"], 20, "{summary}");
        assert_eq!(summary[kind]["errors"], 0, "{summary}");
        assert!(summary[kind]["p50_ms"].as_f64().unwrap_or(0.0) > 0.0);
    }
    // Discovered from the node's events: the demo's items and lots.
    let summary = run_queries_bench(demo, None);
    assert_eq!(summary["ids_source"], "discovered");
    assert!(summary["ids"].as_u64().unwrap_or(0) >= 10, "{summary}");
    // Among them the demo parcel's SSCC, registered rather than created by
    // an event: its proof has no creating event to prove, and still answers.
    for kind in ["trace", "verify"] {
        assert_eq!(summary[kind]["count"], 20, "{summary}");
        assert_eq!(summary[kind]["errors"], 0, "{summary}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
// The guard serializes whole networks (see `exclusive`).
#[allow(clippy::await_holding_lock)]
async fn demo_supply_chain_end_to_end() {
    let _exclusive = exclusive();
    let demo = Demo::start();
    check_verdicts(&demo).await;
    check_traces(&demo).await;
    check_queries(&demo).await;
    check_items_and_recall(&demo).await;
    check_captures(&demo).await;
    check_error_declaration(&demo).await;
    check_roles_and_membership(&demo).await;
    check_conformance(&demo).await;
    check_cli_capture(&demo);
    check_capture_bench(&demo);
    check_queries_bench(&demo);
}
