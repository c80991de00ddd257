//! One issue file: Markdown with YAML front matter, and its normalization (SPEC §11.3).

use std::fmt;
use std::io::Read;
use std::path::Path;

use serde_json::{json, Map, Value};
use symphony_core::{normalize_state, BlockerRef, Issue};
use symphony_tracker::normalize::{normalize_labels, parse_timestamp, state_in};
use symphony_workflow::split_front_matter;

/// Issue files larger than this are malformed: an issue is a short document.
pub const MAX_ISSUE_FILE_BYTES: u64 = 1024 * 1024;

/// Why a file is not a usable issue record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IssueFileError {
    /// It could not be read.
    Io(String),
    /// It is larger than [`MAX_ISSUE_FILE_BYTES`].
    TooLarge,
    /// It is not UTF-8 text.
    NotUtf8,
    /// It has no `---` front matter, or the front matter is not closed.
    NoFrontMatter,
    /// The front matter is not valid YAML, or not a map.
    Yaml(String),
    /// A required field is missing, empty or of the wrong type.
    Required(&'static str),
}

impl fmt::Display for IssueFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io(e) => write!(f, "cannot read it: {e}"),
            Self::TooLarge => write!(f, "it is larger than {} KiB", MAX_ISSUE_FILE_BYTES / 1024),
            Self::NotUtf8 => write!(f, "it is not UTF-8 text"),
            Self::NoFrontMatter => write!(f, "it has no closed '---' YAML front matter"),
            Self::Yaml(e) => write!(f, "its front matter is not a YAML map: {e}"),
            Self::Required(field) => write!(f, "`{field}` is missing or not a non-empty string"),
        }
    }
}

pub(crate) fn read_issue_file(path: &Path, id: &str) -> Result<Issue, IssueFileError> {
    let file = std::fs::File::open(path).map_err(|e| IssueFileError::Io(e.to_string()))?;
    let mut bytes = Vec::new();
    file.take(MAX_ISSUE_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| IssueFileError::Io(e.to_string()))?;
    if bytes.len() as u64 > MAX_ISSUE_FILE_BYTES {
        return Err(IssueFileError::TooLarge);
    }
    let text = String::from_utf8(bytes).map_err(|_| IssueFileError::NotUtf8)?;
    parse_issue_file(id, &text)
}

/// Parses the text of the issue file whose dispatch id (file stem) is `id`.
///
/// Required: `title` and `state`. `identifier` defaults to the id. Optional fields that cannot
/// be used become null or empty instead of making the record malformed. Blockers are returned
/// with only `identifier` set; the folder scan resolves them.
pub fn parse_issue_file(id: &str, text: &str) -> Result<Issue, IssueFileError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let (yaml, body) = split_front_matter(text).map_err(|_| IssueFileError::NoFrontMatter)?;
    let yaml = yaml.ok_or(IssueFileError::NoFrontMatter)?;
    let front: Value =
        serde_yaml_ng::from_str(yaml).map_err(|e| IssueFileError::Yaml(e.to_string()))?;
    let Value::Object(front) = front else {
        return Err(IssueFileError::Yaml("expected a map of fields".to_owned()));
    };
    let identifier = match front.get("identifier") {
        None | Some(Value::Null) => id.to_owned(),
        Some(value) => scalar_text(value).ok_or(IssueFileError::Required("identifier"))?,
    };
    let title = front
        .get("title")
        .and_then(scalar_text)
        .ok_or(IssueFileError::Required("title"))?;
    let state = front
        .get("state")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .ok_or(IssueFileError::Required("state"))?
        .to_owned();
    let body = body.trim();
    Ok({
        let mut issue = Issue::new(id.to_owned(), identifier, title, state);
        issue.native_ref = Some(json!({ "file": format!("{id}.md") }));
        issue.description = (!body.is_empty()).then(|| body.to_owned());
        issue.priority = front.get("priority").and_then(integer);
        issue.branch_name = optional_text(&front, "branch");
        issue.assignee_id = optional_text(&front, "assignee");
        issue.labels = normalize_labels(text_list(front.get("labels")));
        issue.blocked_by = text_list(front.get("blocked_by"))
            .into_iter()
            .map(|identifier| BlockerRef::new(None, Some(identifier), None))
            .collect();
        // Explicit opt-out; blockers are applied by the scan.
        issue.dispatchable = front
            .get("dispatchable")
            .and_then(Value::as_bool)
            .unwrap_or(true);
        issue.created_at = optional_text(&front, "created_at").and_then(|t| parse_timestamp(&t));
        issue.updated_at = optional_text(&front, "updated_at").and_then(|t| parse_timestamp(&t));
        issue
    })
}

