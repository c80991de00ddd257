//! The hand-off stage of a worker (`handoff:` in WORKFLOW.md): after the gates pass, Symphony
//! commits the change they judged (its tree, exactly), pushes the branch when the code host reviews pushed branches,
//! proposes the change there with its proof-of-work body, publishes the gate verdicts, and
//! moves the issue
//! to the hand-off state with a short comment. Every step is safe to repeat: a retried run
//! updates the same pull request. See docs/adr/0010.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;
use symphony_code_host::{ChangeProposal, CheckResult, CodeHost};
use symphony_core::Issue;
use symphony_docs::pr_body::{self, DiffStats, GateLine, IssueRef, PrFacts};
use symphony_docs::DocsConfig;
use symphony_gates::{ChangeSet, FileChange, GateReport};
use symphony_tracker::Tracker;
use symphony_workflow::Workflow;
use symphony_workspace::{
    commit_subjects, commit_tree, head_branch, head_commit, push_branch, remote_default_branch,
    BRANCH_PREFIX,
};

use super::checks::check_result;
use super::gates::base_ref;
use super::persist::Persistence;
use super::review_handoff::{self, Proposed};
use super::standing::IssueGuard;
pub(crate) use super::token_tally::TokenTally;
use super::{handoff_comment, remarks};
use crate::handoff_config::HandOffConfig;
use crate::review_prompt::PendingRound;
use symphony_scheduler::{ExitReason, IssueLimits, Limit, Spend};

/// How long reading the change may take.
const CHANGE_TIMEOUT: Duration = Duration::from_secs(120);
/// Commit subjects listed in the body.
const MAX_SUBJECTS: usize = 20;
/// Files listed in the body.
const MAX_FILES: usize = 30;

/// What the hand-off stage needs from the worker.
pub(crate) struct HandOffStage<'a> {
    pub config: &'a HandOffConfig,
    pub docs: Option<&'a DocsConfig>,
    pub workflow: &'a Workflow,
    pub tracker: &'a dyn Tracker,
    /// Where the change is proposed and its verdicts published.
    pub code_host: &'a Arc<dyn CodeHost>,
    pub persistence: Option<&'a Persistence>,
    pub workspace: &'a Path,
    pub issue: &'a Issue,
    pub started: Instant,
    pub tokens: &'a TokenTally,
    pub run_id: Option<i64>,
    /// Re-reads the issue before every step: a person's move stops the hand-off.
    pub guard: &'a IssueGuard<'a>,
    /// Consecutive earlier runs of this issue that left nothing to hand off.
    pub empty_before: u32,
    /// Whether the proposed change is watched for review feedback (`review:`).
    pub watch_review: bool,
    /// The review round this run answered, if it answered one.
    pub round: Option<&'a PendingRound>,
    /// What the push may replace (a branch the round rebased): else a fast-forward.
    pub replacing: Option<&'a str>,
    /// The issue's limits and what its earlier runs used (ADR 0023), for the body.
    pub budget: Option<(IssueLimits, Spend)>,
}

/// What publishing did.
enum Published {
    /// The change was proposed and the issue moved.
    Done,
    /// The workspace holds no change: nothing was proposed.
    NothingToHandOff,
}

fn failed(step: &str, category: &str, error: impl std::fmt::Display) -> ExitReason {
    ExitReason::Failed(format!("hand-off error [{category}] ({step}): {error}"))
}

/// Runs a blocking repository read (gix) on a blocking thread, not an async worker.
async fn git_read<T: Send + 'static>(
    step: &str,
    workspace: &Path,
    read: impl FnOnce(&Path) -> T + Send + 'static,
) -> Result<T, ExitReason> {
    let workspace = workspace.to_path_buf();
    tokio::task::spawn_blocking(move || read(&workspace))
        .await
        .map_err(|e| failed(step, "handoff_git_error", e))
}

