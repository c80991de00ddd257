//! The `handoff:` section of WORKFLOW.md (an extension section the core keeps verbatim). When
//! present, a run whose change passes the gates is handed off by Symphony itself:
//!
//! ```yaml
//! handoff:
//!   state: human-review      # where the issue goes (the tracker's spelling); required
//!   push: true               # default: what the tracker needs (GitHub yes, local no)
//!   remote: origin
//!   draft: false
//!   comment: true            # a short summary comment on the issue
//!   changelog_category: Changed   # for the generated fragment (needs a `docs:` section)
//!   author: { name: Symphony, email: symphony@localhost }
//!   push_timeout_ms: 300000
//!   max_empty_attempts: 3    # runs that leave no change before the issue goes to a person
//!   needs_human_state: needs human   # default: gates.needs_human_state; one is required
//!   pr_body: |               # Liquid; default: symphony_docs::pr_body::DEFAULT_TEMPLATE
//!     ...
//! ```

use std::time::Duration;

use serde_json::{Map, Value};
use symphony_workspace::Identity;

/// Settings of the hand-off stage.
#[derive(Debug, Clone, PartialEq)]
pub struct HandOffConfig {
    /// The tracker state a handed-off issue goes to.
    pub state: String,
    /// Push the branch (`None`: as the tracker needs).
    pub push: Option<bool>,
    /// The remote pushed to.
    pub remote: String,
    /// Open pull requests as drafts.
    pub draft: bool,
    /// Comment a summary on the issue.
    pub comment: bool,
    /// Keep-a-Changelog category of a generated fragment.
    pub changelog_category: String,
    /// Author and committer of Symphony's commit.
    pub author: Identity,
    /// Limit on `git push`.
    pub push_timeout: Duration,
    /// The PR body template (`None`: the default).
    pub pr_body: Option<String>,
    /// Consecutive runs that leave nothing to hand off before the issue goes to a person.
    pub max_empty_attempts: u32,
    /// Where an issue goes when there is nothing to hand off (`None` here: the gates'
    /// `needs_human_state`, which the run plan requires then).
    pub needs_human_state: Option<String>,
}

/// Default of `handoff.max_empty_attempts`.
pub const DEFAULT_MAX_EMPTY_ATTEMPTS: u32 = 3;

fn text(key: &str, value: &Value) -> Result<String, String> {
    value
        .as_str()
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .ok_or_else(|| format!("handoff.{key}: expected a non-empty string"))
}

fn flag(key: &str, value: &Value) -> Result<bool, String> {
    value
        .as_bool()
        .ok_or_else(|| format!("handoff.{key}: expected true or false"))
}

fn one_line(key: &str, value: String) -> Result<String, String> {
    if value.contains(['\n', '\r', '<', '>']) || value.len() > 200 {
        return Err(format!(
            "handoff.{key}: must be one short line without `<` or `>`"
        ));
    }
    Ok(value)
}

impl HandOffConfig {
    /// The JSON Schema (2020-12) of the `handoff` section: what `from_section` accepts.
    pub fn schema() -> Value {
        let line = serde_json::json!({"type": "string", "minLength": 1, "maxLength": 200, "pattern": "^[^\\n\\r<>]*$"});
        serde_json::json!({
            "description": "Extension: Symphony commits, pushes and proposes a change that passed \
                            the gates, then moves the issue to `state` (ADR 0010).",
            "type": "object",
            "required": ["state"],
            "properties": {
                "state": {
                    "description": "The tracker state a handed-off issue goes to (the tracker's spelling).",
                    "type": "string", "minLength": 1, "maxLength": 200, "pattern": "^[^\\n\\r<>]*$",
                },
                "push": {"description": "Push the branch. Default: what the tracker needs.", "type": "boolean"},
                "remote": {"description": "The remote pushed to.", "type": "string", "default": "origin", "pattern": "^[^-\\s][^\\s]*$"},
                "draft": {"description": "Open pull requests as drafts.", "type": "boolean", "default": false},
                "comment": {"description": "Comment a summary on the issue.", "type": "boolean", "default": true},
                "changelog_category": {
                    "description": "Keep-a-Changelog category of a generated fragment (case-insensitive).",
                    "type": "string", "default": "Changed",
                },
                "author": {
                    "description": "Author and committer of Symphony's commit.",
                    "type": "object",
                    "properties": {"name": line, "email": line},
                    "additionalProperties": false,
                },
                "push_timeout_ms": {"type": "integer", "minimum": 1000, "maximum": 3_600_000, "default": 300_000},
                "max_empty_attempts": {
                    "description": "Consecutive runs that leave nothing to hand off before the issue goes to a person.",
                    "type": "integer", "minimum": 1, "maximum": 20, "default": DEFAULT_MAX_EMPTY_ATTEMPTS,
                },
                "needs_human_state": {
                    "description": "Where an issue goes when there is nothing to hand off. Default: gates.needs_human_state; one of the two is required.",
                    "type": "string", "minLength": 1, "maxLength": 200, "pattern": "^[^\\n\\r<>]*$",
                },
                "pr_body": {"description": "Liquid template of the pull request body.", "type": "string", "minLength": 1},
            },
            "additionalProperties": false,
        })
    }

