//! Remarks on a pull request's lines: one review (`event: COMMENT`) holding a comment per
//! remark, each carrying its key in a hidden marker so a remark already on the pull request is
//! not posted again when the change is proposed again.

use std::collections::BTreeSet;

use http::Method;
use serde_json::{json, Value};
use symphony_code_host::{CommentsPosted, LineComment};
use symphony_tracker::{TrackerError, TrackerErrorCategory};

use crate::client::Client;
use crate::config::GithubConfig;
use crate::handoff::send;
use crate::reviews::{get_all, Answers};

const MARKER: &str = "<!-- symphony:finding:";

/// The key a comment body carries, if it is one of Symphony's remarks.
fn key_of(body: &str) -> Option<&str> {
    let start = body.find(MARKER)? + MARKER.len();
    let rest = &body[start..];
    Some(rest[..rest.find(" -->")?].trim())
}

/// Posts the remarks not yet on pull request `number`, as one review on `head_sha`.
pub(crate) async fn post(
    client: &Client,
    answers: &Answers,
    config: &GithubConfig,
    (number, head_sha): (Option<u64>, &str),
    summary: &str,
    comments: &[LineComment],
) -> Result<CommentsPosted, TrackerError> {
    let number = number.ok_or_else(|| {
        TrackerError::new(
            TrackerErrorCategory::Request,
            "remarks need the pull request's number, and the proposal has none",
        )
    })?;
    let pulls = format!("/repos/{}/{}/pulls/{number}", config.owner, config.repo);
    let existing = get_all(
        client,
        answers,
        format!("{pulls}/comments?per_page=100"),
        Value::as_array,
    )
    .await?;
    let posted: BTreeSet<String> = existing
        .iter()
        .filter_map(|c| key_of(c.get("body")?.as_str()?).map(str::to_owned))
        .collect();
    let fresh: Vec<&LineComment> = comments
        .iter()
        .filter(|c| !posted.contains(&c.key))
        .collect();
    let already = u32::try_from(comments.len() - fresh.len()).unwrap_or(u32::MAX);
    if fresh.is_empty() {
        return Ok(CommentsPosted::new(0, already));
    }
    let review = json!({
        "commit_id": head_sha,
        "event": "COMMENT",
        "body": summary,
        "comments": fresh.iter().map(|c| json!({
            "path": c.path,
            "line": c.line,
            "side": "RIGHT",
            "body": format!("{}\n\n{MARKER}{} -->", c.body, c.key),
        })).collect::<Vec<_>>(),
    });
    send(
        client,
        Method::POST,
        &format!("{pulls}/reviews"),
        Some(&review),
    )
    .await?;
    Ok(CommentsPosted::new(
        u32::try_from(fresh.len()).unwrap_or(u32::MAX),
        already,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_read_back_from_the_marker() {
        assert_eq!(
            key_of("remark\n\n<!-- symphony:finding:ab12 -->"),
            Some("ab12")
        );
        assert_eq!(key_of("a person's comment"), None);
    }
}