/// Fills each blocker's id and state from the scanned issues, and clears `dispatchable` for an
/// issue with a blocker that is unknown or not in a terminal state.
pub(crate) fn resolve_blockers(issues: &mut [Issue], terminal_states: &[String]) {
    let known: Vec<(String, String, String)> = issues
        .iter()
        .map(|i| {
            (
                normalize_state(&i.identifier),
                i.id.clone(),
                i.state.clone(),
            )
        })
        .collect();
    for issue in issues.iter_mut() {
        let mut blocked = false;
        for blocker in &mut issue.blocked_by {
            let wanted = blocker
                .identifier
                .as_deref()
                .map(normalize_state)
                .unwrap_or_default();
            match known
                .iter()
                .find(|(identifier, _, _)| *identifier == wanted)
            {
                Some((_, id, state)) => {
                    blocker.id = Some(id.clone());
                    blocker.state = Some(state.clone());
                    blocked |= !state_in(state, terminal_states);
                }
                None => blocked = true,
            }
        }
        if blocked {
            issue.dispatchable = false;
        }
    }
}

fn scalar_text(value: &Value) -> Option<String> {
    let text = match value {
        Value::String(s) => s.trim().to_owned(),
        Value::Number(n) => n.to_string(),
        _ => return None,
    };
    (!text.is_empty()).then_some(text)
}

fn optional_text(front: &Map<String, Value>, key: &str) -> Option<String> {
    front.get(key).and_then(scalar_text)
}

fn integer(value: &Value) -> Option<i64> {
    match value {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A list of scalars, or one comma-separated string; anything unusable is dropped.
fn text_list(value: Option<&Value>) -> Vec<String> {
    match value {
        Some(Value::Array(items)) => items.iter().filter_map(scalar_text).collect(),
        Some(Value::String(s)) => s
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_issue_file_normalizes_every_field() {
        let issue = parse_issue_file(
            "DEMO-1",
            "---\nidentifier: DEMO-1\ntitle: Add a greeting\nstate: Todo\npriority: 2\nlabels: [Docs, ' good-first-issue ', docs]\nblocked_by: [DEMO-0]\nassignee: ada\nbranch: feat/greet\ncreated_at: 2026-11-20T10:00:00Z\n---\n\nThe README should greet.\n",
        )
        .unwrap();
        assert_eq!(issue.identifier, "DEMO-1");
        assert_eq!(issue.state, "Todo");
        assert_eq!(issue.priority, Some(2));
        assert_eq!(issue.labels, ["docs", "good-first-issue"]);
        assert_eq!(issue.blocked_by[0].identifier.as_deref(), Some("DEMO-0"));
        assert_eq!(issue.assignee_id.as_deref(), Some("ada"));
        assert_eq!(issue.branch_name.as_deref(), Some("feat/greet"));
        assert_eq!(
            issue.description.as_deref(),
            Some("The README should greet.")
        );
        assert!(issue.created_at.is_some());
        assert_eq!(issue.native_ref, Some(json!({"file": "DEMO-1.md"})));
    }

    #[test]
    fn unusable_optional_fields_become_null_or_empty() {
        let issue = parse_issue_file(
            "X-1",
            "---\ntitle: t\nstate: todo\npriority: high\nlabels: {a: 1}\ncreated_at: last week\n---\n",
        )
        .unwrap();
        assert_eq!(
            issue.identifier, "X-1",
            "identifier defaults to the file name"
        );
        assert_eq!(
            (issue.priority, issue.created_at, issue.description),
            (None, None, None)
        );
        assert!(issue.labels.is_empty());
    }

    #[test]
    fn missing_required_fields_make_the_record_malformed() {
        assert_eq!(
            parse_issue_file("a", "---\nstate: todo\n---\n"),
            Err(IssueFileError::Required("title"))
        );
        assert_eq!(
            parse_issue_file("a", "---\ntitle: t\nstate: ''\n---\n"),
            Err(IssueFileError::Required("state"))
        );
        assert_eq!(
            parse_issue_file("a", "just text"),
            Err(IssueFileError::NoFrontMatter)
        );
        assert!(matches!(
            parse_issue_file("a", "---\n- 1\n---\n"),
            Err(IssueFileError::Yaml(_))
        ));
        assert!(matches!(
            parse_issue_file("a", "---\ntitle: [\n---\n"),
            Err(IssueFileError::Yaml(_))
        ));
    }

    #[test]
    fn blockers_resolve_within_the_folder_and_gate_dispatch() {
        let terminal = vec!["done".to_owned()];
        let mut issues = vec![
            parse_issue_file("A", "---\ntitle: a\nstate: todo\nblocked_by: [B]\n---\n").unwrap(),
            parse_issue_file("B", "---\ntitle: b\nstate: Done\n---\n").unwrap(),
            parse_issue_file("C", "---\ntitle: c\nstate: todo\nblocked_by: [A]\n---\n").unwrap(),
            parse_issue_file("D", "---\ntitle: d\nstate: todo\nblocked_by: [NOPE]\n---\n").unwrap(),
        ];
        resolve_blockers(&mut issues, &terminal);
        assert!(issues[0].dispatchable, "blocked only by a done issue");
        assert_eq!(issues[0].blocked_by[0].state.as_deref(), Some("Done"));
        assert_eq!(issues[0].blocked_by[0].id.as_deref(), Some("B"));
        assert!(!issues[2].dispatchable, "blocked by an open issue");
        assert!(!issues[3].dispatchable, "blocked by an unknown issue");
    }
}
