//! `tracechain bench queries`: HTTP latency of the read side a consumer or
//! an auditor uses — trace back (`/v1/trace/{id}`) and verification with a
//! proof bundle (`/v1/verify/{id}?proof=true`) — on a running node.

use anyhow::{Context, Result, bail};
use clap::Args;
use hdrhistogram::Histogram;
use serde_json::Value;
use std::{
    collections::BTreeSet,
    path::Path,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

/// Events read to discover identifiers when `--ids` is not given: the
/// chain's first events (a demo chain's supply chain comes first) and its
/// retail sales (the items with the longest history).
const DISCOVERY_QUERIES: [&str; 2] = ["EQ_bizStep=retail_selling&perPage=200", "perPage=1000"];

/// Event fields naming items (instances or classes), not places.
const EPC_LISTS: [&str; 4] = ["epcList", "childEPCs", "inputEPCList", "outputEPCList"];
const QUANTITY_LISTS: [&str; 4] = [
    "quantityList",
    "childQuantityList",
    "inputQuantityList",
    "outputQuantityList",
];

#[derive(Args, Clone)]
pub struct QueryArgs {
    /// Node APIs to spread the queries over (comma-separated).
    #[arg(long, value_delimiter = ',', required = true)]
    api: Vec<String>,
    /// Item identifiers (EPC URNs or Digital Link paths): a file with one
    /// per line, or a comma-separated list. Without it they are discovered
    /// from the first node's events.
    #[arg(long)]
    ids: Option<String>,
    /// Requests of each kind (trace and verify).
    #[arg(long, default_value_t = 1_000)]
    requests: u64,
    /// Requests in flight.
    #[arg(long, default_value_t = 8)]
    concurrency: usize,
    /// Ask for a proof bundle with every trace too (verify always asks).
    #[arg(long)]
    proof: bool,
    /// Trace direction.
    #[arg(long, default_value = "back", value_parser = ["back", "forward"])]
    direction: String,
    /// Trace depth (the node's default when absent).
    #[arg(long)]
    depth: Option<u32>,
}

#[derive(Clone, Copy)]
enum Kind {
    Trace,
    Verify,
}

/// Latencies and failures of one kind of request.
struct Recorder {
    latencies_us: Mutex<Histogram<u64>>,
    errors: AtomicU64,
    first_error: Mutex<Option<String>>,
}

impl Recorder {
    fn new() -> Result<Self> {
        Ok(Self {
            // 1 µs to 1 h (the HTTP timeout is far below), 3 digits.
            latencies_us: Mutex::new(Histogram::new_with_bounds(1, 3_600_000_000, 3)?),
            errors: AtomicU64::new(0),
            first_error: Mutex::new(None),
        })
    }

    fn ok(&self, elapsed: Duration) {
        if let Ok(mut histogram) = self.latencies_us.lock() {
            histogram.saturating_record((elapsed.as_micros() as u64).max(1));
        }
    }

    fn fail(&self, error: String) {
        self.errors.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut first) = self.first_error.lock() {
            first.get_or_insert(error);
        }
    }

    fn count(&self) -> u64 {
        self.latencies_us
            .lock()
            .map(|h| h.len())
            .unwrap_or_default()
    }

    fn report(&self) -> KindReport {
        let histogram = self.latencies_us.lock().ok();
        let ms = |us: u64| us as f64 / 1000.0;
        let at = |q: f64| ms(histogram.as_ref().map_or(0, |h| h.value_at_quantile(q)));
        KindReport {
            p50_ms: at(0.50),
            p90_ms: at(0.90),
            p99_ms: at(0.99),
            max_ms: ms(histogram.as_ref().map_or(0, |h| h.max())),
            count: histogram.as_ref().map_or(0, |h| h.len()),
            errors: self.errors.load(Ordering::Relaxed),
            first_error: self.first_error.lock().ok().and_then(|e| e.clone()),
        }
    }
}

#[derive(serde::Serialize)]
pub struct KindReport {
    p50_ms: f64,
    p90_ms: f64,
    p99_ms: f64,
    max_ms: f64,
    /// Answered 2xx (the latencies).
    count: u64,
    /// Non-2xx answers and transport failures (no latency recorded).
    errors: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    first_error: Option<String>,
}

