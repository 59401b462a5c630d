//! tracechain's REST API.
//!
//! JSON in and out; every error is `application/problem+json` naming what
//! was wrong and where. The OpenAPI document is served at
//! `/v1/openapi.json` (source: `crates/api/openapi.json`).

pub mod auth;
mod batch;
mod documents;
mod domain;
mod pages;
mod parcels;
mod problem;
mod proofs;
mod queries;
mod routes;
mod stream;
pub mod views;
pub mod webhooks;

pub use problem::{PROBLEM_JSON, Problem};

use axum::{Router, extract::DefaultBodyLimit, middleware::map_response, routing::get};
use std::sync::Arc;
use tracechain_node::NodeHandle;
use tracechain_state::store::StorageContext;
use tracechain_types::Genesis;

/// The OpenAPI 3.1 description of this API.
pub const OPENAPI: &str = include_str!("../openapi.json");

/// Largest request body the server reads (bigger ones get a 413 problem).
const MAX_BODY_BYTES: usize = 8 * 1024 * 1024;

/// What the node says about itself in `/v1/status`.
#[derive(Clone, Debug)]
pub struct NodeInfo {
    pub public_key: String,
    /// `validator` or `full-node`.
    pub role: &'static str,
    pub version: &'static str,
}

/// Everything a request handler needs.
pub struct ApiState<E: StorageContext + rand_core::CryptoRng> {
    pub node: NodeHandle<E>,
    pub genesis: Arc<Genesis>,
    pub info: NodeInfo,
    /// Prometheus text of every runtime and node metric.
    pub metrics: Arc<dyn Fn() -> String + Send + Sync>,
    /// Webhook subscriptions this node delivers (none: not offered).
    pub webhooks: Option<Arc<webhooks::Webhooks>>,
    /// Off-chain documents this node stores and opens (none: not offered).
    pub documents: Option<tracechain_node::documents::Documents>,
}

impl<E: StorageContext + rand_core::CryptoRng> Clone for ApiState<E> {
    fn clone(&self) -> Self {
        Self {
            node: self.node.clone(),
            genesis: self.genesis.clone(),
            info: self.info.clone(),
            metrics: self.metrics.clone(),
            webhooks: self.webhooks.clone(),
            documents: self.documents.clone(),
        }
    }
}

/// The complete router.
pub fn router<E: StorageContext + rand_core::CryptoRng>(state: ApiState<E>) -> Router {
    Router::new()
        .route("/v1/status", get(routes::status::<E>))
        .route("/v1/genesis", get(routes::genesis::<E>))
        .route(
            "/v1/transactions",
            axum::routing::post(routes::submit_transaction::<E>),
        )
        .route(
            "/v1/transactions/batch",
            axum::routing::post(batch::submit_batch::<E>),
        )
        .route("/v1/transactions/{id}", get(routes::transaction::<E>))
        .route("/v1/capture", axum::routing::post(domain::capture::<E>))
        .route("/v1/capture/{id}", get(domain::capture_status::<E>))
        .route("/v1/organisations", get(domain::organisations::<E>))
        .route("/v1/organisations/{id}", get(domain::organisation::<E>))
        .route("/v1/agents/{key}", get(domain::agent::<E>))
        .route("/v1/proposals/{id}", get(domain::proposal::<E>))
        .route("/v1/items/{*id}", get(domain::item::<E>))
        .route("/v1/events", get(queries::events::<E>))
        .route("/v1/events/stream", get(stream::sse::<E>))
        .route("/v1/events/ws", get(stream::websocket::<E>))
        .route(
            "/v1/subscriptions",
            get(webhooks::list::<E>).post(webhooks::subscribe::<E>),
        )
        .route(
            "/v1/subscriptions/{id}",
            axum::routing::delete(webhooks::unsubscribe::<E>),
        )
        .route("/v1/parcels/{id}", get(parcels::parcel::<E>))
        .route(
            "/v1/parcels/{id}/document",
            get(documents::parcel_document::<E>),
        )
        .route("/v1/documents", axum::routing::post(documents::upload::<E>))
        .route("/v1/documents/{hash}", get(documents::document::<E>))
        .route(
            "/v1/documents/{hash}/envelope",
            get(documents::envelope::<E>),
        )
        .route("/v1/events/{*hash}", get(queries::event::<E>))
        .route("/v1/proofs/events/{*hash}", get(proofs::event::<E>))
        .route("/v1/proofs/state/{*id}", get(proofs::state::<E>))
        .route("/v1/proofs/consistency", get(proofs::consistency::<E>))
        .route("/v1/trace/{*id}", get(queries::trace::<E>))
        .route("/v1/recalls/{id}/affected", get(queries::affected::<E>))
        .route("/v1/verify/{*id}", get(queries::verify::<E>))
        .route("/01/{*path}", get(queries::digital_link::<E>))
        .route("/00/{*path}", get(queries::digital_link::<E>))
        .route("/414/{*path}", get(queries::digital_link::<E>))
        .route("/v1/accounts/{account}", get(routes::account::<E>))
        .route("/v1/notes/{hash}", get(routes::note::<E>))
        .route("/v1/blocks/latest", get(routes::latest_block::<E>))
        .route("/v1/blocks/{height}", get(routes::block::<E>))
        .route("/v1/openapi.json", get(routes::openapi))
        .route("/health", get(routes::health))
        .route("/ready", get(routes::ready::<E>))
        .route("/metrics", get(routes::metrics::<E>))
        .merge(pages::router())
        .fallback(routes::not_found)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(map_response(problem::ensure_problem_json))
        .with_state(state)
}

/// Serves `router` on `listener` until the process stops.
pub async fn serve(listener: tokio::net::TcpListener, router: Router) -> std::io::Result<()> {
    axum::serve(listener, router).await
}

#[cfg(test)]
mod tests {
    /// Every route the router serves is in the OpenAPI document and the
    /// document describes no route that does not exist.
    #[test]
    fn openapi_describes_exactly_the_routes() {
        let source = include_str!("lib.rs");
        // Only the router, not this test's own text.
        let router = source.split("#[cfg(test)]").next().unwrap_or_default();
        let mut served: Vec<String> = router
            .split(".route(")
            .skip(1)
            .filter_map(|rest| rest.trim_start().strip_prefix('"')?.split('"').next())
            // OpenAPI has no catch-all segments: `{*id}` is `{id}` there.
            .map(|route| route.replace("{*", "{"))
            .collect();
        served.sort();
        let doc: serde_json::Value = serde_json::from_str(super::OPENAPI).expect("valid JSON");
        let mut documented: Vec<&str> = doc["paths"]
            .as_object()
            .expect("paths")
            .keys()
            .map(String::as_str)
            .collect();
        documented.sort();
        assert_eq!(
            served,
            documented.iter().map(|s| s.to_string()).collect::<Vec<_>>()
        );
        assert_eq!(doc["openapi"], "3.1.0");
    }
}
