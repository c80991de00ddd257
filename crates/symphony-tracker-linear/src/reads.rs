//! The two reads (SPEC §11.1): candidates by state and refreshes by id, both scoped to the
//! configured team and project, paginated with Linear's cursors and atomic (a failed page
//! fails the call).

use std::collections::BTreeSet;

use chrono::SecondsFormat;
use serde_json::{json, Value};
use symphony_core::Issue;
use symphony_tracker::{CandidateRead, TrackerError, TrackerErrorCategory};

use crate::client::{Client, Repeat};
use crate::config::LinearConfig;
use crate::documents::{with_fragment, ISSUES, NEWEST};
use crate::record;

/// Issues per refresh query: at about 65 complexity points an issue, 100 stay well under
/// Linear's 10 000-point limit on one query.
const MAX_PAGE: usize = 100;

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

/// Incremental reads between two complete ones: what an incremental read cannot see (an
/// issue deleted, or moved out of the team or project) is seen by the next complete read.
pub const COMPLETE_EVERY: u32 = 30;

/// Issues per page of an incremental read. Linear charges a query by its shape (the page size
/// times an issue's cost), not by what it returns: an idle poll with pages of 10 costs about
/// 670 points instead of 3 300, which matters at 120 polls an hour; a busy interval pages on.
const INCREMENTAL_PAGE: usize = 10;

/// The mark of a candidate read: the newest `updatedAt` seen, and how many incremental reads
/// came since the last complete one.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Mark {
    newest: String,
    incremental: u32,
}

impl Mark {
    fn parse(text: &str) -> Option<Self> {
        let mut parts = text.splitn(3, ';');
        if parts.next()? != "linear1" {
            return None;
        }
        let newest = parts.next().filter(|t| !t.is_empty())?.to_owned();
        let incremental = parts.next()?.parse().ok()?;
        Some(Self {
            newest,
            incremental,
        })
    }

    fn render(&self) -> String {
        format!("linear1;{};{}", self.newest, self.incremental)
    }

    /// The newest `updatedAt` of `issues`, or `since` when it is newer (or they have none).
    fn newest(issues: &[Issue], since: Option<&str>) -> Option<String> {
        issues
            .iter()
            .filter_map(|i| i.updated_at)
            .max()
            .map(|t| t.to_rfc3339_opts(SecondsFormat::Millis, true))
            .into_iter()
            .chain(since.map(str::to_owned))
            .max()
    }
}

/// The poll's read (ADR 0017): with a mark, only the issues in scope updated since it,
/// whatever their state (one request when nothing changed); without one, or every
/// [`COMPLETE_EVERY`] reads, every candidate.
pub(crate) async fn candidates(
    client: &Client,
    config: &LinearConfig,
    states: &[String],
    since: Option<&str>,
) -> Result<CandidateRead, TrackerError> {
    let mark = since
        .and_then(Mark::parse)
        .filter(|m| m.incremental < COMPLETE_EVERY);
    let Some(mark) = mark else {
        let issues = by_states(client, config, states).await?;
        // From the newest change in scope, not among the candidates only: an issue outside
        // the states changed since is no news to the next poll.
        let data = client
            .graphql(NEWEST, json!({"filter": scope(config)}), Repeat::Safe)
            .await?;
        let in_scope = data
            .pointer("/issues/nodes/0/updatedAt")
            .and_then(Value::as_str)
            .and_then(symphony_tracker::normalize::parse_timestamp)
            .map(|t| t.to_rfc3339_opts(SecondsFormat::Millis, true));
        let newest = Mark::newest(&issues, in_scope.as_deref());
        let next = newest.map(|newest| Mark {
            newest,
            incremental: 0,
        });
        return Ok(CandidateRead::complete(issues).with_mark(next.map(|m| m.render())));
    };
    let filter = json!({"and": [scope(config), {"updatedAt": {"gt": mark.newest}}]});
    let issues = read_all(client, config, filter, INCREMENTAL_PAGE, OnMalformed::Omit).await?;
    let next = Mark {
        newest: Mark::newest(&issues, Some(&mark.newest)).unwrap_or(mark.newest),
        incremental: mark.incremental + 1,
    };
    Ok(CandidateRead::changed(issues, next.render()))
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
