//! One GitHub issue as read from REST or GraphQL, and its normalization (SPEC §11.3) under
//! the configured state source.

use serde_json::{json, Value};
use symphony_core::{BlockerRef, Issue};
use symphony_tracker::normalize::{normalize_labels, parse_timestamp, state_in};

use crate::config::{GithubConfig, StateSource, CLOSED, OPEN};

/// The fields Symphony reads, from either API.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct GhIssue {
    pub node_id: String,
    pub number: u64,
    pub title: String,
    pub body: Option<String>,
    pub open: bool,
    pub url: Option<String>,
    /// Label names as GitHub spells them.
    pub labels: Vec<String>,
    pub assignees: Vec<String>,
    pub created_at: Option<String>,
    pub updated_at: Option<String>,
    /// `owner/name`, when the payload says (GraphQL does; REST lists are already scoped).
    pub repository: Option<String>,
    /// Open issues blocking this one, by GitHub's dependency summary.
    pub open_blockers: u64,
    /// All blockers (open or closed), when known.
    pub total_blockers: u64,
    pub blockers: Vec<BlockerRef>,
    /// Board fields under the `project` source.
    pub project: Option<ProjectFields>,
}

/// An issue's item on the configured board.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ProjectFields {
    pub item_id: String,
    pub status: Option<String>,
    pub priority: Option<i64>,
}

/// Why a record cannot become an [`Issue`].
pub(crate) type Malformed = String;

fn required_str(value: &Value, key: &str) -> Result<String, Malformed> {
    match value.get(key) {
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(s.clone()),
        _ => Err(format!("`{key}` is missing or not a non-empty string")),
    }
}

fn optional_str(value: &Value, key: &str) -> Option<String> {
    value
        .get(key)
        .and_then(Value::as_str)
        .map(str::to_owned)
        .filter(|s| !s.trim().is_empty())
}

fn required_number(value: &Value, key: &str) -> Result<u64, Malformed> {
    value
        .get(key)
        .and_then(Value::as_u64)
        .filter(|n| *n > 0)
        .ok_or_else(|| format!("`{key}` is missing or not a positive integer"))
}

/// Whether a REST list entry is a pull request (the issues endpoints list both).
pub(crate) fn is_pull_request(value: &Value) -> bool {
    value.get("pull_request").is_some_and(|v| !v.is_null())
}

/// A REST issue object.
pub(crate) fn from_rest(value: &Value) -> Result<GhIssue, Malformed> {
    let state = required_str(value, "state")?;
    let labels = match value.get("labels") {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|l| match l {
                Value::String(name) => Some(name.clone()),
                Value::Object(_) => l.get("name").and_then(Value::as_str).map(str::to_owned),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    };
    let assignees = match value.get("assignees") {
        Some(Value::Array(items)) => logins(items),
        _ => value
            .get("assignee")
            .and_then(|a| a.get("login"))
            .and_then(Value::as_str)
            .map(|l| vec![l.to_owned()])
            .unwrap_or_default(),
    };
    let summary = value.get("issue_dependencies_summary");
    let count = |key: &str| {
        summary
            .and_then(|s| s.get(key))
            .and_then(Value::as_u64)
            .unwrap_or(0)
    };
    Ok(GhIssue {
        node_id: required_str(value, "node_id")?,
        number: required_number(value, "number")?,
        title: required_str(value, "title")?,
        body: optional_str(value, "body"),
        open: state.eq_ignore_ascii_case("open"),
        url: optional_str(value, "html_url"),
        labels,
        assignees,
        created_at: optional_str(value, "created_at"),
        updated_at: optional_str(value, "updated_at"),
        repository: None,
        open_blockers: count("blocked_by"),
        total_blockers: count("total_blocked_by"),
        blockers: Vec::new(),
        project: None,
    })
}

fn logins(items: &[Value]) -> Vec<String> {
    items
        .iter()
        .filter_map(|a| a.get("login").and_then(Value::as_str))
        .map(str::to_owned)
        .collect()
}

fn nodes<'v>(value: &'v Value, key: &str) -> &'v [Value] {
    value
        .get(key)
        .and_then(|c| c.get("nodes"))
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

