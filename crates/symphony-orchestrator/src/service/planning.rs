//! A planned issue's run (ADR 0020), around the rules of `planning_policy`: before the agent
//! starts, the plan rounds are read from the issue's branch and the run becomes a proposal or
//! the coding of the approved plan; after a proposal's turns, the draft is checked, committed
//! as the round's record, posted on the issue, and the issue moved to the plan review state.

use std::path::Path;
use std::time::Duration;

use serde_json::json;
use symphony_agent::AgentSession;
use symphony_core::Issue;
use symphony_gates::ChangeSet;
use symphony_scheduler::{Event, ExitReason};
use symphony_workspace::{branch_commits, commit_record, file_at, head_branch, head_commit};

use super::gates::base_ref;
use super::standing::IssueGuard;
use super::tools::AgentMoves;
use super::worker_context::WorkerContext;
use crate::planning_config::PlanningConfig;
use crate::planning_policy::{self, DraftCheck, PlanRound, PlanStep};
use crate::planning_prompt::{self, Draft, PlanVariable, ProposedPlan};

/// Commits of the branch read for its plan rounds, at most.
const MAX_BRANCH_COMMITS: usize = 1_000;
/// How long reading the planning run's change may take.
const CHANGE_TIMEOUT: Duration = Duration::from_secs(120);

/// What a planned issue's run does.
pub(crate) enum PlannedRun {
    /// Propose a plan round: the agent writes the draft, nothing else.
    Propose {
        /// The prompt's `plan`.
        variable: PlanVariable,
        /// The branch's head before the run: the round's change is measured from it.
        base: String,
    },
    /// Code the approved plan.
    Code {
        /// The prompt's `plan`.
        variable: PlanVariable,
        /// The approved round's tree: a run that leaves it as it is changed nothing.
        tree: String,
    },
}

impl PlannedRun {
    /// The prompt's `plan` variable.
    pub fn variable(&self) -> &PlanVariable {
        match self {
            Self::Propose { variable, .. } | Self::Code { variable, .. } => variable,
        }
    }
}

fn failed(step: &str, error: impl std::fmt::Display) -> ExitReason {
    ExitReason::Failed(format!("plan error [plan_git_error] ({step}): {error}"))
}

/// Runs a blocking repository read on a blocking thread.
async fn blocking<T: Send + 'static>(
    step: &str,
    read: impl FnOnce() -> Result<T, symphony_workspace::BranchError> + Send + 'static,
) -> Result<T, ExitReason> {
    tokio::task::spawn_blocking(read)
        .await
        .map_err(|e| failed(step, e))?
        .map_err(|e| failed(step, e))
}

/// The plan stage of one run.
pub(crate) struct Planning<'a> {
    pub ctx: &'a WorkerContext,
    pub config: &'a PlanningConfig,
    pub workspace: &'a Path,
    pub issue: &'a Issue,
}

