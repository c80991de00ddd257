//! The worker's re-read of its issue before each of Symphony's own steps (after the agent's
//! turns, before the gate stage, before every hand-off step). Whether the run may go on is the
//! scheduler's rule ([`symphony_scheduler::standing`]); this module reads the issue, asks it,
//! and audits a withheld step.

use symphony_core::Issue;
use symphony_tracker::Tracker;

use super::persist::Persistence;
use super::tools::AgentMoves;
use symphony_scheduler::SchedulerConfig;
pub(crate) use symphony_scheduler::Standing;
use symphony_scheduler::{ExitReason, StopReason};

/// Where `issue` stands for the run, by the scheduler's own rules and the agent's last move.
pub(crate) fn standing(issue: &Issue, config: &SchedulerConfig, moves: &AgentMoves) -> Standing {
    symphony_scheduler::standing(issue, config, moves.last().as_deref())
}

/// Re-reads the run's issue before each of Symphony's own steps.
pub(crate) struct IssueGuard<'a> {
    pub tracker: &'a dyn Tracker,
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
