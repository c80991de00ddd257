//! The `review:` section of WORKFLOW.md (ADR 0018). When present, Symphony watches every
//! change it handed off: feedback becomes the agent's next round, a merge ends the issue.
//!
//! ```yaml
//! review:
//!   max_rounds: 3              # feedback rounds before a person takes over
//!   rework_state: In Progress  # where an issue with feedback goes; default: the first active state
//!   merged_state: Done         # where a merged issue goes; default: the first terminal state;
//!                              # null: the tracker's own automation moves it
//!   on_closed: needs_human     # closed without a merge: needs_human | requeue
//!   on_head_moved: needs_human # someone else pushed to the branch: needs_human | rebase
//!   allow_rebase_push: false   # a conflict may be resolved by a rebase and a forced push
//!   mention: "@symphony"       # conversation comments addressed to Symphony; null: none
//!   poll_interval_ms: 60000    # how often each watch asks the code host (webhooks wake it sooner)
//!   feedback: |                # Liquid; default: review_prompt::DEFAULT_FEEDBACK
//!     ...
//! ```

use std::time::Duration;

use serde_json::{Map, Value};
use symphony_workflow::ServiceConfig;

use crate::review_policy::{OnClosed, OnHeadMoved, ReviewPolicy, DEFAULT_MAX_ROUNDS};

/// Default of `review.poll_interval_ms`.
pub const DEFAULT_POLL_INTERVAL_MS: u64 = 60_000;
/// Default of `review.mention`.
pub const DEFAULT_MENTION: &str = "@symphony";

/// Settings of the review loop, with the tracker's defaults resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReviewConfig {
    /// Rounds and what a close means.
    pub policy: ReviewPolicy,
    /// The active state an issue with feedback goes back to.
    pub rework_state: String,
    /// The state a merged issue goes to (`None`: the tracker's automation moves it).
    pub merged_state: Option<String>,
    /// What addresses Symphony in a conversation comment (`None`: such comments are ignored).
    pub mention: Option<String>,
    /// How often each watch asks the code host.
    pub poll_interval: Duration,
    /// The feedback template (`None`: the default).
    pub feedback: Option<String>,
    /// Whether a round may rebase the branch onto its base and replace the pushed branch
    /// (only while it is still at Symphony's last push); otherwise the base is merged and
    /// every push is a fast-forward.
    pub allow_rebase_push: bool,
}

const KEYS: [&str; 9] = [
    "max_rounds",
    "rework_state",
    "merged_state",
    "on_closed",
    "on_head_moved",
    "allow_rebase_push",
    "mention",
    "poll_interval_ms",
    "feedback",
];

fn state(key: &str, value: &Value, known: &[String], kind: &str) -> Result<String, String> {
    let name = value
        .as_str()
        .map(str::trim)
        .filter(|t| !t.is_empty() && !t.contains(['\n', '\r']))
        .ok_or_else(|| format!("review.{key}: expected a state name"))?;
    known
        .iter()
        .find(|s| s.eq_ignore_ascii_case(name))
        .cloned()
        .ok_or_else(|| {
            format!(
                "review.{key}: {name:?} is not one of tracker.{kind}_states ({})",
                known.join(", ")
            )
        })
}

