//! The gate stage of a worker: after the agent's turns end normally with a change, Symphony
//! runs the configured gates itself; blocking failures go back to the agent as the next turn
//! on the same thread, up to `gates.max_rounds`; when the rounds are spent the issue is handed
//! to a person (`gates.needs_human_state`) with the reports. Every verdict is audited.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use symphony_agent::AgentSession;
use symphony_core::Issue;
use symphony_gates::{
    feedback, ChangeError, ChangeSet, GateContext, GateIssue, GateReport, GateRunner, GatesConfig,
};
use symphony_tracker::Tracker;
use symphony_workflow::Workflow;
use tracing::Instrument as _;

use super::persist::Persistence;
use super::reviewer::{ReviewerBackends, WorkerReviewer};
use super::standing::IssueGuard;
use super::token_tally::TokenTally;
use crate::metrics::ServiceMetrics;
use symphony_scheduler::{AgentUpdate, Event, ExitReason};
use tokio::sync::mpsc;

/// How long reading the change may take.
const CHANGE_TIMEOUT: Duration = Duration::from_secs(120);
/// Comments are bounded (trackers limit them; people read them).
const MAX_COMMENT: usize = 60 * 1024;

/// The gates of one workflow snapshot, ready to run (built by `RunPlan`, which refuses gates
/// without `workspace.repo`).
pub(crate) struct GatePlan {
    pub config: GatesConfig,
    pub runners: Vec<GateRunner>,
}

/// The ref a workspace branched from: the configured base branch, else the remote's default.
pub(crate) fn base_ref(workflow: &Workflow) -> String {
    match &workflow.config.workspace.base_branch {
        Some(branch) => format!("refs/remotes/origin/{branch}"),
        None => "refs/remotes/origin/HEAD".to_owned(),
    }
}

/// The issue as gates see it.
fn gate_issue(issue: &Issue) -> GateIssue {
    let mut brief = GateIssue::new(issue.identifier.clone(), issue.title.clone());
    brief.description = issue.description.clone();
    brief.url = issue.url.clone();
    brief
}

/// How the gate stage ended.
pub(crate) enum GateVerdict {
    /// Every blocking gate passed on `change`; these are the last round's reports. The
    /// hand-off commits exactly this change's tree.
    Passed {
        reports: Vec<GateReport>,
        change: Arc<ChangeSet>,
    },
    /// Nothing to check (no change, or no git checkout): nothing to hand off either.
    NothingToCheck,
    /// The worker's outcome is decided (an error, or the issue went to a person).
    Decided(ExitReason),
}

/// What the gate stage needs from the worker.
pub(crate) struct GateStage<'a> {
    pub plan: &'a GatePlan,
    pub workflow: &'a Workflow,
    pub tracker: &'a dyn Tracker,
    pub persistence: Option<&'a Persistence>,
    pub metrics: &'a ServiceMetrics,
    pub workspace: &'a Path,
    pub issue: &'a Issue,
    /// Re-reads the issue before each feedback round and before it goes to a person.
    pub guard: &'a IssueGuard<'a>,
    /// The reviewers `ai_review` checks name.
    pub reviewers: &'a Arc<ReviewerBackends>,
    /// The run's token counts: reviewers' tokens are added to them.
    pub tokens: &'a TokenTally,
    /// The scheduler (and through it the store): told the run's usage once a reviewer's is in.
    pub updates: &'a mpsc::Sender<Event>,
    /// The price of a reviewer's usage reported without one.
    pub price: Option<crate::budget_config::Price>,
}

