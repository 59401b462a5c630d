//! Off-chain documents: upload (sealed to readers by this node), read back
//! by readers proving their key, envelopes for anyone, and parcel documents.

use crate::{
    ApiState, Problem,
    auth::{Caller, caller},
};
use axum::{
    Json,
    body::Bytes,
    extract::{Path, State},
    http::{HeaderMap, StatusCode, Uri, header},
    response::{IntoResponse, Response},
};
use serde::Deserialize;
use serde_json::{Value, json};
use tracechain_docstore::DocError;
use tracechain_node::documents::{DocumentError, Documents};
use tracechain_state::store::StorageContext;
use tracechain_types::{Digest, digest_from_hex, domain::roles, to_hex};

/// Largest document accepted for upload.
pub const MAX_UPLOAD_BYTES: usize = 1024 * 1024;

fn service<E: StorageContext + rand_core::CryptoRng>(
    api: &ApiState<E>,
) -> Result<Documents, Problem> {
    api.documents
        .clone()
        .ok_or_else(|| Problem::unavailable("this node keeps no documents"))
}

fn problem(err: DocumentError, fingerprint: &Digest) -> Problem {
    let fp = to_hex(fingerprint);
    match err {
        DocumentError::NotAnchored => {
            Problem::not_found("Document", format!("no document {fp} is anchored")).at("path.hash")
        }
        DocumentError::Missing => Problem::unavailable(format!(
            "this node has not received document {fp} yet; retry shortly"
        )),
        DocumentError::NotAReader(org) => Problem::new(
            StatusCode::FORBIDDEN,
            "not-a-reader",
            "Not a reader",
            format!("'{org}' may not read this document; its fingerprint is {fp}"),
        )
        .at("header.tracechain-agent"),
        DocumentError::NoKey(org) => Problem::new(
            StatusCode::CONFLICT,
            "no-key-here",
            "Reader key not on this node",
            format!("this node does not hold the encryption key of '{org}'; ask one of its nodes"),
        ),
        DocumentError::UnknownReader(org) => Problem::bad_request(
            "unknown-reader",
            "Unknown reader",
            format!("'{org}' is not an active member organisation"),
        )
        .at("readers"),
        DocumentError::Store(DocError::Tampered { .. } | DocError::FingerprintMismatch { .. }) => {
            Problem::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "tampered",
                "Document damaged",
                format!(
                    "the stored copy of {fp} does not match its anchor on chain; it is not served"
                ),
            )
        }
        other => Problem::internal(other.to_string()),
    }
}

/// The caller, required to be an agent with `read:private` (or admin).
fn reader(caller: Option<Caller>, fingerprint: &Digest) -> Result<Caller, Problem> {
    let caller = caller.ok_or_else(|| {
        Problem::new(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "Signed request required",
            format!(
                "document {} is confidential: sign the request with a reader organisation's agent key",
                to_hex(fingerprint)
            ),
        )
        .at("header.tracechain-agent")
    })?;
    if !caller.roles.contains(roles::READ_PRIVATE) && !caller.roles.contains(roles::ORG_ADMIN) {
        return Err(Problem::new(
            StatusCode::FORBIDDEN,
            "role-missing",
            "Role missing",
            format!(
                "reading confidential documents needs role '{}'",
                roles::READ_PRIVATE
            ),
        )
        .at("header.tracechain-agent"));
    }
    Ok(caller)
}

#[derive(Deserialize)]
struct Upload {
    #[serde(default)]
    readers: Vec<String>,
    document: Value,
}

