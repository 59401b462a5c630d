//! The web pages (product passport, parcel tracking, explorer), rendered
//! by `tracechain-web` from the same data the JSON API serves.
//!
//! Each handler gathers the API's JSON for one page and hands it to the
//! renderer; nothing here formats HTML. Pages that cannot be shown get an
//! HTML error page with the right status (a person is reading), while the
//! QR endpoint answers bad input with problem+json like the rest of the API.

use crate::{
    ApiState, Problem,
    domain::{self as api_domain, parse_identifier},
    parcels, queries, routes,
    views::{BlockView, CertificateView},
};
use axum::{
    Json, Router,
    extract::{Path, Query, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{Html, IntoResponse, Redirect, Response},
    routing::get,
};
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::BTreeSet;
use tracechain_epcis::Identifier;
use tracechain_index::{Direction, EventQuery, StoredEvent};
use tracechain_node::feed::{FeedRecord, block_records};
use tracechain_state::{records, store::StorageContext};
use tracechain_types::{Block, Payload, Receipt, Transaction, digest_from_hex, to_hex};
use tracechain_web as web;

/// The page routes (merged into the API router).
pub fn router<E: StorageContext + rand_core::CryptoRng>() -> Router<ApiState<E>> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/explorer") }))
        .route("/items/{*id}", get(item_page::<E>))
        .route("/parcels/{*id}", get(parcel_page::<E>))
        .route("/explorer", get(explorer_home::<E>))
        .route("/explorer/search", get(search::<E>))
        .route("/explorer/blocks/{height}", get(block_page::<E>))
        .route("/explorer/transactions/{id}", get(transaction_page::<E>))
        .route("/explorer/organisations/{id}", get(organisation_page::<E>))
        .route("/qr/{*id}", get(qr_code))
        .route("/static/{name}", get(static_file))
}

/// A browser asking for a page (HTML preferred over JSON).
pub fn wants_html(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"))
}

/// A page that cannot be shown, as an HTML error page.
struct PageError {
    status: StatusCode,
    title: String,
    detail: String,
}

impl PageError {
    fn new(status: StatusCode, title: &str, detail: impl Into<String>) -> Self {
        Self {
            status,
            title: title.to_string(),
            detail: detail.into(),
        }
    }
}

impl From<Problem> for PageError {
    fn from(problem: Problem) -> Self {
        Self {
            status: StatusCode::from_u16(problem.status)
                .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            title: problem.title,
            detail: problem.detail,
        }
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let page = web::error_page(self.status.as_u16(), &self.title, &self.detail);
        (self.status, html(page)).into_response()
    }
}

type PageResult = Result<Response, PageError>;