impl Planning<'_> {
    fn audit(&self, kind: &str, detail: serde_json::Value) {
        if let Some(persistence) = &self.ctx.persistence {
            persistence.audit(kind, Some(&self.issue.identifier), detail);
        }
    }

    /// What this run does, read from the branch. `Err` ends the run before the agent starts:
    /// handed to a person (`Normal`) or an error (`Failed`, retried).
    pub async fn prepare(&self) -> Result<PlannedRun, ExitReason> {
        let (workspace, base) = (self.workspace.to_path_buf(), base_ref(&self.ctx.workflow));
        let commits = blocking("read the branch", move || {
            branch_commits(&workspace, &base, MAX_BRANCH_COMMITS)
        })
        .await?;
        let rounds = planning_policy::plan_rounds(&commits);
        let adr_dir = self.config.adr_dir.clone();
        match planning_policy::next_step(self.config, self.issue, &rounds) {
            PlanStep::ToPerson { category, why } => Err(self.to_person(category, &why).await),
            PlanStep::Propose { round, previous } => {
                let drafts = match &previous {
                    Some(previous) => self.drafts(previous).await?,
                    None => Vec::new(),
                };
                let suggested_path = match drafts.first() {
                    Some(draft) => draft.path.clone(),
                    None => {
                        let number =
                            symphony_docs::adr::next_number(&self.workspace.join(&adr_dir));
                        let slug = symphony_docs::adr::slug(&self.issue.title);
                        format!("{adr_dir}/{number:04}-{slug}.md")
                    }
                };
                let workspace = self.workspace.to_path_buf();
                let base = blocking("read HEAD", move || head_commit(&workspace)).await?;
                Ok(PlannedRun::Propose {
                    variable: PlanVariable {
                        round,
                        max_rounds: self.config.max_rounds,
                        adr_dir,
                        suggested_path,
                        approved: false,
                        drafts,
                    },
                    base,
                })
            }
            PlanStep::Code { approved } => {
                let drafts = self.drafts(&approved).await?;
                if drafts.len() != approved.files.len() {
                    let why = format!(
                        "the approved plan's commit {} no longer holds all of its files ({})",
                        approved.commit,
                        approved.files.join(", ")
                    );
                    return Err(self.to_person("plan_file_missing", &why).await);
                }
                self.audit(
                    "plan_approved",
                    json!({"round": approved.round, "commit": approved.commit, "files": approved.files}),
                );
                Ok(PlannedRun::Code {
                    variable: PlanVariable {
                        round: approved.round,
                        max_rounds: self.config.max_rounds,
                        suggested_path: approved.files.first().cloned().unwrap_or_default(),
                        adr_dir,
                        approved: true,
                        drafts,
                    },
                    tree: approved.tree,
                })
            }
        }
    }

    /// The files of `round` as its commit has them (a file it no longer has is left out).
    async fn drafts(&self, round: &PlanRound) -> Result<Vec<Draft>, ExitReason> {
        let mut drafts = Vec::new();
        for path in &round.files {
            let (workspace, commit, file) = (
                self.workspace.to_path_buf(),
                round.commit.clone(),
                path.clone(),
            );
            let bytes =
                blocking("read the plan", move || file_at(&workspace, &commit, &file)).await?;
            if let Some(bytes) = bytes {
                drafts.push(Draft {
                    path: path.clone(),
                    text: String::from_utf8_lossy(&bytes).into_owned(),
                });
            }
        }
        Ok(drafts)
    }

    /// Sends the issue to the hand-off's needs-human state with why; how the run ends.
    async fn to_person(&self, category: &str, why: &str) -> ExitReason {
        self.audit("plan_to_person", json!({"category": category, "why": why}));
        let Some(state) = self
            .ctx
            .plan
            .handoff
            .as_ref()
            .and_then(|h| h.needs_human_state.as_deref())
        else {
            return ExitReason::Failed(format!("plan error [{category}]: {why}"));
        };
        let comment =
            format!("Symphony stopped planning this issue: {why}. It needs a person ({category}).");
        match symphony_tracker::hand_off(
            self.ctx.tracker.as_ref(),
            self.issue,
            Some(state),
            Some(&comment),
        )
        .await
        {
            Ok(()) => {
                self.audit(
                    "handed_to_human",
                    json!({"state": state, "reason": category}),
                );
                ExitReason::Normal
            }
            Err(e) => ExitReason::Failed(format!(
                "plan error [{category}]: {why}; and the issue could not be moved to {state:?}: {e}"
            )),
        }
    }

    /// After a proposal's turns: the draft checked (with fix turns), committed as the round's
    /// record, posted on the issue, and the issue moved to `review_state`.
    pub async fn propose(
        &self,
        session: &mut dyn AgentSession,
        variable: &PlanVariable,
        base: &str,
        moves: &AgentMoves,
    ) -> ExitReason {
        let guard = IssueGuard {
            tracker: self.ctx.tracker.as_ref(),
            config: &self.ctx.scheduling,
            moves,
            issue_id: &self.issue.id,
            persistence: self.ctx.persistence.as_ref(),
        };
        // Nothing of Symphony's own runs on an issue someone moved out of the run's reach.
        if let Err(exit) = guard.check("the plan stage").await {
            return exit;
        }
        // From here the run is Symphony's: the issue may sit in the plan review state
        // without the worker being stopped before it is done.
        let _ = self
            .ctx
            .updates
            .send(Event::GateStageStarted {
                issue_id: self.issue.id.clone(),
            })
            .await;
        match self.proposed(session, variable, base, &guard).await {
            Ok(exit) | Err(exit) => exit,
        }
    }

    async fn proposed(
        &self,
        session: &mut dyn AgentSession,
        variable: &PlanVariable,
        base: &str,
        guard: &IssueGuard<'_>,
    ) -> Result<ExitReason, ExitReason> {
        let round = variable.round;
        let mut fix = 0;
        let (change, files) = loop {
            let change = ChangeSet::from_workspace(self.workspace, base, CHANGE_TIMEOUT)
                .await
                .map_err(|e| ExitReason::Failed(format!("plan error [{}]: {e}", e.category())))?;
            let check = planning_policy::check_drafts(&self.config.adr_dir, &change.files);
            if let DraftCheck::Drafts(files) = check {
                break (change, files);
            }
            if fix >= self.config.fix_turns {
                let outside = match &check {
                    DraftCheck::Outside(paths) => paths.clone(),
                    _ => Vec::new(),
                };
                self.audit(
                    "plan_refused",
                    json!({"round": round, "category": check.category(), "outside": outside}),
                );
                let why = match &check {
                    DraftCheck::Outside(paths) => format!(
                        "the planning run of round {round} changed files besides the plan ({}); \
                         the workspace is kept as it is",
                        paths.join(", ")
                    ),
                    _ => format!("the planning run of round {round} wrote no plan draft"),
                };
                guard.check("handing the issue to a person").await?;
                return Ok(self.to_person(check.category(), &why).await);
            }
            guard.check("the plan's next fix turn").await?;
            fix += 1;
            let outside = match &check {
                DraftCheck::Outside(paths) => paths.as_slice(),
                _ => &[],
            };
            let guidance = planning_prompt::fix_guidance(
                outside,
                &variable.suggested_path,
                fix,
                self.config.fix_turns,
            );
            session.run_turn(&guidance).await.map_err(|e| {
                ExitReason::Failed(format!("agent turn error [{}]: {e}", e.category()))
            })?;
        };
        guard.check("committing the plan").await?;
        let message = planning_policy::round_message(
            &format!(
                "Plan for {}: {}",
                self.issue.identifier,
                one_line(&self.issue.title)
            ),
            &self.issue.identifier,
            &self
                .ctx
                .run_id
                .map_or_else(|| "unrecorded".to_owned(), |id| format!("run-{id}")),
            round,
            &files,
        );
        let identity = self
            .ctx
            .plan
            .handoff
            .as_ref()
            .map(|h| h.author.clone())
            .unwrap_or_default();
        let (workspace, tree) = (self.workspace.to_path_buf(), change.tree.clone());
        let commit = blocking("commit the plan", move || {
            commit_record(&workspace, &tree, &message, &identity)
        })
        .await?;
        let workspace = self.workspace.to_path_buf();
        let branch = blocking("read the branch", move || head_branch(&workspace))
            .await?
            .unwrap_or_else(|| "(detached HEAD)".to_owned());
        let committed = PlanRound {
            round,
            commit: commit.clone(),
            tree: change.tree.clone(),
            files: files.clone(),
        };
        let drafts = self.drafts(&committed).await?;
        let approve = self.config.how_to_approve();
        let comment = planning_prompt::proposal_comment(&ProposedPlan {
            round,
            max_rounds: self.config.max_rounds,
            approve: &approve,
            rework_state: &self.config.rework_state,
            drafts: &drafts,
            branch: &branch,
            commit: &commit,
        });
        guard.check("moving the issue to plan review").await?;
        let state = &self.config.review_state;
        symphony_tracker::hand_off(
            self.ctx.tracker.as_ref(),
            self.issue,
            Some(state),
            Some(&comment),
        )
        .await
        .map_err(|e| {
            ExitReason::Failed(format!(
                "plan error [{}]: the plan of round {round} is committed ({commit}) but the \
                 issue could not be moved to {state:?}: {e}",
                e.category.as_str()
            ))
        })?;
        self.audit(
            "plan_proposed",
            json!({"round": round, "commit": commit, "files": files, "state": state}),
        );
        tracing::info!(
            issue_identifier = %self.issue.identifier,
            round,
            commit,
            state = %state,
            "plan proposed"
        );
        Ok(ExitReason::Normal)
    }
}

/// `text` on one line (a title in a commit subject).
fn one_line(text: &str) -> String {
    let line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    line.chars().take(150).collect()
}