impl GateStage<'_> {
    fn audit(&self, kind: &str, detail: serde_json::Value) {
        if let Some(persistence) = self.persistence {
            persistence.audit(kind, Some(&self.issue.identifier), detail);
        }
    }

    /// Tells the scheduler a feedback round starts (the round budget counts it).
    async fn round_started(&self) {
        self.tell(AgentUpdate {
            event: "gate_round".to_owned(),
            round_started: true,
            ..AgentUpdate::default()
        })
        .await;
    }

    /// Sends the scheduler (and through it the store) an update of the run.
    async fn tell(&self, update: AgentUpdate) {
        let _ = self
            .updates
            .send(Event::AgentUpdate {
                issue_id: self.issue.id.clone(),
                update,
            })
            .await;
    }

    /// Runs gates and feedback rounds on `session`.
    pub async fn run(&self, session: &mut dyn AgentSession) -> GateVerdict {
        let max_rounds = self.plan.config.max_rounds;
        let mut round = 0;
        loop {
            let change = match ChangeSet::since_branch_point(
                self.workspace,
                &base_ref(self.workflow),
                CHANGE_TIMEOUT,
            )
            .await
            {
                Ok(change) => change,
                Err(ChangeError::Unmerged { paths }) if round < max_rounds => {
                    // A merge of the base (a review round's conflict) the agent has not
                    // finished: a feedback round like a failed gate's, never a change read
                    // with its markers.
                    self.audit("gates_unmerged", json!({"round": round, "paths": paths}));
                    if let Err(exit) = self.guard.check("the next feedback round").await {
                        return GateVerdict::Decided(exit);
                    }
                    round += 1;
                    self.round_started().await;
                    let listed: Vec<String> = paths.iter().map(|p| format!("- `{p}`")).collect();
                    let guidance = format!(
                        "Symphony cannot check your change yet: these files still hold merge \
                         conflict markers (`<<<<<<<`, `>>>>>>>`). Resolve each conflict (keep \
                         what both sides meant), remove the markers, and say when it is done. \
                         Feedback round {round} of at most {max_rounds}.\n{}",
                        listed.join("\n")
                    );
                    if let Err(e) = session.run_turn(&guidance).await {
                        return GateVerdict::Decided(ExitReason::Failed(format!(
                            "agent turn error [{}]: {e}",
                            e.category()
                        )));
                    }
                    continue;
                }
                Err(e) => {
                    self.audit(
                        "gates_error",
                        json!({"round": round, "error": e.to_string()}),
                    );
                    return GateVerdict::Decided(ExitReason::Failed(format!(
                        "gate stage error [{}]: {e}",
                        e.category()
                    )));
                }
            };
            if change.files.is_empty() {
                self.audit(
                    "gates_skipped",
                    json!({"round": round, "reason": "no change"}),
                );
                return GateVerdict::NothingToCheck;
            }
            let change = Arc::new(change);
            let mut context = GateContext::new(self.workspace.to_path_buf(), Arc::clone(&change));
            context.remove_env = self.tracker.secret_environment_names();
            context.issue = Some(gate_issue(self.issue));
            context.reviewer = Some(Arc::new(WorkerReviewer {
                backends: Arc::clone(self.reviewers),
                issue: self.issue.clone(),
                remove_env: context.remove_env.clone(),
                read_timeout: self.workflow.config.run_limits.read_timeout(),
            }));
            let mut reports = Vec::new();
            for runner in &self.plan.runners {
                let span = tracing::debug_span!(
                    "gate",
                    issue_identifier = %self.issue.identifier,
                    gate = %runner.name(),
                    round,
                    status = tracing::field::Empty,
                );
                let report = runner.run(&context).instrument(span.clone()).await;
                span.record("status", report.status.as_str());
                tracing::info!(
                    issue_identifier = %self.issue.identifier,
                    gate = %report.gate,
                    status = report.status.as_str(),
                    round,
                    "gate verdict: {}",
                    report.summary
                );
                self.metrics.gate(&report.gate, report.status.as_str());
                if let Some(used) = report.agent_tokens {
                    let used = self.price.map_or(used, |p| p.priced(used));
                    self.tokens.add(&used);
                    // The run's usage includes its reviewers': the scheduler's totals, the
                    // run's row in the store and the budgets count them like the agent's.
                    self.tell(AgentUpdate {
                        event: "reviewer_usage".to_owned(),
                        tokens: Some(self.tokens.usage()),
                        ..AgentUpdate::default()
                    })
                    .await;
                }
                self.audit(
                    "gate_verdict",
                    json!({
                        "round": round,
                        "gate": report.gate,
                        "status": report.status.as_str(),
                        "blocking": report.blocking,
                        "summary": report.summary,
                        "findings": report.findings.iter().map(|f| json!({
                            "rule": f.rule, "file": f.file, "line": f.line,
                            "fingerprint": f.fingerprint, "in_change": f.in_change,
                        })).collect::<Vec<_>>(),
                        "duration_ms": report.duration_ms,
                        "agent_tokens": report.agent_tokens,
                    }),
                );
                reports.push(report);
            }
            let failed: Vec<&GateReport> = reports.iter().filter(|r| r.blocks()).collect();
            if failed.is_empty() {
                self.audit("gates_passed", json!({"round": round}));
                return GateVerdict::Passed { reports, change };
            }
            if round >= max_rounds {
                if let Err(exit) = self.guard.check("handing the issue to a person").await {
                    return GateVerdict::Decided(exit);
                }
                return GateVerdict::Decided(self.exhausted(&failed, round).await);
            }
            if let Err(exit) = self.guard.check("the next feedback round").await {
                return GateVerdict::Decided(exit);
            }
            round += 1;
            self.round_started().await;
            let guidance = feedback::render(
                self.plan.config.feedback.as_deref(),
                &failed,
                round,
                max_rounds,
            );
            if let Err(e) = session.run_turn(&guidance).await {
                return GateVerdict::Decided(ExitReason::Failed(format!(
                    "agent turn error [{}]: {e}",
                    e.category()
                )));
            }
        }
    }

    /// The rounds are spent: hand the issue to a person with the reports, or fail the run.
    async fn exhausted(&self, failed: &[&GateReport], round: u32) -> ExitReason {
        let summary: Vec<String> = failed
            .iter()
            .map(|r| format!("{} ({}): {}", r.gate, r.status.as_str(), r.summary))
            .collect();
        self.audit(
            "gates_exhausted",
            json!({"round": round, "failed": summary}),
        );
        let Some(state) = self.plan.config.needs_human_state.as_deref() else {
            return ExitReason::Failed(format!(
                "gates still failing after {round} round(s): {}",
                summary.join("; ")
            ));
        };
        let mut comment = format!(
            "Symphony's quality gates still fail after {round} round(s) of feedback, so this \
             needs a person.\n\n"
        );
        for report in failed {
            comment.push_str(&format!(
                "- **{}** ({}): {}\n",
                report.gate,
                report.status.as_str(),
                report.summary
            ));
            for finding in report.findings.iter().filter(|f| f.in_change).take(20) {
                let place = match (&finding.file, finding.line) {
                    (Some(file), Some(line)) => format!(" `{file}:{line}`"),
                    (Some(file), None) => format!(" `{file}`"),
                    _ => String::new(),
                };
                comment.push_str(&format!(
                    "  - {}{place}: {}\n",
                    finding.rule, finding.message
                ));
            }
        }
        if comment.len() > MAX_COMMENT {
            let mut end = MAX_COMMENT;
            while !comment.is_char_boundary(end) {
                end -= 1;
            }
            comment.truncate(end);
            comment.push_str("\n…");
        }
        match symphony_tracker::hand_off(self.tracker, self.issue, Some(state), Some(&comment))
            .await
        {
            Ok(()) => {
                self.audit("handed_to_human", json!({"state": state}));
                ExitReason::Normal
            }
            Err(e) => ExitReason::Failed(format!(
                "gates failed and the issue could not be moved to {state:?}: {e}"
            )),
        }
    }
}
