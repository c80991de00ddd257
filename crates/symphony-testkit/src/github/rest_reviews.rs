//! The REST handlers behind `rest::route` for what happens to a pull request after it opens:
//! its reviews and review comments, the check runs and the combined status of a commit. Lists
//! are paginated like GitHub's (`per_page`, `page`, a `Link` header).

use axum::http::StatusCode;
use serde_json::{json, Value};

use super::exchange::Reply;
use super::model::{Review, ReviewComment, World};
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

/// `POST /repos/o/r/pulls/{n}/comments/{id}/replies`: a reply in the thread of a top-level
/// review comment, by the token's user (GitHub refuses replies to replies).
pub(crate) fn reply(
    world: &mut World,
    repo: usize,
    base: &str,
    (number, id): (Option<u64>, Option<u64>),
    body: Option<&Value>,
) -> Reply {
    let Some(text) = body.and_then(|b| b.get("body")).and_then(Value::as_str) else {
        return Reply::invalid("body is required");
    };
    let now = world.tick();
    let fresh = world.fresh_id();
    let Some(issue) = number.and_then(|n| world.repos[repo].pull_mut(n)) else {
        return Reply::not_found();
    };
    let pull = issue.pull.as_mut().expect("a pull request");
    let Some(parent) = id.and_then(|id| pull.review_comments.iter().find(|c| c.id == id)) else {
        return Reply::not_found();
    };
    if parent.in_reply_to.is_some() {
        return Reply::invalid("in_reply_to: replies to replies are not supported");
    }
    let comment = ReviewComment {
        id: fresh,
        review_id: None,
        user: "symphony-bot".to_owned(),
        path: parent.path.clone(),
        line: parent.line,
        body: text.to_owned(),
        commit_id: pull.head_sha.clone(),
        in_reply_to: Some(parent.id),
        created_at: now,
    };
    pull.review_comments.push(comment.clone());
    issue.updated_at = now;
    let number = issue.number;
    let r = &world.repos[repo];
    let issue = r.pull(number).expect("exists");
    Reply::json(
        StatusCode::CREATED,
        render_reviews::review_comment_json(base, r, issue, &comment),
    )
}

/// `POST /repos/o/r/pulls/{n}/requested_reviewers`: asks `reviewers` to review (GitHub
/// refuses the pull request's author).
pub(crate) fn request_reviewers(
    world: &mut World,
    repo: usize,
    base: &str,
    number: Option<u64>,
    body: Option<&Value>,
) -> Reply {
    let Some(reviewers) = body
        .and_then(|b| b.get("reviewers"))
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
    else {
        return Reply::invalid("reviewers is required");
    };
    if reviewers.iter().any(|r| r == "symphony-bot") {
        return Reply::invalid("Review cannot be requested from pull request author.");
    }
    let now = world.tick();
    let Some(issue) = number.and_then(|n| world.repos[repo].pull_mut(n)) else {
        return Reply::not_found();
    };
    let pull = issue.pull.as_mut().expect("a pull request");
    for reviewer in reviewers {
        if !pull.requested_reviewers.contains(&reviewer) {
            pull.requested_reviewers.push(reviewer);
        }
    }
    issue.updated_at = now;
    let number = issue.number;
    let r = &world.repos[repo];
    Reply::json(
        StatusCode::CREATED,
        render::pull_json(base, r, r.pull(number).expect("exists")),
    )
}

/// `GET /repos/o/r/git/ref/heads/{branch}`: where a pushed branch points (it moves with the
/// push; a pull request's head follows it a moment later on GitHub).
pub(crate) fn branch_ref(world: &World, repo: usize, base: &str, branch: &str) -> Reply {
    let r = &world.repos[repo];
    let Some(sha) = r.branches.get(branch) else {
        return Reply::not_found();
    };
    let api = format!("{base}/repos/{}", r.full_name());
    Reply::json(
        StatusCode::OK,
        json!({
            "ref": format!("refs/heads/{branch}"),
            "node_id": format!("REF_fake{}", sha.get(..12).unwrap_or(sha)),
            "url": format!("{api}/git/refs/heads/{branch}"),
            "object": {"sha": sha, "type": "commit", "url": format!("{api}/git/commits/{sha}")},
        }),
    )
}

/// `POST /repos/o/r/pulls/{n}/reviews`: a review by the token's user, submitted at once when
/// `event` is given (GitHub leaves it pending otherwise), with its inline comments. As GitHub
/// does, the whole review is refused when one comment is malformed (422).
pub(crate) fn create_review(
    world: &mut World,
    repo: usize,
    base: &str,
    number: Option<u64>,
    body: Option<&Value>,
) -> Reply {
    let body = body.cloned().unwrap_or(Value::Null);
    let state = match body.get("event").and_then(Value::as_str) {
        Some("COMMENT") => "COMMENTED",
        Some("APPROVE") => "APPROVED",
        Some("REQUEST_CHANGES") => "CHANGES_REQUESTED",
        None => "PENDING",
        Some(_) => return Reply::invalid("event must be APPROVE, REQUEST_CHANGES or COMMENT"),
    };
    let text = body
        .get("body")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    if state == "REQUEST_CHANGES" && text.trim().is_empty() {
        return Reply::invalid("body is required when requesting changes");
    }
    let mut inline = Vec::new();
    for comment in body
        .get("comments")
        .and_then(Value::as_array)
        .map_or(&[][..], Vec::as_slice)
    {
        let path = comment.get("path").and_then(Value::as_str);
        let words = comment.get("body").and_then(Value::as_str);
        let line = comment
            .get("line")
            .and_then(Value::as_u64)
            .and_then(|l| u32::try_from(l).ok())
            .filter(|l| *l >= 1);
        let side = comment
            .get("side")
            .and_then(Value::as_str)
            .unwrap_or("RIGHT");
        match (path, words, line) {
            (Some(path), Some(words), Some(line)) if side == "RIGHT" || side == "LEFT" => {
                inline.push((path.to_owned(), line, words.to_owned()))
            }
            _ => {
                return Reply::invalid(
                    "comments: each needs path, body and a line of the diff (side LEFT or RIGHT)",
                )
            }
        }
    }
    let now = world.tick();
    let id = world.fresh_id();
    let ids: Vec<u64> = inline.iter().map(|_| world.fresh_id()).collect();
    let Some(issue) = number.and_then(|n| world.repos[repo].pull_mut(n)) else {
        return Reply::not_found();
    };
    let pull = issue.pull.as_mut().expect("a pull request");
    let commit_id = body
        .get("commit_id")
        .and_then(Value::as_str)
        .map_or_else(|| pull.head_sha.clone(), str::to_owned);
    let review = Review {
        id,
        user: "symphony-bot".to_owned(),
        state: state.to_owned(),
        body: text,
        commit_id: commit_id.clone(),
        submitted_at: now,
    };
    pull.reviews.push(review.clone());
    for ((path, line, words), comment_id) in inline.into_iter().zip(ids) {
        pull.review_comments.push(ReviewComment {
            id: comment_id,
            review_id: Some(id),
            user: "symphony-bot".to_owned(),
            path,
            line: Some(line),
            body: words,
            commit_id: commit_id.clone(),
            in_reply_to: None,
            created_at: now,
        });
    }
    issue.updated_at = now;
    let number = issue.number;
    let r = &world.repos[repo];
    let issue = r.pull(number).expect("exists");
    Reply::json(
        StatusCode::OK,
        render_reviews::review_json(base, r, issue, &review),
    )
}
