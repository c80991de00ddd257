//! Symphony's operator surface over HTTP (SPEC §13.7): the JSON API under `/api/v1`, a live
//! dashboard at `/`, Prometheus metrics at `/metrics`, and `/healthz` / `/readyz`. It only
//! observes and triggers: the orchestrator is correct without it.
//!
//! Loopback by default; a non-loopback bind needs a bearer token (compared in constant time)
//! for everything but `/healthz`.

mod api;
mod config;
mod dashboard;
mod history;
mod metrics;
mod store_routes;
mod webhook;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use axum::routing::{get, post, MethodRouter};
use axum::Router;
use serde_json::{json, Value};
use symphony_orchestrator::{
    ControlHandle, Family, RefreshQueued, ServiceMetrics, Snapshot, SnapshotError, SnapshotHandle,
};
use symphony_store::{RunFilter, Store};

pub use config::{ServerConfig, ServerSection};
pub use metrics::ServerCounters;

/// How long a request waits for the orchestrator's snapshot.
const SNAPSHOT_TIMEOUT: Duration = Duration::from_secs(2);

/// What the server needs from the orchestrator; the service's handles in production, a fixed
/// snapshot in tests of the response shapes.
#[async_trait]
pub trait Orchestrator: Send + Sync {
    /// The runtime snapshot now.
    async fn snapshot(&self) -> Result<Snapshot, SnapshotError>;

    /// Queues an immediate poll and reconciliation.
    fn request_refresh(&self) -> Result<RefreshQueued, SnapshotError>;

    /// The service's own metric families (dispatches, retries, durations, gates, tracker).
    fn metrics(&self) -> Vec<Family>;

    /// Queues a look at just these issues (a webhook named them); an orchestrator that cannot
    /// target issues polls everything instead.
    fn refresh_issues(&self, issue_ids: Vec<String>) -> Result<RefreshQueued, SnapshotError> {
        let _ = issue_ids;
        self.request_refresh()
    }

    /// The durable record (run history, agent events, audit log), when the service keeps one.
    fn store(&self) -> Option<Arc<dyn Store>> {
        None
    }

    /// The folder of per-run agent logs, when the service writes them.
    fn run_logs(&self) -> Option<std::path::PathBuf> {
        None
    }
}

/// The running service's handles.
pub struct ServiceHandles {
    /// Snapshot access.
    pub snapshot: SnapshotHandle,
    /// Refresh trigger.
    pub control: ControlHandle,
    /// Counters and histograms.
    pub metrics: Arc<ServiceMetrics>,
    /// The state store the service writes, for history.
    pub store: Option<Arc<dyn Store>>,
    /// The folder of per-run agent logs.
    pub run_logs: Option<std::path::PathBuf>,
}

#[async_trait]
impl Orchestrator for ServiceHandles {
    async fn snapshot(&self) -> Result<Snapshot, SnapshotError> {
        self.snapshot.get(SNAPSHOT_TIMEOUT).await
    }

    fn request_refresh(&self) -> Result<RefreshQueued, SnapshotError> {
        self.control.request_refresh()
    }

    fn metrics(&self) -> Vec<Family> {
        self.metrics.families()
    }

    fn refresh_issues(&self, issue_ids: Vec<String>) -> Result<RefreshQueued, SnapshotError> {
        self.control.refresh_issues(issue_ids)
    }

    fn store(&self) -> Option<Arc<dyn Store>> {
        self.store.clone()
    }

    fn run_logs(&self) -> Option<std::path::PathBuf> {
        self.run_logs.clone()
    }
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// The address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
}

impl ServerError {
    /// The error's category name.
    pub fn category(&self) -> &'static str {
        "server_bind_failed"
    }
}

#[derive(Clone)]
struct AppState {
    orchestrator: Arc<dyn Orchestrator>,
    counters: Arc<ServerCounters>,
    auth_token: Option<Arc<str>>,
    webhook_secret: Option<Arc<[u8]>>,
    deliveries: Arc<webhook::Deliveries>,
}