/// `owner/name` of a GraphQL `repository { nameWithOwner }`.
pub(crate) fn graphql_repository(value: &Value) -> Option<String> {
    value
        .get("repository")
        .and_then(|r| r.get("nameWithOwner"))
        .and_then(Value::as_str)
        .map(str::to_owned)
}

/// A GraphQL `Issue` node (the fields of [`crate::graphql::ISSUE_FIELDS`]).
pub(crate) fn from_graphql(value: &Value, config: &GithubConfig) -> Result<GhIssue, Malformed> {
    let state = required_str(value, "state")?;
    let summary = value.get("issueDependenciesSummary");
    let count = |key: &str| {
        summary
            .and_then(|s| s.get(key))
            .and_then(Value::as_u64)
            .unwrap_or(0)
    };
    let blockers = nodes(value, "blockedBy")
        .iter()
        .filter_map(|b| blocker_from_graphql(b, config))
        .collect();
    Ok(GhIssue {
        node_id: required_str(value, "id")?,
        number: required_number(value, "number")?,
        title: required_str(value, "title")?,
        body: optional_str(value, "body"),
        open: state.eq_ignore_ascii_case("OPEN"),
        url: optional_str(value, "url"),
        labels: nodes(value, "labels")
            .iter()
            .filter_map(|l| l.get("name").and_then(Value::as_str).map(str::to_owned))
            .collect(),
        assignees: logins(nodes(value, "assignees")),
        created_at: optional_str(value, "createdAt"),
        updated_at: optional_str(value, "updatedAt"),
        repository: graphql_repository(value),
        open_blockers: count("blockedBy"),
        total_blockers: count("totalBlockedBy"),
        blockers,
        project: None,
    })
}

/// A blocker's identifier: ours for this repository, `owner/name#n` for another.
fn blocker_identifier(config: &GithubConfig, repository: Option<&str>, number: u64) -> String {
    match repository {
        Some(repo) if !repo.eq_ignore_ascii_case(&config.full_name()) => format!("{repo}#{number}"),
        _ => config.identifier(number),
    }
}

fn blocker_from_graphql(value: &Value, config: &GithubConfig) -> Option<BlockerRef> {
    let number = value.get("number").and_then(Value::as_u64)?;
    let identifier = blocker_identifier(config, graphql_repository(value).as_deref(), number);
    let open = value
        .get("state")
        .and_then(Value::as_str)
        .map(|s| s.eq_ignore_ascii_case("OPEN"));
    Some(BlockerRef::new(
        value.get("id").and_then(Value::as_str).map(str::to_owned),
        Some(identifier),
        open.map(|o| if o { OPEN } else { CLOSED }.to_owned()),
    ))
}

/// A REST blocker (an issue object from `dependencies/blocked_by`).
pub(crate) fn blocker_from_rest(value: &Value, config: &GithubConfig) -> Option<BlockerRef> {
    let number = value.get("number").and_then(Value::as_u64)?;
    let repository = value
        .get("repository_url")
        .and_then(Value::as_str)
        .and_then(|u| u.split("/repos/").nth(1))
        .map(str::to_owned);
    Some(BlockerRef::new(
        value
            .get("node_id")
            .and_then(Value::as_str)
            .map(str::to_owned),
        Some(blocker_identifier(config, repository.as_deref(), number)),
        value
            .get("state")
            .and_then(Value::as_str)
            .map(str::to_lowercase),
    ))
}

/// The integer in `P1`, `p2`, `3`, `priority 4`; anything else is unknown.
pub(crate) fn parse_priority(text: &str) -> Option<i64> {
    let digits: String = text
        .trim()
        .trim_start_matches(|c: char| !c.is_ascii_digit() && c != '-')
        .to_owned();
    digits.trim().parse().ok()
}

/// What a record is under the configured state source.
#[derive(Debug)]
pub(crate) enum Scoped {
    /// In scope, normalized.
    Issue(Box<Issue>),
    /// Not something the scheduler sees: an open issue without a state label, a board item
    /// without a status, an issue of another repository.
    OutOfScope,
}