    /// Reads the section (`None` when absent); the error says what to fix.
    pub fn from_section(section: Option<&Value>) -> Result<Option<Self>, String> {
        let Some(section) = section else {
            return Ok(None);
        };
        let map = match section {
            Value::Object(map) => map,
            _ => return Err("handoff: expected a map with at least `state`".to_owned()),
        };
        let mut config = Self {
            state: String::new(),
            push: None,
            remote: "origin".to_owned(),
            draft: false,
            comment: true,
            changelog_category: "Changed".to_owned(),
            author: Identity::default(),
            push_timeout: Duration::from_secs(300),
            pr_body: None,
            max_empty_attempts: DEFAULT_MAX_EMPTY_ATTEMPTS,
            needs_human_state: None,
        };
        for (key, value) in map {
            match key.as_str() {
                "state" => config.state = one_line(key, text(key, value)?)?,
                "push" => config.push = Some(flag(key, value)?),
                "remote" => {
                    let remote = text(key, value)?;
                    if remote.starts_with('-') || remote.contains(char::is_whitespace) {
                        return Err(format!("handoff.remote: {remote:?} is not a remote name"));
                    }
                    config.remote = remote;
                }
                "draft" => config.draft = flag(key, value)?,
                "comment" => config.comment = flag(key, value)?,
                "changelog_category" => {
                    let category = text(key, value)?;
                    config.changelog_category = symphony_docs::changelog::CATEGORIES
                        .iter()
                        .find(|c| c.eq_ignore_ascii_case(&category))
                        .map(|c| (*c).to_owned())
                        .ok_or_else(|| {
                            format!(
                                "handoff.changelog_category: {category:?} is not one of {}",
                                symphony_docs::changelog::CATEGORIES.join(", ")
                            )
                        })?;
                }
                "author" => config.author = author(value)?,
                "push_timeout_ms" => {
                    let ms = value
                        .as_u64()
                        .filter(|ms| (1_000..=3_600_000).contains(ms))
                        .ok_or("handoff.push_timeout_ms: expected 1000..=3600000")?;
                    config.push_timeout = Duration::from_millis(ms);
                }
                "max_empty_attempts" => {
                    config.max_empty_attempts = value
                        .as_u64()
                        .filter(|n| (1..=20).contains(n))
                        .ok_or("handoff.max_empty_attempts: expected an integer from 1 to 20")?
                        as u32;
                }
                "needs_human_state" => {
                    config.needs_human_state = Some(one_line(key, text(key, value)?)?)
                }
                "pr_body" => {
                    let template = text(key, value)?;
                    symphony_docs::pr_body::check_template(&template)
                        .map_err(|e| format!("handoff.pr_body: {e}"))?;
                    config.pr_body = Some(template);
                }
                other => {
                    return Err(format!(
                        "handoff.{other} is not a setting (state, push, remote, draft, comment, \
                         changelog_category, author, push_timeout_ms, max_empty_attempts, \
                         needs_human_state, pr_body)"
                    ))
                }
            }
        }
        if config.state.is_empty() {
            return Err(
                "handoff.state is required: the tracker state a finished change goes to \
                 (e.g. `human-review`)"
                    .to_owned(),
            );
        }
        Ok(Some(config))
    }
}

fn author(value: &Value) -> Result<Identity, String> {
    let map: &Map<String, Value> = value
        .as_object()
        .ok_or("handoff.author: expected { name, email }")?;
    let mut identity = Identity::default();
    for (key, value) in map {
        match key.as_str() {
            "name" => identity.name = one_line("author.name", text("author.name", value)?)?,
            "email" => identity.email = one_line("author.email", text("author.email", value)?)?,
            other => {
                return Err(format!(
                    "handoff.author.{other} is not a setting (name, email)"
                ))
            }
        }
    }
    Ok(identity)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_section_is_strict_and_needs_a_state() {
        assert_eq!(HandOffConfig::from_section(None).unwrap(), None);
        let config = HandOffConfig::from_section(Some(&json!({
            "state": "human-review",
            "push": false,
            "draft": true,
            "changelog_category": "fixed",
            "author": {"name": "Bot", "email": "bot@example.com"},
        })))
        .unwrap()
        .unwrap();
        assert_eq!(config.state, "human-review");
        assert_eq!(config.push, Some(false));
        assert!(config.draft && config.comment);
        assert_eq!(config.changelog_category, "Fixed");
        assert_eq!(config.author.email, "bot@example.com");
        for (bad, says) in [
            (json!({}), "handoff.state is required"),
            (
                json!({"state": "x", "stat": 1}),
                "handoff.stat is not a setting",
            ),
            (
                json!({"state": "x", "remote": "--upload-pack=x"}),
                "not a remote name",
            ),
            (
                json!({"state": "x", "changelog_category": "Misc"}),
                "is not one of",
            ),
            (
                json!({"state": "x", "author": {"name": "a\nb"}}),
                "one short line",
            ),
            (
                json!({"state": "x", "pr_body": "{% if %}"}),
                "handoff.pr_body",
            ),
            (json!("human-review"), "expected a map"),
        ] {
            let error = HandOffConfig::from_section(Some(&bad)).unwrap_err();
            assert!(error.contains(says), "{bad}: {error}");
        }
    }
}
