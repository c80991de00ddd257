//! Handlers of what the state store remembers: run history, a run with its events, its
//! agent log, and the audit tail. Response shapes are in [`crate::history`].

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::Value;
use symphony_store::{RunFilter, Store, StoreError};

use crate::app::{json_response, respond, AppState};
use crate::{api, history, usage_view};

/// An API error: the status and the envelope's code and message.
#[derive(Debug)]
pub(crate) struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }

    pub(crate) fn store(e: &StoreError) -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "store_unavailable",
            e.to_string(),
        )
    }
}

impl axum::response::IntoResponse for ApiError {
    fn into_response(self) -> Response {
        json_response(self.status, &api::error(self.code, &self.message))
    }
}

/// The store, or why there is none.
pub(crate) fn store_of(app: &AppState) -> Result<Arc<dyn Store>, ApiError> {
    app.orchestrator.store().ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "history_not_kept",
            "this service keeps no state store, so it has no run history",
        )
    })
}

/// `name`'s value in the query.
pub(crate) fn param<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// `limit` from the query: `default` when absent, at most `max`; a bad value is an error.
fn limit_of(pairs: &[(String, String)], default: usize, max: usize) -> Result<usize, ApiError> {
    match param(pairs, "limit") {
        None => Ok(default),
        Some(v) => v
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=max).contains(n))
            .ok_or_else(|| {
                ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "invalid_limit",
                    format!("limit must be a whole number from 1 to {max}"),
                )
            }),
    }
}

pub(crate) async fn runs_list(
    State(app): State<AppState>,
    uri: axum::http::Uri,
) -> Result<Response, ApiError> {
    let pairs = history::query_pairs(uri.query());
    let store = store_of(&app)?;
    let filter = RunFilter {
        issue: param(&pairs, "issue").map(str::to_owned),
        limit: Some(limit_of(&pairs, history::DEFAULT_RUNS, history::MAX_RUNS)?),
    };
    let runs = store.runs(filter).await.map_err(|e| ApiError::store(&e))?;
    Ok(json_response(
        StatusCode::OK,
        &history::runs(&runs, app.orchestrator.run_logs().as_deref()),
    ))
}

/// The run with id `id` and its kept events.
async fn run_with_events(
    app: &AppState,
    id: &str,
) -> Result<(symphony_store::RunRecord, Vec<symphony_store::EventRecord>), ApiError> {
    let store = store_of(app)?;
    let not_found = || {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "run_not_found",
            format!("no run {id} in the state store"),
        )
    };
    let run_id: i64 = id.parse().map_err(|_| not_found())?;
    let run = store
        .run(run_id)
        .await
        .map_err(|e| ApiError::store(&e))?
        .ok_or_else(not_found)?;
    let events = store
        .run_events(run_id)
        .await
        .map_err(|e| ApiError::store(&e))?;
    Ok((run, events))
}

pub(crate) async fn run_detail(
    State(app): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let (run, events) = run_with_events(&app, &id).await?;
    Ok(json_response(
        StatusCode::OK,
        &history::run_detail(&run, &events, app.orchestrator.run_logs().as_deref()),
    ))
}

pub(crate) async fn run_log(
    State(app): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let (run, events) = run_with_events(&app, &id).await?;
    // The full log when the service writes one (the store keeps only the newest events).
    if let Some(dir) = app.orchestrator.run_logs() {
        let path = symphony_orchestrator::run_log_path(&dir, run.id);
        if let Ok(text) = tokio::fs::read(path).await {
            return Ok(respond(StatusCode::OK, "text/plain; charset=utf-8", text));
        }
    }
    Ok(respond(
        StatusCode::OK,
        "text/plain; charset=utf-8",
        history::run_log(&run, &events),
    ))
}

/// The newest `limit` audit entries, optionally of the comma-separated `kinds` only.
pub(crate) async fn recent_audit(
    store: &dyn Store,
    kinds: Option<&str>,
    limit: usize,
) -> Result<Vec<symphony_store::AuditEntry>, StoreError> {
    match kinds {
        Some(kinds) => {
            let kinds: Vec<String> = kinds.split(',').map(|k| k.trim().to_owned()).collect();
            store.audit_tail_of(&kinds, limit).await
        }
        None => store.audit_tail(limit).await,
    }
}

pub(crate) async fn audit_events(
    State(app): State<AppState>,
    uri: axum::http::Uri,
) -> Result<Response, ApiError> {
    let pairs = history::query_pairs(uri.query());
    let store = store_of(&app)?;
    let limit = limit_of(&pairs, history::DEFAULT_EVENTS, history::MAX_RUNS)?;
    let entries = recent_audit(store.as_ref(), param(&pairs, "kind"), limit)
        .await
        .map_err(|e| ApiError::store(&e))?;
    Ok(json_response(StatusCode::OK, &history::events(&entries)))
}

/// `GET /api/v1/reviews`: the changes under review Symphony watches, oldest first.
pub(crate) async fn reviews_list(State(app): State<AppState>) -> Result<Response, ApiError> {
    let store = store_of(&app)?;
    let watches = store
        .review_watches()
        .await
        .map_err(|e| ApiError::store(&e))?;
    Ok(json_response(StatusCode::OK, &history::reviews(&watches)))
}

/// The usage view (`/api/v1/usage`) over the `days` UTC days ending today.
pub(crate) async fn usage_data(store: &dyn Store, days: u64) -> Result<Value, StoreError> {
    let now = symphony_store::wall_clock_ms();
    let today = symphony_store::utc_day(now);
    let mut per_day = Vec::new();
    for day in today.saturating_sub(days.saturating_sub(1))..=today {
        per_day.push((day, store.day_usage(day).await?));
    }
    let runs = store
        .runs(RunFilter {
            issue: None,
            limit: Some(usage_view::CHART_RUNS),
        })
        .await?;
    let verdicts = store
        .audit_tail_of(&["gate_verdict".to_owned()], usage_view::CHART_VERDICTS)
        .await?;
    Ok(usage_view::usage(&per_day, &runs, &verdicts, now))
}

/// `GET /api/v1/usage?days=N`: spend per day and hour, runs per day by outcome, gate verdicts.
pub(crate) async fn usage(
    State(app): State<AppState>,
    uri: axum::http::Uri,
) -> Result<Response, ApiError> {
    let pairs = history::query_pairs(uri.query());
    let days = match param(&pairs, "days") {
        None => usage_view::DEFAULT_DAYS,
        Some(v) => v
            .parse::<u64>()
            .ok()
            .filter(|n| (1..=usage_view::MAX_DAYS).contains(n))
            .ok_or_else(|| {
                ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "invalid_days",
                    format!(
                        "days must be a whole number from 1 to {}",
                        usage_view::MAX_DAYS
                    ),
                )
            })?,
    };
    let store = store_of(&app)?;
    let view = usage_data(store.as_ref(), days)
        .await
        .map_err(|e| ApiError::store(&e))?;
    Ok(json_response(StatusCode::OK, &view))
}
