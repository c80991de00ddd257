//! The `gates:` section of WORKFLOW.md (an extension section the core keeps verbatim):
//!
//! ```yaml
//! gates:
//!   max_rounds: 3                 # failed rounds sent back to the agent before a person decides
//!   needs_human_state: needs-human
//!   checks:
//!     - kind: secrets
//!     - kind: command
//!       name: tests
//!       run: cargo test
//!       timeout_ms: 900000
//!     - kind: diff_budget
//!       max_files: 40
//!       protected: [".github/workflows/**"]
//!     - kind: docs
//!       paths: ["src/**"]
//!       require: [changelog]
//! ```
//!
//! Every check takes `name` (default: its kind), `blocking` (default true), `timeout_ms`
//! (default 600000) and `paths`/`exclude` globs; other keys belong to the kind.

use std::time::Duration;

use serde_json::{Map, Value};

use crate::error::GateError;
use crate::gate::GateSettings;

/// Default rounds of gate feedback before the issue goes to a person.
pub const DEFAULT_MAX_ROUNDS: u32 = 3;
/// Default time limit of one gate run.
pub const DEFAULT_TIMEOUT_MS: u64 = 600_000;

/// One configured check.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckConfig {
    /// The gate kind (`secrets`, `command`, `diff_budget`, `docs`, or a plugin's).
    pub kind: String,
    /// Shared settings.
    pub settings: GateSettings,
    /// The kind's own keys.
    pub options: Map<String, Value>,
}

/// The whole section.
#[derive(Debug, Clone, PartialEq)]
pub struct GatesConfig {
    /// Rounds of feedback to the agent after failed gates.
    pub max_rounds: u32,
    /// Where an issue goes when the rounds are spent (the tracker's spelling).
    pub needs_human_state: Option<String>,
    /// A Liquid template for the feedback turn (see `feedback::DEFAULT_TEMPLATE`).
    pub feedback: Option<String>,
    /// The checks, in order.
    pub checks: Vec<CheckConfig>,
}

impl Default for GatesConfig {
    fn default() -> Self {
        Self {
            max_rounds: DEFAULT_MAX_ROUNDS,
            needs_human_state: None,
            feedback: None,
            checks: Vec::new(),
        }
    }
}

fn invalid(message: String) -> GateError {
    GateError::Config(message)
}

fn strings(value: &Value, field: &str) -> Result<Vec<String>, GateError> {
    match value {
        Value::String(s) => Ok(vec![s.clone()]),
        Value::Array(items) => items
            .iter()
            .map(|v| {
                v.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| invalid(format!("{field}: expected strings")))
            })
            .collect(),
        _ => Err(invalid(format!("{field}: expected a list of strings"))),
    }
}

fn check(index: usize, item: &Value) -> Result<CheckConfig, GateError> {
    let at = format!("gates.checks[{index}]");
    let map = item
        .as_object()
        .ok_or_else(|| invalid(format!("{at}: expected a map with `kind`")))?;
    let kind = map
        .get("kind")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .ok_or_else(|| {
            invalid(format!(
                "{at}: `kind` is required (secrets, command, diff_budget, docs, or a plugin's)"
            ))
        })?
        .to_owned();
    let mut settings = GateSettings::new(kind.clone());
    let mut options = Map::new();
    for (key, value) in map {
        match key.as_str() {
            "kind" => {}
            "name" => {
                settings.name = value
                    .as_str()
                    .filter(|n| !n.trim().is_empty())
                    .ok_or_else(|| invalid(format!("{at}.name: expected a non-empty string")))?
                    .to_owned()
            }
            "blocking" => {
                settings.blocking = value
                    .as_bool()
                    .ok_or_else(|| invalid(format!("{at}.blocking: expected true or false")))?
            }
            "timeout_ms" => {
                settings.timeout =
                    Duration::from_millis(value.as_u64().filter(|ms| *ms > 0).ok_or_else(|| {
                        invalid(format!("{at}.timeout_ms: expected a positive integer"))
                    })?)
            }
            "paths" => settings.paths = strings(value, &format!("{at}.paths"))?,
            "exclude" => settings.exclude = strings(value, &format!("{at}.exclude"))?,
            _ => {
                options.insert(key.clone(), value.clone());
            }
        }
    }
    Ok(CheckConfig {
        kind,
        settings,
        options,
    })
}

