//! Parcel tracking end to end over HTTP on a 4-validator demo localnet:
//! the demo parcel's route with both signatures at every hand-off; one-sided,
//! rejected, cancelled and off-route hand-offs; readers and non-readers of
//! the encrypted parcel information; documents replicated over p2p surviving
//! the restart and the loss of the node that received them; a tampered copy
//! refused; SSE and WebSocket subscribers resuming without loss or
//! repetition; webhooks retried until delivered.

mod support;

use futures::StreamExt;
use serde_json::{Value, json};
use std::{
    io::{BufRead, BufReader, Read, Write},
    net::TcpListener,
    process::{Child, Command, Stdio},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};
use support::{BIN, Demo, exclusive, get, get_indexed, problem};
use tracechain_client::{Client, TxStatus};
use tracechain_types::{
    Digest, Payload, PrivateKey, digest_from_hex,
    parcel::{DocumentAnchor, ParcelException, RouteStop},
    to_hex,
};

const DEMO_PARCEL: &str = "urn:epc:id:sscc:4023456.0000000777";
/// The parcel this test sends (the bakery's company prefix).
const PARCEL: &str = "urn:epc:id:sscc:4023456.0000000888";
const READERS: [&str; 4] = [
    "golden-crust-bakery",
    "swift-freight",
    "freshmart",
    "food-safety-authority",
];

fn encode(id: &str) -> String {
    id.replace('/', "%2F")
}

fn readers() -> Vec<String> {
    READERS.iter().map(|r| r.to_string()).collect()
}

/// Signs, submits and waits for the transaction to be final.
async fn submit(client: &Client, key: &PrivateKey, payload: Payload) -> (Digest, TxStatus) {
    let tx = client
        .sign_and_submit(key, payload)
        .await
        .expect("transaction accepted");
    let status = client
        .wait_final(&tx.id(), Duration::from_secs(60))
        .await
        .expect("transaction final");
    (tx.id(), status)
}

async fn applied(client: &Client, key: &PrivateKey, payload: Payload) -> Digest {
    let (id, status) = submit(client, key, payload).await;
    assert_eq!(status.status, "applied", "{status:?}");
    id
}

async fn refused(client: &Client, key: &PrivateKey, payload: Payload, code: &str) {
    let (_, status) = submit(client, key, payload).await;
    assert_eq!(status.status, "failed", "{status:?}");
    assert_eq!(status.code.as_deref(), Some(code), "{status:?}");
}

async fn parcel(client: &Client, id: &str) -> Value {
    get(client, &format!("/v1/parcels/{}", encode(id))).await
}

fn pending_id(state: &Value) -> Digest {
    state["pending"]["handoff"]
        .as_str()
        .and_then(digest_from_hex)
        .unwrap_or_else(|| panic!("no pending hand-off in {state}"))
}

/// The organisation an agent key acts for.
async fn organisation_of(client: &Client, agent: &str) -> String {
    get(client, &format!("/v1/agents/{agent}")).await["organisation"]
        .as_str()
        .expect("organisation")
        .to_string()
}

