//! Proof bundles over HTTP (docs/adr/0009): event inclusion, item state
//! (or its absence), log consistency, and `?proof=true` on answers.

use crate::{ApiState, Problem, domain::parse_identifier, queries::parse_event_hash};
use axum::{
    Json,
    extract::{Path, Query, State},
};
use serde::Deserialize;
use serde_json::{Value, json};
use tracechain_epcis::Identifier;
use tracechain_node::proofs::{ProofError, StateClaim};
use tracechain_proof::Bundle;
use tracechain_state::{keys::Namespace, store::StorageContext};
use tracechain_types::{Digest, digest_from_hex};

/// Most events one answer's bundle proves.
pub const MAX_PROVEN_EVENTS: usize = 500;

/// `?proof=true` on an answer.
#[derive(Debug, Default, Deserialize)]
pub struct ProofParam {
    #[serde(default)]
    pub proof: bool,
}

fn problem(err: ProofError) -> Problem {
    match err {
        ProofError::NotFound(what) => Problem::not_found("Record", what.to_string()).at("path"),
        ProofError::Height(height) => Problem::bad_request(
            "bad-height",
            "Height not finalized",
            format!("height {height} is not a finalized block here"),
        )
        .at("query"),
        ProofError::NoAnchor | ProofError::Moving => Problem::unavailable(err.to_string()),
        other => Problem::internal(other.to_string()),
    }
}

/// The state entries that say what an item is now: its state and recall.
fn item_claims(id: &Identifier) -> Vec<StateClaim> {
    let canonical = id.canonical();
    vec![
        StateClaim::new(
            format!("item {canonical}"),
            Namespace::Item,
            canonical.as_bytes(),
        ),
        StateClaim::new(
            format!("recall of {canonical}"),
            Namespace::Recall,
            canonical.as_bytes(),
        ),
    ]
}

/// What an item records as its creating event when no event created it
/// (a parcel registered by its sender): nothing to prove.
const NO_EVENT: [u8; 32] = [0; 32];

/// Fields of answers that name an event by its hash.
const EVENT_FIELDS: [&str; 3] = ["eventHash", "created_event", "last_event"];

/// Every distinct event hash an answer names.
pub(crate) fn event_hashes(answer: &Value) -> Vec<Digest> {
    fn walk(value: &Value, out: &mut Vec<Digest>) {
        match value {
            Value::Object(map) => {
                for (key, inner) in map {
                    if EVENT_FIELDS.contains(&key.as_str())
                        && let Some(hash) = inner.as_str().and_then(|h| parse_event_hash(h).ok())
                        && hash != NO_EVENT
                        && !out.iter().any(|d| d.0 == hash)
                    {
                        out.push(Digest::from(hash));
                    }
                    walk(inner, out);
                }
            }
            Value::Array(items) => items.iter().for_each(|item| walk(item, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(answer, &mut out);
    out.truncate(MAX_PROVEN_EVENTS);
    out
}

/// A bundle for an answer about `id`: its state entries and its events.
pub(crate) async fn answer_bundle<E: StorageContext + rand_core::CryptoRng>(
    api: &ApiState<E>,
    id: &Identifier,
    answer: &Value,
) -> Result<Bundle, Problem> {
    api.node
        .prove(&event_hashes(answer), &item_claims(id))
        .await
        .map_err(problem)
}

/// Adds `"proof"` to an answer when asked for.
pub(crate) async fn with_proof<E: StorageContext + rand_core::CryptoRng>(
    api: &ApiState<E>,
    id: &Identifier,
    mut answer: Value,
    param: &ProofParam,
) -> Result<Value, Problem> {
    if param.proof {
        answer["proof"] = json!(answer_bundle(api, id, &answer).await?);
    }
    Ok(answer)
}

/// `GET /v1/proofs/events/{hash}`: the event's entry in the log.
pub async fn event<E: StorageContext + rand_core::CryptoRng>(
    State(api): State<ApiState<E>>,
    Path(raw): Path<String>,
) -> Result<Json<Bundle>, Problem> {
    let hash = parse_event_hash(&raw)?;
    api.node
        .prove(&[Digest::from(hash)], &[])
        .await
        .map(Json)
        .map_err(problem)
}

/// `GET /v1/proofs/state/{id}`: the item's state and recall entries, each
/// proven present or absent ("never commissioned" is an absence proof).
pub async fn state<E: StorageContext + rand_core::CryptoRng>(
    State(api): State<ApiState<E>>,
    Path(raw): Path<String>,
) -> Result<Json<Bundle>, Problem> {
    let id = parse_identifier(&raw)?;
    api.node
        .prove(&[], &item_claims(&id))
        .await
        .map(Json)
        .map_err(problem)
}

#[derive(Debug, Deserialize)]
pub struct ConsistencyParams {
    from: u64,
    to: Option<u64>,
}

/// `GET /v1/proofs/consistency?from=H1&to=H2`: the log at H2 extends the
/// log at H1 (H2 defaults to the latest block).
pub async fn consistency<E: StorageContext + rand_core::CryptoRng>(
    State(api): State<ApiState<E>>,
    Query(params): Query<ConsistencyParams>,
) -> Result<Json<Bundle>, Problem> {
    let to = match params.to {
        Some(to) => to,
        None => api.node.finalized().await.map_or(0, |f| f.height),
    };
    if params.from > to {
        return Err(Problem::bad_request(
            "bad-range",
            "Bad range",
            format!("from ({}) is after to ({to})", params.from),
        )
        .at("query.from"));
    }
    api.node
        .prove_consistency(params.from, to)
        .await
        .map(Json)
        .map_err(problem)
}

/// The claims proving a parcel's custody chain: its record and every
/// completed hand-off, plus the hand-offs' EPCIS events.
pub(crate) async fn parcel_bundle<E: StorageContext + rand_core::CryptoRng>(
    api: &ApiState<E>,
    parcel: &str,
    answer: &Value,
) -> Result<Bundle, Problem> {
    let mut claims = vec![StateClaim::new(
        format!("parcel {parcel}"),
        Namespace::Parcel,
        parcel.as_bytes(),
    )];
    for step in answer["custody"].as_array().into_iter().flatten() {
        if let Some(id) = step["handoff"].as_str().and_then(digest_from_hex) {
            claims.push(StateClaim::new(
                format!("hand-off {}", hex::encode(id)),
                Namespace::Handoff,
                id.0.to_vec(),
            ));
        }
    }
    api.node
        .prove(&event_hashes(answer), &claims)
        .await
        .map_err(problem)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_hashes_skip_the_no_event_placeholder() {
        let real = "ab".repeat(32);
        let answer = json!({
            "item": {"created_event": "00".repeat(32), "last_event": real},
            "events": [{"eventHash": real}],
        });
        let hashes = event_hashes(&answer);
        assert_eq!(hashes.len(), 1);
        assert_eq!(hashes[0].0, [0xab; 32]);
    }
}
