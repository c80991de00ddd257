//! What the review watch does about a decision (ADR 0018). Every step that changes the
//! tracker comes after the store has recorded what it acts on, so a crash repeats a step
//! harmlessly and never acts on feedback twice; every step is audited.

use serde_json::json;
use symphony_code_host::{Feedback, FeedbackKind};
use symphony_core::{normalize_state, Issue};
use symphony_store::{wall_clock_ms, Change, ReviewWatch, Store};
use symphony_tracker::Tracker as _;
use symphony_workspace::WorkspaceManager;

use super::handles::ControlHandle;
use super::persist::Persistence;
use super::review_setup::ReviewSetup;
use crate::review_config::ReviewConfig;
use crate::review_policy::ReviewDecision;
use crate::review_prompt::PendingRound;

/// The length of one item quoted in a tracker comment.
const QUOTED_CHARS: usize = 200;

/// The watch's means of acting, for one pass.
pub(crate) struct Acting<'a> {
    pub setup: &'a ReviewSetup,
    pub review: &'a ReviewConfig,
    pub store: &'a dyn Store,
    pub persistence: &'a Persistence,
    pub control: &'a ControlHandle,
}

/// Where the issue of a watch is, as far as the watch is concerned.
enum Place {
    /// In the hand-off state: the watch's to act on.
    InReview(Box<Issue>),
    /// Active: a run is under way or queued, and its hand-off updates the watch.
    Active,
    /// Ended, gone, or moved by a person: the watch ends, for this reason.
    Left(String),
    /// Unknown: the tracker did not answer; nothing is done this pass.
    Unknown,
}

