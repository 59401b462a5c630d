//! Read side over the query index: EPCIS-style event queries, traces,
//! recalls and consumer verification.

use crate::{
    ApiState, Problem,
    domain::{item_json, parse_identifier},
};
use axum::{
    Json,
    extract::{Path, Query, State},
};
use serde::Deserialize;
use serde_json::{Value, json};
use std::{collections::BTreeSet, sync::Arc};
use tracechain_epcis::{Identifier, Timestamp, hash_id_from_digest};
use tracechain_executor::capture::outermost;
use tracechain_index::{Direction, EdgeKind, EventQuery, Index, StoredEvent, Trace};
use tracechain_state::{domain, store::StorageContext};

type Result<T> = std::result::Result<T, Problem>;

/// Observations of one item at two different places closer in time than
/// this (and not while moving) mean its code was copied (docs/adr/0006).
pub const CLONE_WINDOW_MS: i64 = 30 * 60 * 1000;

/// Runs an index read off the async workers.
pub(crate) async fn with_index<E, T, F>(api: &ApiState<E>, read: F) -> Result<T>
where
    E: StorageContext + rand_core::CryptoRng,
    T: Send + 'static,
    F: FnOnce(&Index) -> std::result::Result<T, tracechain_index::IndexError> + Send + 'static,
{
    let index: Arc<Index> = api
        .node
        .index()
        .cloned()
        .ok_or_else(|| Problem::unavailable("this node keeps no query index"))?;
    tokio::task::spawn_blocking(move || read(&index))
        .await
        .map_err(|e| Problem::internal(e.to_string()))?
        .map_err(|e| Problem::internal(format!("query index: {e}")))
}

/// An event as the API shows it: what the chain knows plus the event as
/// captured.
pub fn event_json(event: &StoredEvent) -> Value {
    let captured: Value = serde_json::from_slice(&event.json).unwrap_or(Value::Null);
    json!({
        "eventHash": hash_id_from_digest(&event.hash),
        "eventID": event.event_id,
        "type": event.event_type,
        "eventTimeMs": event.event_time_ms,
        "bizStep": event.biz_step,
        "bizLocation": event.biz_location,
        "readPoint": event.read_point,
        "disposition": event.disposition,
        "action": event.action,
        "organisation": event.organisation,
        "blockHeight": event.height,
        "blockTimeMs": event.block_time_ms,
        "transaction": hex::encode(event.tx),
        "declaredInError": event.declared_in_error.map(hex::encode),
        "event": captured,
    })
}

/// EPCIS 2.0 query parameters (a subset) plus paging.
#[derive(Debug, Default, Deserialize)]
pub struct EventParams {
    #[serde(rename = "eventType")]
    event_type: Option<String>,
    #[serde(rename = "EQ_action")]
    eq_action: Option<String>,
    #[serde(rename = "EQ_bizStep")]
    eq_biz_step: Option<String>,
    #[serde(rename = "EQ_bizLocation")]
    eq_biz_location: Option<String>,
    #[serde(rename = "EQ_readPoint")]
    eq_read_point: Option<String>,
    #[serde(rename = "MATCH_epc")]
    match_epc: Option<String>,
    #[serde(rename = "EQ_organisation")]
    eq_organisation: Option<String>,
    #[serde(rename = "GE_eventTime")]
    ge_event_time: Option<String>,
    #[serde(rename = "LT_eventTime")]
    lt_event_time: Option<String>,
    #[serde(rename = "perPage")]
    per_page: Option<usize>,
    #[serde(rename = "nextPageToken")]
    next_page_token: Option<String>,
}

/// Comma-separated values of one parameter.
fn list(value: &Option<String>) -> Vec<String> {
    value
        .iter()
        .flat_map(|v| v.split(','))
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
        .collect()
}

fn time(value: &Option<String>, name: &str) -> Result<Option<i64>> {
    value
        .as_deref()
        .map(|text| {
            Timestamp::parse(text.trim())
                .map(|t| t.utc_millis())
                .map_err(|err| {
                    Problem::bad_request("bad-time", "Bad time", format!("{name}: {err}"))
                        .at(&format!("query.{name}"))
                })
        })
        .transpose()
}

