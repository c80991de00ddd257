//! The `plan:` section of WORKFLOW.md (ADR 0020): issues opted in by label or state are
//! planned before they are coded. The first run writes a decision record draft; a person
//! approves it by moving the issue (or labelling it); only then does a coding run start.
//!
//! ```yaml
//! plan:
//!   labels: [needs-plan]       # issues with one of these labels are planned first
//!   states: []                 # ... and issues in one of these active states
//!   review_state: Plan Review  # where a proposed plan waits (not active, not terminal)
//!   approved_state: Approved   # an active state: a person moves the issue here to approve
//!   approved_label: null       # or a label that approves
//!   max_rounds: 3              # proposals without approval before a person takes over
//!   fix_turns: 2               # turns to fix a round that wrote no draft or touched code
//!   adr_dir: docs/adr          # default: docs.adr_dir, else docs/adr
//!   prompt: |                  # Liquid, appended to the prompt of a planning run
//!   approved_prompt: |         # Liquid, appended to the prompt of the coding run
//! ```

use serde_json::Value;
use symphony_core::Issue;
use symphony_tracker::normalize::state_in;
use symphony_workflow::ServiceConfig;

/// Default of `plan.max_rounds`.
pub const DEFAULT_MAX_ROUNDS: u32 = 3;
/// Default of `plan.fix_turns`.
pub const DEFAULT_FIX_TURNS: u32 = 2;

/// Settings of the plan stage, checked against the tracker's states.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PlanningConfig {
    /// Issues with one of these labels (lowercase) are planned first.
    pub labels: Vec<String>,
    /// Issues in one of these active states are planned first (the tracker's spelling).
    pub states: Vec<String>,
    /// Where a proposed plan waits for a person.
    pub review_state: String,
    /// The active state that approves the plan.
    pub approved_state: Option<String>,
    /// The label that approves the plan (lowercase).
    pub approved_label: Option<String>,
    /// Where a person sends a plan they do not approve (named in the plan's comment).
    pub rework_state: String,
    /// Proposals without approval before the issue goes to a person.
    pub max_rounds: u32,
    /// Turns in which the planning run may fix a round that wrote no draft or changed other
    /// files.
    pub fix_turns: u32,
    /// The folder of decision records, relative to the repository.
    pub adr_dir: String,
    /// The planning template (`None`: the default).
    pub prompt: Option<String>,
    /// The approved-plan template (`None`: the default).
    pub approved_prompt: Option<String>,
}

const KEYS: [&str; 10] = [
    "labels",
    "states",
    "review_state",
    "approved_state",
    "approved_label",
    "max_rounds",
    "fix_turns",
    "adr_dir",
    "prompt",
    "approved_prompt",
];

impl PlanningConfig {
    /// Whether `issue` goes through the plan stage: opted in, or approved.
    pub fn applies(&self, issue: &Issue) -> bool {
        self.opted_in(issue) || self.approved(issue)
    }

    fn opted_in(&self, issue: &Issue) -> bool {
        issue.labels.iter().any(|l| self.labels.contains(l)) || state_in(&issue.state, &self.states)
    }

    /// Whether a person approved `issue`'s plan: it is in the approved state or has the
    /// approving label.
    pub fn approved(&self, issue: &Issue) -> bool {
        self.approved_state
            .as_ref()
            .is_some_and(|s| state_in(&issue.state, std::slice::from_ref(s)))
            || self
                .approved_label
                .as_ref()
                .is_some_and(|l| issue.labels.contains(l))
    }

    /// The section appended to a run's prompt: the planning one, or the approved-plan one.
    pub fn section(&self, approved: bool) -> &str {
        use crate::planning_prompt::{DEFAULT_APPROVED, DEFAULT_PROMPT};
        if approved {
            self.approved_prompt.as_deref().unwrap_or(DEFAULT_APPROVED)
        } else {
            self.prompt.as_deref().unwrap_or(DEFAULT_PROMPT)
        }
    }

    /// How a person approves a plan, for the plan's comment.
    pub fn how_to_approve(&self) -> String {
        match (&self.approved_state, &self.approved_label) {
            (Some(state), Some(label)) => format!(
                "move this issue to **{state}** (or add the label `{label}` and move it to an \
                 active state)"
            ),
            (Some(state), None) => format!("move this issue to **{state}**"),
            (None, Some(label)) => format!(
                "add the label `{label}` and move this issue to **{}**",
                self.rework_state
            ),
            // `from_section` refuses a plan without either.
            (None, None) => "approve it as the workflow says".to_owned(),
        }
    }

