//! A Linear issue node (the `SymphonyIssue` fragment) to a normalized [`Issue`] (SPEC
//! §4.1.1): required fields or an error, best-effort metadata or nothing.

use serde_json::{json, Value};
use symphony_core::{BlockerRef, Issue};
use symphony_tracker::normalize::{normalize_labels, parse_timestamp};

use crate::config::LinearConfig;

/// Why a node cannot be an issue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Malformed {
    /// The node's id or identifier, when it has one.
    pub(crate) which: String,
    /// The field that is missing or broken.
    pub(crate) field: &'static str,
}

impl std::fmt::Display for Malformed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "issue {} has no usable `{}`", self.which, self.field)
    }
}

fn text<'a>(node: &'a Value, pointer: &str) -> Option<&'a str> {
    node.pointer(pointer)
        .and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty())
}

/// Workflow state types whose issues are finished, whatever the state is called.
fn terminal_type(kind: Option<&str>) -> bool {
    matches!(kind, Some("completed" | "canceled"))
}

/// Normalizes `node`. Blockers come from `inverseRelations` of type `blocks` (the other
/// issue blocks this one); a blocker in a terminal state (by name or by type) is kept as a
/// reference but no longer blocks. `assignee` in the configuration makes every other issue
/// not dispatchable.
pub(crate) fn issue(node: &Value, config: &LinearConfig) -> Result<Issue, Malformed> {
    let which = text(node, "/identifier")
        .or_else(|| text(node, "/id"))
        .unwrap_or("(no id)")
        .to_owned();
    let required = |pointer: &str, field: &'static str| {
        text(node, pointer).ok_or_else(|| Malformed {
            which: which.clone(),
            field,
        })
    };
    let id = required("/id", "id")?;
    let identifier = required("/identifier", "identifier")?;
    let title = required("/title", "title")?;
    let state = required("/state/name", "state")?;
    let mut issue = Issue::new(id, identifier, title, state);
    issue.description = text(node, "/description").map(str::to_owned);
    // Linear: 0 is "no priority", 1 urgent … 4 low.
    issue.priority = node
        .get("priority")
        .and_then(Value::as_f64)
        .filter(|p| p.fract() == 0.0 && (1.0..=4.0).contains(p))
        .map(|p| p as i64);
    issue.branch_name = text(node, "/branchName").map(str::to_owned);
    issue.url = text(node, "/url").map(str::to_owned);
    issue.assignee_id = text(node, "/assignee/id").map(str::to_owned);
    issue.labels = normalize_labels(
        node.pointer("/labels/nodes")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|l| l.get("name").and_then(Value::as_str)),
    );
    issue.blocked_by = node
        .pointer("/inverseRelations/nodes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|r| r.get("type").and_then(Value::as_str) == Some("blocks"))
        .filter_map(|r| r.get("issue"))
        .map(|b| {
            let state = text(b, "/state/name").map(str::to_owned);
            // A blocker finished by type but named unlike any terminal state is still
            // finished: say so in the spelling the scheduler compares.
            let state = match (&state, terminal_type(text(b, "/state/type"))) {
                (Some(name), true) if !config.is_terminal_name(name) => {
                    config.terminal_states.first().cloned().or(state.clone())
                }
                _ => state,
            };
            BlockerRef::new(
                text(b, "/id").map(str::to_owned),
                text(b, "/identifier").map(str::to_owned),
                state,
            )
        })
        .collect();
    issue.created_at = text(node, "/createdAt").and_then(parse_timestamp);
    issue.updated_at = text(node, "/updatedAt").and_then(parse_timestamp);
    if let Some(wanted) = &config.assignee {
        issue.dispatchable = match wanted.as_str() {
            "me" => node.pointer("/assignee/isMe").and_then(Value::as_bool) == Some(true),
            // A user's id (as the reference implementation takes it) or email.
            wanted => {
                text(node, "/assignee/id") == Some(wanted)
                    || text(node, "/assignee/email").is_some_and(|e| e.eq_ignore_ascii_case(wanted))
            }
        };
    }
    issue.native_ref = Some(json!({
        "id": issue.id,
        "identifier": issue.identifier,
        "team": text(node, "/team/key"),
        "team_id": text(node, "/team/id"),
        "project": text(node, "/project/slugId"),
        "state_type": text(node, "/state/type"),
    }));
    Ok(issue)
}