impl EventParams {
    fn to_query(&self) -> Result<EventQuery> {
        let limit = self.per_page.unwrap_or(100);
        if !(1..=tracechain_index::MAX_LIMIT).contains(&limit) {
            return Err(Problem::bad_request(
                "bad-page-size",
                "Bad page size",
                format!("perPage must be 1..={}", tracechain_index::MAX_LIMIT),
            )
            .at("query.perPage"));
        }
        Ok(EventQuery {
            event_types: list(&self.event_type),
            actions: list(&self.eq_action),
            biz_steps: list(&self.eq_biz_step),
            biz_locations: list(&self.eq_biz_location),
            read_points: list(&self.eq_read_point),
            match_epc: list(&self.match_epc),
            organisations: list(&self.eq_organisation),
            ge_event_time_ms: time(&self.ge_event_time, "GE_eventTime")?,
            lt_event_time_ms: time(&self.lt_event_time, "LT_eventTime")?,
            limit,
            page_token: self.next_page_token.clone(),
        })
    }
}

/// `GET /v1/events`: events matching every given parameter, in chain
/// order, paged with `nextPageToken`.
pub async fn events<E: StorageContext + rand_core::CryptoRng>(
    State(api): State<ApiState<E>>,
    Query(params): Query<EventParams>,
) -> Result<Json<Value>> {
    let query = params.to_query()?;
    let page = with_index(&api, move |index| index.query(&query)).await?;
    Ok(Json(json!({
        "events": page.events.iter().map(event_json).collect::<Vec<_>>(),
        "nextPageToken": page.next_page_token,
    })))
}

/// `GET /v1/events/{hash}`: hex or `ni:///sha-256;…?ver=CBV2.0`.
/// An event hash in hex or `ni:///sha-256;…` form.
pub(crate) fn parse_event_hash(raw: &str) -> Result<[u8; 32]> {
    let hex = raw
        .trim_start_matches("ni:///sha-256;")
        .trim_end_matches("?ver=CBV2.0");
    tracechain_types::digest_from_hex(hex)
        .map(|d| d.0)
        .ok_or_else(|| {
            Problem::bad_request(
                "bad-hash",
                "Bad event hash",
                "expected 64 hex digits or an ni:/// hash id",
            )
            .at("path.hash")
        })
}

pub async fn event<E: StorageContext + rand_core::CryptoRng>(
    State(api): State<ApiState<E>>,
    Path(raw): Path<String>,
) -> Result<Json<Value>> {
    let hash = parse_event_hash(&raw)?;
    let found = with_index(&api, move |index| index.event(&hash)).await?;
    let event = found.ok_or_else(|| {
        Problem::not_found("Event", "no captured event has this hash").at("path.hash")
    })?;
    Ok(Json(event_json(&event)))
}

#[derive(Debug, Deserialize)]
pub struct TraceParams {
    direction: Option<String>,
    depth: Option<u32>,
    /// Add a proof bundle of every event in the answer.
    #[serde(default)]
    proof: bool,
}

/// Longest trace served.
const MAX_TRACE_DEPTH: u32 = 32;

/// `GET /v1/trace/{id}?direction=back|forward&depth=N`.
pub async fn trace<E: StorageContext + rand_core::CryptoRng>(
    State(api): State<ApiState<E>>,
    Path(raw): Path<String>,
    Query(params): Query<TraceParams>,
) -> Result<Json<Value>> {
    let id = parse_identifier(&raw)?;
    let direction = match params.direction.as_deref().unwrap_or("back") {
        "back" => Direction::Back,
        "forward" => Direction::Forward,
        other => {
            return Err(Problem::bad_request(
                "bad-direction",
                "Bad direction",
                format!("'{other}' is not back or forward"),
            )
            .at("query.direction"));
        }
    };
    let depth = params.depth.unwrap_or(8);
    if depth > MAX_TRACE_DEPTH {
        return Err(Problem::bad_request(
            "bad-depth",
            "Bad depth",
            format!("depth is at most {MAX_TRACE_DEPTH}"),
        )
        .at("query.depth"));
    }
    let canonical = id.canonical().to_string();
    let trace = with_index(&api, move |index| index.trace(&canonical, direction, depth)).await?;
    let answer = trace_json(&id, direction, depth, &trace, event_json);
    let proof = crate::proofs::ProofParam {
        proof: params.proof,
    };
    crate::proofs::with_proof(&api, &id, answer, &proof)
        .await
        .map(Json)
}

