//! Traceability endpoints: capture (EPCIS 2.0 REST binding style),
//! organisations, agents, proposals, items and recalls.

use crate::{ApiState, Problem, routes::submit_problem};
use axum::{
    Json,
    body::Bytes,
    extract::{Path, State},
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde_json::{Value, json};
use tracechain_epcis::{Event, Identifier};
use tracechain_executor::capture::{capture_events, outermost};
use tracechain_state::{domain, records::RecordError, store::StorageContext};
use tracechain_types::{
    Outcome, Payload, Signature, Transaction, UnsignedTransaction, digest_from_hex,
    public_key_from_hex, to_hex, transaction::MAX_DOCUMENT_BYTES,
};

type Result<T> = std::result::Result<T, Problem>;

pub const SIGNER_HEADER: &str = "tracechain-signer";
pub const NONCE_HEADER: &str = "tracechain-nonce";
pub const SIGNATURE_HEADER: &str = "tracechain-signature";

fn internal(err: RecordError) -> Problem {
    Problem::internal(err.to_string())
}

fn header<'h>(headers: &'h HeaderMap, name: &str) -> Result<&'h str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .ok_or_else(|| {
            Problem::bad_request(
                "missing-header",
                "Missing signature header",
                format!(
                    "a capture needs headers {SIGNER_HEADER}, {NONCE_HEADER} and {SIGNATURE_HEADER} \
                     (or a signed transaction as application/octet-stream)"
                ),
            )
            .at(&format!("header.{name}"))
        })
}

/// The capture transaction: either sent whole (octet-stream) or rebuilt
/// from the document and the signature headers (docs/adr/0007).
fn capture_transaction(chain_id: &str, headers: &HeaderMap, body: &Bytes) -> Result<Transaction> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if content_type.starts_with("application/octet-stream") {
        let tx = Transaction::decode_untrusted(body).map_err(|err| {
            Problem::bad_request(
                "malformed-transaction",
                "Malformed transaction",
                err.to_string(),
            )
            .at("transaction")
        })?;
        if !matches!(tx.payload(), Payload::Capture { .. }) {
            return Err(Problem::bad_request(
                "not-a-capture",
                "Not a capture",
                "the transaction's payload is not a Capture",
            )
            .at("transaction.payload"));
        }
        return Ok(tx);
    }
    if body.len() > MAX_DOCUMENT_BYTES {
        return Err(Problem::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too-large",
            "Document too large",
            format!(
                "the document is {} bytes; the limit is {MAX_DOCUMENT_BYTES}",
                body.len()
            ),
        )
        .at("body"));
    }
    let signer = header(headers, SIGNER_HEADER)?;
    let sender = public_key_from_hex(signer).ok_or_else(|| {
        Problem::bad_request("bad-signer", "Bad signer", "not a hex ed25519 public key")
            .at(&format!("header.{SIGNER_HEADER}"))
    })?;
    let nonce: u64 = header(headers, NONCE_HEADER)?.parse().map_err(|_| {
        Problem::bad_request("bad-nonce", "Bad nonce", "not a non-negative integer")
            .at(&format!("header.{NONCE_HEADER}"))
    })?;
    let signature = hex::decode(header(headers, SIGNATURE_HEADER)?)
        .ok()
        .and_then(|raw| {
            use commonware_codec::DecodeExt;
            Signature::decode(raw).ok()
        })
        .ok_or_else(|| {
            Problem::bad_request(
                "bad-signature",
                "Bad signature",
                "not a hex ed25519 signature",
            )
            .at(&format!("header.{SIGNATURE_HEADER}"))
        })?;
    let unsigned = UnsignedTransaction {
        chain_id: chain_id.to_string(),
        sender,
        nonce,
        payload: Payload::Capture {
            document: body.to_vec(),
        },
    };
    Ok(Transaction::from_parts(unsigned, signature))
}

/// JSON pointer of the first EPCIS error, for the problem's `field`.
fn validation_problem(document: &[u8]) -> Option<Problem> {
    let text = std::str::from_utf8(document).ok()?;
    let errors = tracechain_epcis::parse_capture(text).err()?;
    let first = errors.first();
    let detail = tracechain_executor::capture::describe_errors(&errors);
    Some(Problem::bad_request("invalid-epcis", "Invalid EPCIS document", detail).at(&first.path))
}

fn event_summary(position: usize, event: &Event) -> Value {
    json!({
        "position": position,
        "eventID": event.event_id.clone().unwrap_or_else(|| event.hash_id()),
        "eventHash": event.hash_id(),
        "type": event.event_type.as_str(),
    })
}