/// Whether `node` is inside the configured team and project.
pub(crate) fn in_scope(node: &Value, config: &LinearConfig) -> bool {
    let team_ok = config
        .team
        .as_deref()
        .is_none_or(|team| text(node, "/team/key").is_some_and(|k| k.eq_ignore_ascii_case(team)));
    let project_ok = config
        .project_slug
        .as_deref()
        .is_none_or(|slug| text(node, "/project/slugId") == Some(slug));
    team_ok && project_ok
}

#[cfg(test)]
mod tests {
    use super::*;
    use symphony_workflow::ProviderConfig;

    fn config(extra: Value) -> LinearConfig {
        let mut values = json!({"api_key": "k", "team": "ENG"});
        values
            .as_object_mut()
            .unwrap()
            .extend(extra.as_object().cloned().unwrap_or_default());
        LinearConfig::from_provider(
            &ProviderConfig::new(values.as_object().cloned().unwrap()),
            vec!["Done".into(), "Canceled".into()],
        )
        .unwrap()
    }

    fn node() -> Value {
        json!({
            "id": "9c1e", "identifier": "ENG-7", "title": "Fix it", "description": "Body",
            "priority": 2, "url": "https://linear.app/acme/issue/ENG-7", "branchName": "eng-7-fix-it",
            "createdAt": "2026-12-01T10:00:00.000Z", "updatedAt": "2026-12-02T10:00:00.000Z",
            "state": {"name": "Todo", "type": "unstarted"},
            "team": {"id": "t1", "key": "ENG"}, "project": null,
            "assignee": {"id": "u1", "email": "Bot@Acme.test", "isMe": true},
            "labels": {"nodes": [{"name": "Bug"}, {"name": " bug "}]},
            "inverseRelations": {"nodes": [
                {"type": "blocks", "issue": {"id": "b1", "identifier": "ENG-1", "state": {"name": "In Review", "type": "started"}}},
                {"type": "blocks", "issue": {"id": "b2", "identifier": "ENG-2", "state": {"name": "Shipped", "type": "completed"}}},
                {"type": "related", "issue": {"id": "r1", "identifier": "ENG-3", "state": {"name": "Todo", "type": "unstarted"}}}
            ]}
        })
    }

    #[test]
    fn a_full_node_normalizes_with_blockers_by_relation_type() {
        let issue = issue(&node(), &config(json!({}))).unwrap();
        assert_eq!(issue.identifier, "ENG-7");
        assert_eq!(issue.priority, Some(2));
        assert_eq!(issue.labels, ["bug"]);
        assert_eq!(issue.branch_name.as_deref(), Some("eng-7-fix-it"));
        let blockers: Vec<_> = issue
            .blocked_by
            .iter()
            .map(|b| (b.identifier.clone().unwrap(), b.state.clone().unwrap()))
            .collect();
        assert_eq!(
            blockers,
            [
                ("ENG-1".to_owned(), "In Review".to_owned()),
                // Completed by type: spelled as a terminal state so it no longer blocks.
                ("ENG-2".to_owned(), "Done".to_owned()),
            ]
        );
        assert!(issue.dispatchable);
        symphony_tracker::normalize::check_normalized(&issue).unwrap();
    }

    #[test]
    fn no_priority_and_a_foreign_assignee_are_normalized() {
        let mut node = node();
        node["priority"] = json!(0);
        let issue = issue(&node, &config(json!({"assignee": "someone@acme.test"}))).unwrap();
        assert_eq!(issue.priority, None);
        assert!(!issue.dispatchable, "assigned to someone else");
        let me = super::issue(&node, &config(json!({"assignee": "me"}))).unwrap();
        assert!(me.dispatchable);
        let by_id = super::issue(&node, &config(json!({"assignee": "u1"}))).unwrap();
        assert!(
            by_id.dispatchable,
            "a user id, as the reference implementation takes it"
        );
    }

    #[test]
    fn a_node_without_required_fields_is_malformed() {
        for field in ["id", "identifier", "title"] {
            let mut node = node();
            node[field] = Value::Null;
            assert_eq!(issue(&node, &config(json!({}))).unwrap_err().field, field);
        }
        let mut node = node();
        node["state"] = json!({"name": ""});
        assert_eq!(issue(&node, &config(json!({}))).unwrap_err().field, "state");
    }
}
