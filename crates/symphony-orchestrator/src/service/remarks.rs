//! The reviewer's remarks on the pull request: the `ai_review` findings that did not block,
//! posted as line comments through the code host's `LineComments` capability after the change
//! is proposed. Remarks inform; they never stop a hand-off — what could not be posted (a host
//! without the capability, a line outside the diff, an error) is audited, not dropped silently.

use serde_json::{json, Value};
use symphony_code_host::{ChangeProposal, CodeHost, LineComment, ProposalOutcome};
use symphony_core::Issue;
use symphony_gates::{ChangeSet, GateReport};

/// The rule prefix of the `ai_review` gate's findings.
const AI_REVIEW_RULE: &str = "ai_review/";

/// Remarks posted at most per hand-off.
const MAX_REMARKS: usize = 50;

/// Posts the reports' remarks on the proposed change; the audit entry to write, if any.
pub(crate) async fn post(
    code_host: &dyn CodeHost,
    issue: &Issue,
    (proposal, outcome): (&ChangeProposal, &ProposalOutcome),
    reports: &[GateReport],
    change: &ChangeSet,
) -> Option<(&'static str, Value)> {
    let remarks: Vec<_> = reports
        .iter()
        .flat_map(|r| &r.findings)
        .filter(|f| f.rule.starts_with(AI_REVIEW_RULE) && !f.in_change)
        .collect();
    if remarks.is_empty() {
        return None;
    }
    // A review comment must sit on a line of the diff: lines the change added are.
    let (on_lines, elsewhere): (Vec<_>, Vec<_>) = remarks.into_iter().partition(|f| {
        matches!((&f.file, f.line), (Some(file), Some(line))
            if change.file(file).is_some_and(|c| c.added.iter().any(|a| a.line == line)))
    });
    let comments: Vec<LineComment> = on_lines
        .iter()
        .take(MAX_REMARKS)
        .map(|f| {
            LineComment::new(
                f.file.clone().unwrap_or_default(),
                f.line.unwrap_or(1),
                format!("**Symphony's reviewer** ({}): {}", f.rule, f.message),
                f.fingerprint.clone(),
            )
        })
        .collect();
    let mut summary = format!(
        "Symphony's AI reviewer left {} remark(s) that do not block this change.",
        comments.len() + elsewhere.len()
    );
    for f in &elsewhere {
        summary.push_str(&format!(
            "\n- {}{}: {}",
            f.file.as_deref().unwrap_or("(no file)"),
            f.line.map(|l| format!(":{l}")).unwrap_or_default(),
            f.message.replace('\n', " ")
        ));
    }
    let Some(host) = code_host.line_comments() else {
        tracing::warn!(
            issue_identifier = %issue.identifier,
            "code host {} cannot post line comments: {} reviewer remark(s) not posted",
            code_host.kind(),
            comments.len() + elsewhere.len()
        );
        return Some((
            "remarks_not_posted",
            json!({"reason": format!("code host {} has no line comments", code_host.kind()),
                   "remarks": comments.len() + elsewhere.len()}),
        ));
    };
    match host
        .comment_lines(issue, proposal, outcome, &summary, &comments)
        .await
    {
        Ok(done) => Some((
            "remarks_posted",
            json!({"posted": done.posted, "already": done.already,
                   "not_on_diff_lines": elsewhere.len()}),
        )),
        Err(e) => {
            tracing::warn!(issue_identifier = %issue.identifier, "reviewer remarks not posted: {e}");
            Some((
                "remarks_not_posted",
                json!({"reason": e.to_string(), "remarks": comments.len() + elsewhere.len()}),
            ))
        }
    }
}