/// `POST /v1/capture`: validates, verifies and submits a capture; answers
/// `202` with the capture id (the transaction id).
pub async fn capture<E: StorageContext + rand_core::CryptoRng>(
    State(api): State<ApiState<E>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response> {
    let tx = capture_transaction(api.node.chain_id(), &headers, &body)?;
    let Payload::Capture { document } = tx.payload() else {
        return Err(Problem::internal("capture transaction without a document"));
    };
    let events = match capture_events(&tx) {
        Ok(events) => events,
        Err(failure) => {
            return Err(validation_problem(document).unwrap_or_else(|| {
                Problem::bad_request("invalid-epcis", "Invalid EPCIS document", failure.reason)
                    .at("body")
            }));
        }
    };
    let summaries: Vec<Value> = events
        .iter()
        .enumerate()
        .map(|(i, e)| event_summary(i, e))
        .collect();
    let id = api.node.submit(tx).await.map_err(submit_problem)?;
    let id = to_hex(id);
    let location = format!("/v1/capture/{id}");
    Ok((
        StatusCode::ACCEPTED,
        [(header::LOCATION, location.clone())],
        Json(json!({"captureID": id, "href": location, "running": true, "events": summaries})),
    )
        .into_response())
}

/// `GET /v1/capture/{id}`: the capture job (EPCIS REST binding fields plus
/// the block and each event's hash).
pub async fn capture_status<E: StorageContext + rand_core::CryptoRng>(
    State(api): State<ApiState<E>>,
    Path(id): Path<String>,
) -> Result<Json<Value>> {
    let digest = digest_from_hex(&id).ok_or_else(|| {
        Problem::bad_request(
            "bad-id",
            "Bad capture id",
            format!("'{id}' is not a 32-byte hex id"),
        )
        .at("path.id")
    })?;
    let found = api.node.find_transaction(&digest).await.map_err(internal)?;
    let Some((tx, receipt)) = found else {
        return Err(Problem::not_found(
            "Capture",
            format!("no capture {id} is pending or finalized here"),
        )
        .at("path.id"));
    };
    let Payload::Capture { .. } = tx.payload() else {
        return Err(
            Problem::not_found("Capture", "that transaction is not a capture").at("path.id"),
        );
    };
    let events: Vec<Value> = capture_events(&tx)
        .map(|events| {
            events
                .iter()
                .enumerate()
                .map(|(i, e)| event_summary(i, e))
                .collect()
        })
        .unwrap_or_default();
    let mut job = json!({
        "captureID": to_hex(digest),
        "running": receipt.is_none(),
        "success": false,
        "captureErrorBehaviour": "rollback",
        "errors": [],
        "events": events,
    });
    if let Some(receipt) = receipt {
        job["blockHeight"] = json!(receipt.height);
        match receipt.outcome {
            Outcome::Applied => job["success"] = json!(true),
            Outcome::Failed { code, reason } => {
                job["errors"] = json!([{"code": code, "reason": reason}]);
            }
        }
        if let Some(header) = api.node.header_at(receipt.height).await {
            job["finishedAt"] = json!(header.timestamp_ms);
        }
    }
    Ok(Json(job))
}

pub async fn organisations<E: StorageContext + rand_core::CryptoRng>(
    State(api): State<ApiState<E>>,
) -> Result<Json<Value>> {
    let reader = api.node.reader();
    let mut list = Vec::new();
    for id in domain::members(reader).await.map_err(internal)? {
        if let Some(record) = domain::organisation(reader, &id).await.map_err(internal)? {
            list.push(organisation_json(&record));
        }
    }
    Ok(Json(json!({"organisations": list})))
}

fn organisation_json(record: &domain::OrganisationRecord) -> Value {
    json!({
        "id": record.id,
        "name": record.name,
        "company_prefixes": record.company_prefixes,
        "glns": record.glns,
        "admin": record.admin,
        "encryption_key": hex::encode(record.encryption_key),
        "regulator": record.regulator,
        "active": record.active,
        "joined_height": record.joined_height,
        "left_height": record.left_height,
    })
}

pub async fn organisation<E: StorageContext + rand_core::CryptoRng>(
    State(api): State<ApiState<E>>,
    Path(id): Path<String>,
) -> Result<Json<Value>> {
    let record = domain::organisation(api.node.reader(), &id)
        .await
        .map_err(internal)?
        .ok_or_else(|| {
            Problem::not_found("Organisation", format!("no organisation '{id}'")).at("path.id")
        })?;
    Ok(Json(organisation_json(&record)))
}

pub async fn agent<E: StorageContext + rand_core::CryptoRng>(
    State(api): State<ApiState<E>>,
    Path(key): Path<String>,
) -> Result<Json<Value>> {
    let public_key = public_key_from_hex(&key).ok_or_else(|| {
        Problem::bad_request("bad-key", "Bad key", "not a hex ed25519 public key").at("path.key")
    })?;
    let record = domain::agent(api.node.reader(), &public_key)
        .await
        .map_err(internal)?
        .ok_or_else(|| Problem::not_found("Agent", "no agent has this key").at("path.key"))?;
    Ok(Json(json!({
        "public_key": to_hex(&public_key),
        "organisation": record.organisation,
        "display_name": record.display_name,
        "roles": record.roles,
        "registered_height": record.registered_height,
    })))
}

pub async fn proposal<E: StorageContext + rand_core::CryptoRng>(
    State(api): State<ApiState<E>>,
    Path(id): Path<String>,
) -> Result<Json<Value>> {
    let digest = digest_from_hex(&id).ok_or_else(|| {
        Problem::bad_request("bad-id", "Bad proposal id", "not a 32-byte hex id").at("path.id")
    })?;
    let record = domain::proposal(api.node.reader(), &digest)
        .await
        .map_err(internal)?
        .ok_or_else(|| Problem::not_found("Proposal", "no proposal has this id").at("path.id"))?;
    let members = domain::members(api.node.reader()).await.map_err(internal)?;
    Ok(Json(json!({
        "id": to_hex(digest),
        "change": record.change,
        "proposer": record.proposer,
        "approvals": record.approvals,
        "members": members.len(),
        "needed": members.len() * 2 / 3 + 1,
        "status": record.status,
        "created_height": record.created_height,
    })))
}

/// An identifier from a path: an EPC URN, a (percent-decoded) Digital Link
/// URI, or a Digital Link path (`01/{gtin}/21/{serial}`).
pub fn parse_identifier(raw: &str) -> Result<Identifier> {
    let trimmed = raw.trim().trim_start_matches('/');
    let parsed = if trimmed.starts_with("urn:") || trimmed.starts_with("http") {
        Identifier::parse(trimmed)
    } else {
        Identifier::from_digital_link_path(&format!("/{trimmed}"))
    };
    parsed.map_err(|err| {
        Problem::bad_request(
            "bad-identifier",
            "Bad identifier",
            format!("'{raw}' is not an EPC URN, GS1 Digital Link URI or Digital Link path: {err}"),
        )
        .at("path.id")
    })
}

/// The item state the chain holds for an identifier, as JSON.
pub async fn item_json<E: StorageContext + rand_core::CryptoRng>(
    api: &ApiState<E>,
    id: &Identifier,
) -> Result<Option<Value>> {
    let reader = api.node.reader();
    let Some(item) = domain::item(reader, id.canonical())
        .await
        .map_err(internal)?
    else {
        return Ok(None);
    };
    // Inside a container, the item is wherever and with whomever the
    // outermost container is.
    let container = outermost(reader, &item).await.map_err(internal)?;
    let recall = domain::recall(reader, id.canonical())
        .await
        .map_err(internal)?;
    Ok(Some(json!({
        "id": id.canonical(),
        "kind": format!("{:?}", id.kind()),
        "created_by": item.created_by,
        "created_event": hex::encode(item.created_event),
        "custodian": container.custodian,
        "owner": item.owner,
        "location": container.location.clone().or(item.location.clone()),
        "read_point": item.read_point,
        "disposition": item.disposition,
        "parent": item.parent,
        "children": item.children,
        "in_transit_to": item.in_transit_to,
        "first_seen_ms": item.first_seen_ms,
        "last_seen_ms": item.last_seen_ms,
        "last_event": hex::encode(item.last_event),
        "event_count": item.event_count,
        "sold_count": item.sold_count,
        "consumed_by": item.consumed_by.map(hex::encode),
        "recall": recall.map(|r| json!({"organisation": r.organisation, "reason": r.reason, "height": r.height, "tx": hex::encode(r.tx)})),
    })))
}

pub async fn item<E: StorageContext + rand_core::CryptoRng>(
    State(api): State<ApiState<E>>,
    Path(raw): Path<String>,
) -> Result<Json<Value>> {
    let id = parse_identifier(&raw)?;
    item_json(&api, &id).await?.map(Json).ok_or_else(|| {
        Problem::not_found("Item", format!("{} is not known on chain", id.canonical()))
            .at("path.id")
    })
}
