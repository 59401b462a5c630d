//! The web pages (product passport, parcel tracking, explorer), rendered
//! by `tracechain-web` from the same data the JSON API serves.

use crate::{ApiState, Problem};
use axum::{
    Router,
    http::{HeaderMap, header},
    response::{Html, IntoResponse, Response},
};
use tracechain_epcis::Identifier;
use tracechain_state::store::StorageContext;

/// The page routes (merged into the API router).
pub fn router<E: StorageContext + rand_core::CryptoRng>() -> Router<ApiState<E>> {
    Router::new()
}

/// A browser asking for a page (HTML preferred over JSON).
pub fn wants_html(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"))
}

/// The product passport of `id`.
pub async fn passport<E: StorageContext + rand_core::CryptoRng>(
    _api: &ApiState<E>,
    id: &Identifier,
) -> Result<Response, Problem> {
    Ok(Html(format!("<!doctype html><title>{}</title>", id.canonical())).into_response())
}