/// Pages show the chain as it is now: never cached.
fn html(page: String) -> Response {
    let mut response = Html(page).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn internal(err: records::RecordError) -> Problem {
    Problem::internal(err.to_string())
}

/// `GET /v1/organisations`.
async fn organisations<E: StorageContext + rand_core::CryptoRng>(
    api: &ApiState<E>,
) -> Result<Value, Problem> {
    api_domain::organisations(State(api.clone()))
        .await
        .map(|Json(v)| v)
}

/// The latest applied height (0 before the first block).
async fn height<E: StorageContext + rand_core::CryptoRng>(api: &ApiState<E>) -> u64 {
    api.node.finalized().await.map_or(0, |f| f.height)
}

// ---- product passport ------------------------------------------------

/// The product passport of `id` (also what a browser gets at the Digital
/// Link paths).
pub async fn passport<E: StorageContext + rand_core::CryptoRng>(
    api: &ApiState<E>,
    id: &Identifier,
) -> Result<Response, Problem> {
    Ok(passport_page(api, id)
        .await
        .unwrap_or_else(IntoResponse::into_response))
}

async fn passport_page<E: StorageContext + rand_core::CryptoRng>(
    api: &ApiState<E>,
    id: &Identifier,
) -> PageResult {
    let verification = queries::verification(api, id).await?;
    let unknown = verification["verdict"] == "unknown";
    let parcel = tracechain_state::parcels::parcel(api.node.reader(), id.canonical())
        .await
        .map_err(internal)?
        .map(|_| web::format::parcel_href(id.canonical()));
    // A parcel's code (an SSCC on the label) that is not also an item has
    // only a tracking page.
    if let Some(tracking) = parcel.as_deref().filter(|_| unknown) {
        return Ok(Redirect::to(tracking).into_response());
    }
    let trace = if unknown {
        Value::Null
    } else {
        back_trace(api, id).await?
    };
    let organisations = organisations(api).await?;
    Ok(html(web::passport::render(&web::passport::Passport {
        verification: &verification,
        trace: &trace,
        organisations: &organisations,
        digital_link: id.digital_link_path(),
        parcel: parcel.as_deref(),
    })))
}

/// `/items/{id}`: any identifier form the API accepts.
async fn item_page<E: StorageContext + rand_core::CryptoRng>(
    State(api): State<ApiState<E>>,
    Path(raw): Path<String>,
) -> PageResult {
    let id = parse_identifier(&raw)?;
    passport_page(&api, &id).await
}

/// How far back the passport's trace reaches (the API's default).
const TRACE_DEPTH: u32 = 8;

/// `GET /v1/trace/{id}?direction=back`, each event also naming the
/// identifiers it is about (so the page can tell the item's own journey
/// from its ingredients').
async fn back_trace<E: StorageContext + rand_core::CryptoRng>(
    api: &ApiState<E>,
    id: &Identifier,
) -> Result<Value, Problem> {
    let canonical = id.canonical().to_string();
    let trace = queries::with_index(api, move |index| {
        index.trace(&canonical, Direction::Back, TRACE_DEPTH)
    })
    .await?;
    Ok(queries::trace_json(
        id,
        Direction::Back,
        TRACE_DEPTH,
        &trace,
        event_with_ids,
    ))
}

fn event_with_ids(event: &StoredEvent) -> Value {
    let mut json = queries::event_json(event);
    json["identifiers"] = json!(
        event
            .identifiers
            .iter()
            .map(|(_, id)| id.as_str())
            .collect::<BTreeSet<_>>()
    );
    json
}

// ---- parcel tracking -------------------------------------------------

/// Most events of one parcel read for its sensor chart.
const PARCEL_EVENTS: usize = 1_000;

async fn parcel_page<E: StorageContext + rand_core::CryptoRng>(
    State(api): State<ApiState<E>>,
    Path(raw): Path<String>,
) -> PageResult {
    let record = parcels::registered(&api, &raw).await?;
    // The height first: anything finalized after it reaches the page
    // through the live stream, so nothing falls in between.
    let height = height(&api).await;
    let parcel = parcels::parcel_json(&api, &record).await?;
    let canonical = record.id.clone();
    let events = queries::with_index(&api, move |index| {
        index.query(&EventQuery {
            match_epc: vec![canonical],
            limit: PARCEL_EVENTS,
            ..Default::default()
        })
    })
    .await?;
    let events: Vec<Value> = events.events.iter().map(queries::event_json).collect();
    let agents = agents_of_parcel(&api, &parcel).await;
    let organisations = organisations(&api).await?;
    Ok(html(web::parcel::render(&web::parcel::Parcel {
        parcel: &parcel,
        events: &Value::Array(events),
        organisations: &organisations,
        agents: &agents,
        height,
    })))
}

/// `{key: GET /v1/agents/{key}}` for every agent key the parcel names.
async fn agents_of_parcel<E: StorageContext + rand_core::CryptoRng>(
    api: &ApiState<E>,
    parcel: &Value,
) -> Value {
    let mut keys = BTreeSet::new();
    let mut add = |value: &Value| {
        if let Some(key) = value.as_str() {
            keys.insert(key.to_string());
        }
    };
    for step in parcel["custody"].as_array().into_iter().flatten() {
        add(&step["proposedBy"]);
        add(&step["acceptedBy"]);
    }
    for step in parcel["closedProposals"].as_array().into_iter().flatten() {
        add(&step["proposedBy"]);
        add(&step["closedBy"]);
    }
    add(&parcel["pending"]["proposedBy"]);
    let mut agents = serde_json::Map::new();
    for key in keys {
        if let Some(agent) = agent_json(api, &key).await {
            agents.insert(key, agent);
        }
    }
    Value::Object(agents)
}

/// `GET /v1/agents/{key}`, or `None` for an unknown key.
async fn agent_json<E: StorageContext + rand_core::CryptoRng>(
    api: &ApiState<E>,
    key: &str,
) -> Option<Value> {
    api_domain::agent(State(api.clone()), Path(key.to_string()))
        .await
        .ok()
        .map(|Json(v)| v)
}

// ---- explorer --------------------------------------------------------

/// Blocks on the explorer's front page (and the window validators'
/// signing is counted over).
const LATEST_BLOCKS: u64 = 10;
/// Transactions on the explorer's front page.
const LATEST_TRANSACTIONS: usize = 15;
/// Blocks read back for them.
const TRANSACTION_SCAN_BLOCKS: u64 = 200;

async fn explorer_home<E: StorageContext + rand_core::CryptoRng>(
    State(api): State<ApiState<E>>,
) -> PageResult {
    let status = routes::status(State(api.clone())).await?.0;
    let tip = status["height"].as_u64().unwrap_or_default();
    let organisations = organisations(&api).await?;
    let mut blocks = Vec::new();
    let mut transactions = Vec::new();
    // Most blocks are empty (one every half second keeps time moving), so
    // transactions are looked for further back than the blocks shown.
    for height in (tip.saturating_sub(TRANSACTION_SCAN_BLOCKS - 1)..=tip).rev() {
        if blocks.len() as u64 >= LATEST_BLOCKS && transactions.len() >= LATEST_TRANSACTIONS {
            break;
        }
        let Some(block) = api.node.block(height).await else {
            continue;
        };
        for tx in block.txs.iter().rev() {
            if transactions.len() < LATEST_TRANSACTIONS {
                transactions.push(tx_summary(&api, tx, &organisations, None).await?);
            }
        }
        if (blocks.len() as u64) < LATEST_BLOCKS {
            blocks.push(block_json(&api, &block).await);
        }
    }
    let validators = validator_activity(&status, &blocks);
    Ok(html(web::explorer::home(&web::explorer::Home {
        status: &status,
        blocks: &blocks,
        transactions: &transactions,
        validators: &validators,
        organisations: &organisations,
    })))
}

/// `GET /v1/blocks/{height}` of a block this node holds.
async fn block_json<E: StorageContext + rand_core::CryptoRng>(
    api: &ApiState<E>,
    block: &Block,
) -> Value {
    let certificate = api
        .node
        .certificate(block.header.height)
        .await
        .map(|c| CertificateView::new(&c, api.node.validators()));
    serde_json::to_value(BlockView::new(block, certificate)).unwrap_or(Value::Null)
}

/// Per validator: how many of `blocks` it signed and proposed.
fn validator_activity(status: &Value, blocks: &[Value]) -> Vec<Value> {
    let voted: Vec<&Value> = blocks
        .iter()
        .filter(|b| !b["certificate"].is_null())
        .collect();
    status["validators"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|validator| {
            let key = &validator["public_key"];
            let signed = voted
                .iter()
                .filter(|b| {
                    b["certificate"]["signers"]
                        .as_array()
                        .is_some_and(|s| s.iter().any(|s| &s["public_key"] == key))
                })
                .count();
            let proposed = blocks
                .iter()
                .filter(|b| &b["header"]["proposer"] == key)
                .count();
            json!({
                "name": validator["name"],
                "public_key": key,
                "signed": signed,
                "window": voted.len(),
                "proposed": proposed,
            })
        })
        .collect()
}

/// A transaction summary (see `tracechain_web::explorer`): what the
/// transaction is, who signed it, what became of it.
async fn tx_summary<E: StorageContext + rand_core::CryptoRng>(
    api: &ApiState<E>,
    tx: &Transaction,
    organisations: &Value,
    records: Option<Vec<FeedRecord>>,
) -> Result<Value, Problem> {
    let receipt = records::receipt(api.node.reader(), &tx.id())
        .await
        .map_err(internal)?;
    let sender = to_hex(tx.sender());
    let agent = match agent_json(api, &sender).await {
        Some(agent) => agent,
        None => admin_of(organisations, &sender),
    };
    let mut summary = json!({
        "id": to_hex(tx.id()),
        "kind": tx.payload().kind(),
        "sender": sender,
        "agent": agent,
        "nonce": tx.nonce(),
        "status": "pending",
        "records": records.map(|r| serde_json::to_value(r).unwrap_or_default()),
    });
    if let Some(receipt) = receipt {
        add_outcome(&mut summary, &receipt);
    }
    Ok(summary)
}

/// Organisation admins sign membership and agent changes; they are not
/// agents, so name them by their organisation.
fn admin_of(organisations: &Value, key: &str) -> Value {
    organisations["organisations"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|org| org["admin"] == key)
        .map_or(
            Value::Null,
            |org| json!({"organisation": org["id"], "display_name": "administrator"}),
        )
}

fn add_outcome(summary: &mut Value, receipt: &Receipt) {
    let view = crate::views::TransactionStatusView::executed(String::new(), receipt);
    summary["status"] = json!(view.status);
    summary["height"] = json!(view.block_height);
    summary["index"] = json!(view.index);
    summary["code"] = json!(view.code);
    summary["reason"] = json!(view.reason);
}

async fn block_page<E: StorageContext + rand_core::CryptoRng>(
    State(api): State<ApiState<E>>,
    Path(raw): Path<String>,
) -> PageResult {
    let height: u64 = raw.parse().map_err(|_| {
        PageError::new(
            StatusCode::BAD_REQUEST,
            "Not a block height",
            format!("'{raw}' is not a block height (a whole number)."),
        )
    })?;
    let block = api.node.block(height).await.ok_or_else(|| {
        PageError::new(
            StatusCode::NOT_FOUND,
            "No such block",
            format!("This node has no finalized block at height {height} (yet)."),
        )
    })?;
    let organisations = organisations(&api).await?;
    let mut transactions = Vec::new();
    for tx in &block.txs {
        transactions.push(tx_summary(&api, tx, &organisations, None).await?);
    }
    let genesis = serde_json::to_value(api.genesis.as_ref()).unwrap_or_default();
    Ok(html(web::explorer::block(&web::explorer::BlockPage {
        block: &block_json(&api, &block).await,
        transactions: &transactions,
        genesis: &genesis,
        organisations: &organisations,
    })))
}

async fn transaction_page<E: StorageContext + rand_core::CryptoRng>(
    State(api): State<ApiState<E>>,
    Path(raw): Path<String>,
) -> PageResult {
    let digest = digest_from_hex(raw.trim()).ok_or_else(|| {
        PageError::new(
            StatusCode::BAD_REQUEST,
            "Not a transaction id",
            format!("'{raw}' is not a transaction id (64 hex digits)."),
        )
    })?;
    let (tx, receipt) = api
        .node
        .find_transaction(&digest)
        .await
        .map_err(internal)?
        .ok_or_else(|| {
            PageError::new(
                StatusCode::NOT_FOUND,
                "No such transaction",
                format!(
                    "No transaction {} is pending on this node or in a finalized block.",
                    to_hex(digest)
                ),
            )
        })?;
    let records = match &receipt {
        Some(receipt) => tx_records(&api, receipt.height, &to_hex(digest)).await?,
        None => Vec::new(),
    };
    let organisations = organisations(&api).await?;
    let summary = tx_summary(&api, &tx, &organisations, Some(records)).await?;
    Ok(html(web::explorer::transaction(
        &web::explorer::TransactionPage {
            transaction: &summary,
            organisations: &organisations,
        },
    )))
}

/// The public records one transaction of block `height` produced.
async fn tx_records<E: StorageContext + rand_core::CryptoRng>(
    api: &ApiState<E>,
    height: u64,
    id: &str,
) -> Result<Vec<FeedRecord>, Problem> {
    let Some(block) = api.node.block(height).await else {
        return Ok(Vec::new());
    };
    let records = block_records(&api.node, &block).await.map_err(internal)?;
    Ok(records
        .into_iter()
        .filter(|r| r.transaction == id)
        .collect())
}

/// Blocks the organisation page reads back for recent records and agents
/// registered after genesis (no index keeps either by organisation).
const ORGANISATION_SCAN_BLOCKS: u64 = 500;
/// Records shown on the organisation page.
const ORGANISATION_RECORDS: usize = 25;

async fn organisation_page<E: StorageContext + rand_core::CryptoRng>(
    State(api): State<ApiState<E>>,
    Path(id): Path<String>,
) -> PageResult {
    let organisation = api_domain::organisation(State(api.clone()), Path(id.clone()))
        .await?
        .0;
    let tip = height(&api).await;
    let first = tip.saturating_sub(ORGANISATION_SCAN_BLOCKS - 1).max(1);
    let mut keys: BTreeSet<String> = api
        .genesis
        .organisations
        .iter()
        .filter(|org| org.id == id)
        .flat_map(|org| org.agents.iter().map(|a| a.public_key.to_lowercase()))
        .collect();
    let mut recent = Vec::new();
    for height in (first..=tip).rev() {
        let Some(block) = api.node.block(height).await else {
            continue;
        };
        keys.extend(registered_agents(&block));
        if recent.len() < ORGANISATION_RECORDS {
            let mut records = block_records(&api.node, &block).await.map_err(internal)?;
            records.retain(|r| r.organisation.as_deref() == Some(id.as_str()));
            recent.extend(records.into_iter().rev());
        }
    }
    recent.truncate(ORGANISATION_RECORDS);
    let mut agents = Vec::new();
    for key in &keys {
        if let Some(agent) = agent_json(&api, key).await
            && agent["organisation"] == id.as_str()
        {
            agents.push(agent);
        }
    }
    let records: Vec<Value> = recent
        .iter()
        .filter_map(|r| serde_json::to_value(r).ok())
        .collect();
    Ok(html(web::explorer::organisation(
        &web::explorer::OrganisationPage {
            organisation: &organisation,
            agents: &agents,
            records: &records,
            blocks_scanned: tip + 1 - first,
            organisations: &organisations(&api).await?,
        },
    )))
}

/// Keys of agents a block registers (of any organisation).
fn registered_agents(block: &Block) -> Vec<String> {
    block
        .txs
        .iter()
        .filter_map(|tx| match tx.payload() {
            Payload::RegisterAgent { agent, .. } => Some(to_hex(agent)),
            _ => None,
        })
        .collect()
}

#[derive(Deserialize)]
struct SearchParams {
    q: Option<String>,
}

/// `/explorer/search?q=`: straight to the one page the query names.
async fn search<E: StorageContext + rand_core::CryptoRng>(
    State(api): State<ApiState<E>>,
    Query(params): Query<SearchParams>,
) -> PageResult {
    let query = params.q.unwrap_or_default();
    let query = query.trim();
    if query.is_empty() {
        return Ok(Redirect::to("/explorer").into_response());
    }
    match find(&api, query).await? {
        Some(href) => Ok(Redirect::to(&href).into_response()),
        None => Ok((
            StatusCode::NOT_FOUND,
            html(web::explorer::nothing_found(query)),
        )
            .into_response()),
    }
}

/// Blocks searched back for a block digest.
const DIGEST_SEARCH_BLOCKS: u64 = 1_000;

/// The page a query names: a block height, a transaction id, an event
/// hash, a block digest, an organisation (id or name), or an item or
/// parcel identifier.
async fn find<E: StorageContext + rand_core::CryptoRng>(
    api: &ApiState<E>,
    query: &str,
) -> Result<Option<String>, Problem> {
    if query.bytes().all(|b| b.is_ascii_digit())
        && let Ok(height) = query.parse::<u64>()
        && api.node.block(height).await.is_some()
    {
        return Ok(Some(format!("/explorer/blocks/{height}")));
    }
    let hex = query
        .trim_start_matches("ni:///sha-256;")
        .trim_end_matches("?ver=CBV2.0")
        .trim_start_matches("0x")
        .to_ascii_lowercase();
    if let Some(digest) = digest_from_hex(&hex) {
        return find_hash(api, digest).await;
    }
    if let Some(org) = find_organisation(api, query).await? {
        return Ok(Some(format!(
            "/explorer/organisations/{}",
            web::format::path_segment(&org)
        )));
    }
    let Ok(id) = parse_identifier(query) else {
        return Ok(None);
    };
    let parcel = tracechain_state::parcels::parcel(api.node.reader(), id.canonical())
        .await
        .map_err(internal)?;
    Ok(Some(match parcel {
        Some(_) => web::format::parcel_href(id.canonical()),
        None => web::format::item_href(id.canonical()),
    }))
}

/// A 32-byte hash: a transaction, an event (shown in its transaction),
/// or a recent block's digest.
async fn find_hash<E: StorageContext + rand_core::CryptoRng>(
    api: &ApiState<E>,
    digest: tracechain_types::Digest,
) -> Result<Option<String>, Problem> {
    if api
        .node
        .find_transaction(&digest)
        .await
        .map_err(internal)?
        .is_some()
    {
        return Ok(Some(format!("/explorer/transactions/{}", to_hex(digest))));
    }
    let hash = digest.0;
    if api.node.index().is_some()
        && let Some(event) = queries::with_index(api, move |index| index.event(&hash)).await?
    {
        return Ok(Some(format!(
            "/explorer/transactions/{}",
            hex::encode(event.tx)
        )));
    }
    let tip = height(api).await;
    for height in (tip.saturating_sub(DIGEST_SEARCH_BLOCKS)..=tip).rev() {
        if let Some(header) = api.node.header_at(height).await
            && header.digest() == digest
        {
            return Ok(Some(format!("/explorer/blocks/{height}")));
        }
    }
    Ok(None)
}

/// An organisation by id, or by name ignoring case.
async fn find_organisation<E: StorageContext + rand_core::CryptoRng>(
    api: &ApiState<E>,
    query: &str,
) -> Result<Option<String>, Problem> {
    let listing = organisations(api).await?;
    Ok(listing["organisations"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|org| {
            org["id"] == query
                || org["name"]
                    .as_str()
                    .is_some_and(|name| name.eq_ignore_ascii_case(query))
        })
        .and_then(|org| org["id"].as_str().map(str::to_string)))
}

// ---- QR codes and static files --------------------------------------

#[derive(Deserialize)]
struct QrParams {
    format: Option<String>,
    /// Pixels per module of the PNG.
    scale: Option<usize>,
}

/// `GET /qr/{id}?format=svg|png`: the QR code of the item's Digital Link
/// on this node (`http://host/01/…/21/…`), which opens its passport.
async fn qr_code(
    Path(raw): Path<String>,
    Query(params): Query<QrParams>,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    let id = parse_identifier(&raw)?;
    let uri = digital_link_uri(&headers, &id);
    let failed = |e: web::qr::QrError| {
        Problem::bad_request("bad-identifier", "Identifier too long", e.to_string()).at("path.id")
    };
    let (content_type, body) = match params.format.as_deref().unwrap_or("svg") {
        "svg" => (
            "image/svg+xml",
            web::qr::svg(&uri).map_err(failed)?.into_bytes(),
        ),
        "png" => (
            "image/png",
            web::qr::png(&uri, params.scale.unwrap_or(8)).map_err(failed)?,
        ),
        other => {
            return Err(Problem::bad_request(
                "bad-format",
                "Bad format",
                format!("'{other}' is not svg or png"),
            )
            .at("query.format"));
        }
    };
    Ok(([(header::CONTENT_TYPE, content_type)], body).into_response())
}

/// The item's Digital Link on the host the request reached (any domain
/// may resolve GS1 Digital Links; this node resolves them to the
/// passport). Non-GS1 identifiers link to their `/items/` page.
fn digital_link_uri(headers: &HeaderMap, id: &Identifier) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .filter(|h| {
            !h.is_empty()
                && h.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-.:[]".contains(&b))
        })
        .unwrap_or("localhost");
    let scheme = match headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
    {
        Some("https") => "https",
        _ => "http",
    };
    let path = match id.digital_link_path() {
        Some(path) => path.to_string(),
        None => web::format::item_href(id.canonical()),
    };
    format!("{scheme}://{host}{path}")
}