/// The demo parcel: five hand-offs, each proposed by the holder and
/// accepted by the receiver (two signed transactions, both in finalized
/// blocks), each an EPCIS event in the parcel's history; delivered once.
async fn check_demo_route(demo: &Demo) {
    let client = demo.client();
    let state = parcel(&client, DEMO_PARCEL).await;
    assert_eq!(state["status"], "delivered", "{state}");
    assert_eq!(state["custodian"], "freshmart");
    assert!(state["pending"].is_null());
    let custody = state["custody"].as_array().expect("custody");
    let parties: Vec<(&str, &str)> = custody
        .iter()
        .map(|s| (s["from"].as_str().unwrap(), s["to"].as_str().unwrap()))
        .collect();
    assert_eq!(
        parties,
        [
            ("golden-crust-bakery", "swift-freight"),
            ("swift-freight", "swift-freight"),
            ("swift-freight", "metro-couriers"),
            ("metro-couriers", "metro-couriers"),
            ("metro-couriers", "freshmart"),
        ]
    );
    for step in custody {
        for (tx, agent, party) in [
            ("handoff", "proposedBy", "from"),
            ("acceptance", "acceptedBy", "to"),
        ] {
            let status = get(
                &client,
                &format!("/v1/transactions/{}", step[tx].as_str().unwrap()),
            )
            .await;
            assert_eq!(status["status"], "applied", "{tx} of {step}");
            let signer = step[agent].as_str().expect("signer");
            assert_eq!(
                organisation_of(&client, signer).await,
                step[party].as_str().unwrap()
            );
        }
        assert_eq!(step["offRoute"], false);
        let event = get_indexed(
            &client,
            &format!("/v1/events/{}", step["eventHash"].as_str().unwrap()),
        )
        .await;
        assert_eq!(
            event["event"]["tracechain:handoffAcceptance"], step["acceptance"],
            "{event}"
        );
    }
    // The destination station took its time (the demo waits before accepting).
    let late = &custody[2];
    assert!(
        late["acceptedAtMs"].as_u64().unwrap() >= late["proposedAtMs"].as_u64().unwrap() + 2_000
    );
    // Every hand-off, and the temperature excursion, is in the parcel's history.
    let history = get(
        &client,
        &format!("/v1/events?MATCH_anyEPC={DEMO_PARCEL}&perPage=100"),
    )
    .await;
    let history = history.to_string();
    for step in ["shipping", "receiving", "departing", "arriving"] {
        assert!(
            history.contains(&format!("BizStep-{step}"))
                || history.contains(&format!("\"{step}\"")),
            "no {step} in {history}"
        );
    }
    assert!(history.contains("ALARM_CONDITION"), "{history}");
    // "Delivered" was broadcast once.
    let delivered = read_sse(
        &demo.api,
        &format!("parcel={DEMO_PARCEL}&type=parcel_delivered&from=1"),
        None,
        1,
    )
    .await;
    assert_eq!(delivered.len(), 1);
    assert_eq!(delivered[0]["data"]["recipient"], "freshmart");
}

/// Registers `PARCEL` (bakery → swift-freight → freshmart) with its
/// information sealed to the readers; returns the information.
async fn register_parcel(demo: &Demo) -> Value {
    let client = demo.client();
    let bakery = demo.key("golden-crust-bakery", "agent");
    let info = json!({
        "sender": {"name": "Golden Crust Bakery", "address": "12 Mill Lane"},
        "recipient": {"name": "FreshMart", "address": "1 Market Square"},
        "contents": "2 crates of rye", "declaredValue": {"amount": 90, "currency": "EUR"},
        "serviceLevel": "same-day",
    });
    let (fingerprint, ciphertext_hash) = client
        .upload_document(&bakery, &readers(), &info)
        .await
        .expect("upload");
    let route = vec![
        RouteStop {
            organisation: "swift-freight".into(),
            location: None,
        },
        RouteStop {
            organisation: "freshmart".into(),
            location: None,
        },
    ];
    applied(
        &client,
        &bakery,
        Payload::RegisterParcel {
            parcel: PARCEL.into(),
            recipient: "freshmart".into(),
            route,
            document: DocumentAnchor {
                fingerprint,
                ciphertext_hash,
                readers: readers(),
                label: "rye".into(),
            },
        },
    )
    .await;
    let state = parcel(&client, PARCEL).await;
    assert_eq!(state["status"], "registered", "{state}");
    assert_eq!(state["custodian"], "golden-crust-bakery");
    assert_eq!(state["document"]["fingerprint"], to_hex(fingerprint));
    assert_eq!(state["document"]["ciphertextHash"], to_hex(ciphertext_hash));
    info
}

fn propose(to: &str, wait_ms: u64) -> Payload {
    Payload::ProposeHandoff {
        parcel: PARCEL.into(),
        to: to.into(),
        next: None,
        location: None,
        step: None,
        wait_ms,
    }
}