    /// The JSON Schema (2020-12) of the `plan` section: what `from_section` accepts.
    pub fn schema() -> Value {
        let names = |what: &str| {
            serde_json::json!({
                "description": what,
                "type": "array",
                "items": {"type": "string", "minLength": 1},
                "uniqueItems": true,
            })
        };
        serde_json::json!({
            "description": "Extension: issues opted in by label or state are planned before they \
                            are coded (ADR 0020). A planning run writes a decision record draft, \
                            Symphony commits it, posts it on the issue and moves the issue to \
                            `review_state`; a person approves by moving it to `approved_state` \
                            (or adding `approved_label`); the coding run gets the approved plan. \
                            Needs `handoff`.",
            "type": "object",
            "properties": {
                "labels": names("Issues with one of these labels are planned first."),
                "states": names("Issues in one of these active states are planned first."),
                "review_state": {"description": "Where a proposed plan waits: neither active nor terminal.", "type": "string", "minLength": 1},
                "approved_state": {"description": "The active state a person moves the issue to, to approve its plan.", "type": "string", "minLength": 1},
                "approved_label": {"description": "A label that approves the plan (the issue must also be in an active state to run).", "type": "string", "minLength": 1},
                "max_rounds": {"type": "integer", "minimum": 1, "maximum": 10, "default": DEFAULT_MAX_ROUNDS},
                "fix_turns": {"description": "Turns a planning run gets to fix a round that wrote no draft or changed other files.", "type": "integer", "minimum": 0, "maximum": 5, "default": DEFAULT_FIX_TURNS},
                "adr_dir": {"description": "The folder of decision records, relative to the repository. Default: docs.adr_dir, else docs/adr.", "type": "string", "minLength": 1},
                "prompt": {"description": "Liquid template appended to a planning run's prompt; sees `issue`, `attempt` and `plan`.", "type": "string", "minLength": 1},
                "approved_prompt": {"description": "Liquid template appended to the coding run's prompt; sees `issue`, `attempt` and `plan`.", "type": "string", "minLength": 1},
            },
            "required": ["review_state"],
            "additionalProperties": false,
        })
    }

    /// Reads the section (`None` when absent) against `config`'s tracker states;
    /// `docs_adr_dir` is the `docs` section's folder, when there is one. The error says what
    /// to fix.
    pub fn from_section(
        section: Option<&Value>,
        config: &ServiceConfig,
        docs_adr_dir: Option<&str>,
    ) -> Result<Option<Self>, String> {
        let Some(section) = section else {
            return Ok(None);
        };
        let Value::Object(map) = section else {
            return Err(format!("plan: expected a map ({})", KEYS.join(", ")));
        };
        let tracker = &config.tracker;
        let mut plan = Self {
            labels: Vec::new(),
            states: Vec::new(),
            review_state: String::new(),
            approved_state: None,
            approved_label: None,
            rework_state: String::new(),
            max_rounds: DEFAULT_MAX_ROUNDS,
            fix_turns: DEFAULT_FIX_TURNS,
            adr_dir: docs_adr_dir.unwrap_or("docs/adr").to_owned(),
            prompt: None,
            approved_prompt: None,
        };
        for (key, value) in map {
            match key.as_str() {
                "labels" => {
                    plan.labels = names(key, value)?
                        .into_iter()
                        .map(|l| l.to_lowercase())
                        .collect()
                }
                "states" => {
                    plan.states = names(key, value)?
                        .iter()
                        .map(|s| known(key, s, &tracker.active_states, "active"))
                        .collect::<Result<_, _>>()?
                }
                "review_state" => plan.review_state = name(key, value)?,
                "approved_state" => {
                    plan.approved_state = Some(known(
                        key,
                        &name(key, value)?,
                        &tracker.active_states,
                        "active",
                    )?)
                }
                "approved_label" => plan.approved_label = Some(name(key, value)?.to_lowercase()),
                "max_rounds" => plan.max_rounds = number(key, value, 1, 10)?,
                "fix_turns" => plan.fix_turns = number(key, value, 0, 5)?,
                "adr_dir" => {
                    plan.adr_dir = value
                        .as_str()
                        .and_then(symphony_docs::folder_in_workspace)
                        .ok_or("plan.adr_dir: expected a folder inside the repository")?
                }
                "prompt" | "approved_prompt" => {
                    let template = value
                        .as_str()
                        .filter(|t| !t.trim().is_empty())
                        .ok_or_else(|| format!("plan.{key}: expected a Liquid template"))?;
                    crate::planning_prompt::check_template(template)
                        .map_err(|e| format!("plan.{key}: {e}"))?;
                    let slot = if key == "prompt" {
                        &mut plan.prompt
                    } else {
                        &mut plan.approved_prompt
                    };
                    *slot = Some(template.to_owned());
                }
                other => {
                    let hint = symphony_workflow::closest(other, &KEYS)
                        .map(|k| format!("did you mean `{k}`? "))
                        .unwrap_or_default();
                    return Err(format!(
                        "plan.{other} is not a setting ({hint}settings: {})",
                        KEYS.join(", ")
                    ));
                }
            }
        }
        plan.check(config)?;
        Ok(Some(plan))
    }

