//! Reviews, review comments and combined statuses as GitHub's REST API renders them
//! (`pull-request-review`, `pull-request-review-comment`, `combined-commit-status` in the
//! pinned OpenAPI description).

use serde_json::{json, Value};

use super::model::{CommitStatus, FakeIssue, Repo, Review, ReviewComment};
use super::render::{repository_json, status_json, timestamp, user};

/// A review of pull request `pull`.
pub(crate) fn review_json(base: &str, repo: &Repo, pull: &FakeIssue, review: &Review) -> Value {
    let full = repo.full_name();
    let web = format!("https://github.example/{full}/pull/{}", pull.number);
    let api = format!("{base}/repos/{full}/pulls/{}", pull.number);
    json!({
        "id": review.id, "node_id": format!("PRR_fake{}", review.id),
        "user": user(base, &review.user), "body": review.body, "state": review.state,
        "html_url": format!("{web}#pullrequestreview-{}", review.id),
        "pull_request_url": api,
        "_links": {
            "html": {"href": format!("{web}#pullrequestreview-{}", review.id)},
            "pull_request": {"href": api}
        },
        "submitted_at": timestamp(review.submitted_at), "commit_id": review.commit_id,
        "author_association": "MEMBER"
    })
}

/// An inline comment on pull request `pull`.
pub(crate) fn review_comment_json(
    base: &str,
    repo: &Repo,
    pull: &FakeIssue,
    comment: &ReviewComment,
) -> Value {
    let full = repo.full_name();
    let url = format!("{base}/repos/{full}/pulls/comments/{}", comment.id);
    let web = format!(
        "https://github.example/{full}/pull/{}#discussion_r{}",
        pull.number, comment.id
    );
    let pull_url = format!("{base}/repos/{full}/pulls/{}", pull.number);
    let mut value = json!({
        "url": url, "id": comment.id, "node_id": format!("PRRC_fake{}", comment.id),
        "pull_request_review_id": comment.review_id,
        "diff_hunk": "@@ -1,1 +1,1 @@", "path": comment.path,
        "commit_id": comment.commit_id, "original_commit_id": comment.commit_id,
        "user": user(base, &comment.user), "body": comment.body,
        "created_at": timestamp(comment.created_at), "updated_at": timestamp(comment.created_at),
        "html_url": web, "pull_request_url": pull_url, "author_association": "MEMBER",
        "_links": {
            "self": {"href": url}, "html": {"href": web}, "pull_request": {"href": pull_url}
        },
        "subject_type": if comment.line.is_some() { "line" } else { "file" },
        "side": "RIGHT"
    });
    if let Some(map) = value.as_object_mut() {
        if let Some(line) = comment.line {
            map.insert("line".into(), json!(line));
            map.insert("original_line".into(), json!(line));
        }
        if let Some(parent) = comment.in_reply_to {
            map.insert("in_reply_to_id".into(), json!(parent));
        }
    }
    value
}

/// The combined status of `sha`: the latest status per context, and their overall state.
pub(crate) fn combined_status_json(base: &str, repo: &Repo, sha: &str) -> Value {
    let mut latest: Vec<&CommitStatus> = Vec::new();
    for status in repo.statuses.iter().rev().filter(|s| s.sha == sha) {
        if !latest.iter().any(|s| s.context == status.context) {
            latest.push(status);
        }
    }
    let state = if latest
        .iter()
        .any(|s| s.state == "failure" || s.state == "error")
    {
        "failure"
    } else if latest.is_empty() || latest.iter().any(|s| s.state == "pending") {
        "pending"
    } else {
        "success"
    };
    let full = repo.full_name();
    json!({
        "state": state, "sha": sha, "total_count": latest.len(),
        "statuses": latest.iter().map(|s| status_json(base, repo, s.id, s)).collect::<Vec<_>>(),
        "repository": repository_json(base, repo),
        "commit_url": format!("{base}/repos/{full}/commits/{sha}"),
        "url": format!("{base}/repos/{full}/commits/{sha}/status")
    })
}
