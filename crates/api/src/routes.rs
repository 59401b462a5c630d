//! Request handlers.

use crate::{
    ApiState, OPENAPI, Problem,
    views::{BlockView, CertificateView, TransactionStatusView},
};
use axum::{
    Json,
    body::Bytes,
    extract::{Path, State},
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::Deserialize;
use serde_json::json;
use tracechain_executor::{AdmissionError, Inadmissible};
use tracechain_node::{MempoolError, SubmitError, TxStatus};
use tracechain_state::{records, store::StorageContext};
use tracechain_types::{
    Transaction, digest_from_hex, public_key_from_hex, to_hex, transaction::MAX_TX_BYTES,
};

type Result<T> = std::result::Result<T, Problem>;

/// `GET /v1/genesis`: the chain's genesis (validator set, founding
/// members) — the trust anchor proof bundles are checked against.
pub async fn genesis<E: StorageContext + rand_core::CryptoRng>(
    State(api): State<ApiState<E>>,
) -> Json<tracechain_types::genesis::Genesis> {
    Json(api.genesis.as_ref().clone())
}

pub async fn status<E: StorageContext + rand_core::CryptoRng>(
    State(api): State<ApiState<E>>,
) -> Result<Json<serde_json::Value>> {
    let node = &api.node;
    let latest = node.finalized().await;
    let roots = node.reader().roots().await;
    let validators: Vec<_> = api
        .genesis
        .validators
        .iter()
        .map(|v| json!({"name": v.name, "public_key": v.public_key, "p2p_address": v.p2p_address}))
        .collect();
    Ok(Json(json!({
        "chain_id": node.chain_id(),
        "node": {"public_key": api.info.public_key, "role": api.info.role, "version": api.info.version},
        "height": latest.as_ref().map(|f| f.height).unwrap_or(0),
        "finalized_height": node.finalized_tip().await.unwrap_or(0),
        // The query index follows the chain off the consensus path: queries
        // answer as of this height (0 before the first block is indexed).
        "indexed_height": node.index().and_then(|index| index.indexed_height().ok().map(|h| h.unwrap_or(0))),
        "latest_block": latest.as_ref().map(|f| json!({
            "height": f.height,
            "digest": to_hex(f.digest),
            "timestamp_ms": f.header.timestamp_ms,
            "tx_count": f.header.tx_count,
        })),
        "state_root": to_hex(roots.state_root),
        "log_root": to_hex(roots.log_root),
        "lookup_root": to_hex(roots.lookup_root),
        "log_size": roots.log_size,
        "validators": validators,
        "peers_connected": peers_connected(&(api.metrics)(), &api.info.public_key),
        "mempool": {"transactions": node.mempool().len(), "bytes": node.mempool().bytes()},
    })))
}

/// Peers with an open authenticated connection, from the p2p tracker's
/// `directory_connected{peer=...}` gauges (non-zero: connected since that
/// time); the node itself is listed too and not counted.
fn peers_connected(metrics: &str, own_key: &str) -> usize {
    metrics
        .lines()
        .filter(|line| line.starts_with("p2p_tracker_directory_connected{"))
        .filter(|line| !line.contains(own_key))
        .filter(|line| {
            line.rsplit(' ')
                .next()
                .and_then(|v| v.trim().parse::<f64>().ok())
                .is_some_and(|v| v > 0.0)
        })
        .count()
}

#[derive(Deserialize)]
struct SubmitJson {
    /// Hex of the transaction's canonical encoding.
    transaction: String,
}

/// Accepts `application/octet-stream` (the canonical bytes) or JSON
/// `{"transaction": "<hex>"}`.
pub async fn submit_transaction<E: StorageContext + rand_core::CryptoRng>(
    State(api): State<ApiState<E>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response> {
    let bytes = transaction_bytes(&headers, &body)?;
    if bytes.len() > MAX_TX_BYTES {
        return Err(Problem::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too-large",
            "Transaction too large",
            format!(
                "transaction is {} bytes; the limit is {MAX_TX_BYTES}",
                bytes.len()
            ),
        )
        .at("transaction"));
    }
    let tx =
        Transaction::decode_untrusted(&bytes).map_err(|err| undecodable(err).at("transaction"))?;
    let id = api.node.submit(tx).await.map_err(submit_problem)?;
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({"id": to_hex(id), "status": "pending"})),
    )
        .into_response())
}

/// Bytes that do not decode as a transaction (the caller says where).
pub(crate) fn undecodable(err: impl std::fmt::Display) -> Problem {
    Problem::bad_request(
        "malformed-transaction",
        "Malformed transaction",
        format!("the transaction bytes do not decode: {err}"),
    )
}

