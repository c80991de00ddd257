//! One request and its answer: as recorded for tests, and as being built by a handler.

use axum::http::StatusCode;
use serde_json::Value;

use super::render;

/// One exchange, as seen by the fake.
#[derive(Debug, Clone)]
pub struct Exchange {
    /// Method.
    pub method: String,
    /// Path without the query.
    pub path: String,
    /// The query string, if any.
    pub query: Option<String>,
    /// `If-None-Match`, if sent.
    pub if_none_match: Option<String>,
    /// The `Authorization` header, if sent.
    pub authorization: Option<String>,
    /// Every `User-Agent` value sent (GitHub refuses a request without one; there should be
    /// exactly one).
    pub user_agents: Vec<String>,
    /// The request body, parsed when JSON.
    pub request_body: Option<Value>,
    /// Response status.
    pub status: u16,
    /// Response body, parsed when JSON.
    pub response_body: Option<Value>,
    /// Whether a [`Fault`] shaped the answer (such answers are deliberately off-spec).
    pub faulted: bool,
    /// Whether the exchange cost rate limit.
    pub counted: bool,
}

/// A response being built: status, JSON body (or none), extra headers.
pub(crate) struct Reply {
    pub status: StatusCode,
    pub body: Option<Value>,
    pub headers: Vec<(&'static str, String)>,
}

impl Reply {
    pub(crate) fn json(status: StatusCode, body: Value) -> Self {
        Self {
            status,
            body: Some(body),
            headers: Vec::new(),
        }
    }

    pub(crate) fn error(status: StatusCode, message: &str) -> Self {
        Self::json(status, render::error_body(message, status.as_u16()))
    }

    /// GitHub's 404.
    pub(crate) fn not_found() -> Self {
        Self::error(StatusCode::NOT_FOUND, "Not Found")
    }

    /// GitHub's 422 for an invalid issue request.
    pub(crate) fn invalid(message: &str) -> Self {
        let mut reply = Self::error(StatusCode::UNPROCESSABLE_ENTITY, "Validation Failed");
        if let Some(body) = reply.body.as_mut() {
            body["errors"] =
                serde_json::json!([{ "resource": "Issue", "code": "invalid", "message": message }]);
        }
        reply
    }

    pub(crate) fn empty(status: StatusCode) -> Self {
        Self {
            status,
            body: None,
            headers: Vec::new(),
        }
    }
}

pub(crate) fn weak_etag(body: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(body);
    let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
    format!("W/\"{hex}\"")
}
