//! The review-thread operations of the fake's GraphQL: a pull request's threads (one per
//! top-level review comment, named `PRRT_fake<first comment id>`), paginated 100 at a time as
//! GitHub does, and `resolveReviewThread`, with GitHub's `NOT_FOUND` for an unknown thread.

use axum::http::StatusCode;
use serde_json::{json, Value};

use super::exchange::Reply;
use super::state::Shared;

const PAGE: usize = 100;
const PREFIX: &str = "PRRT_fake";

fn not_found(what: &str, path: &str) -> Reply {
    Reply::json(
        StatusCode::OK,
        json!({
            "data": { path: null },
            "errors": [{
                "type": "NOT_FOUND",
                "path": [path],
                "message": format!("Could not resolve to {what}."),
            }],
        }),
    )
}

/// `SymphonyReviewThreads`: `repository.pullRequest.reviewThreads` from `after`.
pub(crate) fn threads(shared: &mut Shared, variables: &Value) -> Reply {
    let text = |key: &str| variables.get(key).and_then(Value::as_str).unwrap_or("");
    let world = &shared.world;
    let Some(repo) = world.repo_index(text("owner"), text("name")) else {
        return not_found("a Repository with the name given", "repository");
    };
    let number = variables.get("number").and_then(Value::as_u64).unwrap_or(0);
    let Some(pull) = world.repos[repo].pull(number).and_then(|i| i.pull.as_ref()) else {
        return Reply::json(
            StatusCode::OK,
            json!({
                "data": { "repository": { "pullRequest": null } },
                "errors": [{
                    "type": "NOT_FOUND",
                    "path": ["repository", "pullRequest"],
                    "message": format!("Could not resolve to a PullRequest with the number of {number}."),
                }],
            }),
        );
    };
    let roots: Vec<u64> = pull
        .review_comments
        .iter()
        .filter(|c| c.in_reply_to.is_none())
        .map(|c| c.id)
        .collect();
    let start = match variables.get("after").and_then(Value::as_str) {
        Some(cursor) => match cursor.strip_prefix("cursor:").and_then(|n| n.parse().ok()) {
            Some(n) => n,
            None => {
                return Reply::json(
                    StatusCode::OK,
                    json!({"data": null, "errors": [{"message": format!("`{cursor}` does not appear to be a valid cursor.")}]}),
                )
            }
        },
        None => 0,
    };
    let shown: Vec<Value> = roots
        .iter()
        .skip(start)
        .take(PAGE)
        .map(|root| {
            json!({
                "id": format!("{PREFIX}{root}"),
                "isResolved": pull.resolved_threads.contains(root),
                "comments": { "nodes": [{ "databaseId": root }] },
            })
        })
        .collect();
    let end = start + shown.len();
    Reply::json(
        StatusCode::OK,
        json!({"data": {"repository": {"pullRequest": {"reviewThreads": {
            "pageInfo": { "hasNextPage": end < roots.len(), "endCursor": format!("cursor:{end}") },
            "nodes": shown,
        }}}}}),
    )
}

/// `SymphonyResolveThread`: marks the thread resolved.
pub(crate) fn resolve(shared: &mut Shared, variables: &Value) -> Reply {
    let thread = variables
        .get("thread")
        .and_then(Value::as_str)
        .unwrap_or("");
    let root = thread
        .strip_prefix(PREFIX)
        .and_then(|n| n.parse::<u64>().ok());
    let world = &mut shared.world;
    let found = root.and_then(|root| {
        world.repos.iter_mut().find_map(|r| {
            r.issues.iter_mut().find_map(|i| {
                let pull = i.pull.as_mut()?;
                pull.review_comments
                    .iter()
                    .any(|c| c.id == root && c.in_reply_to.is_none())
                    .then(|| pull.resolved_threads.insert(root))
            })
        })
    });
    if found.is_none() {
        return not_found(
            &format!("a node with the global id of '{thread}'"),
            "resolveReviewThread",
        );
    }
    Reply::json(
        StatusCode::OK,
        json!({"data": {"resolveReviewThread": {"thread": {"id": thread, "isResolved": true}}}}),
    )
}