/// Whether the request body is JSON (else the canonical bytes).
pub(crate) fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"))
}

fn transaction_bytes(headers: &HeaderMap, body: &Bytes) -> Result<Vec<u8>> {
    if !is_json(headers) {
        return Ok(body.to_vec());
    }
    let parsed: SubmitJson = serde_json::from_slice(body).map_err(|err| {
        Problem::bad_request(
            "malformed-json",
            "Malformed JSON",
            format!("expected {{\"transaction\": \"<hex>\"}}: {err}"),
        )
        .at("body")
    })?;
    hex::decode(parsed.transaction.trim()).map_err(|err| {
        Problem::bad_request(
            "malformed-transaction",
            "Malformed transaction",
            format!("not hex: {err}"),
        )
        .at("transaction")
    })
}

pub(crate) fn submit_problem(err: SubmitError) -> Problem {
    match err {
        SubmitError::BadSignature => Problem::new(
            StatusCode::BAD_REQUEST,
            "bad-signature",
            "Invalid signature",
            "the signature does not verify against the sender key over the transaction",
        )
        .at("signature"),
        SubmitError::Admission(err) => describe_admission(err),
        SubmitError::Mempool(MempoolError::Duplicate) => Problem::new(
            StatusCode::CONFLICT,
            "duplicate",
            "Already pending",
            "this transaction is already waiting for a block",
        )
        .at("transaction"),
        SubmitError::Mempool(err @ MempoolError::NonceTaken(_)) => Problem::new(
            StatusCode::CONFLICT,
            "nonce-pending",
            "Nonce already pending",
            err.to_string(),
        )
        .at("nonce"),
        SubmitError::InvalidDocument(reason) => {
            Problem::bad_request("invalid-epcis", "Invalid EPCIS document", reason)
                .at("transaction.payload.document")
        }
        SubmitError::Stopping => Problem::unavailable("the node is stopping"),
        SubmitError::Mempool(err) => Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "mempool-full",
            "Mempool full",
            err.to_string(),
        ),
    }
}

/// Maps admission failures (chain id, nonce) to problems.
fn describe_admission(err: AdmissionError) -> Problem {
    match err {
        AdmissionError::Inadmissible(inner @ Inadmissible::WrongChain { .. }) => Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "wrong-chain",
            "Wrong chain",
            inner.to_string(),
        )
        .at("chain_id"),
        AdmissionError::Inadmissible(inner) => Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "bad-nonce",
            "Bad nonce",
            inner.to_string(),
        )
        .at("nonce"),
        err @ AdmissionError::NonceUsed { .. } => Problem::new(
            StatusCode::CONFLICT,
            "nonce-used",
            "Nonce already used",
            err.to_string(),
        )
        .at("nonce"),
        AdmissionError::Storage(inner) => Problem::internal(inner.to_string()),
    }
}

pub async fn transaction<E: StorageContext + rand_core::CryptoRng>(
    State(api): State<ApiState<E>>,
    Path(id): Path<String>,
) -> Result<Json<TransactionStatusView>> {
    let digest = digest_from_hex(&id).ok_or_else(|| {
        Problem::bad_request(
            "bad-id",
            "Bad transaction id",
            format!("'{id}' is not a 32-byte hex transaction id"),
        )
        .at("path.id")
    })?;
    let id = to_hex(digest);
    match api
        .node
        .tx_status(&digest)
        .await
        .map_err(|e| Problem::internal(e.to_string()))?
    {
        TxStatus::Executed(receipt) => Ok(Json(TransactionStatusView::executed(id, &receipt))),
        TxStatus::Pending => Ok(Json(TransactionStatusView::pending(id))),
        TxStatus::Unknown => Err(Problem::not_found(
            "Transaction",
            format!("no transaction {id} is pending on this node or included in a finalized block"),
        )
        .at("path.id")),
    }
}

pub async fn latest_block<E: StorageContext + rand_core::CryptoRng>(
    State(api): State<ApiState<E>>,
) -> Result<Json<BlockView>> {
    let latest = api
        .node
        .finalized()
        .await
        .ok_or_else(|| Problem::unavailable("no block has been finalized yet"))?;
    block_view(&api, latest.height).await.map(Json)
}