impl Acting<'_> {
    /// Acts on `decision` about `watch`.
    pub async fn act(&self, watch: &ReviewWatch, decision: ReviewDecision) {
        let issue = match self.place(watch).await {
            Place::InReview(issue) => issue,
            Place::Left(why) if decision == ReviewDecision::Merged => {
                // The tracker's automation (or a person) may close a merged issue first.
                tracing::debug!(issue_identifier = %watch.identifier, why, "merged");
                self.merged(watch, None).await;
                return;
            }
            Place::Left(why) => return self.end(watch, &why).await,
            Place::Active | Place::Unknown => return,
        };
        let url = watch.url.as_deref().unwrap_or(&watch.branch);
        match decision {
            ReviewDecision::Round {
                round,
                feedback,
                conflict,
                mark,
            } => {
                self.take(
                    watch,
                    PendingRound::new(round, feedback, conflict),
                    mark,
                    &issue,
                )
                .await
            }
            ReviewDecision::Requeue {
                round,
                feedback,
                mark,
            } => {
                self.take(watch, PendingRound::requeued(round, feedback), mark, &issue)
                    .await
            }
            ReviewDecision::Merged => self.merged(watch, Some(&issue)).await,
            ReviewDecision::Closed(_) => {
                let comment = format!(
                    "The change ({url}) was closed without a merge. It needs a person: reopen \
                     it to continue the review, or decide what comes next."
                );
                self.to_person(watch, &issue, &comment, "closed").await
            }
            ReviewDecision::HeadMoved { head } => {
                let comment = format!(
                    "Someone pushed to `{}` (now at `{}`) after Symphony's last push. Symphony \
                     never overwrites another's commits, so this issue needs a person.",
                    watch.branch,
                    &head[..head.len().min(12)]
                );
                self.to_person(watch, &issue, &comment, "head moved").await
            }
            ReviewDecision::RoundsSpent { open, conflict } => {
                let comment = format!(
                    "Symphony took {} review round(s), the most `review.max_rounds` allows, and \
                     the change ({url}) still has feedback. It needs a person. Still open:\n{}",
                    watch.round,
                    summary(&open, conflict, &watch.base_branch)
                );
                self.to_person(watch, &issue, &comment, "rounds spent")
                    .await
            }
            // Nothing asks for work.
            _ => {}
        }
    }

    /// A round under way whose move to rework did not happen (the tracker failed after the
    /// store took the feedback) is moved now; one whose issue left review ends.
    pub async fn resume_round(&self, watch: &ReviewWatch) {
        match self.place(watch).await {
            Place::InReview(issue) => {
                let Some(round) = watch.pending.as_deref().and_then(PendingRound::from_json) else {
                    tracing::error!(
                        issue_identifier = %watch.identifier,
                        "review watch: the pending feedback cannot be read by this build; the \
                         issue is left in review"
                    );
                    return;
                };
                self.rework(watch, &issue, &round).await;
            }
            Place::Left(why) => self.end(watch, &why).await,
            Place::Active | Place::Unknown => {}
        }
    }

    /// Where the watch's issue is now.
    async fn place(&self, watch: &ReviewWatch) -> Place {
        let read = self
            .setup
            .tracker
            .fetch_issues_by_ids(std::slice::from_ref(&watch.issue_id))
            .await;
        let issue = match read {
            Ok(issues) => issues.into_iter().find(|i| i.id == watch.issue_id),
            Err(e) => {
                tracing::warn!(
                    issue_identifier = %watch.identifier,
                    "review watch: the issue cannot be read; trying again at the next pass: {e}"
                );
                return Place::Unknown;
            }
        };
        let Some(issue) = issue else {
            return Place::Left("the issue is gone from the tracker".to_owned());
        };
        let scheduling = &self.setup.scheduling;
        if scheduling.is_terminal(&issue.state) {
            return Place::Left(format!("the issue was closed ({})", issue.state));
        }
        if scheduling.is_active(&issue.state) {
            return Place::Active;
        }
        let in_review = self
            .setup
            .plan
            .handoff
            .as_ref()
            .is_some_and(|h| normalize_state(&h.state) == issue.normalized_state());
        if in_review {
            Place::InReview(Box::new(issue))
        } else {
            Place::Left(format!("a person moved the issue to {:?}", issue.state))
        }
    }

    /// Takes the round's feedback (the store first, only if no other instance took it), then
    /// sends the issue back to work.
    async fn take(&self, watch: &ReviewWatch, round: PendingRound, mark: String, issue: &Issue) {
        let taken = Change::ReviewFeedbackTaken {
            issue_id: watch.issue_id.clone(),
            after: watch.seen.clone(),
            seen: mark.clone(),
            pending: round.to_json(),
            at_ms: wall_clock_ms(),
        };
        if let Err(e) = self.persistence.apply_now(vec![taken]).await {
            tracing::warn!(
                issue_identifier = %watch.identifier,
                "review watch: the feedback cannot be recorded, so it is not acted on yet: {e}"
            );
            return;
        }
        match self.store.review_watch(&watch.issue_id).await {
            Ok(Some(now)) if now.seen.as_deref() == Some(&mark) && now.round == round.round => {}
            // Another instance took this feedback (or the watch ended meanwhile): it acts.
            Ok(_) => return,
            Err(e) => {
                // Recorded but unconfirmed: the next pass resumes the round from the store.
                tracing::warn!(issue_identifier = %watch.identifier, "review watch: {e}");
                return;
            }
        }
        self.persistence.audit(
            "review_feedback_taken",
            Some(&watch.identifier),
            json!({
                "round": round.round,
                "mark": mark,
                "conflict": round.conflict,
                "feedback": round.feedback.iter().map(|f| &f.id).collect::<Vec<_>>(),
            }),
        );
        self.rework(watch, issue, &round).await;
    }

    /// Takes the commits someone else pushed on top of the watched head as the change's
    /// (`review.on_head_moved: rebase`): the watch moves to `head` unless another instance
    /// took a round meanwhile. Whether the watch is now at `head`.
    pub async fn adopt(&self, watch: &ReviewWatch, head: &str) -> bool {
        let adopted = Change::ReviewHeadAdopted {
            issue_id: watch.issue_id.clone(),
            from: watch.head_sha.clone(),
            to: head.to_owned(),
            at_ms: wall_clock_ms(),
        };
        if let Err(e) = self.persistence.apply_now(vec![adopted]).await {
            tracing::warn!(issue_identifier = %watch.identifier, "review watch: {e}");
            return false;
        }
        match self.store.review_watch(&watch.issue_id).await {
            Ok(Some(now)) if now.head_sha == head && now.pending.is_none() => {
                self.persistence.audit(
                    "review_head_adopted",
                    Some(&watch.identifier),
                    json!({"from": watch.head_sha, "to": head, "branch": watch.branch}),
                );
                tracing::info!(
                    issue_identifier = %watch.identifier,
                    head,
                    "review watch: someone else's push is taken as the change's"
                );
                true
            }
            Ok(_) => false,
            Err(e) => {
                tracing::warn!(issue_identifier = %watch.identifier, "review watch: {e}");
                false
            }
        }
    }

    /// Moves the issue to the rework state with what will be addressed, and asks the service
    /// to dispatch it now.
    async fn rework(&self, watch: &ReviewWatch, issue: &Issue, round: &PendingRound) {
        let what = summary(&round.feedback, round.conflict, &watch.base_branch);
        let comment = if round.closed {
            format!(
                "The change ({}) was closed without a merge. Symphony queues this issue again \
                 (review round {} of at most {}) with what was said:\n{what}",
                watch.url.as_deref().unwrap_or(&watch.branch),
                round.round,
                self.review.policy.max_rounds,
            )
        } else {
            format!(
                "Review round {} of at most {}: Symphony takes this feedback back to the \
                 agent.\n{what}",
                round.round, self.review.policy.max_rounds,
            )
        };
        let state = &self.review.rework_state;
        match symphony_tracker::hand_off(
            self.setup.tracker.as_ref(),
            issue,
            Some(state),
            Some(&comment),
        )
        .await
        {
            Ok(()) => {
                self.persistence.audit(
                    "review_round_started",
                    Some(&watch.identifier),
                    json!({"round": round.round, "state": state}),
                );
                tracing::info!(
                    issue_identifier = %watch.identifier,
                    round = round.round,
                    state,
                    "review feedback: the issue goes back to work"
                );
                let _ = self.control.refresh_issues(vec![watch.issue_id.clone()]);
            }
            Err(e) => tracing::warn!(
                issue_identifier = %watch.identifier,
                "review watch: the issue cannot be moved to {state:?}; trying again at the \
                 next pass: {e}"
            ),
        }
    }

    /// Merged: the issue moves to the merged state (unless the tracker's automation does, or
    /// did), the watch ends, the workspace goes.
    async fn merged(&self, watch: &ReviewWatch, issue: Option<&Issue>) {
        if let (Some(issue), Some(state)) = (issue, &self.review.merged_state) {
            let comment = format!(
                "The change ({}) was merged. Symphony considers this issue done.",
                watch.url.as_deref().unwrap_or(&watch.branch)
            );
            if let Err(e) = symphony_tracker::hand_off(
                self.setup.tracker.as_ref(),
                issue,
                Some(state),
                Some(&comment),
            )
            .await
            {
                tracing::warn!(
                    issue_identifier = %watch.identifier,
                    "review watch: the merged issue cannot be moved to {state:?}; trying again \
                     at the next pass: {e}"
                );
                return;
            }
        }
        self.end(watch, "merged").await;
        let manager =
            WorkspaceManager::from_config(&self.setup.workflow.config).for_issue(&watch.issue_id);
        match manager.remove(&watch.identifier).await {
            Ok(removed) => self.persistence.audit(
                "workspace_removed",
                Some(&watch.identifier),
                json!({"reason": "merged", "removed": removed}),
            ),
            Err(e) => tracing::warn!(
                issue_identifier = %watch.identifier,
                "review watch: the merged issue's workspace cannot be removed: {e}"
            ),
        }
    }

    /// The issue goes to the needs-human state with `comment`; then the watch ends.
    async fn to_person(&self, watch: &ReviewWatch, issue: &Issue, comment: &str, why: &str) {
        let state = self
            .setup
            .plan
            .handoff
            .as_ref()
            .and_then(|h| h.needs_human_state.clone());
        match state {
            Some(state) => self.hand_to(watch, issue, &state, comment, why).await,
            // The run plan requires one with a hand-off; should it be missing, the watch
            // keeps the issue in review rather than drop it silently.
            None => tracing::error!(
                issue_identifier = %watch.identifier,
                why,
                "review watch: no needs-human state to hand the issue to"
            ),
        }
    }

    /// Moves the issue to `state` with `comment`, then ends the watch.
    async fn hand_to(
        &self,
        watch: &ReviewWatch,
        issue: &Issue,
        state: &str,
        comment: &str,
        why: &str,
    ) {
        match symphony_tracker::hand_off(
            self.setup.tracker.as_ref(),
            issue,
            Some(state),
            Some(comment),
        )
        .await
        {
            Ok(()) => {
                self.persistence.audit(
                    "review_handed_to",
                    Some(&watch.identifier),
                    json!({"state": state, "reason": why}),
                );
                self.end(watch, why).await;
            }
            Err(e) => tracing::warn!(
                issue_identifier = %watch.identifier,
                "review watch: the issue cannot be moved to {state:?}; trying again at the \
                 next pass: {e}"
            ),
        }
    }

    /// Stops watching.
    async fn end(&self, watch: &ReviewWatch, why: &str) {
        let ended = Change::ReviewWatchEnded {
            issue_id: watch.issue_id.clone(),
        };
        match self.persistence.apply_now(vec![ended]).await {
            Ok(()) => {
                self.persistence.audit(
                    "review_watch_ended",
                    Some(&watch.identifier),
                    json!({"reason": why, "rounds": watch.round}),
                );
                tracing::info!(issue_identifier = %watch.identifier, why, "review watch ended");
            }
            Err(e) => tracing::warn!(
                issue_identifier = %watch.identifier,
                "review watch: the end of the watch cannot be recorded: {e}"
            ),
        }
    }
}

/// A short list of `feedback` for a tracker comment: one line each, review markers defused.
fn summary(feedback: &[Feedback], conflict: bool, base: &str) -> String {
    let mut lines = Vec::new();
    for f in feedback {
        let place = f.place.as_ref().map_or(String::new(), |p| match p.line {
            Some(line) => format!(" on `{}:{line}`", p.path),
            None => format!(" on `{}`", p.path),
        });
        let what = match &f.kind {
            FeedbackKind::CheckFailed { check, conclusion } => {
                format!("check `{check}` {conclusion}")
            }
            FeedbackKind::ChangesRequested => format!("{} requested changes{place}", f.author),
            _ => format!("{}{place}", f.author),
        };
        let body: String = f
            .body
            .lines()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("")
            .chars()
            .take(QUOTED_CHARS)
            .collect();
        let body = body.replace("<!--", "&lt;!--").replace("-->", "--&gt;");
        lines.push(if body.is_empty() {
            format!("- {what}")
        } else {
            format!("- {what}: {body}")
        });
    }
    if conflict {
        lines.push(format!(
            "- the change no longer merges cleanly into `{base}`"
        ));
    }
    lines.join("\n")
}
