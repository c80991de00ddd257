//! Symphony's own stages once the agent's turns ended normally: the issue re-read, the gate
//! stage, then the hand-off.

use symphony_core::Issue;
use symphony_gates::ChangeSet;
use symphony_scheduler::{Event, ExitReason};

use super::gates::{GateStage, GateVerdict};
use super::handoff::{HandOffStage, TokenTally};
use super::standing::IssueGuard;
use super::tools::AgentMoves;
use super::worker::WorkerContext;

/// How long reading the working tree's id may take.
const TREE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(120);

/// Symphony's own stages after the agent's turns ended normally: gates, then hand-off.
pub(crate) struct AfterTurns<'a> {
    pub ctx: &'a WorkerContext,
    pub workspace: &'a std::path::Path,
    pub issue: &'a Issue,
    pub docs: Option<&'a symphony_docs::DocsConfig>,
    pub started: std::time::Instant,
    pub tokens: &'a TokenTally,
    pub moves: &'a AgentMoves,
    /// The approved plan's tree, on a planned issue's coding run: a run that leaves the
    /// workspace at it changed nothing (the plan alone is not a change to hand off).
    pub planned_tree: Option<&'a str>,
}

impl AfterTurns<'_> {
    /// Whether a planned issue's coding run left the workspace as its approved plan did. A
    /// tree that cannot be read is not "nothing": the change is read again by the stages
    /// that follow, which report the error.
    async fn only_the_plan(&self) -> bool {
        let Some(tree) = self.planned_tree else {
            return false;
        };
        ChangeSet::working_tree(self.workspace, TREE_TIMEOUT)
            .await
            .is_ok_and(|now| now == tree)
    }

    pub async fn run(&self, session: &mut dyn symphony_agent::AgentSession) -> ExitReason {
        let ctx = self.ctx;
        let plan = ctx.plan.gates.as_deref();
        let handoff = ctx.plan.handoff.as_ref();
        if plan.is_none() && handoff.is_none() {
            return ExitReason::Normal;
        }
        let guard = IssueGuard {
            tracker: ctx.tracker.as_ref(),
            config: &ctx.scheduling,
            moves: self.moves,
            issue_id: &self.issue.id,
            persistence: ctx.persistence.as_ref(),
        };
        // Nothing of Symphony's own runs on an issue someone moved out of the run's reach.
        if let Err(exit) = guard.check("the gate stage").await {
            return exit;
        }
        // From here the worker is Symphony's, not the agent's: no inactive-stop, no stall (the
        // guard re-reads the issue before each step instead).
        let _ = ctx
            .updates
            .send(Event::GateStageStarted {
                issue_id: self.issue.id.clone(),
            })
            .await;
        // A plan with a hand-off always has its code host (RunPlan builds both or refuses the
        // workflow); should that ever break, nothing is handed off.
        let handoff = match (handoff, ctx.plan.code_host.as_ref()) {
            (Some(config), Some(code_host)) => Some(HandOffStage {
                config,
                docs: self.docs,
                workflow: &ctx.workflow,
                tracker: ctx.tracker.as_ref(),
                code_host,
                persistence: ctx.persistence.as_ref(),
                workspace: self.workspace,
                issue: self.issue,
                started: self.started,
                tokens: self.tokens,
                run_id: ctx.run_id,
                guard: &guard,
                empty_before: ctx.empty_before,
                watch_review: ctx.plan.review.is_some(),
                round: ctx.review.as_ref().map(|r| &r.round),
                replacing: ctx.review.as_ref().and_then(|r| r.replacing()),
                budget: ctx
                    .prior_spend
                    .map(|prior| (ctx.scheduling.budgets.for_issue(self.issue), prior)),
            }),
            (Some(_), None) => {
                return ExitReason::Failed(
                    "the hand-off has no code host to propose the change on".to_owned(),
                )
            }
            (None, _) => None,
        };
        if let Some(stage) = &handoff {
            if self.only_the_plan().await {
                return stage.nothing_to_hand_off().await;
            }
            if let Err(exit) = stage.prepare().await {
                return exit;
            }
        }
        let (reports, judged) = match plan {
            Some(plan) => {
                let stage = GateStage {
                    plan,
                    workflow: &ctx.workflow,
                    tracker: ctx.tracker.as_ref(),
                    persistence: ctx.persistence.as_ref(),
                    metrics: &ctx.metrics,
                    workspace: self.workspace,
                    issue: self.issue,
                    guard: &guard,
                    reviewers: &ctx.reviewers,
                    tokens: self.tokens,
                    updates: &ctx.updates,
                    price: ctx.plan.price,
                };
                match stage.run(session).await {
                    GateVerdict::Passed { reports, change } => (reports, Some(change)),
                    GateVerdict::NothingToCheck => {
                        return match &handoff {
                            Some(stage) => stage.nothing_to_hand_off().await,
                            // The agent hands off itself: no change may be its answer.
                            None => ExitReason::Normal,
                        };
                    }
                    GateVerdict::Decided(exit) => return exit,
                }
            }
            None => (Vec::new(), None),
        };
        match &handoff {
            Some(stage) => stage.run(&reports, judged.as_deref()).await,
            None => ExitReason::Normal,
        }
    }
}
