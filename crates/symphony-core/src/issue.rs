//! The normalized issue (SPEC §4.1.1).

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// One schedulable work item, normalized from whatever the tracker calls it.
///
/// Adapters fill it; the scheduler, prompt rendering and observability read it. Optional
/// provider metadata that could not be read is `None`/empty, never a reason to drop the issue.
///
/// `#[non_exhaustive]`: a field added here does not break an adapter. Build one with
/// [`Issue::new`] (the four required fields) and set the optional fields on it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct Issue {
    /// Stable dispatch identity within the tracker scope; opaque to the orchestrator.
    pub id: String,
    /// Non-secret provider identifiers for provider-native tools; opaque to the orchestrator.
    #[serde(default)]
    pub native_ref: Option<serde_json::Value>,
    /// Human-readable key (e.g. `ABC-123`), unique within the tracker scope; names the workspace.
    pub identifier: String,
    /// Issue title.
    pub title: String,
    /// Issue body, if any.
    #[serde(default)]
    pub description: Option<String>,
    /// Dispatch priority; lower numbers go first, `None` goes last.
    #[serde(default)]
    pub priority: Option<i64>,
    /// Provider-native state name, as the tracker spells it.
    pub state: String,
    /// Branch name the tracker suggests, if any.
    #[serde(default)]
    pub branch_name: Option<String>,
    /// Link to the issue in the tracker.
    #[serde(default)]
    pub url: Option<String>,
    /// Provider identity of the assignee.
    #[serde(default)]
    pub assignee_id: Option<String>,
    /// Labels, lowercased by the adapter.
    #[serde(default)]
    pub labels: Vec<String>,
    /// Issues that block this one, best effort.
    #[serde(default)]
    pub blocked_by: Vec<BlockerRef>,
    /// Adapter-derived eligibility for rules the generic scheduler cannot infer.
    #[serde(default = "default_dispatchable")]
    pub dispatchable: bool,
    /// When the issue was created.
    #[serde(default)]
    pub created_at: Option<DateTime<Utc>>,
    /// When the issue last changed.
    #[serde(default)]
    pub updated_at: Option<DateTime<Utc>>,
}

fn default_dispatchable() -> bool {
    true
}

/// A reference to a blocking issue (SPEC §4.1.1 `blocked_by`). Every part is optional:
/// build it with [`BlockerRef::new`] from what the tracker knows.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct BlockerRef {
    /// Tracker id of the blocker, when known.
    #[serde(default)]
    pub id: Option<String>,
    /// Human-readable key of the blocker, when known.
    #[serde(default)]
    pub identifier: Option<String>,
    /// Provider-native state of the blocker, when known.
    #[serde(default)]
    pub state: Option<String>,
}

impl Issue {
    /// An issue with its required fields (SPEC §4.1.1) and every optional one empty
    /// (`dispatchable` true: only an adapter's own rule says otherwise).
    pub fn new(
        id: impl Into<String>,
        identifier: impl Into<String>,
        title: impl Into<String>,
        state: impl Into<String>,
    ) -> Self {
        Self {
            id: id.into(),
            native_ref: None,
            identifier: identifier.into(),
            title: title.into(),
            description: None,
            priority: None,
            state: state.into(),
            branch_name: None,
            url: None,
            assignee_id: None,
            labels: Vec::new(),
            blocked_by: Vec::new(),
            dispatchable: true,
            created_at: None,
            updated_at: None,
        }
    }

    /// The issue's state, normalized for comparison (SPEC §4.2).
    pub fn normalized_state(&self) -> String {
        normalize_state(&self.state)
    }

    /// The first required field (`id`, `identifier`, `title`, `state`) that is blank, if any.
    pub fn blank_required_field(&self) -> Option<&'static str> {
        [
            ("id", &self.id),
            ("identifier", &self.identifier),
            ("title", &self.title),
            ("state", &self.state),
        ]
        .into_iter()
        .find(|(_, value)| value.trim().is_empty())
        .map(|(field, _)| field)
    }
}

impl BlockerRef {
    /// A blocker from its tracker id, key and state, each when known.
    pub fn new(id: Option<String>, identifier: Option<String>, state: Option<String>) -> Self {
        Self {
            id,
            identifier,
            state,
        }
    }
}

/// Normalizes a state name for comparison: surrounding whitespace trimmed, lowercased (SPEC §4.2).
pub fn normalize_state(state: &str) -> String {
    state.trim().to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minimal_json_issue_takes_documented_defaults() {
        let issue: Issue = serde_json::from_str(
            r#"{"id":"1","identifier":"ABC-1","title":"Fix it","state":"Todo"}"#,
        )
        .unwrap();
        assert!(issue.dispatchable);
        assert!(issue.labels.is_empty());
        assert_eq!(issue.description, None);
        assert_eq!(issue.normalized_state(), "todo");
    }

    #[test]
    fn state_normalization_trims_and_lowercases() {
        assert_eq!(normalize_state("  In Progress \n"), "in progress");
    }
}
