//! One GraphQL request at a time to Linear: a time limit on each, retries only where a repeat
//! cannot do harm (reads, and writes that set a value), Linear's two rate limits (requests
//! and query complexity, from the `X-RateLimit-*` headers) honoured, and every failure mapped
//! to a SPEC §11.4 category. The key is a sensitive header, never logged.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http::header::{HeaderValue, AUTHORIZATION, CONTENT_TYPE, USER_AGENT};
use http::{HeaderMap, Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::rt::TokioExecutor;
use serde_json::{json, Value};
use symphony_tracker::{TrackerError, TrackerErrorCategory};

use crate::config::LinearConfig;

const MAX_RETRIES: u32 = 3;
const BASE_BACKOFF: Duration = Duration::from_millis(500);
/// Without a reset time, a rate-limited request waits this long.
const DEFAULT_RATE_LIMIT_WAIT: Duration = Duration::from_secs(60);
/// Bodies larger than this are refused rather than held (a page of 100 issues is a few hundred KB).
const MAX_BODY: usize = 32 * 1024 * 1024;
/// How Symphony introduces itself.
const AGENT: &str = concat!("symphony/", env!("CARGO_PKG_VERSION"));

/// Whether a request may be sent twice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Repeat {
    /// A read, or a write that sets a value: safe to repeat after a lost answer.
    Safe,
    /// A write that adds something (a comment): a lost answer is an error, never a repeat.
    Once,
}

/// What the last response said about Linear's budgets.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RateLimits {
    /// Requests left in the window.
    pub requests_remaining: Option<u64>,
    /// Complexity points left in the window.
    pub complexity_remaining: Option<u64>,
    /// The last query's complexity (`X-Complexity`).
    pub last_complexity: Option<u64>,
}

/// Requests sent and complexity spent, for benchmarks and metrics.
#[derive(Debug, Default)]
pub struct RequestStats {
    /// HTTP requests sent (retries included).
    pub requests: AtomicU64,
    /// Complexity points Linear reported for them.
    pub complexity: AtomicU64,
}

type Https = hyper_rustls::HttpsConnector<HttpConnector>;

/// A transient failure to retry after `wait`, or a final one.
enum Failure {
    Retry { error: TrackerError, wait: Duration },
    Final(TrackerError),
}

pub(crate) struct Client {
    http: HyperClient<Https, Full<Bytes>>,
    endpoint: http::Uri,
    authorization: HeaderValue,
    timeout: Duration,
    max_rate_limit_wait: Duration,
    limits: Mutex<RateLimits>,
    pub(crate) stats: Arc<RequestStats>,
}

impl Client {
    pub(crate) fn new(config: &LinearConfig) -> Result<Self, TrackerError> {
        let invalid = |m: String| TrackerError::new(TrackerErrorCategory::InvalidTrackerConfig, m);
        let endpoint: http::Uri = config
            .endpoint
            .parse()
            .map_err(|e| invalid(format!("`endpoint`: {e}")))?;
        let provider = rustls::crypto::CryptoProvider::get_default()
            .cloned()
            .unwrap_or_else(|| Arc::new(rustls::crypto::ring::default_provider()));
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_provider_and_native_roots(provider)
            .map_err(|e| invalid(format!("no TLS roots: {e}")))?
            .https_or_http()
            .enable_http1()
            .build();
        let mut authorization = HeaderValue::from_str(&config.authorization())
            .map_err(|_| invalid("the API key is not a valid header value".to_owned()))?;
        authorization.set_sensitive(true);
        Ok(Self {
            http: HyperClient::builder(TokioExecutor::new()).build(connector),
            endpoint,
            authorization,
            timeout: config.request_timeout,
            max_rate_limit_wait: config.max_rate_limit_wait,
            limits: Mutex::default(),
            stats: Arc::default(),
        })
    }

