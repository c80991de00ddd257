//! One request, served: authentication, faults, the REST or GraphQL answer, ETags, rate-limit
//! accounting and headers, and the exchange recorded.

use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::exchange::{weak_etag, Exchange, Reply};
use super::faults::Fault;
use super::state::{unix_now, NewIssue, Shared};
use super::{graphql, rest, rest_issues};

pub(crate) async fn handle(
    axum::extract::State(state): axum::extract::State<Arc<Mutex<Shared>>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_owned();
    let query = uri.query().map(str::to_owned);
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let if_none_match = header("if-none-match");
    let authorization = header("authorization");
    let user_agents: Vec<String> = headers
        .get_all(axum::http::header::USER_AGENT)
        .iter()
        .filter_map(|v| v.to_str().ok().map(str::to_owned))
        .collect();
    let request_body: Option<Value> = serde_json::from_slice(&body).ok();
    let fault = {
        let mut shared = state.lock().unwrap_or_else(|e| e.into_inner());
        shared.take_fault(&method, &path)
    };
    if let Some(Fault::Slow(delay)) = &fault {
        tokio::time::sleep(*delay).await;
    }
    let mut shared = state.lock().unwrap_or_else(|e| e.into_inner());
    let graphql_call = path == "/graphql" || path == "/api/graphql";
    let authorized = authorization.as_deref().is_some_and(|a| {
        a.strip_prefix("Bearer ")
            .or_else(|| a.strip_prefix("token "))
            .is_some_and(|t| t == shared.token)
    });
    let mut faulted = fault.is_some() && !matches!(fault, Some(Fault::Slow(_)));
    let mut reply = if user_agents.is_empty() {
        // GitHub's answer to a request without a User-Agent.
        Reply::error(
            StatusCode::FORBIDDEN,
            "Request forbidden by administrative rules. Please make sure your request has a \
             User-Agent header (https://docs.github.com/en/rest/overview/resources-in-the-rest-api#user-agent-required).",
        )
    } else if !authorized {
        Reply::error(StatusCode::UNAUTHORIZED, "Bad credentials")
    } else {
        match &fault {
            Some(Fault::Status(code)) => {
                let status =
                    StatusCode::from_u16(*code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
                Reply::error(status, status.canonical_reason().unwrap_or("Server Error"))
            }
            Some(Fault::SecondaryRateLimit { retry_after_s }) => {
                let mut reply = Reply::error(
                    StatusCode::FORBIDDEN,
                    "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
                );
                reply
                    .headers
                    .push(("retry-after", retry_after_s.to_string()));
                reply
            }
            Some(Fault::PrimaryRateLimit { reset_in_s }) => {
                let mut reply = Reply::error(
                    StatusCode::FORBIDDEN,
                    "API rate limit exceeded for user ID 1.",
                );
                reply.headers.push(("x-ratelimit-remaining", "0".into()));
                reply
                    .headers
                    .push(("x-ratelimit-reset", (unix_now() + reset_in_s).to_string()));
                reply
            }
            _ if graphql_call && method == Method::POST => {
                graphql::answer(&mut shared, request_body.as_ref())
            }
            Some(Fault::LostAnswer(code)) => {
                let _done = rest::route(
                    &mut shared,
                    &method,
                    &path,
                    query.as_deref(),
                    request_body.as_ref(),
                );
                let status = StatusCode::from_u16(*code).unwrap_or(StatusCode::BAD_GATEWAY);
                Reply::error(status, status.canonical_reason().unwrap_or("Server Error"))
            }
            _ => rest::route(
                &mut shared,
                &method,
                &path,
                query.as_deref(),
                request_body.as_ref(),
            ),
        }
    };
    // Serialize once: the ETag is over the exact bytes a 200 would carry.
    let bytes = reply
        .body
        .as_ref()
        .map(|b| serde_json::to_vec(b).unwrap_or_default());
    let mut counted = authorized;
    if method == Method::GET && reply.status == StatusCode::OK {
        if let Some(bytes) = &bytes {
            let etag = weak_etag(bytes);
            if if_none_match.as_deref() == Some(etag.as_str()) {
                reply = Reply::empty(StatusCode::NOT_MODIFIED);
                counted = false;
            }
            reply.headers.push(("etag", etag));
        }
    }
    let budget_key = if graphql_call { "graphql" } else { "core" };
    let budget = if graphql_call {
        &mut shared.graphql
    } else {
        &mut shared.core
    };
    if counted {
        budget.used += 1;
    }
    let (limit, used) = (budget.limit, budget.used);
    let reset = shared.reset;
    let mut rate_headers = vec![
        ("x-ratelimit-limit", limit.to_string()),
        (
            "x-ratelimit-remaining",
            limit.saturating_sub(used).to_string(),
        ),
        ("x-ratelimit-reset", reset.to_string()),
        ("x-ratelimit-used", used.to_string()),
        ("x-ratelimit-resource", budget_key.to_string()),
    ];
    // A fault's own rate headers win.
    rate_headers.retain(|(name, _)| !reply.headers.iter().any(|(n, _)| n == name));
    let malformed = matches!(fault, Some(Fault::MalformedJson)) && authorized;
    if let Some(Fault::BackdatedIssueAfter { title, labels }) = &fault {
        if let Some(repo) = super::rest_query::repo_of_path(&shared.world, &path) {
            let new = NewIssue {
                title: title.clone(),
                labels: labels.clone(),
                ..NewIssue::default()
            };
            rest_issues::file_issue(
                &mut shared.world,
                repo,
                new,
                Some(chrono::DateTime::UNIX_EPOCH),
            );
        }
        faulted = false;
    }
    let response_body = if reply.status == StatusCode::NOT_MODIFIED {
        None
    } else {
        reply.body.clone()
    };
    shared.exchanges.push(Exchange {
        method: method.to_string(),
        path: path.clone(),
        query,
        if_none_match,
        authorization,
        user_agents,
        request_body,
        status: reply.status.as_u16(),
        response_body,
        faulted,
        counted,
    });
    drop(shared);
    let mut response = if reply.status == StatusCode::NOT_MODIFIED {
        reply.status.into_response()
    } else if malformed {
        (reply.status, "{\"message\": \"half a bod").into_response()
    } else {
        match bytes {
            Some(bytes) => (reply.status, bytes).into_response(),
            None => reply.status.into_response(),
        }
    };
    let out = response.headers_mut();
    if reply.status != StatusCode::NOT_MODIFIED && (reply.body.is_some() || malformed) {
        out.insert(
            "content-type",
            HeaderValue::from_static("application/json; charset=utf-8"),
        );
    }
    out.insert(
        "x-github-api-version-selected",
        HeaderValue::from_static("2022-11-28"),
    );
    for (name, value) in rate_headers.into_iter().chain(reply.headers) {
        if let Ok(value) = HeaderValue::from_str(&value) {
            out.insert(name, value);
        }
    }
    response
}
