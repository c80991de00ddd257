//! The state every route shares, and the response shapes they all use.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use serde_json::Value;
use symphony_orchestrator::SnapshotError;

use crate::metrics::ServerCounters;
use crate::orchestrator::Orchestrator;
use crate::{api, webhook};

/// What every handler gets.
#[derive(Clone)]
pub(crate) struct AppState {
    pub(crate) orchestrator: Arc<dyn Orchestrator>,
    pub(crate) counters: Arc<ServerCounters>,
    pub(crate) auth_token: Option<Arc<str>>,
    pub(crate) webhooks: Arc<symphony_tracker::WebhookReceivers>,
    pub(crate) deliveries: Arc<webhook::Deliveries>,
}

pub(crate) fn respond(
    status: StatusCode,
    content_type: &'static str,
    body: impl Into<Body>,
) -> Response {
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

pub(crate) fn json_response(status: StatusCode, value: &Value) -> Response {
    respond(
        status,
        "application/json",
        serde_json::to_vec_pretty(value).unwrap_or_default(),
    )
}

pub(crate) fn unavailable(e: &SnapshotError) -> Response {
    json_response(
        StatusCode::SERVICE_UNAVAILABLE,
        &api::error("orchestrator_unavailable", &e.to_string()),
    )
}