#[derive(serde::Serialize)]
pub struct QuerySummary {
    bench: &'static str,
    nodes: usize,
    /// Distinct identifiers queried at random.
    ids: usize,
    /// `given` (`--ids`) or `discovered` (from the first node's events).
    ids_source: &'static str,
    concurrency: usize,
    trace_proof: bool,
    duration_s: f64,
    /// Successful requests of both kinds per second.
    requests_per_s: f64,
    trace: KindReport,
    verify: KindReport,
}

/// What the workers share.
struct Shared {
    http: reqwest::Client,
    apis: Vec<String>,
    ids: Vec<String>,
    trace_query: String,
    next: AtomicU64,
    total: u64,
    trace: Recorder,
    verify: Recorder,
}

pub async fn run(args: QueryArgs) -> Result<QuerySummary> {
    if args.api.is_empty() || args.requests == 0 || args.concurrency == 0 {
        bail!("--api, --requests and --concurrency must be non-empty / positive");
    }
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .pool_max_idle_per_host(args.concurrency.max(8))
        .build()
        .context("building the HTTP client")?;
    let apis: Vec<String> = args.api.iter().map(|a| base_url(a)).collect();
    let (ids, ids_source) = match &args.ids {
        Some(given) => (read_ids(given)?, "given"),
        None => (discover(&http, &apis[0]).await?, "discovered"),
    };
    eprintln!(
        "{} identifiers ({ids_source}); {} traces and {} verifications over {} node(s), {} in flight",
        ids.len(),
        args.requests,
        args.requests,
        apis.len(),
        args.concurrency
    );
    let shared = Arc::new(Shared {
        http,
        apis,
        ids,
        trace_query: trace_query(&args),
        next: AtomicU64::new(0),
        total: args.requests * 2,
        trace: Recorder::new()?,
        verify: Recorder::new()?,
    });
    let duration_s = drive(&shared, args.concurrency).await;
    let (trace, verify) = (shared.trace.report(), shared.verify.report());
    Ok(QuerySummary {
        bench: "queries",
        nodes: shared.apis.len(),
        ids: shared.ids.len(),
        ids_source,
        concurrency: args.concurrency,
        trace_proof: args.proof,
        duration_s,
        requests_per_s: (trace.count + verify.count) as f64 / duration_s,
        trace,
        verify,
    })
}

/// Runs `concurrency` workers until every request is answered; returns
/// the seconds it took.
async fn drive(shared: &Arc<Shared>, concurrency: usize) -> f64 {
    let started = Instant::now();
    let progress = tokio::spawn(report_progress(shared.clone()));
    let workers: Vec<_> = (0..concurrency)
        .map(|_| tokio::spawn(worker(shared.clone())))
        .collect();
    for worker in workers {
        let _ = worker.await;
    }
    progress.abort();
    started
        .elapsed()
        .max(Duration::from_millis(1))
        .as_secs_f64()
}

/// Takes request numbers until none are left: even ones trace, odd ones
/// verify, each of a random identifier, round-robin over the nodes.
async fn worker(shared: Arc<Shared>) {
    loop {
        let i = shared.next.fetch_add(1, Ordering::Relaxed);
        if i >= shared.total {
            return;
        }
        let kind = if i.is_multiple_of(2) {
            Kind::Trace
        } else {
            Kind::Verify
        };
        let api = &shared.apis[(i / 2) as usize % shared.apis.len()];
        let id = &shared.ids[rand::random::<u64>() as usize % shared.ids.len()];
        let url = match kind {
            Kind::Trace => format!("{api}/v1/trace/{}?{}", encode_path(id), shared.trace_query),
            Kind::Verify => format!("{api}/v1/verify/{}?proof=true", encode_path(id)),
        };
        let recorder = match kind {
            Kind::Trace => &shared.trace,
            Kind::Verify => &shared.verify,
        };
        let started = Instant::now();
        match fetch(&shared.http, &url).await {
            Ok(()) => recorder.ok(started.elapsed()),
            Err(error) => recorder.fail(format!("{error:#}")),
        }
    }
}

/// GETs `url` and reads the whole body; a non-2xx answer is an error.
async fn fetch(http: &reqwest::Client, url: &str) -> Result<()> {
    let response = http
        .get(url)
        .send()
        .await
        .with_context(|| format!("GET {url}"))?;
    let status = response.status();
    let body = response
        .bytes()
        .await
        .with_context(|| format!("reading the answer to GET {url}"))?;
    if !status.is_success() {
        let text = String::from_utf8_lossy(&body);
        bail!(
            "GET {url}: {status}: {}",
            text.chars().take(300).collect::<String>()
        );
    }
    Ok(())
}