fn respond(status: StatusCode, content_type: &'static str, body: impl Into<Body>) -> Response {
    let mut response = Response::new(body.into());
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn json_response(status: StatusCode, value: &Value) -> Response {
    respond(
        status,
        "application/json",
        serde_json::to_vec_pretty(value).unwrap_or_default(),
    )
}

fn unavailable(e: &SnapshotError) -> Response {
    json_response(
        StatusCode::SERVICE_UNAVAILABLE,
        &api::error("orchestrator_unavailable", &e.to_string()),
    )
}

async fn state_json(State(app): State<AppState>) -> Response {
    match app.orchestrator.snapshot().await {
        Ok(snapshot) => json_response(StatusCode::OK, &api::state(chrono::Utc::now(), &snapshot)),
        Err(e) => unavailable(&e),
    }
}

async fn issue(State(app): State<AppState>, Path(identifier): Path<String>) -> Response {
    match app.orchestrator.snapshot().await {
        Ok(snapshot) => match api::issue(chrono::Utc::now(), &snapshot, &identifier) {
            Some(mut value) => {
                if let Some(store) = app.orchestrator.store() {
                    let filter = RunFilter {
                        issue: Some(identifier.clone()),
                        limit: Some(10),
                    };
                    if let Ok(runs) = store.runs(filter).await {
                        value["recent_runs"] =
                            history::runs(&runs, app.orchestrator.run_logs().as_deref())["runs"]
                                .take();
                    }
                }
                json_response(StatusCode::OK, &value)
            }
            None => json_response(
                StatusCode::NOT_FOUND,
                &api::error(
                    "issue_not_found",
                    &format!("{identifier} is neither running nor waiting for a retry"),
                ),
            ),
        },
        Err(e) => unavailable(&e),
    }
}

async fn refresh(State(app): State<AppState>) -> Response {
    match app.orchestrator.request_refresh() {
        Ok(queued) => {
            app.counters.refresh(queued.coalesced);
            json_response(
                StatusCode::ACCEPTED,
                &json!({
                    "queued": true,
                    "coalesced": queued.coalesced,
                    "requested_at": chrono::Utc::now()
                        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                    "operations": ["poll", "reconcile"],
                }),
            )
        }
        Err(e) => unavailable(&e),
    }
}

async fn dashboard(State(app): State<AppState>) -> Response {
    let reviews = match app.orchestrator.store() {
        Some(store) => store_routes::recent_audit(
            store.as_ref(),
            Some(&history::REVIEW_KINDS.join(",")),
            dashboard::REVIEWS,
        )
        .await
        .ok()
        .map(|entries| history::events(&entries)),
        None => None,
    };
    let page = match app.orchestrator.snapshot().await {
        Ok(snapshot) => dashboard::page(
            Some(&api::state(chrono::Utc::now(), &snapshot)),
            reviews.as_ref(),
            None,
        ),
        Err(e) => dashboard::page(None, reviews.as_ref(), Some(&e.to_string())),
    };
    respond(StatusCode::OK, "text/html; charset=utf-8", page)
}

async fn metrics_text(State(app): State<AppState>) -> Response {
    let snapshot = app.orchestrator.snapshot().await.ok();
    respond(
        StatusCode::OK,
        "text/plain; version=0.0.4; charset=utf-8",
        metrics::render(
            snapshot.as_ref(),
            &app.orchestrator.metrics(),
            &app.counters,
        ),
    )
}

async fn github_webhook(
    State(app): State<AppState>,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let Some(secret) = &app.webhook_secret else {
        return json_response(
            StatusCode::NOT_FOUND,
            &api::error(
                "webhooks_not_configured",
                "set server.github_webhook_secret to receive GitHub webhooks",
            ),
        );
    };
    let (status, value, outcome) =
        webhook::receive(secret, &app.deliveries, &headers, &body, |hint| {
            // Named issues are read alone; anything broader (a label renamed, a pull request
            // closing issues by number) needs the poll.
            if hint.poll || !hint.issue_numbers.is_empty() {
                app.orchestrator
                    .request_refresh()
                    .ok()
                    .map(|q| webhook::Queued::Poll {
                        coalesced: q.coalesced,
                    })
            } else {
                let issues = hint.issue_ids.len();
                app.orchestrator
                    .refresh_issues(hint.issue_ids.clone())
                    .ok()
                    .map(|q| webhook::Queued::Issues {
                        issues,
                        coalesced: q.coalesced,
                    })
            }
        });
    app.counters.webhook(outcome.as_str());
    if outcome == webhook::Outcome::BadSignature {
        tracing::warn!(
            "refused a GitHub webhook delivery: {}",
            value["error"]["message"]
        );
    }
    json_response(status, &value)
}

async fn healthz() -> Response {
    json_response(StatusCode::OK, &json!({"status": "ok"}))
}

/// Ready means the orchestrator answers and records what it decides: a state store that
/// cannot write makes the instance unready (it dispatches nothing new meanwhile).
async fn readyz(State(app): State<AppState>) -> Response {
    match app.orchestrator.snapshot().await {
        Ok(snapshot) => match snapshot.store_error {
            None => json_response(StatusCode::OK, &json!({"status": "ready"})),
            Some(error) => json_response(
                StatusCode::SERVICE_UNAVAILABLE,
                &api::error(
                    "state_store_unavailable",
                    &format!("the state store cannot write: {error}"),
                ),
            ),
        },
        Err(e) => unavailable(&e),
    }
}

async fn method_not_allowed(method: Method) -> Response {
    json_response(
        StatusCode::METHOD_NOT_ALLOWED,
        &api::error(
            "method_not_allowed",
            &format!("{method} is not supported on this route"),
        ),
    )
}

async fn not_found() -> Response {
    json_response(
        StatusCode::NOT_FOUND,
        &api::error("not_found", "no such route"),
    )
}

/// Equal-length byte strings compared without an early exit.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Bearer-token check (when a token is configured) and request counting by route pattern.
async fn guard(State(app): State<AppState>, request: Request, next: Next) -> Response {
    let route = route_of(request.uri().path());
    if let Some(token) = &app.auth_token {
        // The webhook is authenticated by its signature instead.
        let open = route == "/healthz" || route == "/webhooks/github";
        let presented = request
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or_default();
        if !open && !constant_time_eq(presented.as_bytes(), token.as_bytes()) {
            app.counters.unauthorized();
            app.counters.request(route, 401);
            let mut response = json_response(
                StatusCode::UNAUTHORIZED,
                &api::error("unauthorized", "a valid bearer token is required"),
            );
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"symphony\""),
            );
            return response;
        }
    }
    let response = next.run(request).await;
    app.counters.request(route, response.status().as_u16());
    response
}