/// A trace as the API answers it: nodes, edges (kind and event hash) and
/// the events, each rendered by `event`.
pub(crate) fn trace_json(
    id: &Identifier,
    direction: Direction,
    depth: u32,
    trace: &Trace,
    event: fn(&StoredEvent) -> Value,
) -> Value {
    let edges: Vec<Value> = trace
        .edges
        .iter()
        .map(|edge| {
            json!({
                "from": edge.from,
                "to": edge.to,
                "event": hash_id_from_digest(&edge.event),
                "kind": match edge.kind {
                    EdgeKind::Aggregation => "aggregation",
                    EdgeKind::Transformation => "transformation",
                    EdgeKind::Association => "association",
                },
            })
        })
        .collect();
    json!({
        "id": id.canonical(),
        "direction": if direction == Direction::Back { "back" } else { "forward" },
        "depth": depth,
        "nodes": trace.nodes.iter().map(|n| json!({"id": n.identifier, "depth": n.depth})).collect::<Vec<_>>(),
        "edges": edges,
        "events": trace.events.iter().map(event).collect::<Vec<_>>(),
    })
}

/// `GET /v1/recalls/{id}/affected`: everything derived from a recalled
/// item, lot or class, with who holds it now.
pub async fn affected<E: StorageContext + rand_core::CryptoRng>(
    State(api): State<ApiState<E>>,
    Path(raw): Path<String>,
) -> Result<Json<Value>> {
    let id = parse_identifier(&raw)?;
    let reader = api.node.reader();
    let internal = |e: tracechain_state::records::RecordError| Problem::internal(e.to_string());
    let recall = domain::recall(reader, id.canonical())
        .await
        .map_err(internal)?;
    let canonical = id.canonical().to_string();
    let derived = with_index(&api, move |index| index.affected(&canonical)).await?;
    let mut items = Vec::new();
    for derived_id in derived {
        let holder = match domain::item(reader, &derived_id).await.map_err(internal)? {
            Some(item) => {
                let container = outermost(reader, &item).await.map_err(internal)?;
                json!({"custodian": container.custodian, "location": container.location.or(item.location)})
            }
            None => json!({"custodian": null, "location": null}),
        };
        items.push(json!({"id": derived_id, "holder": holder}));
    }
    Ok(Json(json!({
        "id": id.canonical(),
        "recall": recall.map(|r| json!({"organisation": r.organisation, "reason": r.reason, "height": r.height, "transaction": hex::encode(r.tx)})),
        "affected": items,
    })))
}

/// `GET /v1/verify/{id}` (and the Digital Link paths): is this item
/// genuine, recalled, suspicious or unknown, and why.
pub async fn verify<E: StorageContext + rand_core::CryptoRng>(
    State(api): State<ApiState<E>>,
    Path(raw): Path<String>,
    Query(proof): Query<crate::proofs::ProofParam>,
) -> Result<Json<Value>> {
    let id = parse_identifier(&raw)?;
    let answer = verification(&api, &id).await?;
    crate::proofs::with_proof(&api, &id, answer, &proof)
        .await
        .map(Json)
}