/// Normalizes `gh` under `config`'s state source.
pub(crate) fn normalize(gh: &GhIssue, config: &GithubConfig) -> Scoped {
    if gh
        .repository
        .as_deref()
        .is_some_and(|r| !r.eq_ignore_ascii_case(&config.full_name()))
    {
        return Scoped::OutOfScope;
    }
    let mut ambiguous = false;
    let mut priority = None;
    let state = match &config.state_source {
        StateSource::Labels { prefix } => {
            if gh.open {
                let states: Vec<&str> = gh
                    .labels
                    .iter()
                    .filter_map(|l| strip_prefix_ignore_case(l, prefix))
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .collect();
                ambiguous = states.len() > 1;
                match states.first() {
                    Some(state) => (*state).to_owned(),
                    None => return Scoped::OutOfScope,
                }
            } else {
                CLOSED.to_owned()
            }
        }
        StateSource::Issue => if gh.open { OPEN } else { CLOSED }.to_owned(),
        StateSource::Project(_) => {
            let Some(fields) = &gh.project else {
                return Scoped::OutOfScope;
            };
            priority = fields.priority;
            match fields.status.as_deref().map(str::trim) {
                Some(status) if !status.is_empty() => status.to_owned(),
                _ => return Scoped::OutOfScope,
            }
        }
    };
    if !matches!(config.state_source, StateSource::Project(_)) {
        priority = gh
            .labels
            .iter()
            .find_map(|l| strip_prefix_ignore_case(l, &config.priority_label_prefix))
            .and_then(parse_priority);
    }
    let assigned = config
        .assignee
        .as_deref()
        .is_none_or(|login| gh.assignees.iter().any(|a| a.eq_ignore_ascii_case(login)));
    let open_blockers = gh.open_blockers > 0
        || gh.blockers.iter().any(|b| {
            b.state
                .as_deref()
                .is_some_and(|s| !state_in(s, &blocking_over(config)))
        });
    let mut native = json!({
        "repo": config.full_name(),
        "number": gh.number,
        "node_id": gh.node_id,
    });
    if let Some(fields) = &gh.project {
        native["project_item_id"] = json!(fields.item_id);
    }
    Scoped::Issue(Box::new({
        let mut issue = Issue::new(
            gh.node_id.clone(),
            config.identifier(gh.number),
            gh.title.clone(),
            state,
        );
        issue.native_ref = Some(native);
        issue.description = gh.body.clone();
        issue.priority = priority;
        issue.url = gh.url.clone();
        issue.assignee_id = gh.assignees.first().cloned();
        // State labels are the state, not labels (a `required_labels` rule never has to name
        // them).
        issue.labels = match &config.state_source {
            StateSource::Labels { prefix } => normalize_labels(
                gh.labels
                    .iter()
                    .filter(|l| strip_prefix_ignore_case(l, prefix).is_none()),
            ),
            _ => normalize_labels(&gh.labels),
        };
        issue.blocked_by = gh.blockers.clone();
        issue.dispatchable = gh.open && !ambiguous && assigned && !open_blockers;
        issue.created_at = gh.created_at.as_deref().and_then(parse_timestamp);
        issue.updated_at = gh.updated_at.as_deref().and_then(parse_timestamp);
        issue
    }))
}

/// Blocker states that no longer block: `closed` plus the configured terminal states.
fn blocking_over(config: &GithubConfig) -> Vec<String> {
    let mut over = config.terminal_states.clone();
    over.push(CLOSED.to_owned());
    over
}

pub(crate) fn strip_prefix_ignore_case<'l>(label: &'l str, prefix: &str) -> Option<&'l str> {
    let head = label.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &label[prefix.len()..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn priorities_parse_from_common_spellings() {
        assert_eq!(parse_priority("P1"), Some(1));
        assert_eq!(parse_priority("p2"), Some(2));
        assert_eq!(parse_priority("3"), Some(3));
        assert_eq!(parse_priority("urgent"), None);
    }

    #[test]
    fn label_prefixes_match_case_insensitively_on_char_boundaries() {
        assert_eq!(
            strip_prefix_ignore_case("Symphony:Todo", "symphony:"),
            Some("Todo")
        );
        assert_eq!(strip_prefix_ignore_case("sym", "symphony:"), None);
        assert_eq!(strip_prefix_ignore_case("ééééé", "symphony:"), None);
    }
}
