//! Our small client layer over octocrab: octocrab carries auth, base URI and TLS; this layer
//! decides retries (idempotent requests only), honours rate limits, maps failures to the
//! SPEC §11.4 categories and counts what it sends.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::{HeaderMap, Method};
use http_body_util::BodyExt;
use octocrab::Octocrab;
use serde_json::Value;
use symphony_tracker::{TrackerError, TrackerErrorCategory};

use crate::config::GithubConfig;
use crate::exchange::{
    github_message, graphql_messages, header, request_error, ApiRequest, ApiResponse,
};
use crate::pause::Pause;
use crate::stats::RequestStats;

/// A transient failure to retry, or a final one.
enum Failure {
    Retry { error: TrackerError, wait: Duration },
    Final(TrackerError),
}

const MAX_RETRIES: u32 = 3;
const BASE_BACKOFF: Duration = Duration::from_millis(500);
/// GitHub's advice for a secondary limit without `retry-after`: wait at least a minute.
const SECONDARY_DEFAULT_WAIT: Duration = Duration::from_secs(60);
/// How Symphony introduces itself to GitHub (GitHub asks every client for a User-Agent naming
/// it; octocrab's default client would say `octocrab`, and add it beside ours).
pub(crate) const USER_AGENT: &str = concat!("symphony/", env!("CARGO_PKG_VERSION"));

/// octocrab over our own stack: hyper with rustls (ring, the system's roots), the base URI,
/// and exactly two extra headers — our User-Agent and the token (marked sensitive, so it is
/// never logged). No retry, cache or redirect layers: `Client::send` decides retries, ETags
/// and time limits itself, and only ever sends paths under the base URI.
fn build_octocrab(base: &str, token: &str) -> Result<Octocrab, String> {
    use http::header::{HeaderValue, AUTHORIZATION};
    use octocrab::service::middleware::base_uri::BaseUriLayer;
    use octocrab::service::middleware::extra_headers::ExtraHeadersLayer;

    let uri: http::Uri = base.parse().map_err(|e| format!("{e}"))?;
    let provider = rustls::crypto::CryptoProvider::get_default()
        .cloned()
        .unwrap_or_else(|| Arc::new(rustls::crypto::ring::default_provider()));
    let connector = hyper_rustls::HttpsConnectorBuilder::new()
        .with_provider_and_native_roots(provider)
        .map_err(|e| format!("no TLS roots: {e}"))?
        .https_or_http()
        .enable_http1()
        .build();
    let hyper = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build(connector);
    let mut authorization = HeaderValue::from_str(&format!("Bearer {token}"))
        .map_err(|_| "the token is not a valid header value".to_owned())?;
    authorization.set_sensitive(true);
    let headers = vec![
        (
            http::header::USER_AGENT,
            HeaderValue::from_static(USER_AGENT),
        ),
        (AUTHORIZATION, authorization),
    ];
    let built = octocrab::OctocrabBuilder::new_empty()
        .with_service(hyper)
        .with_layer(&BaseUriLayer::new(uri))
        .with_layer(&ExtraHeadersLayer::new(Arc::new(headers)))
        .with_auth(octocrab::AuthState::None)
        .build();
    match built {
        Ok(octocrab) => Ok(octocrab),
        Err(never) => match never {},
    }
}

pub(crate) struct Client {
    rest: Octocrab,
    graphql: Octocrab,
    graphql_path: String,
    api_url: String,
    timeout: Duration,
    max_wait: Duration,
    pause: Arc<dyn Pause>,
    stats: Arc<RequestStats>,
    /// Unix second until which the primary limit is spent.
    exhausted_until: Mutex<Option<u64>>,
}

impl Client {
    pub fn new(config: &GithubConfig, pause: Arc<dyn Pause>) -> Result<Self, TrackerError> {
        // octocrab spawns its request buffer's worker on the current runtime and panics
        // without one; a caller that builds the tracker too early gets an error instead.
        if tokio::runtime::Handle::try_current().is_err() {
            return Err(TrackerError::new(
                TrackerErrorCategory::Request,
                "the GitHub client must be built inside a Tokio runtime",
            ));
        }
        let build = |base: &str| {
            build_octocrab(base, &config.token).map_err(|e| {
                TrackerError::new(
                    TrackerErrorCategory::InvalidTrackerConfig,
                    format!("cannot build the GitHub client for {base}: {e}"),
                )
            })
        };
        let graphql_path = config
            .graphql_url
            .parse::<http::Uri>()
            .map(|u| u.path().to_owned())
            .unwrap_or_else(|_| "/graphql".to_owned());
        let stats = Arc::new(RequestStats::default());
        stats.remaining.store(-1, Ordering::Relaxed);
        Ok(Self {
            rest: build(&config.api_url)?,
            graphql: build(&config.graphql_url)?,
            graphql_path,
            api_url: config.api_url.clone(),
            timeout: config.request_timeout,
            max_wait: config.max_rate_limit_wait,
            pause,
            stats,
            exhausted_until: Mutex::new(None),
        })
    }

