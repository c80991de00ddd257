//! The comment a hand-off leaves on the issue.

use symphony_code_host::{ChangeProposal, ProposalOutcome};
use symphony_gates::{GateReport, GateStatus};

use crate::review_prompt::PendingRound;

/// The tracker comment of a hand-off: where the change is, what the gates said, and which
/// review round it answered, if any.
pub(crate) fn render(
    round: Option<&PendingRound>,
    proposal: &ChangeProposal,
    outcome: &ProposalOutcome,
    reports: &[GateReport],
) -> String {
    let place = match &outcome.url {
        Some(url) => format!("Pull request: {url}"),
        None => format!(
            "Branch `{}` at `{}`; the proposal is in this issue.",
            proposal.branch,
            &proposal.head_sha[..proposal.head_sha.len().min(12)]
        ),
    };
    let passed = reports
        .iter()
        .filter(|r| r.status == GateStatus::Pass)
        .count();
    let what = match round {
        Some(round) => format!(
            "Symphony addressed review round {} ({} item(s) of feedback) and handed the \
             change back for review.",
            round.round,
            round.feedback.len() + usize::from(round.conflict)
        ),
        None => "Symphony finished this change and handed it off for review.".to_owned(),
    };
    format!(
        "{what}\n\n{place}\n\n\
         Gates: {passed} of {} passed ({}).",
        reports.len(),
        reports
            .iter()
            .map(|r| format!("{} {}", r.gate, r.status.as_str()))
            .collect::<Vec<_>>()
            .join(", ")
    )
}