/// Only the holder proposes; a proposal nobody accepts never moves custody.
async fn check_one_sided(demo: &Demo) {
    let client = demo.client();
    let bakery = demo.key("golden-crust-bakery", "agent");
    let swift = demo.key("swift-freight", "agent");
    let shop = demo.key("freshmart", "agent");
    refused(
        &client,
        &swift,
        propose("freshmart", 60_000),
        "not_custodian",
    )
    .await;
    applied(&client, &bakery, propose("swift-freight", 60_000)).await;
    let state = parcel(&client, PARCEL).await;
    let handoff = pending_id(&state);
    // Someone other than the receiver cannot accept it.
    let accept = Payload::AcceptHandoff {
        parcel: PARCEL.into(),
        handoff,
    };
    refused(&client, &shop, accept, "not_party").await;
    // Nor can the proposer accept its own offer.
    let accept = Payload::AcceptHandoff {
        parcel: PARCEL.into(),
        handoff,
    };
    refused(&client, &bakery, accept, "not_party").await;
    // Blocks go by; custody stays with the proposer.
    let height = client.status().await.expect("status").height;
    support_wait_height(&client, height + 3).await;
    let state = parcel(&client, PARCEL).await;
    assert_eq!(state["custodian"], "golden-crust-bakery", "{state}");
    assert_eq!(state["custody"].as_array().map(Vec::len), Some(0));
    assert_eq!(state["pending"]["to"], "swift-freight");
}

