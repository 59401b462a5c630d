//! Parcel tracking: state, custody chain and pending hand-off.

use crate::{ApiState, Problem, domain::parse_identifier};
use axum::{
    Json,
    extract::{Path, Query, State},
};
use serde_json::{Value, json};
use tracechain_epcis::hash_id_from_digest;
use tracechain_state::{
    parcels::{self, ParcelRecord, PendingHandoff},
    store::StorageContext,
};

fn pending_json(pending: &PendingHandoff) -> Value {
    json!({
        "handoff": hex::encode(pending.id),
        "from": pending.from,
        "proposedBy": pending.from_agent,
        "to": pending.to,
        "next": pending.next,
        "location": pending.location,
        "bizStep": pending.step,
        "proposedAtMs": pending.proposed_ms,
        "expiresAtMs": pending.expires_ms,
        "offRoute": pending.off_route,
    })
}

/// The registered parcel the path names.
pub(crate) async fn registered<E: StorageContext + rand_core::CryptoRng>(
    api: &ApiState<E>,
    raw: &str,
) -> Result<ParcelRecord, Problem> {
    let id = parse_identifier(raw)?;
    parcels::parcel(api.node.reader(), id.canonical())
        .await
        .map_err(|e| Problem::internal(e.to_string()))?
        .ok_or_else(|| {
            Problem::not_found(
                "Parcel",
                format!("no parcel {} is registered", id.canonical()),
            )
            .at("path.id")
        })
}

/// `GET /v1/parcels/{id}`: what anyone may know — never the document.
pub async fn parcel<E: StorageContext + rand_core::CryptoRng>(
    State(api): State<ApiState<E>>,
    Path(raw): Path<String>,
    Query(proof): Query<crate::proofs::ProofParam>,
) -> Result<Json<Value>, Problem> {
    let record = registered(&api, &raw).await?;
    let mut answer = parcel_json(&api, &record).await?;
    if proof.proof {
        answer["proof"] = json!(crate::proofs::parcel_bundle(&api, &record.id, &answer).await?);
    }
    Ok(Json(answer))
}

pub(crate) async fn parcel_json<E: StorageContext + rand_core::CryptoRng>(
    api: &ApiState<E>,
    record: &ParcelRecord,
) -> Result<Value, Problem> {
    let reader = api.node.reader();
    let internal = |e: tracechain_state::records::RecordError| Problem::internal(e.to_string());
    let document = parcels::document(reader, &tracechain_types::Digest::from(record.document))
        .await
        .map_err(internal)?;
    let handoffs = parcels::handoffs(reader, record).await.map_err(internal)?;
    let closed = parcels::closed_proposals(reader, record)
        .await
        .map_err(internal)?;
    let exceptions = parcels::exceptions(reader, record)
        .await
        .map_err(internal)?;
    let custody: Vec<Value> = handoffs
        .iter()
        .map(|h| {
            let mut step = pending_json(&h.proposal);
            step["acceptance"] = json!(hex::encode(h.acceptance));
            step["acceptedBy"] = json!(h.to_agent);
            step["acceptedAtMs"] = json!(h.accepted_ms);
            step["blockHeight"] = json!(h.height);
            step["eventHash"] = json!(hash_id_from_digest(&h.event_hash));
            step
        })
        .collect();
    let closed: Vec<Value> = closed
        .iter()
        .map(|c| {
            let mut step = pending_json(&c.proposal);
            step["closedBy"] = json!(c.by_agent);
            step["closedAtMs"] = json!(c.at_ms);
            step["outcome"] = json!(if c.rejection_reason.is_some() {
                "rejected"
            } else {
                "cancelled"
            });
            step["reason"] = json!(c.rejection_reason);
            step
        })
        .collect();
    Ok(json!({
        "id": record.id,
        "status": record.status.name(),
        "damaged": record.damaged,
        "sender": record.sender,
        "recipient": record.recipient,
        "custodian": record.custodian,
        "route": record.route.iter().map(|(org, location)| json!({"organisation": org, "location": location})).collect::<Vec<_>>(),
        "registered": {"blockHeight": record.registered_height, "timestampMs": record.registered_ms, "transaction": hex::encode(record.registered_tx)},
        "document": {
            "fingerprint": hex::encode(record.document),
            "ciphertextHash": document.as_ref().map(|d| hex::encode(d.ciphertext_hash)),
            "readers": document.as_ref().map(|d| d.readers.clone()),
        },
        "custody": custody,
        "pending": record.pending.as_ref().map(pending_json),
        "closedProposals": closed,
        "exceptions": exceptions.iter().map(|e| json!({"kind": e.kind, "reason": e.reason, "by": e.by, "atMs": e.at_ms})).collect::<Vec<_>>(),
    }))
}