/// `GET /static/{name}`: the embedded scripts, styles and verifier.
async fn static_file(Path(name): Path<String>, headers: HeaderMap) -> Response {
    let Some(asset) = web::assets::asset(&name) else {
        return PageError::new(
            StatusCode::NOT_FOUND,
            "No such file",
            format!("There is no static file '{name}'."),
        )
        .into_response();
    };
    // Revalidated on every use: the verifier is replaced by new builds.
    let etag = format!("\"{:016x}\"", fnv1a(asset.bytes));
    let fresh = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == etag);
    let status = if fresh {
        StatusCode::NOT_MODIFIED
    } else {
        StatusCode::OK
    };
    let body = if fresh { &[][..] } else { asset.bytes };
    (
        status,
        [
            (header::CONTENT_TYPE, asset.content_type.to_string()),
            (header::CACHE_CONTROL, "no-cache".to_string()),
            (header::ETAG, etag),
        ],
        body,
    )
        .into_response()
}

/// FNV-1a: a cheap fingerprint for ETags (not a security boundary).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &b| {
        (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digital_link_uses_the_request_host() {
        let mut headers = HeaderMap::new();
        headers.insert(header::HOST, HeaderValue::from_static("127.0.0.1:8100"));
        let id = parse_identifier("01/04023456000222/21/1002").expect("id");
        assert_eq!(
            digital_link_uri(&headers, &id),
            "http://127.0.0.1:8100/01/04023456000222/21/1002"
        );
        headers.insert(header::HOST, HeaderValue::from_static("evil.example/<x>"));
        headers.insert("x-forwarded-proto", HeaderValue::from_static("https"));
        assert_eq!(
            digital_link_uri(&headers, &id),
            "https://localhost/01/04023456000222/21/1002"
        );
    }

    #[test]
    fn counts_validator_signatures() {
        let status = json!({"validators": [{"name": "a", "public_key": "ka"}, {"name": "b", "public_key": "kb"}]});
        let blocks = [
            json!({"header": {"proposer": "ka"}, "certificate": {"signers": [{"public_key": "ka"}]}}),
            json!({"header": {"proposer": "ka"}, "certificate": {"signers": [{"public_key": "ka"}, {"public_key": "kb"}]}}),
            json!({"header": {"proposer": "kb"}, "certificate": null}),
        ];
        let activity = validator_activity(&status, &blocks);
        assert_eq!(activity[0]["signed"], 2);
        assert_eq!(activity[0]["window"], 2);
        assert_eq!(activity[0]["proposed"], 2);
        assert_eq!(activity[1]["signed"], 1);
        assert_eq!(activity[1]["proposed"], 1);
    }

    #[test]
    fn names_admins_by_organisation() {
        let orgs = json!({"organisations": [{"id": "bakery", "admin": "k1"}]});
        assert_eq!(admin_of(&orgs, "k1")["organisation"], "bakery");
        assert!(admin_of(&orgs, "k2").is_null());
    }

    #[test]
    fn etags_differ_by_content() {
        assert_ne!(fnv1a(b"a"), fnv1a(b"b"));
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
    }
}
