//! The routes: the JSON API, the dashboard, metrics, health, webhooks by kind, and JSON
//! 404/405s.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{Method, StatusCode};
use axum::response::Response;
use axum::routing::{get, post, MethodRouter};
use axum::Router;
use serde_json::json;
use symphony_store::RunFilter;
use symphony_tracker::WebhookReceivers;

use crate::app::{json_response, respond, unavailable, AppState};
use crate::config::ServerConfig;
use crate::guard::guard;
use crate::metrics::ServerCounters;
use crate::orchestrator::Orchestrator;
use crate::{api, dashboard, history, metrics, store_routes, webhook};

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

/// `GET /dashboard/charts`: the dashboard's charts alone, server-rendered as on the page, for
/// its script to redraw them while runs spend (every few seconds, not every poll: they read
/// the store's history).
async fn dashboard_charts(State(app): State<AppState>) -> Result<Response, store_routes::ApiError> {
    let store = store_routes::store_of(&app)?;
    let usage = store_routes::usage_data(store.as_ref(), crate::usage_view::DEFAULT_DAYS)
        .await
        .map_err(|e| store_routes::ApiError::store(&e))?;
    let budget = match app.orchestrator.snapshot().await {
        Ok(snapshot) => api::state(chrono::Utc::now(), &snapshot)["budget"].take(),
        Err(_) => json!({}),
    };
    Ok(respond(
        StatusCode::OK,
        "text/html; charset=utf-8",
        crate::charts::section(&usage, &budget),
    ))
}

async fn dashboard(State(app): State<AppState>) -> Response {
    let watched = match app.orchestrator.store() {
        Some(store) => store
            .review_watches()
            .await
            .ok()
            .map(|w| history::reviews(&w)),
        None => None,
    };
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
    let usage = match app.orchestrator.store() {
        Some(store) => store_routes::usage_data(store.as_ref(), crate::usage_view::DEFAULT_DAYS)
            .await
            .ok(),
        None => None,
    };
    let page = match app.orchestrator.snapshot().await {
        Ok(snapshot) => {
            let state = api::state(chrono::Utc::now(), &snapshot);
            let charts = usage
                .as_ref()
                .map(|u| crate::charts::section(u, &state["budget"]));
            dashboard::page(
                Some(&state),
                (reviews.as_ref(), watched.as_ref()),
                None,
                charts.as_deref(),
            )
        }
        Err(e) => dashboard::page(
            None,
            (reviews.as_ref(), watched.as_ref()),
            Some(&e.to_string()),
            None,
        ),
    };
    respond(StatusCode::OK, "text/html; charset=utf-8", page)
}

async fn metrics_text(State(app): State<AppState>) -> Response {
    let snapshot = app.orchestrator.snapshot().await.ok();
    respond(
        StatusCode::OK,
        symphony_metrics::CONTENT_TYPE,
        metrics::render(
            snapshot.as_ref(),
            &app.orchestrator.metrics(),
            &app.counters,
        ),
    )
}

async fn webhook(
    State(app): State<AppState>,
    Path(kind): Path<String>,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let (status, value, outcome) = webhook::receive(
        &app.webhooks,
        &kind,
        &app.deliveries,
        &headers,
        &body,
        |hint| {
            if hint.reviews {
                app.orchestrator.wake_reviews(hint.proposals.clone());
            }
            // Named issues are read alone; anything broader (a label renamed, a change
            // closing issues by number) needs the poll.
            if hint.issue_ids.is_empty() && !hint.poll {
                Some(webhook::Queued::Reviews)
            } else if hint.poll {
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
        },
    );
    // Only a registered kind becomes a label: a scan of random paths cannot grow the series.
    let label = if outcome == webhook::Outcome::NotConfigured {
        "unknown"
    } else {
        kind.as_str()
    };
    app.counters.webhook(label, outcome.as_str());
    if outcome == webhook::Outcome::BadSignature {
        tracing::warn!(
            kind = %label,
            "refused a webhook delivery: {}",
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
            // A daily budget's hold is a decision, not a fault: the service stays ready
            // (running work goes on), and the detail says why nothing new starts.
            None => json_response(
                StatusCode::OK,
                &match snapshot.day.held {
                    None => json!({"status": "ready"}),
                    Some(held) => json!({
                        "status": "ready",
                        "dispatch": {
                            "held": true,
                            "budget": held.kind,
                            "reason": format!(
                                "{held}: no new work is dispatched until the next UTC day"
                            ),
                        },
                    }),
                },
            ),
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

fn only<S: Clone + Send + Sync + 'static>(route: MethodRouter<S>) -> MethodRouter<S> {
    route.fallback(method_not_allowed)
}

/// The application: every route, the guard, and JSON 404/405s.
pub fn router(
    orchestrator: Arc<dyn Orchestrator>,
    config: &ServerConfig,
    counters: Arc<ServerCounters>,
    webhooks: WebhookReceivers,
) -> Router {
    let state = AppState {
        orchestrator,
        counters,
        auth_token: config.auth_token.as_deref().map(Arc::from),
        webhooks: Arc::new(webhooks),
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
        .route("/api/v1/reviews", only(get(store_routes::reviews_list)))
        .route("/api/v1/usage", only(get(store_routes::usage)))
        .route("/dashboard/charts", only(get(dashboard_charts)))
        .route("/issues/{identifier}", only(get(crate::issue_page::page)))
        .route("/api/v1/{identifier}", only(get(issue)))
        .route("/webhooks/{kind}", only(post(webhook)))
        .fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(state.clone(), guard))
        .with_state(state)
}
