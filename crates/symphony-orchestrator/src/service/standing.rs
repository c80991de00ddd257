//! Whether a run may still act on its issue: after the agent's turns, before the gate stage and
//! before every hand-off step the worker re-reads the issue, and goes on only while it is still
//! active or sits in the state the agent's own tool call moved it to. A person who cancelled,
//! closed or re-labelled the issue meanwhile is never overruled by a commit, a push, a pull
//! request or a move to review.

use std::sync::Arc;

use symphony_core::Issue;
use symphony_tracker::Tracker;

use super::persist::Persistence;
use super::tools::AgentMoves;
use crate::config::SchedulerConfig;
use crate::eligibility::routable;
use crate::scheduler::{ExitReason, StopReason};

/// Where an issue stands for the run working on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Standing {
    /// Active and routable: the agent may take more turns.
    Active,
    /// In the state the agent's own tool call moved it to: the agent handed it off, and
    /// Symphony's own stages (gates, hand-off) take over.
    MovedByAgent,
    /// Someone else moved it out of the run's reach: stop, hand nothing off.
    Gone(StopReason),
}

/// Where `issue` stands, given the moves the agent's tools made.
pub(crate) fn standing(issue: &Issue, config: &SchedulerConfig, moves: &AgentMoves) -> Standing {
    if moves.moved_to(&issue.state) {
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

/// Re-reads the run's issue before each of Symphony's own steps.
pub(crate) struct IssueGuard<'a> {
    pub tracker: &'a Arc<dyn Tracker>,
    pub config: &'a SchedulerConfig,
    pub moves: &'a AgentMoves,
    pub issue_id: &'a str,
    /// Where a withheld step is audited.
    pub persistence: Option<&'a Persistence>,
}

impl IssueGuard<'_> {
    /// The issue as the tracker has it now, if the run may still act on it before `step`;
    /// otherwise how the run ends. A read that fails ends it too: what cannot be checked is
    /// not handed off.
    pub async fn check(&self, step: &str) -> Result<Issue, ExitReason> {
        let issues = self
            .tracker
            .fetch_issues_by_ids(&[self.issue_id.to_owned()])
            .await
            .map_err(|e| {
                ExitReason::Failed(format!(
                    "issue state refresh error before {step} (nothing was handed off): {e}"
                ))
            })?;
        let Some(issue) = issues.into_iter().find(|i| i.id == self.issue_id) else {
            return Err(self.gone(step, StopReason::Missing, None));
        };
        match standing(&issue, self.config, self.moves) {
            Standing::Active | Standing::MovedByAgent => Ok(issue),
            Standing::Gone(stop) => Err(self.gone(step, stop, Some(&issue))),
        }
    }

    fn gone(&self, step: &str, stop: StopReason, issue: Option<&Issue>) -> ExitReason {
        if let Some(persistence) = self.persistence {
            persistence.audit(
                "handoff_withheld",
                issue.map(|i| i.identifier.as_str()),
                serde_json::json!({
                    "before": step,
                    "reason": stop,
                    "state": issue.map(|i| i.state.as_str()),
                }),
            );
        }
        tracing::info!(
            issue_id = self.issue_id,
            issue_identifier = issue.map_or("", |i| i.identifier.as_str()),
            state = issue.map_or("", |i| i.state.as_str()),
            ?stop,
            "the issue was moved out of the run's reach; {step} and what follows are skipped"
        );
        ExitReason::Stopped(stop)
    }
}
