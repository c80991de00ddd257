//! The two reads (SPEC §11.1): candidates by state and refreshes by id, both scoped to the
//! configured team and project, paginated with Linear's cursors and atomic (a failed page
//! fails the call).

use std::collections::BTreeSet;

use serde_json::{json, Value};
use symphony_core::Issue;
use symphony_tracker::{TrackerError, TrackerErrorCategory};

use crate::client::{Client, Repeat};
use crate::config::LinearConfig;
use crate::documents::{with_fragment, ISSUES};
use crate::record;

/// Linear's largest page.
const MAX_PAGE: usize = 250;

/// The scope filter: the team and/or the project.
pub(crate) fn scope(config: &LinearConfig) -> Value {
    let mut filter = serde_json::Map::new();
    if let Some(team) = &config.team {
        filter.insert("team".into(), json!({"key": {"eqIgnoreCase": team}}));
    }
    if let Some(slug) = &config.project_slug {
        filter.insert("project".into(), json!({"slugId": {"eq": slug}}));
    }
    Value::Object(filter)
}

/// What to do with a node that cannot be normalized.
#[derive(Clone, Copy, PartialEq, Eq)]
enum OnMalformed {
    /// Leave it out (a state read: it was never safe to dispatch).
    Omit,
    /// Fail the call (a refresh: the run's issue must be known).
    Fail,
}

/// Issues in `states` (compared case-insensitively), oldest first.
pub(crate) async fn by_states(
    client: &Client,
    config: &LinearConfig,
    states: &[String],
) -> Result<Vec<Issue>, TrackerError> {
    let wanted: Vec<Value> = states
        .iter()
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .map(|s| json!({"state": {"name": {"eqIgnoreCase": s}}}))
        .collect();
    if wanted.is_empty() {
        return Ok(Vec::new());
    }
    let filter = json!({"and": [scope(config), {"or": wanted}]});
    read_all(
        client,
        config,
        filter,
        config.page_size as usize,
        OnMalformed::Omit,
    )
    .await
}

/// Current snapshots of `ids` still in scope; each at most once.
pub(crate) async fn by_ids(
    client: &Client,
    config: &LinearConfig,
    ids: &[String],
) -> Result<Vec<Issue>, TrackerError> {
    let ids: BTreeSet<&str> = ids
        .iter()
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .collect();
    let ids: Vec<&str> = ids.into_iter().collect();
    let mut issues = Vec::new();
    for chunk in ids.chunks(MAX_PAGE) {
        let filter = json!({"and": [scope(config), {"id": {"in": chunk}}]});
        issues.extend(read_all(client, config, filter, chunk.len(), OnMalformed::Fail).await?);
    }
    Ok(issues)
}

async fn read_all(
    client: &Client,
    config: &LinearConfig,
    filter: Value,
    first: usize,
    on_malformed: OnMalformed,
) -> Result<Vec<Issue>, TrackerError> {
    let document = with_fragment(ISSUES);
    let mut issues: Vec<Issue> = Vec::new();
    let mut seen = BTreeSet::new();
    let mut cursors = BTreeSet::new();
    let mut after: Option<String> = None;
    loop {
        let data = client
            .graphql(
                &document,
                json!({"filter": filter, "first": first, "after": after}),
                Repeat::Safe,
            )
            .await?;
        let connection = data
            .get("issues")
            .filter(|c| c.is_object())
            .ok_or_else(|| response_error("the answer has no `issues` connection"))?;
        let nodes = connection
            .get("nodes")
            .and_then(Value::as_array)
            .ok_or_else(|| response_error("`issues.nodes` is not a list"))?;
        for node in nodes {
            if !record::in_scope(node, config) {
                // Linear applied the filter; a node outside it is not ours to act on.
                continue;
            }
            match record::issue(node, config) {
                Ok(issue) => {
                    // A page boundary that moved under us repeats an issue: keep the later
                    // snapshot, once.
                    if !seen.insert(issue.id.clone()) {
                        issues.retain(|i| i.id != issue.id);
                    }
                    issues.push(issue);
                }
                Err(malformed) if on_malformed == OnMalformed::Omit => {
                    tracing::warn!("linear: leaving out a malformed issue: {malformed}");
                }
                Err(malformed) => return Err(response_error(&malformed.to_string())),
            }
        }
        let page = connection.get("pageInfo");
        let more = page
            .and_then(|p| p.get("hasNextPage"))
            .and_then(Value::as_bool)
            .ok_or_else(|| response_error("`pageInfo.hasNextPage` is missing"))?;
        if !more {
            return Ok(issues);
        }
        let cursor = page
            .and_then(|p| p.get("endCursor"))
            .and_then(Value::as_str)
            .filter(|c| !c.is_empty())
            .ok_or_else(|| pagination_error("a next page was announced without an end cursor"))?;
        if !cursors.insert(cursor.to_owned()) {
            return Err(pagination_error("the same cursor came back twice"));
        }
        after = Some(cursor.to_owned());
    }
}

fn response_error(message: &str) -> TrackerError {
    TrackerError::new(TrackerErrorCategory::Response, format!("Linear: {message}"))
}

fn pagination_error(message: &str) -> TrackerError {
    TrackerError::new(
        TrackerErrorCategory::Pagination,
        format!("Linear: {message}"),
    )
}