    /// The rules between settings, and the states a person sends the issue to.
    fn check(&mut self, config: &ServiceConfig) -> Result<(), String> {
        let tracker = &config.tracker;
        if self.labels.is_empty() && self.states.is_empty() {
            return Err("plan needs `labels` or `states`: which issues are planned first".into());
        }
        if self.review_state.is_empty() {
            return Err("plan.review_state is required: where a proposed plan waits".into());
        }
        let review = std::slice::from_ref(&self.review_state);
        if tracker.active_states.iter().any(|s| state_in(s, review)) {
            return Err(format!(
                "plan.review_state {:?} is an active state: a proposed plan would be dispatched \
                 again instead of waiting for a person",
                self.review_state
            ));
        }
        if tracker.terminal_states.iter().any(|s| state_in(s, review)) {
            return Err(format!(
                "plan.review_state {:?} is a terminal state: it would end the issue",
                self.review_state
            ));
        }
        if self.approved_state.is_none() && self.approved_label.is_none() {
            return Err(
                "plan needs `approved_state` or `approved_label`: how a person \
                        approves a plan"
                    .into(),
            );
        }
        if let Some(approved) = &self.approved_state {
            if state_in(approved, &self.states) {
                return Err(format!(
                    "plan.approved_state {approved:?} is one of plan.states: an approved plan \
                     would be planned again"
                ));
            }
        }
        if let Some(label) = &self.approved_label {
            if self.labels.contains(label) {
                return Err(format!(
                    "plan.approved_label {label:?} is one of plan.labels: every planned issue \
                     would count as approved"
                ));
            }
        }
        // A plan a person does not approve goes back to an active state that plans again.
        self.rework_state = self
            .states
            .first()
            .or_else(|| {
                tracker.active_states.iter().find(|s| {
                    self.approved_state
                        .as_ref()
                        .is_none_or(|a| !state_in(s, std::slice::from_ref(a)))
                })
            })
            .cloned()
            .ok_or("plan needs an active state other than approved_state to plan in")?;
        Ok(())
    }
}

fn name(key: &str, value: &Value) -> Result<String, String> {
    value
        .as_str()
        .map(str::trim)
        .filter(|t| !t.is_empty() && !t.contains(['\n', '\r']))
        .map(str::to_owned)
        .ok_or_else(|| format!("plan.{key}: expected a name"))
}

fn names(key: &str, value: &Value) -> Result<Vec<String>, String> {
    let list = value
        .as_array()
        .ok_or_else(|| format!("plan.{key}: expected a list of names"))?;
    list.iter().map(|v| name(key, v)).collect()
}

fn known(key: &str, name: &str, states: &[String], kind: &str) -> Result<String, String> {
    states
        .iter()
        .find(|s| s.eq_ignore_ascii_case(name))
        .cloned()
        .ok_or_else(|| {
            format!(
                "plan.{key}: {name:?} is not one of tracker.{kind}_states ({})",
                states.join(", ")
            )
        })
}

