//! What every request passes first: the bearer token off loopback, and counting by route.

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use subtle::ConstantTimeEq;

use crate::api;
use crate::app::{json_response, AppState};

/// Whether two secrets are equal, in time that does not depend on where they differ (the
/// length is not secret: a token's length is public knowledge).
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    bool::from(a.ct_eq(b))
}

/// Bearer-token check (when a token is configured) and request counting by route pattern.
pub(crate) async fn guard(State(app): State<AppState>, request: Request, next: Next) -> Response {
    let route = route_of(request.uri().path());
    if let Some(token) = &app.auth_token {
        // Webhooks are authenticated by their receivers (signatures) instead.
        let open = route == "/healthz" || route == "/webhooks/{kind}";
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
        p if p.starts_with("/webhooks/") && p[10..].find('/').is_none() => "/webhooks/{kind}",
        p if p.starts_with("/api/v1/") && p[8..].find('/').is_none() => "/api/v1/{issue}",
        _ => "other",
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
