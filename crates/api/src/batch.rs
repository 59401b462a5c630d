//! `POST /v1/transactions/batch`: many signed transactions in one request.
//!
//! A gateway forwarding the signed captures of many scanners, or a load
//! generator, pays HTTP's per-request cost once per batch instead of once
//! per transaction (on a loaded validator that cost was a quarter of its
//! CPU). Each transaction keeps its own signature and is admitted or
//! rejected exactly as if it had been sent alone (docs/adr/0013): a batch
//! whose framing is broken is refused whole and submits nothing.

use crate::{
    ApiState, Problem,
    routes::{is_json, submit_problem, undecodable},
};
use axum::{Json, body::Bytes, extract::State, http::HeaderMap};
use serde::{Deserialize, Serialize};
use tracechain_state::store::StorageContext;
use tracechain_types::{Transaction, to_hex, transaction::MAX_TX_BYTES};

/// Most transactions in one batch.
pub const MAX_BATCH: usize = 1_000;

/// Bytes of the length that precedes each transaction (big-endian u32,
/// as [`tracechain_types::transaction::encode_batch`] writes it).
const FRAME_HEADER: usize = 4;

type Result<T> = std::result::Result<T, Problem>;

#[derive(Deserialize)]
struct BatchJson {
    /// Hex of each transaction's canonical encoding.
    transactions: Vec<String>,
}

/// What became of one transaction of the batch, in request order.
#[derive(Serialize)]
struct ItemResult {
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<String>,
    /// `pending` (accepted, waiting for a block) or `rejected`.
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    problem: Option<Problem>,
}

#[derive(Serialize)]
pub struct BatchAnswer {
    accepted: usize,
    rejected: usize,
    results: Vec<ItemResult>,
}

