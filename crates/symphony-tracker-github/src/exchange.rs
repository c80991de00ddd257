//! One exchange with GitHub: the request, the response, and what GitHub said when it refused.

use http::{HeaderMap, Method, StatusCode};
use serde_json::Value;
use symphony_tracker::{TrackerError, TrackerErrorCategory};

/// One request, relative to the REST base (or to the GraphQL endpoint).
pub(crate) struct ApiRequest<'a> {
    pub method: Method,
    /// Path and query below the API base, starting with `/`.
    pub path: &'a str,
    pub body: Option<&'a Value>,
    /// `If-None-Match` value from an earlier response.
    pub etag: Option<&'a str>,
    /// Safe to send twice (GET, GraphQL queries). Others are never retried.
    pub idempotent: bool,
    pub graphql: bool,
}

impl<'a> ApiRequest<'a> {
    pub fn get(path: &'a str) -> Self {
        Self {
            method: Method::GET,
            path,
            body: None,
            etag: None,
            idempotent: true,
            graphql: false,
        }
    }
}

/// A response with a success or `304` status.
pub(crate) struct ApiResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl ApiResponse {
    pub fn not_modified(&self) -> bool {
        self.status == StatusCode::NOT_MODIFIED
    }

    pub fn etag(&self) -> Option<String> {
        header(&self.headers, "etag").map(str::to_owned)
    }

    pub fn json(&self) -> Result<Value, TrackerError> {
        serde_json::from_slice(&self.body).map_err(|e| {
            TrackerError::new(
                TrackerErrorCategory::Response,
                format!("GitHub sent a body that is not JSON: {e}"),
            )
        })
    }
}

/// Error bodies are quoted up to this many bytes.
const MAX_QUOTED: usize = 300;

pub(crate) fn request_error(request: &ApiRequest<'_>, message: &str) -> TrackerError {
    TrackerError::new(
        TrackerErrorCategory::Request,
        format!("{} {}: {message}", request.method, request.path),
    )
}

pub(crate) fn header<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// GitHub's `{"message": ...}`, or the start of whatever else it sent.
pub(crate) fn github_message(body: &[u8]) -> String {
    if let Ok(value) = serde_json::from_slice::<Value>(body) {
        if let Some(message) = value.get("message").and_then(Value::as_str) {
            return clip_message(message);
        }
    }
    clip_message(&String::from_utf8_lossy(body))
}

fn clip_message(text: &str) -> String {
    let text = text.trim();
    if text.len() <= MAX_QUOTED {
        return text.to_owned();
    }
    let mut end = MAX_QUOTED;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

pub(crate) fn graphql_messages(errors: &[Value]) -> String {
    let messages: Vec<&str> = errors
        .iter()
        .filter_map(|e| e.get("message").and_then(Value::as_str))
        .collect();
    clip_message(&messages.join("; "))
}