impl ReviewConfig {
    /// The JSON Schema (2020-12) of the `review` section: what `from_section` accepts.
    pub fn schema() -> Value {
        serde_json::json!({
            "description": "Extension: Symphony watches the changes it handed off; review \
                            feedback, failed checks and conflicts become the agent's next \
                            round, a merge ends the issue (ADR 0018). Needs `handoff`.",
            "type": "object",
            "properties": {
                "max_rounds": {"type": "integer", "minimum": 1, "maximum": 20, "default": DEFAULT_MAX_ROUNDS},
                "rework_state": {"description": "Active state an issue with feedback goes to. Default: the first of tracker.active_states.", "type": "string", "minLength": 1},
                "merged_state": {"description": "Terminal state a merged issue goes to (default: the first of tracker.terminal_states); null: the tracker's automation moves it.", "type": ["string", "null"], "minLength": 1},
                "on_closed": {"description": "A change closed without a merge: a person decides, or the issue is queued again with what the review said (a round; the hand-off proposes the change anew).", "enum": ["needs_human", "requeue"], "default": "needs_human"},
                "on_head_moved": {"description": "Someone else pushed to the change's branch: a person decides, or their commits are taken as the change's and the next round builds on them (a push that rewrote the branch always goes to a person).", "enum": ["needs_human", "rebase"], "default": "needs_human"},
                "allow_rebase_push": {"description": "A conflict with the base may be resolved by rebasing the branch and replacing the pushed branch (only while it is still at Symphony's last push). Default: the base is merged in and every push is a fast-forward.", "type": "boolean", "default": false},
                "mention": {"description": "What addresses Symphony in a conversation comment; null: such comments are ignored.", "type": ["string", "null"], "minLength": 1, "maxLength": 100, "default": DEFAULT_MENTION},
                "poll_interval_ms": {"type": "integer", "minimum": 100, "maximum": 3_600_000, "default": DEFAULT_POLL_INTERVAL_MS},
                "feedback": {"description": "Liquid template of the feedback appended to a round's prompt; sees `issue` and `review`.", "type": "string", "minLength": 1},
            },
            "additionalProperties": false,
        })
    }