pub async fn block<E: StorageContext + rand_core::CryptoRng>(
    State(api): State<ApiState<E>>,
    Path(height): Path<String>,
) -> Result<Json<BlockView>> {
    let height: u64 = height.parse().map_err(|_| {
        Problem::bad_request(
            "bad-height",
            "Bad block height",
            format!("'{height}' is not a block height (a non-negative integer) or 'latest'"),
        )
        .at("path.height")
    })?;
    block_view(&api, height).await.map(Json)
}

async fn block_view<E: StorageContext + rand_core::CryptoRng>(
    api: &ApiState<E>,
    height: u64,
) -> Result<BlockView> {
    let block = api.node.block(height).await.ok_or_else(|| {
        Problem::not_found(
            "Block",
            format!("no finalized block at height {height} on this node"),
        )
        .at("path.height")
    })?;
    let certificate = api
        .node
        .certificate(height)
        .await
        .map(|c| CertificateView::new(&c, api.node.validators()));
    Ok(BlockView::new(&block, certificate))
}

/// An account by public key (hex) or registered name: its name and the
/// nonce its next transaction must carry.
pub async fn account<E: StorageContext + rand_core::CryptoRng>(
    State(api): State<ApiState<E>>,
    Path(who): Path<String>,
) -> Result<Json<serde_json::Value>> {
    let reader = api.node.reader();
    let internal = |e: records::RecordError| Problem::internal(e.to_string());
    let key = match public_key_from_hex(&who) {
        Some(key) => key,
        None => records::account_owner(reader, &who)
            .await
            .map_err(internal)?
            .ok_or_else(|| {
                Problem::not_found(
                    "Account",
                    format!("'{who}' is neither a hex public key nor a registered account name"),
                )
                .at("path.account")
            })?,
    };
    let name = records::account_name(reader, &key)
        .await
        .map_err(internal)?;
    let next_nonce = records::nonce(reader, &key).await.map_err(internal)?;
    Ok(Json(json!({
        "public_key": to_hex(&key),
        "name": name,
        "next_nonce": next_nonce,
        // Past what this node already holds pending from the key, so a
        // client can submit several transactions without waiting.
        "pending_next_nonce": api.node.mempool().next_nonce(&key, next_nonce),
    })))
}

/// The first anchoring of a hash (proof of existence at a time).
pub async fn note<E: StorageContext + rand_core::CryptoRng>(
    State(api): State<ApiState<E>>,
    Path(hash): Path<String>,
) -> Result<Json<serde_json::Value>> {
    let anchored = digest_from_hex(&hash).ok_or_else(|| {
        Problem::bad_request(
            "bad-hash",
            "Bad hash",
            format!("'{hash}' is not a 32-byte hex hash"),
        )
        .at("path.hash")
    })?;
    let record = records::note(api.node.reader(), &anchored)
        .await
        .map_err(|e| Problem::internal(e.to_string()))?
        .ok_or_else(|| {
            Problem::not_found(
                "Note",
                format!("hash {} was never anchored", to_hex(anchored)),
            )
            .at("path.hash")
        })?;
    Ok(Json(json!({
        "hash": to_hex(anchored),
        "first_anchored_by_tx": to_hex(record.tx),
        "block_height": record.height,
        "timestamp_ms": record.timestamp_ms,
    })))
}

pub async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI).into_response()
}

pub async fn health() -> Json<serde_json::Value> {
    Json(json!({"status": "ok"}))
}

/// Ready when the databases are open (they are, or this handler could not
/// run) and at least one block has been finalized.
pub async fn ready<E: StorageContext + rand_core::CryptoRng>(
    State(api): State<ApiState<E>>,
) -> Result<Json<serde_json::Value>> {
    match api.node.finalized().await {
        Some(latest) => Ok(Json(json!({"status": "ready", "height": latest.height}))),
        None => Err(Problem::unavailable(
            "waiting for the first finalized block",
        )),
    }
}

pub async fn metrics<E: StorageContext + rand_core::CryptoRng>(
    State(api): State<ApiState<E>>,
) -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        (api.metrics)(),
    )
        .into_response()
}

pub async fn not_found() -> Problem {
    Problem::not_found("Resource", "no such resource; see /v1/openapi.json")
}

#[cfg(test)]
mod tests {
    use super::peers_connected;

    #[test]
    fn counts_connected_peers_from_metrics() {
        let text = "# HELP x\np2p_tracker_directory_connected{peer=\"a\"} 1795245415291\np2p_tracker_directory_connected{peer=\"b\"} 0\np2p_tracker_directory_connected{peer=\"me\"} 1795245415348\np2p_tracker_directory_connected{peer=\"c\"} 1795245418347\nother 1\n";
        assert_eq!(peers_connected(text, "me"), 2);
    }
}