/// Accepts `application/octet-stream` (each transaction's canonical bytes
/// after its length as a big-endian u32) or JSON `{"transactions":
/// ["<hex>", …]}`. Answers `200` with one result per transaction.
pub async fn submit_batch<E: StorageContext + rand_core::CryptoRng>(
    State(api): State<ApiState<E>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<BatchAnswer>> {
    let frames = if is_json(&headers) {
        json_frames(&body)?
    } else {
        binary_frames(&body)?
    };
    let txs = decode_all(&frames)?;
    // Submitted together, so their signatures are verified in one batch.
    let outcomes = futures::future::join_all(txs.into_iter().map(|tx| api.node.submit(tx))).await;
    let results: Vec<ItemResult> = outcomes
        .into_iter()
        .enumerate()
        .map(|(index, outcome)| match outcome {
            Ok(id) => ItemResult {
                id: Some(to_hex(id)),
                status: "pending",
                problem: None,
            },
            Err(err) => ItemResult {
                id: None,
                status: "rejected",
                problem: Some(within(submit_problem(err), index)),
            },
        })
        .collect();
    let accepted = results.iter().filter(|r| r.problem.is_none()).count();
    Ok(Json(BatchAnswer {
        accepted,
        rejected: results.len() - accepted,
        results,
    }))
}

/// Points a transaction's problem at its place in the batch.
fn within(mut problem: Problem, index: usize) -> Problem {
    let inner = problem.field.take();
    problem.field = Some(match inner {
        Some(field) => format!("transactions[{index}].{field}"),
        None => format!("transactions[{index}]"),
    });
    problem
}

fn too_many(count: usize) -> Problem {
    Problem::new(
        axum::http::StatusCode::PAYLOAD_TOO_LARGE,
        "too-many",
        "Batch too large",
        format!("the batch holds {count} transactions; the limit is {MAX_BATCH}"),
    )
    .at("transactions")
}

fn malformed(detail: String, field: &str) -> Problem {
    Problem::bad_request("malformed-batch", "Malformed batch", detail).at(field)
}

/// Splits the length-prefixed frames of an octet-stream body.
fn binary_frames(body: &[u8]) -> Result<Vec<Vec<u8>>> {
    let mut frames = Vec::new();
    let mut rest = body;
    while !rest.is_empty() {
        let index = frames.len();
        if index == MAX_BATCH {
            return Err(too_many(index + 1));
        }
        let field = format!("transactions[{index}]");
        let (length, after) = rest.split_at_checked(FRAME_HEADER).ok_or_else(|| {
            malformed(
                format!("{} bytes left where a 4-byte length was due", rest.len()),
                &field,
            )
        })?;
        let length = u32::from_be_bytes([length[0], length[1], length[2], length[3]]) as usize;
        if length > MAX_TX_BYTES {
            return Err(malformed(
                format!("a transaction of {length} bytes; the limit is {MAX_TX_BYTES}"),
                &field,
            ));
        }
        let (frame, after) = after.split_at_checked(length).ok_or_else(|| {
            malformed(
                format!("length {length} but only {} bytes follow", after.len()),
                &field,
            )
        })?;
        frames.push(frame.to_vec());
        rest = after;
    }
    Ok(frames)
}

fn json_frames(body: &[u8]) -> Result<Vec<Vec<u8>>> {
    let parsed: BatchJson = serde_json::from_slice(body).map_err(|err| {
        Problem::bad_request(
            "malformed-json",
            "Malformed JSON",
            format!("expected {{\"transactions\": [\"<hex>\", …]}}: {err}"),
        )
        .at("body")
    })?;
    if parsed.transactions.len() > MAX_BATCH {
        return Err(too_many(parsed.transactions.len()));
    }
    parsed
        .transactions
        .iter()
        .enumerate()
        .map(|(index, text)| {
            hex::decode(text.trim()).map_err(|err| {
                malformed(format!("not hex: {err}"), &format!("transactions[{index}]"))
            })
        })
        .collect()
}

/// Decodes every frame, or names the first that does not decode.
fn decode_all(frames: &[Vec<u8>]) -> Result<Vec<Transaction>> {
    if frames.is_empty() {
        return Err(malformed(
            "the batch holds no transaction".into(),
            "transactions",
        ));
    }
    frames
        .iter()
        .enumerate()
        .map(|(index, frame)| {
            Transaction::decode_untrusted(frame)
                .map_err(|err| undecodable(err).at(&format!("transactions[{index}]")))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracechain_types::transaction::frame_batch as encode_frames;

    #[test]
    fn frames_roundtrip() {
        let body = encode_frames([b"abc".as_slice(), b"".as_slice(), b"de".as_slice()]);
        let frames = binary_frames(&body).unwrap();
        assert_eq!(frames, vec![b"abc".to_vec(), vec![], b"de".to_vec()]);
    }

    #[test]
    fn truncated_frames_name_the_transaction() {
        let mut body = encode_frames([b"abc".as_slice(), b"defg".as_slice()]);
        body.pop();
        let problem = binary_frames(&body).unwrap_err();
        assert_eq!(problem.field.as_deref(), Some("transactions[1]"));
        let problem = binary_frames(&body[..9]).unwrap_err();
        assert_eq!(problem.field.as_deref(), Some("transactions[1]"));
        assert!(
            problem.detail.contains("4-byte length"),
            "{}",
            problem.detail
        );
    }

    #[test]
    fn oversized_frames_and_batches_are_refused() {
        let length = (MAX_TX_BYTES as u32 + 1).to_be_bytes();
        let problem = binary_frames(&length).unwrap_err();
        assert_eq!(problem.status, 400);
        let empty = vec![b"".as_slice(); MAX_BATCH + 1];
        let problem = binary_frames(&encode_frames(empty)).unwrap_err();
        assert_eq!(problem.status, 413);
        assert!(decode_all(&[]).is_err());
    }

    #[test]
    fn item_problems_point_into_the_batch() {
        let problem = within(Problem::bad_request("x", "X", "x").at("nonce"), 3);
        assert_eq!(problem.field.as_deref(), Some("transactions[3].nonce"));
    }
}