/// Digital Link resolver paths (`/01/{gtin}/21/{serial}`, `/00/{sscc}`, …):
/// the product passport page for a browser, the verification JSON for
/// anything else.
pub async fn digital_link<E: StorageContext + rand_core::CryptoRng>(
    State(api): State<ApiState<E>>,
    uri: axum::http::Uri,
    headers: axum::http::HeaderMap,
) -> Result<axum::response::Response> {
    use axum::response::IntoResponse;
    let id = parse_identifier(uri.path())?;
    if crate::pages::wants_html(&headers) {
        return crate::pages::passport(&api, &id).await;
    }
    verification(&api, &id)
        .await
        .map(|v| Json(v).into_response())
}

pub async fn verification<E: StorageContext + rand_core::CryptoRng>(
    api: &ApiState<E>,
    id: &Identifier,
) -> Result<Value> {
    let Some(item) = item_json(api, id).await? else {
        return Ok(json!({
            "id": id.canonical(),
            "verdict": "unknown",
            "reasons": ["this code was never commissioned on chain: it may be counterfeit or mistyped"],
        }));
    };
    let canonical = id.canonical().to_string();
    let (recalls, history, journey) = with_index(api, move |index| {
        let recalls = index.recalls_of(&canonical)?;
        let history = index.query(&EventQuery {
            match_epc: vec![canonical.clone()],
            limit: 1_000,
            ..Default::default()
        })?;
        // Its journey includes the containers it travelled in (while
        // inside them), however deeply nested — but not what it was made of.
        let trace = index.trace(&canonical, Direction::Back, 8)?;
        let mut carriers = BTreeSet::from([canonical.clone()]);
        loop {
            let before = carriers.len();
            for edge in trace
                .edges
                .iter()
                .filter(|e| e.kind == EdgeKind::Aggregation)
            {
                if carriers.contains(&edge.to) {
                    carriers.insert(edge.from.clone());
                }
            }
            if carriers.len() == before {
                break;
            }
        }
        let journey: Vec<StoredEvent> = trace
            .events
            .into_iter()
            .filter(|e| e.identifiers.iter().any(|(_, id)| carriers.contains(id)))
            .collect();
        Ok((recalls, history.events, journey))
    })
    .await?;
    let checks = Checks::evaluate(api, id, &item, &recalls, &history, &journey).await?;
    let (verdict, reasons) = checks.verdict();
    Ok(json!({
        "id": id.canonical(),
        "verdict": verdict,
        "reasons": reasons,
        "checks": checks.json(),
        "item": item,
        "recalls": recalls.iter().map(|r| json!({"id": r.identifier, "reason": r.reason, "height": r.height, "transaction": hex::encode(r.by_tx)})).collect::<Vec<_>>(),
        "events": history.len(),
    }))
}

/// What verification found.
struct Checks {
    brand_owner: Option<String>,
    commissioned_by_brand_owner: bool,
    declared_in_error: bool,
    recalled: Vec<String>,
    sold_count: u64,
    clone: Option<String>,
    handoffs: usize,
}

/// Steps during which an item legitimately changes place.
const MOVING_STEPS: [&str; 6] = [
    "shipping",
    "receiving",
    "departing",
    "arriving",
    "transporting",
    "loading",
];

fn is_moving(event: &StoredEvent) -> bool {
    event.biz_step.as_deref().is_some_and(|step| {
        MOVING_STEPS
            .iter()
            .any(|m| step.ends_with(&format!("BizStep-{m}")))
    })
}

/// Two observations at different places closer than the clone window.
fn clone_sighting(history: &[StoredEvent]) -> Option<String> {
    let mut sightings: Vec<&StoredEvent> = history
        .iter()
        .filter(|e| e.declared_in_error.is_none() && !is_moving(e))
        .filter(|e| e.biz_location.is_some() || e.read_point.is_some())
        .collect();
    sightings.sort_by_key(|e| e.event_time_ms);
    sightings.windows(2).find_map(|pair| {
        let place = |e: &StoredEvent| e.biz_location.clone().or(e.read_point.clone());
        let (a, b) = (place(pair[0])?, place(pair[1])?);
        let gap = pair[1].event_time_ms - pair[0].event_time_ms;
        (a != b && gap < CLONE_WINDOW_MS)
            .then(|| format!("seen at {a} and at {b} {} minutes apart", gap / 60_000))
    })
}

