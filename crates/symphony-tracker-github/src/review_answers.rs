//! Answering a review round on GitHub (ADR 0018): a reply in each review thread the round
//! addressed, the thread resolved (GraphQL `resolveReviewThread`: REST has no way), and the
//! reviewers who asked for changes asked again (`requested_reviewers`).

use std::collections::{BTreeMap, BTreeSet};

use http::Method;
use serde_json::{json, Value};
use symphony_code_host::{Feedback, FeedbackKind, RoundAnswer, WatchedChange};
use symphony_tracker::{TrackerError, TrackerErrorCategory};

use crate::client::Client;
use crate::config::GithubConfig;
use crate::graphql::{RESOLVE_THREAD, REVIEW_THREADS};
use crate::handoff::send;
use crate::reviews::{malformed, pull_number};

/// Pages of review threads read at most (100 threads each).
const MAX_THREAD_PAGES: usize = 20;

/// Answers the round on `watched`'s pull request.
pub(crate) async fn answer(
    client: &Client,
    config: &GithubConfig,
    watched: &WatchedChange,
    addressed: &[Feedback],
    reply: &str,
) -> Result<RoundAnswer, TrackerError> {
    let number = pull_number(watched)?;
    let pulls = format!("/repos/{}/{}/pulls/{number}", config.owner, config.repo);
    // Threads are named by their first comment's REST id (`reviews.rs`).
    let roots: BTreeSet<u64> = addressed
        .iter()
        .filter_map(|f| f.place.as_ref()?.thread.as_deref()?.parse().ok())
        .collect();
    let mut answer = RoundAnswer::default();
    for root in &roots {
        send(
            client,
            Method::POST,
            &format!("{pulls}/comments/{root}/replies"),
            Some(&json!({ "body": reply })),
        )
        .await?;
        answer.replied += 1;
    }
    if !roots.is_empty() {
        let threads = threads(client, config, number).await?;
        for root in &roots {
            let Some((thread, resolved)) = threads.get(root) else {
                continue;
            };
            if !resolved {
                resolve(client, thread).await?;
            }
            answer.resolved += 1;
        }
    }
    let reviewers: BTreeSet<String> = addressed
        .iter()
        .filter(|f| f.kind == FeedbackKind::ChangesRequested)
        .map(|f| f.author.clone())
        // Apps cannot be requested as reviewers.
        .filter(|login| !login.is_empty() && !login.ends_with("[bot]"))
        .collect();
    if !reviewers.is_empty() {
        let reviewers: Vec<String> = reviewers.into_iter().collect();
        send(
            client,
            Method::POST,
            &format!("{pulls}/requested_reviewers"),
            Some(&json!({ "reviewers": reviewers })),
        )
        .await?;
        answer.rerequested = reviewers;
    }
    Ok(answer)
}

/// The pull request's review threads by their first comment's id: node id and whether
/// resolved.
async fn threads(
    client: &Client,
    config: &GithubConfig,
    number: u64,
) -> Result<BTreeMap<u64, (String, bool)>, TrackerError> {
    let mut found = BTreeMap::new();
    let mut after = Value::Null;
    for _ in 0..MAX_THREAD_PAGES {
        let variables = json!({
            "owner": config.owner, "name": config.repo, "number": number, "after": after,
        });
        let (data, _) = client.graphql(REVIEW_THREADS, variables).await?;
        let page = data
            .pointer("/repository/pullRequest/reviewThreads")
            .ok_or_else(|| malformed("the review threads"))?;
        for node in page["nodes"].as_array().into_iter().flatten() {
            let (Some(id), Some(first)) = (
                node["id"].as_str(),
                node.pointer("/comments/nodes/0/databaseId")
                    .and_then(Value::as_u64),
            ) else {
                continue;
            };
            let resolved = node["isResolved"].as_bool().unwrap_or(false);
            found.insert(first, (id.to_owned(), resolved));
        }
        if page.pointer("/pageInfo/hasNextPage") != Some(&Value::Bool(true)) {
            break;
        }
        after = page
            .pointer("/pageInfo/endCursor")
            .cloned()
            .ok_or_else(|| malformed("the review threads' next page"))?;
    }
    Ok(found)
}

async fn resolve(client: &Client, thread: &str) -> Result<(), TrackerError> {
    let (data, errors) = client
        .graphql_repeatable_mutation(RESOLVE_THREAD, json!({ "thread": thread }))
        .await?;
    if data.pointer("/resolveReviewThread/thread/isResolved") == Some(&Value::Bool(true)) {
        return Ok(());
    }
    Err(TrackerError::new(
        TrackerErrorCategory::Response,
        format!(
            "GitHub did not resolve review thread {thread}: {}",
            crate::exchange::graphql_messages(&errors)
        ),
    ))
}
