//! The hand-off's part in the review loop (ADR 0018): once a change is proposed, its watch is
//! recorded (or moved to the new head after a round), durably, before the issue moves to
//! review; a crash before that leaves the issue active and the run is retried, so a watched
//! change is never lost and an unwatched one never sits in review. After a round's watch is
//! recorded, the round is answered on the code host: replies in its threads, the threads
//! resolved, its reviewers asked again.

use serde_json::json;
use symphony_code_host::{CodeHost, ProposalOutcome, WatchedChange};
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

/// Answers the round this run addressed on the code host. Courtesy, not a guarantee: the
/// change is handed off and watched already, so a failure is audited and logged, and the
/// hand-off goes on (the reviewers see the new commits either way).
pub(crate) async fn answer_round(
    code_host: &dyn CodeHost,
    persistence: Option<&Persistence>,
    issue: &Issue,
    proposed: &Proposed<'_>,
    round: &PendingRound,
) {
    let Some(reports) = code_host.review_reports() else {
        return;
    };
    if round.closed {
        // The threads belong to the change that was closed; the new one starts without any.
        return;
    }
    let short = &proposed.head[..proposed.head.len().min(12)];
    let commit = match &proposed.outcome.url {
        Some(url) => format!("[`{short}`]({url}/commits/{})", proposed.head),
        None => format!("`{short}`"),
    };
    let reply = format!(
        "Symphony addressed this in {commit} (review round {}); the quality gates passed \
         again.",
        round.round
    );
    let watched = WatchedChange::new(
        proposed.branch,
        proposed.base_branch,
        proposed.outcome.number,
        proposed.head,
    );
    let answered = reports
        .answer_round(issue, &watched, &round.feedback, &reply)
        .await;
    let audit = |kind: &str, detail: serde_json::Value| {
        if let Some(persistence) = persistence {
            persistence.audit(kind, Some(&issue.identifier), detail);
        }
    };
    match answered {
        Ok(answer) => audit(
            "review_answered",
            json!({
                "round": round.round,
                "replied": answer.replied,
                "resolved": answer.resolved,
                "rerequested": answer.rerequested,
            }),
        ),
        Err(e) => {
            tracing::warn!(
                issue_identifier = %issue.identifier,
                category = e.category.as_str(),
                "the review round was handed off but could not be answered on the code host: {e}"
            );
            audit(
                "review_answer_failed",
                json!({"round": round.round, "error": e.to_string()}),
            );
        }
    }
}
