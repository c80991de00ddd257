//! Whether a run may still act on its issue. The worker re-reads the issue after the agent's
//! turns, before the gate stage and before every hand-off step, and asks this: it goes on only
//! while the issue is still active and routable, or sits in the state the agent's own tool call
//! moved it to. A person who cancelled, closed or re-labelled the issue meanwhile is never
//! overruled by a commit, a push, a pull request or a move to review.

use symphony_core::Issue;

use crate::config::{same_state, SchedulerConfig};
use crate::decision::StopReason;
use crate::eligibility::routable;

/// Where an issue stands for the run working on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// Active and routable: the agent may take more turns.
    Active,
    /// In the state the agent's own tool call moved it to: the agent handed it off, and
    /// Symphony's own stages (gates, hand-off) take over.
    MovedByAgent,
    /// Someone else moved it out of the run's reach: stop, hand nothing off.
    Gone(StopReason),
}

/// Where `issue` stands, given the state the agent's tools last moved it to (if they did).
pub fn standing(issue: &Issue, config: &SchedulerConfig, agent_moved_to: Option<&str>) -> Standing {
    if agent_moved_to.is_some_and(|moved| same_state(moved, &issue.state)) {
        Standing::MovedByAgent
    } else if config.is_terminal(&issue.state) {
        Standing::Gone(StopReason::Terminal)
    } else if !config.is_active(&issue.state) {
        Standing::Gone(StopReason::Inactive)
    } else if routable(issue, config).is_err() {
        Standing::Gone(StopReason::Unroutable)
    } else {
        Standing::Active
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn issue(state: &str, labels: &[&str]) -> Issue {
        serde_json::from_value(serde_json::json!({
            "id": "1", "identifier": "A-1", "title": "t", "state": state, "labels": labels,
        }))
        .expect("issue")
    }

    #[test]
    fn the_agents_own_move_outranks_the_state_rules() {
        let config = SchedulerConfig::default();
        let moved = issue("Human Review", &[]);
        assert_eq!(
            standing(&moved, &config, Some("human review")),
            Standing::MovedByAgent
        );
        assert_eq!(
            standing(&moved, &config, None),
            Standing::Gone(StopReason::Inactive)
        );
        assert_eq!(
            standing(&moved, &config, Some("todo")),
            Standing::Gone(StopReason::Inactive)
        );
    }

    #[test]
    fn terminal_inactive_and_unroutable_issues_are_gone() {
        let config = SchedulerConfig {
            required_labels: vec!["agent".into()],
            ..SchedulerConfig::default()
        };
        assert_eq!(
            standing(&issue("Done", &["agent"]), &config, None),
            Standing::Gone(StopReason::Terminal)
        );
        assert_eq!(
            standing(&issue("Todo", &[]), &config, None),
            Standing::Gone(StopReason::Unroutable)
        );
        assert_eq!(
            standing(&issue("Todo", &["Agent"]), &config, None),
            Standing::Active
        );
    }
}
