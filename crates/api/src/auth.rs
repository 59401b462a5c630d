//! Signed requests: an agent proves it holds its key by signing the method,
//! path, a timestamp and the body's SHA-256 (docs/adr/0008).

use crate::{ApiState, Problem};
use axum::http::{HeaderMap, StatusCode};
use commonware_cryptography::Verifier;
use tracechain_state::{domain, store::StorageContext};
use tracechain_types::{PublicKey, Signature, public_key_from_hex};

/// Namespace of request signatures (never valid as transaction signatures).
pub const REQUEST_NAMESPACE: &[u8] = b"tracechain/request/v1";
/// How far a request's timestamp may be from the node's clock.
pub const MAX_SKEW_MS: u64 = 5 * 60 * 1000;

pub const AGENT_HEADER: &str = "tracechain-agent";
pub const TIMESTAMP_HEADER: &str = "tracechain-timestamp";
pub const REQUEST_SIGNATURE_HEADER: &str = "tracechain-request-signature";

/// What a request's signature covers.
pub fn signed_message(method: &str, path: &str, timestamp_ms: u64, body: &[u8]) -> Vec<u8> {
    format!(
        "{method}\n{path}\n{timestamp_ms}\n{}",
        tracechain_types::to_hex(tracechain_types::hash(body))
    )
    .into_bytes()
}

/// An authenticated agent of an active member.
#[derive(Clone, Debug)]
pub struct Caller {
    pub key: PublicKey,
    pub organisation: String,
    pub roles: std::collections::BTreeSet<String>,
}

fn unauthorized(detail: impl Into<String>, field: &str) -> Problem {
    Problem::new(
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
        "Signed request required",
        detail,
    )
    .at(field)
}

/// The caller, if the request is signed; an error if it is signed wrongly.
pub async fn caller<E: StorageContext + rand_core::CryptoRng>(
    api: &ApiState<E>,
    headers: &HeaderMap,
    method: &str,
    path: &str,
    body: &[u8],
) -> Result<Option<Caller>, Problem> {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    let Some(agent) = header(AGENT_HEADER) else {
        return Ok(None);
    };
    let key = public_key_from_hex(agent).ok_or_else(|| {
        unauthorized(
            "not a hex ed25519 public key",
            &format!("header.{AGENT_HEADER}"),
        )
    })?;
    let timestamp: u64 = header(TIMESTAMP_HEADER)
        .and_then(|t| t.parse().ok())
        .ok_or_else(|| {
            unauthorized(
                "milliseconds since the epoch expected",
                &format!("header.{TIMESTAMP_HEADER}"),
            )
        })?;
    if api.node.now_ms().abs_diff(timestamp) > MAX_SKEW_MS {
        return Err(unauthorized(
            "the request timestamp is more than 5 minutes from the node's clock",
            &format!("header.{TIMESTAMP_HEADER}"),
        ));
    }
    let signature = header(REQUEST_SIGNATURE_HEADER)
        .and_then(|s| hex::decode(s).ok())
        .and_then(|raw| {
            use commonware_codec::DecodeExt;
            Signature::decode(raw).ok()
        })
        .ok_or_else(|| {
            unauthorized(
                "hex ed25519 signature expected",
                &format!("header.{REQUEST_SIGNATURE_HEADER}"),
            )
        })?;
    if !key.verify(
        REQUEST_NAMESPACE,
        &signed_message(method, path, timestamp, body),
        &signature,
    ) {
        return Err(unauthorized(
            "the signature does not cover this method, path, timestamp and body",
            &format!("header.{REQUEST_SIGNATURE_HEADER}"),
        ));
    }
    let internal = |e: tracechain_state::records::RecordError| Problem::internal(e.to_string());
    let agent = domain::agent(api.node.reader(), &key)
        .await
        .map_err(internal)?
        .ok_or_else(|| {
            unauthorized(
                "the key is not a registered agent",
                &format!("header.{AGENT_HEADER}"),
            )
        })?;
    let active = domain::organisation(api.node.reader(), &agent.organisation)
        .await
        .map_err(internal)?
        .is_some_and(|o| o.active);
    if !active {
        return Err(unauthorized(
            "the agent's organisation is not active",
            &format!("header.{AGENT_HEADER}"),
        ));
    }
    Ok(Some(Caller {
        key,
        organisation: agent.organisation,
        roles: agent.roles,
    }))
}