impl GatesConfig {
    /// Reads the `gates` extension section (`None`: no gates).
    pub fn from_section(section: Option<&Value>) -> Result<Self, GateError> {
        let Some(section) = section.filter(|v| !v.is_null()) else {
            return Ok(Self::default());
        };
        let map = section
            .as_object()
            .ok_or_else(|| invalid("gates: expected a map with `checks`".to_owned()))?;
        let mut config = Self::default();
        for (key, value) in map {
            match key.as_str() {
                "max_rounds" => {
                    config.max_rounds = value.as_u64().filter(|n| *n <= 20).ok_or_else(|| {
                        invalid("gates.max_rounds: expected an integer from 0 to 20".to_owned())
                    })? as u32
                }
                "needs_human_state" => {
                    config.needs_human_state = Some(
                        value
                            .as_str()
                            .filter(|s| !s.trim().is_empty())
                            .ok_or_else(|| {
                                invalid("gates.needs_human_state: expected a state name".to_owned())
                            })?
                            .to_owned(),
                    )
                }
                "feedback" => {
                    config.feedback = Some(
                        value
                            .as_str()
                            .ok_or_else(|| invalid("gates.feedback: expected a Liquid template".to_owned()))?
                            .to_owned(),
                    )
                }
                "checks" => {
                    let items = value
                        .as_array()
                        .ok_or_else(|| invalid("gates.checks: expected a list".to_owned()))?;
                    for (index, item) in items.iter().enumerate() {
                        config.checks.push(check(index, item)?);
                    }
                }
                other => {
                    return Err(invalid(format!(
                        "gates.{other} is not a setting (max_rounds, needs_human_state, feedback, checks)"
                    )))
                }
            }
        }
        let mut names: Vec<&str> = config
            .checks
            .iter()
            .map(|c| c.settings.name.as_str())
            .collect();
        names.sort_unstable();
        if let Some(pair) = names.windows(2).find(|w| w[0] == w[1]) {
            return Err(invalid(format!(
                "gates.checks: two checks are named {:?}; give one a `name`",
                pair[0]
            )));
        }
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_section_reads_with_defaults() {
        let config = GatesConfig::from_section(Some(&json!({
            "needs_human_state": "needs-human",
            "checks": [
                {"kind": "secrets"},
                {"kind": "command", "name": "tests", "run": "cargo test", "timeout_ms": 5000, "blocking": false, "paths": "src/**"}
            ]
        })))
        .unwrap();
        assert_eq!(config.max_rounds, 3);
        assert_eq!(config.needs_human_state.as_deref(), Some("needs-human"));
        let tests = &config.checks[1];
        assert_eq!(
            (tests.kind.as_str(), tests.settings.name.as_str()),
            ("command", "tests")
        );
        assert_eq!(tests.settings.timeout, Duration::from_millis(5000));
        assert!(!tests.settings.blocking);
        assert_eq!(tests.settings.paths, ["src/**"]);
        assert_eq!(tests.options["run"], "cargo test");
        assert_eq!(
            config.checks[0].settings.timeout,
            Duration::from_millis(DEFAULT_TIMEOUT_MS)
        );
        assert_eq!(
            GatesConfig::from_section(None).unwrap(),
            GatesConfig::default()
        );
    }

    #[test]
    fn mistakes_name_the_field() {
        for (section, expected) in [
            (
                json!({"checks": [{"name": "x"}]}),
                "gates.checks[0]: `kind` is required",
            ),
            (
                json!({"checks": [{"kind": "secrets"}, {"kind": "secrets"}]}),
                "two checks are named \"secrets\"",
            ),
            (
                json!({"checks": [{"kind": "command", "timeout_ms": 0}]}),
                "gates.checks[0].timeout_ms",
            ),
            (json!({"max_rounds": -1}), "gates.max_rounds"),
            (json!({"chekcs": []}), "gates.chekcs is not a setting"),
            (json!(["secrets"]), "expected a map"),
        ] {
            let error = GatesConfig::from_section(Some(&section))
                .unwrap_err()
                .to_string();
            assert!(
                error.contains(expected),
                "{error} should mention {expected}"
            );
        }
    }
}