async fn support_wait_height(client: &Client, height: u64) {
    let start = Instant::now();
    while client.status().await.expect("status").height < height {
        assert!(start.elapsed() < Duration::from_secs(60), "chain stalled");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Rejection with a reason, cancellation only after the wait, a flagged
/// off-route hand-off, an exception, and delivery.
async fn check_reject_cancel_off_route(demo: &Demo) {
    let client = demo.client();
    let bakery = demo.key("golden-crust-bakery", "agent");
    let swift = demo.key("swift-freight", "agent");
    let dc = demo.key("central-dc", "agent");
    let shop = demo.key("freshmart", "agent");
    let handoff = pending_id(&parcel(&client, PARCEL).await);
    let reject = |reason: &str| Payload::RejectHandoff {
        parcel: PARCEL.into(),
        handoff,
        reason: reason.into(),
    };
    refused(&client, &swift, reject(" "), "missing_reason").await;
    applied(&client, &swift, reject("van full")).await;
    let state = parcel(&client, PARCEL).await;
    assert!(state["pending"].is_null(), "{state}");
    assert_eq!(state["closedProposals"][0]["outcome"], "rejected");
    assert_eq!(state["closedProposals"][0]["reason"], "van full");
    assert_eq!(state["custodian"], "golden-crust-bakery");

    applied(&client, &bakery, propose("swift-freight", 1_500)).await;
    let handoff = pending_id(&parcel(&client, PARCEL).await);
    let cancel = Payload::CancelHandoff {
        parcel: PARCEL.into(),
        handoff,
    };
    refused(&client, &bakery, cancel.clone(), "not_expired").await;
    tokio::time::sleep(Duration::from_millis(1_600)).await;
    applied(&client, &bakery, cancel).await;
    let state = parcel(&client, PARCEL).await;
    assert_eq!(
        state["closedProposals"][1]["outcome"], "cancelled",
        "{state}"
    );

    // Central DC is not on the route: allowed, but flagged.
    applied(&client, &bakery, propose("central-dc", 60_000)).await;
    let state = parcel(&client, PARCEL).await;
    assert_eq!(state["pending"]["offRoute"], true, "{state}");
    let accept = Payload::AcceptHandoff {
        parcel: PARCEL.into(),
        handoff: pending_id(&state),
    };
    applied(&client, &dc, accept).await;
    let state = parcel(&client, PARCEL).await;
    assert_eq!(state["custodian"], "central-dc", "{state}");
    assert_eq!(state["custody"][0]["offRoute"], true);

    let damaged = |by: &str| Payload::DeclareParcelException {
        parcel: PARCEL.into(),
        exception: ParcelException::Damaged,
        reason: format!("crate cracked ({by})"),
    };
    refused(&client, &bakery, damaged("bakery"), "not_custodian").await;
    applied(&client, &dc, damaged("dc")).await;

    applied(&client, &dc, propose("freshmart", 60_000)).await;
    let handoff = pending_id(&parcel(&client, PARCEL).await);
    applied(
        &client,
        &shop,
        Payload::AcceptHandoff {
            parcel: PARCEL.into(),
            handoff,
        },
    )
    .await;
    let state = parcel(&client, PARCEL).await;
    assert_eq!(state["status"], "delivered", "{state}");
    assert_eq!(state["damaged"], true);
    assert_eq!(state["exceptions"][0]["by"], "central-dc");
    refused(
        &client,
        &shop,
        propose("swift-freight", 60_000),
        "parcel_closed",
    )
    .await;
}

/// Readers get the plaintext (whose fingerprint is the chain's); anyone
/// else gets the fingerprint, never the plaintext.
async fn check_readers(demo: &Demo, info: &Value) {
    let client = demo.client();
    let path = format!("/v1/parcels/{}/document", encode(PARCEL));
    let fingerprint = parcel(&client, PARCEL).await["document"]["fingerprint"].clone();
    for reader in ["freshmart", "food-safety-authority", "swift-freight"] {
        let key = demo.key(reader, "agent");
        let answer = client
            .signed(reqwest::Method::GET, &path, Vec::new(), &key)
            .await
            .expect("reader");
        assert_eq!(&answer["document"], info, "{reader}");
        assert_eq!(answer["fingerprint"], fingerprint);
    }
    let outsider = demo.key("central-dc", "agent");
    let refusal = problem(
        client
            .signed(reqwest::Method::GET, &path, Vec::new(), &outsider)
            .await
            .unwrap_err(),
    );
    assert_eq!(refusal.status, 403, "{refusal}");
    assert!(
        refusal.detail.contains(fingerprint.as_str().unwrap()),
        "{refusal}"
    );
    assert!(!refusal.detail.contains("rye"));
    let anonymous = problem(client.get_json(&path).await.unwrap_err());
    assert_eq!(anonymous.status, 401, "{anonymous}");
    // A reader's key with a signature that does not verify opens nothing.
    let key = demo.key("freshmart", "agent");
    let forged = reqwest::Client::new()
        .get(format!("{}{path}", demo.api))
        .header(
            "tracechain-agent",
            to_hex(commonware_cryptography::Signer::public_key(&key)),
        )
        .header("tracechain-timestamp", "1")
        .header("tracechain-request-signature", "00".repeat(64))
        .send()
        .await
        .expect("send");
    assert_eq!(forged.status(), 401);
    assert_eq!(forged.headers()["content-type"], "application/problem+json");
}

/// A document uploaded to node 0 is fetched by the other nodes over p2p,
/// read after node 0 restarts, and still read when node 0 is gone. A copy
/// altered on disk is refused, not served.
async fn check_replication(demo: &mut Demo) {
    let holder = demo.client_at(0);
    let bakery = demo.key("golden-crust-bakery", "agent");
    let shop = demo.key("freshmart", "agent");
    let certificate = json!({"certificate": "organic", "lot": "RYE-7", "issuer": "EcoCert", "valid": "2027-01-31"});
    let readers = vec!["freshmart".to_string()];
    let (fingerprint, ciphertext_hash) = holder
        .upload_document(&bakery, &readers, &certificate)
        .await
        .expect("upload");
    // Not anchored yet: nobody serves it.
    let path = format!("/v1/documents/{}", to_hex(fingerprint));
    let missing = problem(
        holder
            .signed(reqwest::Method::GET, &path, Vec::new(), &shop)
            .await
            .unwrap_err(),
    );
    assert_eq!(missing.status, 404, "{missing}");
    let anchor = DocumentAnchor {
        fingerprint,
        ciphertext_hash,
        readers,
        label: "organic certificate".into(),
    };
    applied(
        &holder,
        &bakery,
        Payload::AnchorDocument {
            anchor: anchor.clone(),
        },
    )
    .await;
    refused(
        &holder,
        &bakery,
        Payload::AnchorDocument { anchor },
        "already_anchored",
    )
    .await;

    // A public document: anyone reads it, unsigned.
    let notice = json!({"notice": "rye harvest 2026 lab results", "aflatoxin_ppb": 0.4});
    let (public, public_hash) = holder
        .upload_document(&bakery, &[], &notice)
        .await
        .expect("upload public");
    let anchor = DocumentAnchor {
        fingerprint: public,
        ciphertext_hash: public_hash,
        readers: vec![],
        label: "lab results".into(),
    };
    applied(&holder, &bakery, Payload::AnchorDocument { anchor }).await;

    for index in 1..4 {
        let answer = read_eventually(&demo.client_at(index), &path, Some(&shop)).await;
        assert_eq!(answer["document"], certificate, "node {index}");
    }
    let public_path = format!("/v1/documents/{}", to_hex(public));
    let answer = read_eventually(&demo.client_at(2), &public_path, None).await;
    assert_eq!(answer["document"], notice);

    // Node 3's copy is altered on disk: refused, never served as genuine.
    let name = to_hex(ciphertext_hash);
    let file = demo
        .home(3)
        .join("data")
        .join("documents")
        .join(&name[..2])
        .join(&name);
    let mut bytes = std::fs::read(&file).expect("stored envelope");
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    std::fs::write(&file, bytes).expect("tamper");
    let damaged = problem(
        demo.client_at(3)
            .signed(reqwest::Method::GET, &path, Vec::new(), &shop)
            .await
            .unwrap_err(),
    );
    assert_eq!(damaged.status, 500, "{damaged}");
    assert!(damaged.detail.contains("does not match"), "{damaged}");

    // The holding node restarts: its store is on disk.
    demo.kill(0);
    demo.restart(0);
    demo.wait_up(0).await;
    let answer = read_eventually(&holder, &path, Some(&shop)).await;
    assert_eq!(answer["document"], certificate);

    // The holding node is lost: the replicas serve.
    demo.kill_restarted();
    for index in 1..3 {
        let answer = read_eventually(&demo.client_at(index), &path, Some(&shop)).await;
        assert_eq!(
            answer["document"], certificate,
            "node {index} without node 0"
        );
    }
    assert!(holder.status().await.is_err(), "node 0 should be down");
}

/// GETs a document, retrying while the node is down or has not fetched it.
async fn read_eventually(client: &Client, path: &str, key: Option<&PrivateKey>) -> Value {
    let start = Instant::now();
    loop {
        let answer = match key {
            Some(key) => {
                client
                    .signed(reqwest::Method::GET, path, Vec::new(), key)
                    .await
            }
            None => client.get_json(path).await,
        };
        match answer {
            Ok(answer) => return answer,
            Err(err) => assert!(
                start.elapsed() < Duration::from_secs(60),
                "{path} at {}: {err}",
                client.base()
            ),
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Reads the event stream of `api` until at least `want` records came
/// (then disconnects); resumes after `last` when given.
async fn read_sse(api: &str, query: &str, last: Option<&str>, want: usize) -> Vec<Value> {
    let mut stream = Client::new(api).stream(query, last).await.expect("stream");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    let mut records = Vec::new();
    while records.len() < want {
        let record = tokio::time::timeout_at(deadline, stream.next())
            .await
            .unwrap_or_else(|_| panic!("{api} {query}: only {records:?} of {want}"))
            .expect("read stream")
            .expect("stream open");
        records.push(record);
    }
    records
}

fn ids(records: &[Value]) -> Vec<String> {
    records
        .iter()
        .map(|r| r["id"].as_str().expect("id").to_string())
        .collect()
}

/// A webhook receiver on loopback that refuses the first `failures` posts.
struct Receiver {
    url: String,
    /// (answered status, record id) of every post, in arrival order.
    posts: Arc<Mutex<Vec<(u16, String)>>>,
}

impl Receiver {
    fn start(failures: usize) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!("http://{}/hook", listener.local_addr().expect("addr"));
        let posts = Arc::new(Mutex::new(Vec::new()));
        let log = posts.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let log = log.clone();
                std::thread::spawn(move || serve_posts(stream, &log, failures));
            }
        });
        Self { url, posts }
    }

    fn delivered(&self) -> Vec<String> {
        let posts = self.posts.lock().expect("posts");
        posts
            .iter()
            .filter(|(s, _)| *s == 200)
            .map(|(_, id)| id.clone())
            .collect()
    }
}

/// HTTP/1.1 keep-alive: answers each POST 503 while fewer than `failures`
/// posts came, 200 after.
fn serve_posts(stream: std::net::TcpStream, log: &Mutex<Vec<(u16, String)>>, failures: usize) {
    let mut reader = BufReader::new(stream.try_clone().expect("clone"));
    let mut writer = stream;
    loop {
        let mut length = 0usize;
        let mut record = String::new();
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        loop {
            line.clear();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            let Some((name, value)) = line.trim_end().split_once(':') else {
                break;
            };
            match name.to_ascii_lowercase().as_str() {
                "content-length" => length = value.trim().parse().unwrap_or(0),
                "tracechain-record" => record = value.trim().to_string(),
                _ => {}
            }
        }
        let mut body = vec![0; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let body: Value = serde_json::from_slice(&body).expect("webhook body is JSON");
        assert_eq!(body["id"], record.as_str());
        let status = {
            let mut posts = log.lock().expect("posts");
            let status = if posts.len() < failures { 503 } else { 200 };
            posts.push((status, record));
            status
        };
        let answer = format!("HTTP/1.1 {status} X\r\ncontent-length: 0\r\n\r\n");
        if writer.write_all(answer.as_bytes()).is_err() {
            return;
        }
    }
}

/// Subscriptions on `PARCEL`: an SSE subscriber that disconnects midway and
/// resumes, a WebSocket subscriber, and a webhook whose receiver fails
/// twice, all see exactly the records a fresh full read sees, once each,
/// in order.
struct Subscribers {
    first_half: Vec<Value>,
    webhook: Receiver,
}

const QUERY: &str = "parcel=urn:epc:id:sscc:4023456.0000000888&from=1";

async fn subscribe(demo: &Demo) -> Receiver {
    let receiver = Receiver::start(2);
    let answer = reqwest::Client::new()
        .post(format!("{}/v1/subscriptions", demo.apis[1]))
        .json(&json!({"url": receiver.url, "parcel": PARCEL, "from": 1}))
        .send()
        .await
        .expect("subscribe");
    assert_eq!(answer.status(), 201);
    let bad = reqwest::Client::new()
        .post(format!("{}/v1/subscriptions", demo.apis[1]))
        .json(&json!({"url": "ftp://example.org/x"}))
        .send()
        .await
        .expect("subscribe");
    assert_eq!(bad.status(), 400);
    let bad: Value = bad.json().await.expect("problem");
    assert_eq!(bad["field"], "url");
    receiver
}

async fn check_subscriptions(demo: &Demo, subscribers: Subscribers) {
    // Registered, 2 proposals, rejection, proposal, cancellation, proposal,
    // acceptance, exception, proposal, acceptance + delivery.
    let everything = read_sse(&demo.apis[2], QUERY, None, 11).await;
    let kinds: Vec<&str> = everything
        .iter()
        .map(|r| r["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "parcel_registered",
            "handoff_proposed",
            "handoff_rejected",
            "handoff_proposed",
            "handoff_cancelled",
            "handoff_proposed",
            "handoff_accepted",
            "parcel_exception",
            "handoff_proposed",
            "handoff_accepted",
            "parcel_delivered",
        ][..],
        "{everything:?}"
    );
    let all = ids(&everything);
    let mut sorted = all.clone();
    sorted.sort_by_key(|id| {
        id.split('-')
            .map(|n| n.parse::<u64>().unwrap())
            .collect::<Vec<_>>()
    });
    sorted.dedup();
    assert_eq!(sorted, all, "in order, each once");

    // The SSE subscriber that left after two records resumes.
    let first = ids(&subscribers.first_half);
    let rest = read_sse(
        &demo.apis[0],
        QUERY,
        first.last().map(String::as_str),
        all.len() - first.len(),
    )
    .await;
    assert_eq!([first, ids(&rest)].concat(), all);

    // The same through a WebSocket, on another node.
    let url = format!(
        "{}/v1/events/ws?{QUERY}",
        demo.apis[3].replace("http://", "ws://")
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(url)
        .await
        .expect("websocket");
    let mut seen = Vec::new();
    while seen.len() < all.len() {
        let message = tokio::time::timeout(Duration::from_secs(30), socket.next())
            .await
            .expect("websocket record in time")
            .expect("websocket open")
            .expect("websocket message");
        if let tokio_tungstenite::tungstenite::Message::Text(text) = message {
            let record: Value = serde_json::from_str(&text).expect("record");
            seen.push(record["id"].as_str().expect("id").to_string());
        }
    }
    assert_eq!(seen, all);
    let _ = socket.close(None).await;

    // The webhook: two refusals, retried; then every record once, in order.
    let start = Instant::now();
    while subscribers.webhook.delivered().len() < all.len() {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "webhook deliveries: {:?}",
            subscribers.webhook.posts.lock().map(|p| p.clone())
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(subscribers.webhook.delivered(), all);
    let posts = subscribers.webhook.posts.lock().expect("posts").clone();
    assert_eq!(posts[0], (503, all[0].clone()));
    assert_eq!(posts[1], (503, all[0].clone()));
    // On the wire: each record an SSE event whose id is its position.
    let mut raw = reqwest::Client::new()
        .get(format!("{}/v1/events/stream?{QUERY}", demo.api))
        .send()
        .await
        .expect("stream");
    assert_eq!(raw.headers()["content-type"], "text/event-stream");
    let mut frame = Vec::new();
    while !frame.windows(2).any(|w| w == b"\n\n") {
        let chunk = tokio::time::timeout(Duration::from_secs(30), raw.chunk()).await;
        frame.extend_from_slice(&chunk.expect("in time").expect("read").expect("open"));
    }
    let frame = String::from_utf8_lossy(&frame);
    assert!(frame.contains(&format!("id: {}\n", all[0])), "{frame}");
    assert!(frame.contains("event: parcel_registered\n"), "{frame}");
    // Resuming from a bad position is a clear error.
    let bad = reqwest::Client::new()
        .get(format!("{}/v1/events/stream?{QUERY}", demo.api))
        .header("last-event-id", "yesterday")
        .send()
        .await
        .expect("stream");
    assert_eq!(bad.status(), 400);
    assert_eq!(bad.headers()["content-type"], "application/problem+json");
}

/// Runs `tracechain` with `args`; returns stdout, failing on an error exit.
fn cli(args: &[&str]) -> String {
    let output = Command::new(BIN)
        .args(args)
        .output()
        .expect("run tracechain");
    assert!(
        output.status.success(),
        "tracechain {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The parcel commands, as a person at a depot would use them.
fn check_cli(demo: &Demo) {
    let parcel = "urn:epc:id:sscc:4023456.0000000999";
    let dir = demo.dir.path();
    let key = |org: &str| {
        dir.join("demo")
            .join(org)
            .join("agent.key")
            .display()
            .to_string()
    };
    let info = dir.join("parcel-999.json");
    std::fs::write(
        &info,
        r#"{"contents": "flour samples", "recipient": "FreshMart lab"}"#,
    )
    .unwrap();
    let watcher = Command::new(BIN)
        .args([
            "parcel",
            "watch",
            "--api",
            &demo.apis[1],
            "--parcel",
            parcel,
        ])
        .stdout(Stdio::piped())
        .spawn()
        .expect("watch");
    let target = ["--api", demo.api.as_str(), "--parcel", parcel];
    let run = |command: &str, org: &str, extra: &[&str]| {
        let key = key(org);
        let mut args = vec!["parcel", command];
        args.extend(target);
        args.extend(["--key", key.as_str()]);
        args.extend(extra);
        cli(&args)
    };
    let info_path = info.display().to_string();
    run(
        "register",
        "golden-crust-bakery",
        &[
            "--recipient",
            "freshmart",
            "--route",
            "swift-freight,freshmart",
            "--document",
            &info_path,
        ],
    );
    run(
        "handoff",
        "golden-crust-bakery",
        &["--to", "swift-freight", "--step", "shipping"],
    );
    run("reject", "swift-freight", &["--reason", "no cold box"]);
    run("handoff", "golden-crust-bakery", &["--to", "swift-freight"]);
    run("accept", "swift-freight", &[]);
    run("handoff", "swift-freight", &["--to", "freshmart"]);
    run("deliver", "freshmart", &[]);
    let shown: Value = serde_json::from_str(&cli(&[
        "parcel", "show", "--json", "--api", &demo.api, "--parcel", parcel,
    ]))
    .expect("show --json");
    assert_eq!(shown["status"], "delivered", "{shown}");
    assert_eq!(shown["closedProposals"][0]["reason"], "no cold box");
    let readable = cli(&[
        "parcel",
        "document",
        "--api",
        &demo.api,
        "--parcel",
        parcel,
        "--key",
        &key("freshmart"),
    ]);
    assert!(readable.contains("flour samples"), "{readable}");
    let refused = Command::new(BIN)
        .args([
            "parcel",
            "document",
            "--api",
            &demo.api,
            "--parcel",
            parcel,
            "--key",
            &key("central-dc"),
        ])
        .output()
        .expect("run");
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("may not read"));
    // The watcher printed every record once, delivery last.
    let wanted = [
        "parcel_registered",
        "handoff_proposed",
        "handoff_rejected",
        "handoff_proposed",
        "handoff_accepted",
        "handoff_proposed",
        "handoff_accepted",
        "parcel_delivered",
    ];
    let lines = read_lines(watcher, wanted.len());
    let kinds: Vec<&str> = lines
        .iter()
        .map(|l| l.split_whitespace().nth(3).unwrap_or_default())
        .collect();
    assert_eq!(kinds, wanted, "{lines:?}");
}

/// The first `count` lines `child` prints (within 60 s), then kills it.
fn read_lines(mut child: Child, count: usize) -> Vec<String> {
    let stdout = child.stdout.take().expect("piped");
    let (send, receive) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if send.send(line).is_err() {
                return;
            }
        }
    });
    let mut lines = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while lines.len() < count {
        let left = deadline.saturating_duration_since(Instant::now());
        match receive.recv_timeout(left) {
            Ok(line) => lines.push(line),
            Err(_) => break,
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    lines
}

/// A CI-sized run of the hand-off benchmark (never a timing threshold).
fn check_handoff_bench(demo: &Demo) {
    let apis = demo.apis[..3].join(",");
    let out = cli(&[
        "bench",
        "handoffs",
        "--api",
        &apis,
        "--parcels",
        "4",
        "--duration",
        "3",
        "--demo-dir",
        &demo.dir.path().display().to_string(),
    ]);
    let summary: Value = serde_json::from_str(out.trim()).expect("summary JSON");
    assert_eq!(summary["failed"], 0, "{summary}");
    assert!(summary["handoffs"].as_u64().unwrap() >= 4, "{summary}");
    assert!(summary["accept_to_subscriber_ms"]["p50"].as_u64().unwrap() > 0);
}

/// A CI-sized closed-loop run of the capture benchmark with the machine's
/// limits measured after it: nothing accepted is lost and the ceiling and
/// efficiency are reported (never a timing threshold).
fn check_capture_bench(demo: &Demo) {
    let out = cli(&[
        "bench",
        "capture",
        "--api",
        &demo.apis.join(","),
        "--signers",
        "10",
        "--closed-loop",
        "--window",
        "40",
        "--duration",
        "3",
        "--limits-sample",
        "300",
        "--demo-dir",
        &demo.dir.path().display().to_string(),
    ]);
    let summary: Value = serde_json::from_str(out.trim()).expect("summary JSON");
    assert_eq!(summary["mode"], "closed", "{summary}");
    assert_eq!(summary["rejected"], 0, "{summary}");
    assert_eq!(summary["lost"], 0, "{summary}");
    assert!(summary["finalized"].as_u64().unwrap() >= 40, "{summary}");
    let limits = &summary["limits"];
    assert_eq!(limits["validators"], 4, "{summary}");
    for rate in [
        "sign_per_core",
        "verify_per_core",
        "epcis_per_core",
        "execute_per_core",
    ] {
        assert!(
            limits[rate].as_f64().unwrap_or(0.0) > 0.0,
            "{rate}: {summary}"
        );
    }
    assert!(
        limits["commit_per_s"].as_f64().unwrap_or(0.0) > 0.0,
        "{summary}"
    );
    assert!(
        limits["ceiling_tps"].as_f64().unwrap_or(0.0) > 0.0,
        "{summary}"
    );
    assert!(
        summary["efficiency"].as_f64().unwrap_or(0.0) > 0.0,
        "{summary}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
// The guard serializes whole networks (see `exclusive`).
#[allow(clippy::await_holding_lock)]
async fn parcel_tracking_end_to_end() {
    let _exclusive = exclusive();
    let mut demo = Demo::start();
    check_demo_route(&demo).await;

    let webhook = subscribe(&demo).await;
    let info = register_parcel(&demo).await;
    let early = tokio::spawn({
        let api = demo.api.clone();
        async move { read_sse(&api, QUERY, None, 2).await }
    });
    check_one_sided(&demo).await;
    let first_half = early.await.expect("early subscriber");
    assert_eq!(first_half.len(), 2, "{first_half:?}");
    check_reject_cancel_off_route(&demo).await;
    check_readers(&demo, &info).await;
    check_subscriptions(
        &demo,
        Subscribers {
            first_half,
            webhook,
        },
    )
    .await;
    check_cli(&demo);
    check_handoff_bench(&demo);
    check_capture_bench(&demo);
    check_replication(&mut demo).await;
}
