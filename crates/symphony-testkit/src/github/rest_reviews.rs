//! The REST handlers behind `rest::route` for what happens to a pull request after it opens:
//! its reviews and review comments, the check runs and the combined status of a commit. Lists
//! are paginated like GitHub's (`per_page`, `page`, a `Link` header).

use axum::http::StatusCode;
use serde_json::{json, Value};

use super::exchange::Reply;
use super::model::World;
use super::render;
use super::render_reviews;
use super::rest_query::{paged, param};

/// `GET /repos/o/r/pulls/{n}/reviews`, oldest first.
pub(crate) fn reviews(
    world: &World,
    repo: usize,
    base: &str,
    number: Option<u64>,
    pairs: &[(String, String)],
) -> Reply {
    let r = &world.repos[repo];
    let Some(pull) = number.and_then(|n| r.pull(n)) else {
        return Reply::not_found();
    };
    let reviews: Vec<_> = pull.pull.iter().flat_map(|p| &p.reviews).collect();
    paged(
        base,
        r.id,
        &format!("pulls/{}/reviews", pull.number),
        pairs,
        reviews,
        |review| render_reviews::review_json(base, r, pull, review),
        |shown, _| Value::Array(shown),
    )
}

/// `GET /repos/o/r/pulls/{n}/comments`, oldest first (`sort=created`, the default).
pub(crate) fn review_comments(
    world: &World,
    repo: usize,
    base: &str,
    number: Option<u64>,
    pairs: &[(String, String)],
) -> Reply {
    let r = &world.repos[repo];
    let Some(pull) = number.and_then(|n| r.pull(n)) else {
        return Reply::not_found();
    };
    let mut comments: Vec<_> = pull.pull.iter().flat_map(|p| &p.review_comments).collect();
    if param(pairs, "direction") == Some("desc") {
        comments.reverse();
    }
    paged(
        base,
        r.id,
        &format!("pulls/{}/comments", pull.number),
        pairs,
        comments,
        |comment| render_reviews::review_comment_json(base, r, pull, comment),
        |shown, _| Value::Array(shown),
    )
}

/// `GET /repos/o/r/commits/{ref}/check-runs`: the runs on that commit, newest first.
pub(crate) fn check_runs(
    world: &World,
    repo: usize,
    base: &str,
    sha: &str,
    pairs: &[(String, String)],
) -> Reply {
    let r = &world.repos[repo];
    let runs: Vec<_> = r
        .check_runs
        .iter()
        .rev()
        .filter(|run| run.head_sha == sha)
        .collect();
    paged(
        base,
        r.id,
        &format!("commits/{sha}/check-runs"),
        pairs,
        runs,
        |run| render::check_run_json(base, r, run),
        |shown, total| json!({"total_count": total, "check_runs": shown}),
    )
}

/// `GET /repos/o/r/commits/{ref}/status`: the combined status.
pub(crate) fn combined_status(world: &World, repo: usize, base: &str, sha: &str) -> Reply {
    let r = &world.repos[repo];
    Reply::json(
        StatusCode::OK,
        render_reviews::combined_status_json(base, r, sha),
    )
}