    /// The budgets as last reported.
    pub(crate) fn rate_limits(&self) -> RateLimits {
        *self.limits.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Sends `document` with `variables`; the `data` object on success. GraphQL errors with
    /// no data fail; errors beside data are logged (Linear answers partial data for fields
    /// the key may not read).
    pub(crate) async fn graphql(
        &self,
        document: &str,
        variables: Value,
        repeat: Repeat,
    ) -> Result<Value, TrackerError> {
        let body = Bytes::from(
            serde_json::to_vec(&json!({"query": document, "variables": variables}))
                .unwrap_or_default(),
        );
        let mut attempt = 0;
        loop {
            match self.attempt(body.clone()).await {
                Ok(data) => return Ok(data),
                Err(Failure::Final(error)) => return Err(error),
                Err(Failure::Retry { error, wait }) => {
                    let rate_limited = error.category == TrackerErrorCategory::RateLimited;
                    if attempt >= MAX_RETRIES || (repeat == Repeat::Once && !rate_limited) {
                        return Err(error);
                    }
                    if wait > self.max_rate_limit_wait {
                        let mut error = error;
                        error.retry_after = Some(wait);
                        return Err(error);
                    }
                    tracing::debug!(
                        attempt,
                        wait_ms = wait.as_millis() as u64,
                        "linear: {error}; retrying"
                    );
                    attempt += 1;
                    tokio::time::sleep(wait).await;
                }
            }
        }
    }

    async fn attempt(&self, body: Bytes) -> Result<Value, Failure> {
        let request = Request::builder()
            .method(Method::POST)
            .uri(self.endpoint.clone())
            .header(CONTENT_TYPE, "application/json")
            .header(USER_AGENT, AGENT)
            .header(AUTHORIZATION, self.authorization.clone())
            .body(Full::new(body))
            .map_err(|e| Failure::Final(request_error(e.to_string())))?;
        self.stats.requests.fetch_add(1, Ordering::Relaxed);
        let exchange = async {
            let response = self
                .http
                .request(request)
                .await
                .map_err(|e| Failure::Retry {
                    error: request_error(format!("cannot reach Linear: {e}")),
                    wait: BASE_BACKOFF,
                })?;
            let (parts, body) = response.into_parts();
            let bytes = http_body_util::Limited::new(body, MAX_BODY)
                .collect()
                .await
                .map_err(|e| Failure::Retry {
                    error: request_error(format!("the answer was cut off: {e}")),
                    wait: BASE_BACKOFF,
                })?
                .to_bytes();
            Ok::<_, Failure>((parts.status, parts.headers, bytes))
        };
        let (status, headers, bytes) = tokio::time::timeout(self.timeout, exchange)
            .await
            .map_err(|_| Failure::Retry {
                error: request_error(format!(
                    "no complete answer within {} ms",
                    self.timeout.as_millis()
                )),
                wait: BASE_BACKOFF,
            })??;
        let reset = self.note_limits(&headers);
        let payload: Option<Value> = serde_json::from_slice(&bytes).ok();
        let codes = error_codes(payload.as_ref());
        if status == StatusCode::TOO_MANY_REQUESTS || codes.iter().any(|c| c == "RATELIMITED") {
            let wait = retry_after(&headers)
                .or(reset)
                .unwrap_or(DEFAULT_RATE_LIMIT_WAIT);
            return Err(Failure::Retry {
                error: TrackerError::new(
                    TrackerErrorCategory::RateLimited,
                    format!(
                        "Linear is rate limiting this key (retry in {} ms)",
                        wait.as_millis()
                    ),
                ),
                wait,
            });
        }
        if status.is_server_error() {
            return Err(Failure::Retry {
                error: TrackerError::new(
                    TrackerErrorCategory::Status,
                    format!("Linear answered {status}"),
                ),
                wait: BASE_BACKOFF,
            });
        }
        let Some(payload) = payload.filter(Value::is_object) else {
            return Err(Failure::Final(TrackerError::new(
                if status.is_success() {
                    TrackerErrorCategory::Response
                } else {
                    TrackerErrorCategory::Status
                },
                format!("Linear answered {status} with a body that is not a GraphQL response"),
            )));
        };
        let messages = error_messages(&payload);
        match payload.get("data") {
            Some(data) if data.is_object() && status.is_success() => {
                if !messages.is_empty() {
                    tracing::warn!("linear: partial answer: {}", messages.join("; "));
                }
                Ok(data.clone())
            }
            _ => Err(Failure::Final(TrackerError::new(
                if status.is_success() {
                    TrackerErrorCategory::Response
                } else {
                    TrackerErrorCategory::Status
                },
                format!(
                    "Linear answered {status}: {}",
                    if messages.is_empty() {
                        "no data".to_owned()
                    } else {
                        messages.join("; ")
                    }
                ),
            ))),
        }
    }

    /// Records the budgets a response reports; the wait until the exhausted one refills.
    fn note_limits(&self, headers: &HeaderMap) -> Option<Duration> {
        let number = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
        };
        let mut limits = self.limits.lock().unwrap_or_else(|p| p.into_inner());
        limits.requests_remaining =
            number("x-ratelimit-requests-remaining").or(limits.requests_remaining);
        limits.complexity_remaining =
            number("x-ratelimit-complexity-remaining").or(limits.complexity_remaining);
        limits.last_complexity = number("x-complexity");
        if let Some(points) = limits.last_complexity {
            self.stats.complexity.fetch_add(points, Ordering::Relaxed);
        }
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_millis() as u64;
        // Resets are epoch milliseconds; the later of the exhausted budgets' resets.
        [
            (limits.requests_remaining, "x-ratelimit-requests-reset"),
            (limits.complexity_remaining, "x-ratelimit-complexity-reset"),
        ]
        .into_iter()
        .filter(|(remaining, _)| *remaining == Some(0))
        .filter_map(|(_, reset)| number(reset))
        .map(|at| Duration::from_millis(at.saturating_sub(now)))
        .max()
    }
}

fn request_error(message: String) -> TrackerError {
    TrackerError::new(TrackerErrorCategory::Request, message)
}

/// `Retry-After` in seconds, when sent.
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    headers
        .get(http::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs)
}

fn errors(payload: Option<&Value>) -> impl Iterator<Item = &Value> {
    payload
        .and_then(|p| p.get("errors"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
}

/// `errors[].extensions.code` (Linear's `RATELIMITED`, `AUTHENTICATION_ERROR`, …).
fn error_codes(payload: Option<&Value>) -> Vec<String> {
    errors(payload)
        .filter_map(|e| e.pointer("/extensions/code").and_then(Value::as_str))
        .map(str::to_owned)
        .collect()
}

fn error_messages(payload: &Value) -> Vec<String> {
    errors(Some(payload))
        .map(|e| {
            e.get("message")
                .and_then(Value::as_str)
                .unwrap_or("an error with no message")
                .to_owned()
        })
        .collect()
}