impl HandOffStage<'_> {
    fn audit(&self, kind: &str, detail: serde_json::Value) {
        if let Some(persistence) = self.persistence {
            persistence.audit(kind, Some(&self.issue.identifier), detail);
        }
    }

    fn run_ref(&self) -> String {
        self.run_id
            .map_or_else(|| "unrecorded".to_owned(), |id| format!("run-{id}"))
    }

    fn title(&self) -> String {
        let title: String = format!("{}: {}", self.issue.identifier, self.issue.title)
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        title.chars().take(200).collect()
    }

    async fn change(&self) -> Result<ChangeSet, ExitReason> {
        ChangeSet::since_branch_point(self.workspace, &base_ref(self.workflow), CHANGE_TIMEOUT)
            .await
            .map_err(|e| failed("read the change", e.category(), e))
    }

    /// Before the gates: a changelog fragment from the run when the change has none (the
    /// agent's own wins), so the gates check what will be handed off.
    pub async fn prepare(&self) -> Result<(), ExitReason> {
        let Some(docs) = self.docs else {
            return Ok(());
        };
        let change = self.change().await?;
        let prefix = format!("{}/", docs.changelog_dir);
        if change.files.is_empty() || change.files.iter().any(|f| f.path.starts_with(&prefix)) {
            return Ok(());
        }
        let written = symphony_docs::changelog::ensure_fragment(
            &self.workspace.join(&docs.changelog_dir),
            &self.issue.identifier,
            &self.config.changelog_category,
            &self.issue.title,
        )
        .map_err(|e| failed("write the changelog fragment", e.category(), e))?;
        if let Some(path) = written {
            let path = path.strip_prefix(self.workspace).unwrap_or(&path);
            self.audit(
                "changelog_generated",
                json!({"path": path.display().to_string()}),
            );
        }
        Ok(())
    }

    /// The agent's turns left no change. Said out loud each time; after
    /// `max_empty_attempts` runs in a row the issue goes to a person instead of being
    /// dispatched again and again.
    pub async fn nothing_to_hand_off(&self) -> ExitReason {
        let attempt = self.empty_before.saturating_add(1);
        let max = self.config.max_empty_attempts;
        tracing::warn!(
            issue_identifier = %self.issue.identifier,
            attempt,
            max,
            "no change to hand off: the agent's turns left the workspace as it was"
        );
        self.audit(
            "no_change_to_hand_off",
            json!({"attempt": attempt, "max_empty_attempts": max}),
        );
        if attempt < max {
            return ExitReason::NoChange;
        }
        let Some(state) = self.config.needs_human_state.as_deref() else {
            // The run plan refuses a hand-off without one; never loop silently regardless.
            return ExitReason::Failed(format!(
                "no change to hand off after {attempt} runs and no needs_human_state to send \
                 the issue to"
            ));
        };
        if let Err(exit) = self.guard.check("handing the issue to a person").await {
            return exit;
        }
        let comment = format!(
            "Symphony ran the agent on this issue {attempt} time(s) in a row, and none of the \
             runs changed anything in the repository, so there is nothing to hand off. It needs \
             a person: make the issue clearer, or close it if nothing is to be done."
        );
        match symphony_tracker::hand_off(self.tracker, self.issue, Some(state), Some(&comment))
            .await
        {
            Ok(()) => {
                self.audit(
                    "handed_to_human",
                    json!({"state": state, "reason": "no change to hand off", "attempts": attempt}),
                );
                tracing::warn!(
                    issue_identifier = %self.issue.identifier,
                    state,
                    "nothing to hand off after {attempt} runs; the issue went to a person"
                );
                ExitReason::Normal
            }
            Err(e) => ExitReason::Failed(format!(
                "no change to hand off after {attempt} runs, and the issue could not be moved \
                 to {state:?}: {e}"
            )),
        }
    }

    /// Hands the change off; `reports` are the passing round's gate verdicts and `judged`
    /// the change they judged (`None` without gates: the change is read here).
    pub async fn run(&self, reports: &[GateReport], judged: Option<&ChangeSet>) -> ExitReason {
        match self.publish(reports, judged).await {
            Ok(Published::Done) => ExitReason::Normal,
            Ok(Published::NothingToHandOff) => self.nothing_to_hand_off().await,
            Err(exit) => {
                if let ExitReason::Failed(why) = &exit {
                    self.audit("handoff_failed", json!({"error": why}));
                }
                exit
            }
        }
    }

    async fn publish(
        &self,
        reports: &[GateReport],
        judged: Option<&ChangeSet>,
    ) -> Result<Published, ExitReason> {
        self.guard.check("the hand-off's commit").await?;
        let workspace = self.workspace.to_path_buf();
        let branch = git_read("read the branch", &workspace, head_branch)
            .await?
            .map_err(|e| failed("read the branch", e.category(), e))?
            .filter(|b| b.starts_with(BRANCH_PREFIX))
            .ok_or_else(|| {
                failed(
                    "read the branch",
                    "handoff_branch_error",
                    format!("the workspace is not on a {BRANCH_PREFIX}* branch any more"),
                )
            })?;
        let run = self.run_ref();
        // A round's commit says which review it answers (its subject is listed in the body).
        let subject = match self.round {
            Some(round) => format!("{} (review round {})", self.title(), round.round),
            None => self.title(),
        };
        let message = format!(
            "{subject}\n\nSymphony-Issue: {}\nSymphony-Run: {run}\n",
            self.issue.identifier
        );
        // One reading of "what changed" for the gates and the hand-off: the tree committed is
        // the tree judged, never a second look at the worktree that could see something else.
        let read;
        let change = match judged {
            Some(change) => change,
            None => {
                read = self.change().await?;
                &read
            }
        };
        if change.is_empty() {
            return Ok(Published::NothingToHandOff);
        }
        let identity = self.config.author.clone();
        let committed = {
            let (workspace, tree) = (workspace.clone(), change.tree.clone());
            tokio::task::spawn_blocking(move || commit_tree(&workspace, &tree, &message, &identity))
                .await
                .map_err(|e| failed("commit", "handoff_commit_error", e))?
                .map_err(|e| failed("commit", e.category(), e))?
        };
        let head = git_read("read HEAD", &workspace, head_commit)
            .await?
            .map_err(|e| failed("read HEAD", e.category(), e))?;
        let (base, tip) = (change.base.clone(), head.clone());
        let subjects = git_read("read the commits", &workspace, move |w| {
            commit_subjects(w, &base, &tip, MAX_SUBJECTS)
        })
        .await?
        .map_err(|e| failed("read the commits", e.category(), e))?;
        let base_branch = match &self.workflow.config.workspace.base_branch {
            Some(branch) => branch.clone(),
            None => git_read("find the base branch", &workspace, |w| {
                remote_default_branch(w, "origin")
            })
            .await?
            .ok_or_else(|| {
                failed(
                    "find the base branch",
                    "handoff_branch_error",
                    "origin has no default branch recorded; set workspace.base_branch",
                )
            })?,
        };
        let push = self
            .config
            .push
            .unwrap_or_else(|| self.code_host.needs_pushed_branch());
        if push {
            self.guard.check("the hand-off's push").await?;
            push_branch(
                &workspace,
                &self.config.remote,
                &branch,
                self.replacing,
                self.config.push_timeout,
            )
            .await
            .map_err(|e| failed("push", e.category(), e))?;
        }
        let body = pr_body::render(
            self.config.pr_body.as_deref(),
            &self.facts(reports, change, &subjects, &run),
        )
        .map_err(|e| failed("render the body", e.category(), e))?;
        let mut proposal = ChangeProposal::new(
            branch.clone(),
            base_branch,
            head.clone(),
            self.title(),
            body,
        );
        proposal.draft = self.config.draft;
        let checks: Vec<CheckResult> = reports.iter().map(check_result).collect();
        self.guard.check("proposing the change").await?;
        let outcome = self
            .code_host
            .propose_change(self.issue, &proposal)
            .await
            .map_err(|e| failed("propose the change", e.category.as_str(), e))?;
        self.code_host
            .publish_checks(self.issue, &head, &checks)
            .await
            .map_err(|e| failed("publish the checks", e.category.as_str(), e))?;
        if let Some((kind, detail)) = remarks::post(
            self.code_host.as_ref(),
            self.issue,
            (&proposal, &outcome),
            reports,
            change,
        )
        .await
        {
            self.audit(kind, detail);
        }
        self.audit(
            "change_proposed",
            json!({
                "branch": branch,
                "head": head,
                "committed": committed,
                "pushed": push,
                "url": outcome.url,
                "number": outcome.number,
                "created": outcome.created,
            }),
        );
        if self.watch_review {
            let proposed = Proposed {
                branch: &branch,
                base_branch: &proposal.base_branch,
                head: &head,
                outcome: &outcome,
            };
            review_handoff::record_watch(self.persistence, self.issue, &proposed, self.round)
                .await?;
            if let Some(round) = self.round {
                review_handoff::answer_round(
                    self.code_host.as_ref(),
                    self.persistence,
                    self.issue,
                    &proposed,
                    round,
                )
                .await;
            }
        }
        let comment = self
            .config
            .comment
            .then(|| handoff_comment::render(self.round, &proposal, &outcome, reports));
        self.guard.check("moving the issue to review").await?;
        symphony_tracker::hand_off(
            self.tracker,
            self.issue,
            Some(&self.config.state),
            comment.as_deref(),
        )
        .await
        .map_err(|e| failed("move the issue", e.category.as_str(), e))?;
        self.audit(
            "handed_off",
            json!({"state": self.config.state, "url": outcome.url, "head": head}),
        );
        tracing::info!(
            issue_identifier = %self.issue.identifier,
            branch,
            head,
            url = outcome.url.as_deref().unwrap_or("-"),
            state = %self.config.state,
            "handed off"
        );
        Ok(Published::Done)
    }

    fn facts(
        &self,
        reports: &[GateReport],
        change: &ChangeSet,
        subjects: &[String],
        run: &str,
    ) -> PrFacts {
        let mut summary = String::new();
        for subject in subjects {
            summary.push_str(&format!("- {subject}\n"));
        }
        summary.push_str("\nFiles:\n");
        for file in change.files.iter().take(MAX_FILES) {
            let how = match &file.change {
                FileChange::Added => "added".to_owned(),
                FileChange::Modified => "modified".to_owned(),
                FileChange::Deleted => "deleted".to_owned(),
                FileChange::Renamed { from } => format!("renamed from `{from}`"),
                _ => "changed".to_owned(),
            };
            summary.push_str(&format!(
                "- `{}` ({how}, +{} −{})\n",
                file.path,
                file.added.len(),
                file.removed
            ));
        }
        if change.files.len() > MAX_FILES {
            summary.push_str(&format!(
                "- … and {} more\n",
                change.files.len() - MAX_FILES
            ));
        }
        let adrs = self
            .docs
            .map(|docs| {
                let prefix = format!("{}/", docs.adr_dir);
                change
                    .files
                    .iter()
                    .filter(|f| f.path.starts_with(&prefix) && f.change != FileChange::Deleted)
                    .map(|f| f.path.clone())
                    .collect()
            })
            .unwrap_or_default();
        let used = self.tokens.usage();
        PrFacts {
            issue: IssueRef {
                identifier: self.issue.identifier.clone(),
                title: self.issue.title.clone(),
                url: self.issue.url.clone(),
            },
            summary: summary.trim_end().to_owned(),
            gates: reports
                .iter()
                .map(|r| GateLine {
                    gate: r.gate.clone(),
                    status: r.status.as_str().to_owned(),
                    summary: r.summary.clone(),
                })
                .collect(),
            diff: DiffStats {
                files: change.files.len(),
                added: change.lines_added(),
                removed: change.lines_removed(),
            },
            tokens: pr_body::Tokens::from(&used),
            cost: used.cost_micros.map(symphony_core::dollars),
            budget: self
                .budget
                .map(|(limits, prior)| {
                    let this_run = Spend {
                        usage: used,
                        attempts: 1,
                        agent_ms: u64::try_from(self.started.elapsed().as_millis())
                            .unwrap_or(u64::MAX),
                        ..Spend::default()
                    };
                    // Turns and rounds are the scheduler's count, not known here: left out
                    // rather than understated.
                    let shown = IssueLimits {
                        turns: Limit::default(),
                        rounds: Limit::default(),
                        ..limits
                    };
                    symphony_scheduler::usage_lines(&shown, &prior.plus(&this_run))
                })
                .unwrap_or_default(),
            duration: pr_body::human_duration(self.started.elapsed().as_secs()),
            adrs,
            run: run.to_owned(),
            review_rounds: self.round.map_or(0, |r| r.round),
        }
    }
}