/// The route pattern of `path`, so metrics never carry raw identifiers.
fn route_of(path: &str) -> &'static str {
    match path {
        "/" => "/",
        "/healthz" => "/healthz",
        "/readyz" => "/readyz",
        "/metrics" => "/metrics",
        "/api/v1/state" => "/api/v1/state",
        "/api/v1/refresh" => "/api/v1/refresh",
        "/api/v1/runs" => "/api/v1/runs",
        "/api/v1/events" => "/api/v1/events",
        p if p.starts_with("/api/v1/runs/") && p.ends_with("/log") => "/api/v1/runs/{id}/log",
        p if p.starts_with("/api/v1/runs/") => "/api/v1/runs/{id}",
        "/webhooks/github" => "/webhooks/github",
        p if p.starts_with("/api/v1/") && p[8..].find('/').is_none() => "/api/v1/{issue}",
        _ => "other",
    }
}

fn only<S: Clone + Send + Sync + 'static>(route: MethodRouter<S>) -> MethodRouter<S> {
    route.fallback(method_not_allowed)
}

/// The application: every route, the guard, and JSON 404/405s.
pub fn router(
    orchestrator: Arc<dyn Orchestrator>,
    config: &ServerConfig,
    counters: Arc<ServerCounters>,
) -> Router {
    let state = AppState {
        orchestrator,
        counters,
        auth_token: config.auth_token.as_deref().map(Arc::from),
        webhook_secret: config
            .github_webhook_secret
            .as_deref()
            .map(|s| Arc::from(s.as_bytes())),
        deliveries: Arc::default(),
    };
    Router::new()
        .route("/", only(get(dashboard)))
        .route("/healthz", only(get(healthz)))
        .route("/readyz", only(get(readyz)))
        .route("/metrics", only(get(metrics_text)))
        .route("/api/v1/state", only(get(state_json)))
        .route("/api/v1/refresh", only(post(refresh)))
        .route("/api/v1/runs", only(get(store_routes::runs_list)))
        .route("/api/v1/runs/{run_id}", only(get(store_routes::run_detail)))
        .route(
            "/api/v1/runs/{run_id}/log",
            only(get(store_routes::run_log)),
        )
        .route("/api/v1/events", only(get(store_routes::audit_events)))
        .route("/api/v1/{identifier}", only(get(issue)))
        .route("/webhooks/github", only(post(github_webhook)))
        .fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(state.clone(), guard))
        .with_state(state)
}

/// A bound server, ready to serve.
pub struct Server {
    listener: tokio::net::TcpListener,
    app: Router,
}

impl Server {
    /// Binds `config`'s address.
    pub async fn bind(
        config: &ServerConfig,
        orchestrator: Arc<dyn Orchestrator>,
    ) -> Result<Self, ServerError> {
        let addr = SocketAddr::new(config.host, config.port);
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|source| ServerError::Bind { addr, source })?;
        Ok(Self {
            listener,
            app: router(orchestrator, config, Arc::new(ServerCounters::default())),
        })
    }

    /// The address it listens on (the real port when `0` was asked for).
    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 0)))
    }

    /// Serves until `shutdown` resolves.
    pub async fn serve(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        axum::serve(self.listener, self.app)
            .with_graceful_shutdown(shutdown)
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_are_counted_by_pattern_and_tokens_compare_whole() {
        assert_eq!(route_of("/api/v1/acme%237"), "/api/v1/{issue}");
        assert_eq!(route_of("/api/v1/a/b"), "other");
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
    }
}
