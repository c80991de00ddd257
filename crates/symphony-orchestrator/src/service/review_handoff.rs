//! The hand-off's part in the review loop (ADR 0018): once a change is proposed, its watch is
//! recorded (or moved to the new head after a round), durably, before the issue moves to
//! review; a crash before that leaves the issue active and the run is retried, so a watched
//! change is never lost and an unwatched one never sits in review.

use serde_json::json;
use symphony_code_host::ProposalOutcome;
use symphony_core::Issue;
use symphony_scheduler::ExitReason;
use symphony_store::{wall_clock_ms, Change, ReviewWatch};

use super::persist::Persistence;
use crate::review_prompt::PendingRound;

/// Where a proposed change stands, to watch.
pub(crate) struct Proposed<'a> {
    pub branch: &'a str,
    pub base_branch: &'a str,
    pub head: &'a str,
    pub outcome: &'a ProposalOutcome,
}

/// Records the watch of `proposed` for `issue` and waits until it is written. `addressed` is
/// the round this run answered, if it answered one: recording the new head addresses it.
pub(crate) async fn record_watch(
    persistence: Option<&Persistence>,
    issue: &Issue,
    proposed: &Proposed<'_>,
    addressed: Option<&PendingRound>,
) -> Result<(), ExitReason> {
    let failed = |category: &str, why: String| {
        ExitReason::Failed(format!(
            "hand-off error [{category}] (watch the review): {why}"
        ))
    };
    // The run plan refuses `review` without a store; should that ever break, nothing is
    // handed off unwatched.
    let Some(persistence) = persistence else {
        return Err(failed(
            "review_store_missing",
            "the review loop needs a state store".to_owned(),
        ));
    };
    let mut watch = ReviewWatch::new(
        issue.id.clone(),
        issue.identifier.clone(),
        proposed.branch,
        proposed.base_branch,
        proposed.head,
        wall_clock_ms(),
    );
    watch.number = proposed.outcome.number;
    watch.url = proposed.outcome.url.clone();
    persistence
        .apply_now(vec![Change::ReviewWatched(watch)])
        .await
        .map_err(|e| failed(e.category(), e.to_string()))?;
    persistence.audit(
        match addressed {
            Some(_) => "review_round_addressed",
            None => "review_watched",
        },
        Some(&issue.identifier),
        json!({
            "branch": proposed.branch,
            "head": proposed.head,
            "url": proposed.outcome.url,
            "number": proposed.outcome.number,
            "round": addressed.map(|r| r.round),
            "feedback": addressed.map(|r| r.feedback.iter().map(|f| f.id.clone()).collect::<Vec<_>>()),
        }),
    );
    Ok(())
}
