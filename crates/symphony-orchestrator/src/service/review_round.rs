//! A worker's review round (ADR 0018): the feedback the watch took for the issue, read from
//! the store when the run starts, rendered into the prompt, and answered by the hand-off.

use serde_json::Value;
use symphony_core::Issue;
use symphony_scheduler::ExitReason;
use symphony_store::Store;

use crate::review_prompt::PendingRound;

/// The round a run answers, with where its change is.
#[derive(Debug, Clone)]
pub(crate) struct RoundContext {
    pub round: PendingRound,
    pub url: Option<String>,
    pub branch: String,
    pub base_branch: String,
    /// The head Symphony last pushed: all a rebased branch's push may replace.
    pub head: String,
    /// What git could not merge when the base was merged in before the round.
    pub conflict_files: Vec<String>,
    /// Whether the branch was rebased onto its base before the round.
    pub rebased: bool,
}

impl RoundContext {
    /// The prompt's `review` variable.
    pub fn variable(&self) -> Value {
        self.round.variable(
            self.url.as_deref(),
            &self.branch,
            &self.base_branch,
            &self.conflict_files,
        )
    }

    /// What the round's push may replace: Symphony's last push, when the branch was rebased;
    /// otherwise nothing (a fast-forward).
    pub fn replacing(&self) -> Option<&str> {
        self.rebased.then_some(self.head.as_str())
    }
}

/// The round waiting for `issue`, if one waits. Fails closed: feedback that cannot be read
/// fails the run (it is retried) rather than running the agent without it.
pub(crate) async fn pending_round(
    store: Option<&dyn Store>,
    issue: &Issue,
) -> Result<Option<RoundContext>, ExitReason> {
    let Some(store) = store else {
        return Err(ExitReason::Failed(
            "review error [review_store_missing]: the review loop needs a state store".to_owned(),
        ));
    };
    let watch = store.review_watch(&issue.id).await.map_err(|e| {
        ExitReason::Failed(format!(
            "review error [{}]: the issue's review watch cannot be read: {e}",
            e.category()
        ))
    })?;
    let Some(watch) = watch else {
        return Ok(None);
    };
    let Some(pending) = watch.pending.as_deref() else {
        return Ok(None);
    };
    let round = PendingRound::from_json(pending).ok_or_else(|| {
        ExitReason::Failed(
            "review error [review_feedback_unreadable]: the feedback waiting for this issue \
             cannot be read by this build"
                .to_owned(),
        )
    })?;
    Ok(Some(RoundContext {
        round,
        url: watch.url,
        branch: watch.branch,
        base_branch: watch.base_branch,
        head: watch.head_sha,
        conflict_files: Vec::new(),
        rebased: false,
    }))
}