    /// Reads the section (`None` when absent) against `config`'s tracker states; the error
    /// says what to fix.
    pub fn from_section(
        section: Option<&Value>,
        config: &ServiceConfig,
    ) -> Result<Option<Self>, String> {
        let Some(section) = section else {
            return Ok(None);
        };
        let empty = Map::new();
        let map = match section {
            Value::Object(map) => map,
            // `review:` with nothing under it: every default.
            Value::Null => &empty,
            _ => return Err(format!("review: expected a map ({})", KEYS.join(", "))),
        };
        let tracker = &config.tracker;
        let mut review = Self {
            policy: ReviewPolicy::default(),
            rework_state: tracker.active_states.first().cloned().ok_or(
                "review needs an active state to send issues with feedback to \
                 (tracker.active_states is empty)",
            )?,
            merged_state: tracker.terminal_states.first().cloned(),
            mention: Some(DEFAULT_MENTION.to_owned()),
            poll_interval: Duration::from_millis(DEFAULT_POLL_INTERVAL_MS),
            feedback: None,
            allow_rebase_push: false,
        };
        for (key, value) in map {
            match key.as_str() {
                "max_rounds" => {
                    review.policy.max_rounds = value
                        .as_u64()
                        .filter(|n| (1..=20).contains(n))
                        .ok_or("review.max_rounds: expected an integer from 1 to 20")?
                        as u32;
                }
                "rework_state" => {
                    review.rework_state = state(key, value, &tracker.active_states, "active")?
                }
                "merged_state" => {
                    review.merged_state = match value {
                        Value::Null => None,
                        _ => Some(state(key, value, &tracker.terminal_states, "terminal")?),
                    }
                }
                "on_closed" => {
                    review.policy.on_closed = match value.as_str() {
                        Some("needs_human") => OnClosed::Person,
                        Some("requeue") => OnClosed::Requeue,
                        _ => return Err("review.on_closed: expected needs_human or requeue".into()),
                    }
                }
                "on_head_moved" => {
                    review.policy.on_head_moved = match value.as_str() {
                        Some("needs_human") => OnHeadMoved::Person,
                        Some("rebase") => OnHeadMoved::Rebase,
                        _ => {
                            return Err(
                                "review.on_head_moved: expected needs_human or rebase".into()
                            )
                        }
                    }
                }
                "allow_rebase_push" => {
                    review.allow_rebase_push = value
                        .as_bool()
                        .ok_or("review.allow_rebase_push: expected true or false")?;
                }
                "mention" => review.mention = match value {
                    Value::Null => None,
                    _ => Some(
                        value
                            .as_str()
                            .map(str::trim)
                            .filter(|m| {
                                !m.is_empty() && m.len() <= 100 && !m.contains(char::is_whitespace)
                            })
                            .ok_or(
                                "review.mention: expected one word such as \"@symphony\", or null",
                            )?
                            .to_owned(),
                    ),
                },
                "poll_interval_ms" => {
                    let ms = value
                        .as_u64()
                        .filter(|ms| (100..=3_600_000).contains(ms))
                        .ok_or("review.poll_interval_ms: expected 100..=3600000")?;
                    review.poll_interval = Duration::from_millis(ms);
                }
                "feedback" => {
                    let template = value
                        .as_str()
                        .filter(|t| !t.trim().is_empty())
                        .ok_or("review.feedback: expected a Liquid template")?;
                    crate::review_prompt::check_template(template)
                        .map_err(|e| format!("review.feedback: {e}"))?;
                    review.feedback = Some(template.to_owned());
                }
                other => {
                    let hint = symphony_workflow::closest(other, &KEYS)
                        .map(|k| format!("did you mean `{k}`? "))
                        .unwrap_or_default();
                    return Err(format!(
                        "review.{other} is not a setting ({hint}settings: {})",
                        KEYS.join(", ")
                    ));
                }
            }
        }
        Ok(Some(review))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn config() -> ServiceConfig {
        crate::test_config::local_config("Todo, In Progress", "Done, Cancelled")
    }

    #[test]
    fn defaults_come_from_the_tracker_states_and_settings_are_strict() {
        assert_eq!(ReviewConfig::from_section(None, &config()).unwrap(), None);
        let review = ReviewConfig::from_section(Some(&Value::Null), &config())
            .unwrap()
            .unwrap();
        assert_eq!(review.rework_state, "Todo");
        assert_eq!(review.merged_state.as_deref(), Some("Done"));
        assert_eq!(review.mention.as_deref(), Some("@symphony"));
        assert_eq!(review.policy, ReviewPolicy::default());
        assert_eq!(review.poll_interval, Duration::from_secs(60));

        let review = ReviewConfig::from_section(
            Some(&json!({
                "max_rounds": 5, "rework_state": "in progress", "merged_state": null,
                "on_closed": "requeue", "mention": null, "poll_interval_ms": 500,
                "on_head_moved": "rebase", "allow_rebase_push": true,
                "feedback": "Round {{ review.round }}",
            })),
            &config(),
        )
        .unwrap()
        .unwrap();
        assert_eq!(review.rework_state, "In Progress", "the tracker's spelling");
        assert_eq!(review.merged_state, None, "null: the tracker's automation");
        assert_eq!(review.mention, None);
        assert_eq!(review.policy.max_rounds, 5);
        assert_eq!(review.policy.on_closed, OnClosed::Requeue);
        assert_eq!(review.policy.on_head_moved, OnHeadMoved::Rebase);
        assert!(review.allow_rebase_push);

        for (bad, says) in [
            (json!({"max_round": 2}), "did you mean `max_rounds`?"),
            (json!({"max_rounds": 0}), "from 1 to 20"),
            (
                json!({"rework_state": "Done"}),
                "is not one of tracker.active_states",
            ),
            (
                json!({"merged_state": "Todo"}),
                "is not one of tracker.terminal_states",
            ),
            (json!({"on_closed": "ignore"}), "needs_human or requeue"),
            (json!({"on_head_moved": "force"}), "needs_human or rebase"),
            (json!({"allow_rebase_push": "yes"}), "true or false"),
            (
                json!({"allow_rebase": true}),
                "did you mean `allow_rebase_push`?",
            ),
            (json!({"mention": "@two words"}), "one word"),
            (json!({"poll_interval_ms": 10}), "100..=3600000"),
            (
                json!({"feedback": "{{ review.rounds }}"}),
                "review.feedback",
            ),
            (json!({"feedback": "{% if %}"}), "review.feedback"),
            (json!(["max_rounds"]), "expected a map"),
        ] {
            let error = ReviewConfig::from_section(Some(&bad), &config()).unwrap_err();
            assert!(error.contains(says), "{bad}: {error}");
        }
    }
}
