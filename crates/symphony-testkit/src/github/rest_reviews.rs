//! The REST handlers behind `rest::route` for what happens to a pull request after it opens:
//! its reviews and review comments, the check runs and the combined status of a commit. Lists
//! are paginated like GitHub's (`per_page`, `page`, a `Link` header).

use axum::http::StatusCode;
use serde_json::{json, Value};

use super::exchange::Reply;
use super::model::World;
use super::render;
use super::render_reviews;
use super::rest_query::{encode, param};

/// `items` as page `page` of `per_page`, with GitHub's `Link` header pointing at
/// `/repositories/<id>/<list>` with the query kept.
fn paged(
    base: &str,
    repo_id: u64,
    list: &str,
    pairs: &[(String, String)],
    items: Vec<Value>,
    wrap: impl FnOnce(Vec<Value>, usize) -> Value,
) -> Reply {
    let per_page = param(pairs, "per_page")
        .and_then(|p| p.parse::<usize>().ok())
        .unwrap_or(30)
        .clamp(1, 100);
    let page = param(pairs, "page")
        .and_then(|p| p.parse::<usize>().ok())
        .unwrap_or(1)
        .max(1);
    let total = items.len();
    let pages = total.div_ceil(per_page).max(1);
    let shown: Vec<Value> = items
        .into_iter()
        .skip((page - 1) * per_page)
        .take(per_page)
        .collect();
    let mut reply = Reply::json(StatusCode::OK, wrap(shown, total));
    let link = |n: usize| {
        let mut query: Vec<String> = pairs
            .iter()
            .filter(|(k, _)| k != "page")
            .map(|(k, v)| format!("{k}={}", encode(v)))
            .collect();
        query.push(format!("page={n}"));
        format!("<{base}/repositories/{repo_id}/{list}?{}>", query.join("&"))
    };
    let mut links = Vec::new();
    if page < pages {
        links.push(format!("{}; rel=\"next\"", link(page + 1)));
        links.push(format!("{}; rel=\"last\"", link(pages)));
    }
    if page > 1 {
        links.push(format!("{}; rel=\"prev\"", link(page - 1)));
        links.push(format!("{}; rel=\"first\"", link(1)));
    }
    if !links.is_empty() {
        reply.headers.push(("link", links.join(", ")));
    }
    reply
}

/// `GET /repos/o/r/pulls/{n}/reviews`, oldest first.
pub(crate) fn reviews(
    world: &World,
    repo: usize,
    base: &str,
    number: Option<u64>,
    pairs: &[(String, String)],
) -> Reply {
    let r = &world.repos[repo];
    let Some(pull) = number.and_then(|n| r.issue(n)).filter(|i| i.pull.is_some()) else {
        return Reply::not_found();
    };
    let items = pull
        .pull
        .iter()
        .flat_map(|p| &p.reviews)
        .map(|review| render_reviews::review_json(base, r, pull, review))
        .collect();
    paged(
        base,
        r.id,
        &format!("pulls/{}/reviews", pull.number),
        pairs,
        items,
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
    let Some(pull) = number.and_then(|n| r.issue(n)).filter(|i| i.pull.is_some()) else {
        return Reply::not_found();
    };
    let mut comments: Vec<_> = pull.pull.iter().flat_map(|p| &p.review_comments).collect();
    if param(pairs, "direction") == Some("desc") {
        comments.reverse();
    }
    let items = comments
        .into_iter()
        .map(|comment| render_reviews::review_comment_json(base, r, pull, comment))
        .collect();
    paged(
        base,
        r.id,
        &format!("pulls/{}/comments", pull.number),
        pairs,
        items,
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
    let items = r
        .check_runs
        .iter()
        .rev()
        .filter(|run| run.head_sha == sha)
        .map(|run| render::check_run_json(base, r, run))
        .collect();
    paged(
        base,
        r.id,
        &format!("commits/{sha}/check-runs"),
        pairs,
        items,
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