impl Checks {
    async fn evaluate<E: StorageContext + rand_core::CryptoRng>(
        api: &ApiState<E>,
        id: &Identifier,
        item: &Value,
        recalls: &[tracechain_index::Recall],
        history: &[StoredEvent],
        journey: &[StoredEvent],
    ) -> Result<Self> {
        let reader = api.node.reader();
        let internal = |e: tracechain_state::records::RecordError| Problem::internal(e.to_string());
        let created_by = item["created_by"].as_str().unwrap_or_default().to_string();
        let creator = domain::organisation(reader, &created_by)
            .await
            .map_err(internal)?;
        let brand = creator
            .as_ref()
            .map(|org| tracechain_executor::capture::brand(id, org));
        let commissioned_by_brand_owner =
            brand.is_some_and(|b| b != tracechain_executor::capture::Brand::NotOwner);
        let created_event: [u8; 32] =
            tracechain_types::digest_from_hex(item["created_event"].as_str().unwrap_or_default())
                .map(|d| d.0)
                .unwrap_or_default();
        let declared_in_error = domain::event(reader, &created_event)
            .await
            .map_err(internal)?
            .is_some_and(|e| e.declared_in_error.is_some());
        let mut recalled: BTreeSet<String> = recalls
            .iter()
            .map(|r| format!("{} ({})", r.identifier, r.reason))
            .collect();
        if let Some(direct) = item["recall"].as_object() {
            recalled.insert(format!(
                "{} ({})",
                id.canonical(),
                direct
                    .get("reason")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
            ));
        }
        Ok(Self {
            brand_owner: creator.map(|o| o.name),
            commissioned_by_brand_owner,
            declared_in_error,
            recalled: recalled.into_iter().collect(),
            sold_count: item["sold_count"].as_u64().unwrap_or_default(),
            clone: clone_sighting(history),
            handoffs: journey
                .iter()
                .filter(|e| {
                    e.biz_step
                        .as_deref()
                        .is_some_and(|s| s.ends_with("BizStep-receiving"))
                })
                .count(),
        })
    }

    fn verdict(&self) -> (&'static str, Vec<String>) {
        if !self.recalled.is_empty() {
            let reasons = self
                .recalled
                .iter()
                .map(|r| format!("recalled: {r}"))
                .collect();
            return ("recalled", reasons);
        }
        let mut suspicious = Vec::new();
        if !self.commissioned_by_brand_owner {
            suspicious.push("not commissioned by the owner of its brand".to_string());
        }
        if self.declared_in_error {
            suspicious.push("its commissioning event was declared in error".to_string());
        }
        if self.sold_count > 1 {
            suspicious.push(format!("sold {} times", self.sold_count));
        }
        if let Some(clone) = &self.clone {
            suspicious.push(format!("possibly cloned code: {clone}"));
        }
        if !suspicious.is_empty() {
            return ("suspicious", suspicious);
        }
        let mut reasons = vec![format!(
            "commissioned by its brand owner{}",
            self.brand_owner
                .as_ref()
                .map(|b| format!(" ({b})"))
                .unwrap_or_default()
        )];
        reasons.push(format!(
            "unbroken custody chain: {} accepted hand-off(s), all recorded on chain",
            self.handoffs
        ));
        reasons.push(if self.sold_count == 1 {
            "sold once".into()
        } else {
            "not sold yet".into()
        });
        reasons.push("not recalled, not declared in error, no clone sightings".into());
        ("genuine", reasons)
    }

    fn json(&self) -> Value {
        json!({
            "commissioned_by_brand_owner": self.commissioned_by_brand_owner,
            "brand_owner": self.brand_owner,
            "declared_in_error": self.declared_in_error,
            "recalled": self.recalled,
            "sold_count": self.sold_count,
            "clone_sighting": self.clone,
            "custody_handoffs": self.handoffs,
        })
    }
}