async fn report_progress(shared: Arc<Shared>) {
    let start = Instant::now();
    loop {
        tokio::time::sleep(Duration::from_secs(1)).await;
        eprintln!(
            "[{:>4}s] trace {} ok {} errors, verify {} ok {} errors",
            start.elapsed().as_secs(),
            shared.trace.count(),
            shared.trace.errors.load(Ordering::Relaxed),
            shared.verify.count(),
            shared.verify.errors.load(Ordering::Relaxed),
        );
    }
}

fn trace_query(args: &QueryArgs) -> String {
    let mut query = format!("direction={}", args.direction);
    if let Some(depth) = args.depth {
        query.push_str(&format!("&depth={depth}"));
    }
    if args.proof {
        query.push_str("&proof=true");
    }
    query
}

/// `http://` added when no scheme is given, no trailing slash.
fn base_url(api: &str) -> String {
    let api = api.trim().trim_end_matches('/');
    if api.starts_with("http://") || api.starts_with("https://") {
        api.to_string()
    } else {
        format!("http://{api}")
    }
}

/// Percent-encodes what may not appear raw in a path (`%` included, so an
/// identifier's own escapes reach the node unchanged); `/` stays, for
/// Digital Link paths.
fn encode_path(id: &str) -> String {
    let id = id.trim().trim_start_matches('/');
    let mut out = String::with_capacity(id.len());
    for byte in id.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~:@!$&'()*+,;=/".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// `--ids`: a file (one identifier a line, `#` comments) or a list.
fn read_ids(given: &str) -> Result<Vec<String>> {
    let text = if Path::new(given).is_file() {
        std::fs::read_to_string(given).with_context(|| format!("reading --ids file {given}"))?
    } else {
        given.replace(',', "\n")
    };
    let ids: Vec<String> = text
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(String::from)
        .collect();
    if ids.is_empty() {
        bail!("--ids names no identifiers");
    }
    Ok(ids)
}

/// The item identifiers of a few pages of the node's events.
async fn discover(http: &reqwest::Client, api: &str) -> Result<Vec<String>> {
    let mut ids = BTreeSet::new();
    for query in DISCOVERY_QUERIES {
        let url = format!("{api}/v1/events?{query}");
        let page: Value = http
            .get(&url)
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .with_context(|| format!("GET {url}"))?
            .json()
            .await
            .with_context(|| format!("decoding the answer to GET {url}"))?;
        for event in page["events"].as_array().into_iter().flatten() {
            collect_ids(&event["event"], &mut ids);
        }
    }
    if ids.is_empty() {
        bail!("no item identifiers in {api}'s events: capture some, or pass --ids");
    }
    Ok(ids.into_iter().collect())
}

/// The items an EPCIS event names: EPC lists, the parent, and the classes
/// of quantity lists.
fn collect_ids(event: &Value, ids: &mut BTreeSet<String>) {
    let strings = |field: &str| {
        event[field]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(String::from)
            .collect::<Vec<_>>()
    };
    for field in EPC_LISTS {
        ids.extend(strings(field));
    }
    ids.extend(event["parentID"].as_str().map(String::from));
    for field in QUANTITY_LISTS {
        let classes = event[field].as_array().into_iter().flatten();
        ids.extend(classes.filter_map(|q| q["epcClass"].as_str().map(String::from)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_keep_their_escapes_and_slashes() {
        assert_eq!(
            encode_path("urn:epc:id:sgtin:4023456.000022.A%2FB"),
            "urn:epc:id:sgtin:4023456.000022.A%252FB"
        );
        assert_eq!(
            encode_path("/01/04023456000222/21/1 2"),
            "01/04023456000222/21/1%202"
        );
    }

    #[test]
    fn items_of_an_event_not_places() {
        let event = serde_json::json!({
            "epcList": ["urn:epc:id:sgtin:1.2.3"],
            "parentID": "urn:epc:id:sscc:1.1",
            "inputQuantityList": [{"epcClass": "urn:epc:class:lgtin:1.2.L", "quantity": 2}],
            "readPoint": {"id": "urn:epc:id:sgln:1.2.0"},
        });
        let mut ids = BTreeSet::new();
        collect_ids(&event, &mut ids);
        assert_eq!(
            ids.into_iter().collect::<Vec<_>>(),
            [
                "urn:epc:class:lgtin:1.2.L",
                "urn:epc:id:sgtin:1.2.3",
                "urn:epc:id:sscc:1.1"
            ]
        );
    }
}