fn number(key: &str, value: &Value, min: u64, max: u64) -> Result<u32, String> {
    value
        .as_u64()
        .filter(|n| (min..=max).contains(n))
        .map(|n| n as u32)
        .ok_or_else(|| format!("plan.{key}: expected an integer from {min} to {max}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn config() -> ServiceConfig {
        crate::test_config::local_config("Todo, Approved", "Done")
    }

    fn read(section: Value) -> Result<PlanningConfig, String> {
        PlanningConfig::from_section(Some(&section), &config(), Some("doc/decisions"))
            .map(|p| p.expect("present"))
    }

    fn issue(state: &str, labels: &[&str]) -> Issue {
        let mut issue = Issue::new("1", "ABC-1", "Plan it", state);
        issue.labels = labels.iter().map(|l| (*l).to_owned()).collect();
        issue
    }

    #[test]
    fn defaults_and_who_is_planned_and_approved() {
        assert_eq!(
            PlanningConfig::from_section(None, &config(), None).unwrap(),
            None
        );
        let plan = read(json!({
            "labels": ["Needs-Plan"], "review_state": "Plan Review", "approved_state": "approved",
        }))
        .unwrap();
        assert_eq!(plan.labels, ["needs-plan"], "labels compare lowercase");
        assert_eq!(
            plan.approved_state.as_deref(),
            Some("Approved"),
            "the tracker's spelling"
        );
        assert_eq!(
            plan.rework_state, "Todo",
            "the first active state that is not approval"
        );
        assert_eq!(plan.adr_dir, "doc/decisions", "the docs section's folder");
        assert_eq!((plan.max_rounds, plan.fix_turns), (3, 2));

        assert!(plan.applies(&issue("Todo", &["needs-plan"])));
        assert!(!plan.approved(&issue("Todo", &["needs-plan"])));
        assert!(!plan.applies(&issue("Todo", &["bug"])), "not opted in");
        let approved = issue("approved", &[]);
        assert!(
            plan.approved(&approved) && plan.applies(&approved),
            "an issue in the approved state is a planned one, plan or no plan"
        );

        let by_state = read(json!({
            "states": ["todo"], "review_state": "Plan Review", "approved_label": "Plan-OK",
            "max_rounds": 1, "fix_turns": 0, "adr_dir": "./adr/", "prompt": "{{ plan.round }}",
        }))
        .unwrap();
        assert_eq!(by_state.states, ["Todo"]);
        assert_eq!(by_state.adr_dir, "./adr");
        assert!(by_state.applies(&issue("TODO", &[])));
        assert!(by_state.approved(&issue("Todo", &["plan-ok"])));
        assert!(!by_state.applies(&issue("Approved", &[])));
    }

    #[test]
    fn a_plan_that_cannot_work_is_refused_with_what_to_fix() {
        let base =
            json!({"labels": ["p"], "review_state": "Plan Review", "approved_state": "Approved"});
        let with = |key: &str, value: Value| {
            let mut section = base.clone();
            section[key] = value;
            section
        };
        let without = |key: &str| {
            let mut section = base.clone();
            section.as_object_mut().unwrap().remove(key);
            section
        };
        for (bad, says) in [
            (with("label", json!(["p"])), "did you mean `labels`?"),
            (without("labels"), "needs `labels` or `states`"),
            (without("review_state"), "review_state is required"),
            (with("review_state", json!("todo")), "is an active state"),
            (with("review_state", json!("Done")), "is a terminal state"),
            (
                with("approved_state", json!("Review")),
                "is not one of tracker.active_states",
            ),
            (
                without("approved_state"),
                "needs `approved_state` or `approved_label`",
            ),
            (with("states", json!(["Approved"])), "is one of plan.states"),
            (
                with("states", json!(["Done"])),
                "is not one of tracker.active_states",
            ),
            (with("approved_label", json!("P")), "is one of plan.labels"),
            (with("max_rounds", json!(0)), "from 1 to 10"),
            (with("fix_turns", json!(9)), "from 0 to 5"),
            (with("adr_dir", json!("../adr")), "inside the repository"),
            (with("adr_dir", json!("/adr")), "inside the repository"),
            (with("prompt", json!("{{ plan.nope }}")), "plan.prompt"),
            (
                with("approved_prompt", json!("{% if %}")),
                "plan.approved_prompt",
            ),
            (with("labels", json!("p")), "a list of names"),
            (json!(null), "expected a map"),
        ] {
            let error = read(bad.clone()).unwrap_err();
            assert!(error.contains(says), "{bad}: {error}");
        }
    }
}