/// `POST /v1/documents`: a signed request from an agent; the node seals the
/// document to the readers' keys and stores it. Anchor it on chain next.
pub async fn upload<E: StorageContext + rand_core::CryptoRng>(
    State(api): State<ApiState<E>>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Problem> {
    let documents = service(&api)?;
    if body.len() > MAX_UPLOAD_BYTES {
        return Err(Problem::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too-large",
            "Document too large",
            format!("at most {MAX_UPLOAD_BYTES} bytes"),
        )
        .at("body"));
    }
    caller(&api, &headers, "POST", uri.path(), &body)
        .await?
        .ok_or_else(|| {
            Problem::new(
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                "Signed request required",
                "only member agents may store documents",
            )
            .at("header.tracechain-agent")
        })?;
    let upload: Upload = serde_json::from_slice(&body).map_err(|e| {
        Problem::bad_request(
            "malformed-json",
            "Malformed JSON",
            format!("expected {{\"readers\": [...], \"document\": {{...}}}}: {e}"),
        )
        .at("body")
    })?;
    let (fingerprint, address) = documents
        .put(&api.node, &upload.document, &upload.readers)
        .await
        .map_err(|e| match e {
            DocumentError::Store(inner) => {
                Problem::bad_request("bad-document", "Document not storable", inner.to_string())
                    .at("document")
            }
            other => problem(other, &Digest::from([0u8; 32])),
        })?;
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "fingerprint": to_hex(fingerprint),
            "ciphertextHash": to_hex(address),
            "readers": upload.readers,
        })),
    )
        .into_response())
}

fn fingerprint_from(raw: &str) -> Result<Digest, Problem> {
    digest_from_hex(raw).ok_or_else(|| {
        Problem::bad_request(
            "bad-hash",
            "Bad fingerprint",
            format!("'{raw}' is not a 32-byte hex fingerprint"),
        )
        .at("path.hash")
    })
}

/// The plaintext for a signed reader (or anyone, for a public document).
async fn plaintext<E: StorageContext + rand_core::CryptoRng>(
    api: &ApiState<E>,
    headers: &HeaderMap,
    path: &str,
    fingerprint: &Digest,
) -> Result<Value, Problem> {
    let documents = service(api)?;
    let (record, _) = documents
        .envelope(&api.node, fingerprint)
        .await
        .map_err(|e| problem(e, fingerprint))?;
    let organisation = if record.readers.is_empty() {
        None
    } else {
        let caller = reader(caller(api, headers, "GET", path, b"").await?, fingerprint)?;
        Some(caller.organisation)
    };
    documents
        .read(&api.node, fingerprint, organisation.as_deref())
        .await
        .map_err(|e| problem(e, fingerprint))
}

/// `GET /v1/documents/{fingerprint}`.
pub async fn document<E: StorageContext + rand_core::CryptoRng>(
    State(api): State<ApiState<E>>,
    uri: Uri,
    headers: HeaderMap,
    Path(raw): Path<String>,
) -> Result<Json<Value>, Problem> {
    let fingerprint = fingerprint_from(&raw)?;
    let document = plaintext(&api, &headers, uri.path(), &fingerprint).await?;
    Ok(Json(
        json!({"fingerprint": to_hex(fingerprint), "document": document}),
    ))
}

/// `GET /v1/documents/{fingerprint}/envelope`: the sealed bytes, for anyone
/// (readers may open them themselves).
pub async fn envelope<E: StorageContext + rand_core::CryptoRng>(
    State(api): State<ApiState<E>>,
    Path(raw): Path<String>,
) -> Result<Response, Problem> {
    let fingerprint = fingerprint_from(&raw)?;
    let documents = service(&api)?;
    let (_, envelope) = documents
        .envelope(&api.node, &fingerprint)
        .await
        .map_err(|e| problem(e, &fingerprint))?;
    Ok((
        [(header::CONTENT_TYPE, "application/octet-stream")],
        envelope.to_bytes(),
    )
        .into_response())
}

/// `GET /v1/parcels/{id}/document`: the parcel information for a reader.
pub async fn parcel_document<E: StorageContext + rand_core::CryptoRng>(
    State(api): State<ApiState<E>>,
    uri: Uri,
    headers: HeaderMap,
    Path(raw): Path<String>,
) -> Result<Json<Value>, Problem> {
    let parcel = crate::parcels::registered(&api, &raw).await?;
    let fingerprint = Digest::from(parcel.document);
    let document = plaintext(&api, &headers, uri.path(), &fingerprint).await?;
    Ok(Json(
        json!({"parcel": parcel.id, "fingerprint": to_hex(fingerprint), "document": document}),
    ))
}