    pub fn stats(&self) -> Arc<RequestStats> {
        Arc::clone(&self.stats)
    }

    /// The path and query of `url` when it points into the API base, for following `Link`s
    /// without ever sending the token elsewhere.
    pub fn relative_path(&self, url: &str) -> Option<String> {
        let rest = url.strip_prefix(&self.api_url)?;
        rest.starts_with('/').then(|| rest.to_owned())
    }

    /// Sends `request`, retrying what is safe to retry. A `304` is a success.
    pub async fn send(&self, request: &ApiRequest<'_>) -> Result<ApiResponse, TrackerError> {
        let mut attempt = 0;
        loop {
            self.wait_for_primary_reset().await?;
            match self.send_once(request).await {
                Ok(response) => return Ok(response),
                Err(Failure::Final(error)) => return Err(error),
                Err(Failure::Retry { error, wait }) => {
                    if !request.idempotent || attempt >= MAX_RETRIES || wait > self.max_wait {
                        return Err(error);
                    }
                    attempt += 1;
                    self.stats.retries.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(
                        method = %request.method,
                        path = request.path,
                        attempt,
                        wait_ms = wait.as_millis() as u64,
                        "GitHub request will be retried: {error}"
                    );
                    self.pause.pause(wait).await;
                }
            }
        }
    }

    /// Sends a GraphQL query (never a mutation: queries are idempotent) and returns `data`
    /// with the `errors` list.
    pub async fn graphql(
        &self,
        query: &str,
        variables: Value,
    ) -> Result<(Value, Vec<Value>), TrackerError> {
        self.graphql_request(query, variables).await
    }

    /// Sends a GraphQL mutation whose repeat is harmless (resolving a thread already
    /// resolved), so it is retried as a query is; `data` with the `errors` list.
    pub async fn graphql_repeatable_mutation(
        &self,
        mutation: &str,
        variables: Value,
    ) -> Result<(Value, Vec<Value>), TrackerError> {
        self.graphql_request(mutation, variables).await
    }

    async fn graphql_request(
        &self,
        query: &str,
        variables: Value,
    ) -> Result<(Value, Vec<Value>), TrackerError> {
        let body = serde_json::json!({ "query": query, "variables": variables });
        let path = self.graphql_path.clone();
        let response = self
            .send(&ApiRequest {
                method: Method::POST,
                path: &path,
                body: Some(&body),
                etag: None,
                idempotent: true,
                graphql: true,
            })
            .await?;
        let mut value = response.json()?;
        let errors = match value.get_mut("errors").map(Value::take) {
            Some(Value::Array(errors)) => errors,
            _ => Vec::new(),
        };
        let data = value
            .get_mut("data")
            .map(Value::take)
            .unwrap_or(Value::Null);
        if data.is_null() && !errors.is_empty() {
            return Err(TrackerError::new(
                TrackerErrorCategory::Response,
                format!("GitHub GraphQL query failed: {}", graphql_messages(&errors)),
            ));
        }
        if !data.is_object() {
            return Err(TrackerError::new(
                TrackerErrorCategory::Response,
                "GitHub GraphQL response has no `data` object",
            ));
        }
        Ok((data, errors))
    }

    async fn wait_for_primary_reset(&self) -> Result<(), TrackerError> {
        let until = *self
            .exhausted_until
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let Some(until) = until else { return Ok(()) };
        let now = unix_now();
        if until <= now {
            *self
                .exhausted_until
                .lock()
                .unwrap_or_else(|e| e.into_inner()) = None;
            return Ok(());
        }
        let wait = Duration::from_secs(until - now);
        if wait > self.max_wait {
            let mut error = TrackerError::new(
                TrackerErrorCategory::RateLimited,
                format!(
                    "GitHub primary rate limit spent; resets in {} s",
                    wait.as_secs()
                ),
            );
            error.retry_after = Some(wait);
            return Err(error);
        }
        self.pause.pause(wait).await;
        *self
            .exhausted_until
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = None;
        Ok(())
    }

