//! RFC 9457 problem details: every error the API returns says what was
//! wrong and where, as `application/problem+json`.

use axum::{
    body::Body,
    http::{HeaderValue, Response, StatusCode, header},
    response::IntoResponse,
};
use serde::Serialize;

pub const PROBLEM_JSON: &str = "application/problem+json";
const TYPE_BASE: &str = "https://tracechain.dev/problems/";

/// One problem report.
#[derive(Clone, Debug, Serialize)]
pub struct Problem {
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// The request field or part that was wrong (e.g. `signature`, `nonce`,
    /// `body`, `path.height`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

impl Problem {
    pub fn new(status: StatusCode, slug: &str, title: &str, detail: impl Into<String>) -> Self {
        Self {
            kind: format!("{TYPE_BASE}{slug}"),
            title: title.to_string(),
            status: status.as_u16(),
            detail: detail.into(),
            field: None,
        }
    }

    pub fn at(mut self, field: &str) -> Self {
        self.field = Some(field.to_string());
        self
    }

    pub fn not_found(what: &str, detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not-found",
            &format!("{what} not found"),
            detail,
        )
    }

    pub fn bad_request(slug: &str, title: &str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, slug, title, detail)
    }

    pub fn internal(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "Internal error",
            detail,
        )
    }

    pub fn unavailable(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "Not ready",
            detail,
        )
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> axum::response::Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::to_vec(&self).unwrap_or_default();
        let mut response = Response::new(Body::from(body));
        *response.status_mut() = status;
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        response
    }
}

/// Turns error responses produced outside our handlers (unknown route,
/// wrong method, body over the server limit) into problem+json too.
pub async fn ensure_problem_json(response: axum::response::Response) -> axum::response::Response {
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let is_problem = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(PROBLEM_JSON.as_bytes()));
    // Web pages answer people with HTML error pages of their own.
    let is_page = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"text/html"));
    if is_problem || is_page {
        return response;
    }
    let (slug, detail) = match status {
        StatusCode::NOT_FOUND => ("not-found", "no such resource; see /v1/openapi.json"),
        StatusCode::METHOD_NOT_ALLOWED => (
            "method-not-allowed",
            "this resource does not accept that method",
        ),
        StatusCode::PAYLOAD_TOO_LARGE => ("too-large", "request body exceeds the server limit"),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => {
            ("unsupported-media-type", "unsupported content type")
        }
        _ => ("error", "request failed"),
    };
    let title = status.canonical_reason().unwrap_or("Error");
    let mut problem = Problem::new(status, slug, title, detail);
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        problem = problem.at("body");
    }
    problem.into_response()
}