    async fn send_once(&self, request: &ApiRequest<'_>) -> Result<ApiResponse, Failure> {
        let client = if request.graphql {
            &self.graphql
        } else {
            &self.rest
        };
        let mut builder = http::Request::builder()
            .method(request.method.clone())
            .uri(request.path)
            .header(http::header::ACCEPT, "application/vnd.github+json");
        if let Some(etag) = request.etag {
            builder = builder.header(http::header::IF_NONE_MATCH, etag);
        }
        let http_request = client
            .build_request(builder, request.body)
            .map_err(|e| Failure::Final(request_error(request, &e.to_string())))?;
        self.stats.requests.fetch_add(1, Ordering::Relaxed);
        let exchange = async {
            let response = client
                .execute(http_request)
                .await
                .map_err(|e| e.to_string())?;
            let (parts, body) = response.into_parts();
            let body = body.collect().await.map_err(|e| e.to_string())?.to_bytes();
            Ok::<_, String>((parts, body))
        };
        let (parts, body) = match tokio::time::timeout(self.timeout, exchange).await {
            Ok(Ok(done)) => done,
            Ok(Err(message)) => {
                return Err(Failure::Retry {
                    error: request_error(request, &message),
                    wait: BASE_BACKOFF,
                })
            }
            Err(_) => {
                return Err(Failure::Retry {
                    error: request_error(
                        request,
                        &format!(
                            "no complete response within {} ms",
                            self.timeout.as_millis()
                        ),
                    ),
                    wait: BASE_BACKOFF,
                })
            }
        };
        self.note_rate_limit(&parts.headers);
        let response = ApiResponse {
            status: parts.status,
            headers: parts.headers,
            body: body.to_vec(),
        };
        if response.status.is_success() {
            return Ok(response);
        }
        if response.not_modified() {
            self.stats.not_modified.fetch_add(1, Ordering::Relaxed);
            return Ok(response);
        }
        Err(self.classify(request, &response))
    }

    fn note_rate_limit(&self, headers: &HeaderMap) {
        if let Some(remaining) =
            header(headers, "x-ratelimit-remaining").and_then(|v| v.parse().ok())
        {
            self.stats.remaining.store(remaining, Ordering::Relaxed);
            if remaining == 0 {
                if let Some(reset) =
                    header(headers, "x-ratelimit-reset").and_then(|v| v.parse().ok())
                {
                    *self
                        .exhausted_until
                        .lock()
                        .unwrap_or_else(|e| e.into_inner()) = Some(reset);
                }
            }
        }
    }

    fn classify(&self, request: &ApiRequest<'_>, response: &ApiResponse) -> Failure {
        let status = response.status;
        let message = github_message(&response.body);
        let what = format!("{} {}", request.method, request.path);
        let retry_after = header(&response.headers, "retry-after")
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let remaining_zero = header(&response.headers, "x-ratelimit-remaining") == Some("0");
        let secondary = message.to_lowercase().contains("secondary rate limit");
        if matches!(status.as_u16(), 403 | 429)
            && (retry_after.is_some() || remaining_zero || secondary)
        {
            self.stats.rate_limited.fetch_add(1, Ordering::Relaxed);
            let wait = match retry_after {
                Some(wait) => wait,
                None if remaining_zero => {
                    let reset = header(&response.headers, "x-ratelimit-reset")
                        .and_then(|v| v.parse::<u64>().ok())
                        .unwrap_or_else(unix_now);
                    // The reset time is ours to wait; nothing to wait again in the loop.
                    *self
                        .exhausted_until
                        .lock()
                        .unwrap_or_else(|e| e.into_inner()) = None;
                    Duration::from_secs(reset.saturating_sub(unix_now()))
                }
                None => SECONDARY_DEFAULT_WAIT,
            };
            let mut error = TrackerError::new(
                TrackerErrorCategory::RateLimited,
                format!(
                    "{what}: GitHub rate limit ({status}): {message}; retry after {} s",
                    wait.as_secs()
                ),
            );
            error.retry_after = Some(wait);
            return Failure::Retry { error, wait };
        }
        let error = TrackerError::new(
            TrackerErrorCategory::Status,
            format!("{what}: GitHub answered {status}: {message}"),
        );
        if matches!(status.as_u16(), 500 | 502 | 503 | 504) {
            return Failure::Retry {
                error,
                wait: BASE_BACKOFF,
            };
        }
        Failure::Final(error)
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
