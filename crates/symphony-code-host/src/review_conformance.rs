//! The review-report contract (ADR 0018) for hosts that offer it, as one function their tests
//! call: [`run`]. A host without [`crate::ReviewReports`] does not run it.

use async_trait::async_trait;

use crate::code_host::CodeHost;
use crate::conformance::CodeHostHarness;
use crate::proposal::ChangeProposal;
use crate::review::{FeedbackKind, ReviewReport, ReviewState, WatchedChange};

/// What a person does to a review, through the host's own means (the forge's API, the file).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PersonsReview {
    /// Asks for changes.
    RequestChanges,
    /// Approves.
    Approve,
}

/// What the kit needs beyond [`CodeHostHarness`]: a person acting on the review.
#[async_trait]
pub trait ReviewHarness: CodeHostHarness {
    /// Symphony pushed `branch` at `head` before proposing it: a host that holds branches
    /// learns of the push (one that does not has nothing to do).
    async fn pushed(&mut self, branch: &str, head: &str);

    /// A person reviews the change on `branch` with `body`, and one inline comment
    /// (`path`, `line`, `text`).
    async fn review(
        &mut self,
        branch: &str,
        verdict: PersonsReview,
        body: &str,
        comment: (&str, u32, &str),
    );

    /// A person merges the change on `branch`.
    async fn merge(&mut self, branch: &str);
}

const BRANCH: &str = "symphony/conformance-review";
const HEAD: &str = "3333333333333333333333333333333333333333";

/// Runs every check of the review contract against the harness's implementation.
pub async fn run(harness: &mut dyn ReviewHarness) {
    let (host, issue) = harness.fresh().await;
    harness.pushed(BRANCH, HEAD).await;
    let proposal = ChangeProposal::new(BRANCH, "main", HEAD, "CONF-1: reviewed", "body");
    let proposed = host
        .propose_change(&issue, &proposal)
        .await
        .unwrap_or_else(|e| panic!("code host {}: the proposal failed: {e}", host.kind()));
    let watched = WatchedChange::new(BRANCH, "main", proposed.number, HEAD);
    let reports = host.review_reports().unwrap_or_else(|| {
        panic!(
            "code host {}: runs the review kit but has no review reports",
            host.kind()
        )
    });
    let report = |watched: WatchedChange| {
        let (host, issue) = (&host, &issue);
        async move {
            reports
                .review_report(issue, &watched)
                .await
                .unwrap_or_else(|e| panic!("code host {}: the report failed: {e}", host.kind()))
        }
    };

    let quiet = report(watched.clone()).await;
    assert_eq!(
        quiet.state,
        ReviewState::Open,
        "code host {}: a fresh review is open",
        host.kind()
    );
    assert!(
        !quiet.wants_work(),
        "code host {}: a review nobody reviewed asks for no work: {quiet:?}",
        host.kind()
    );

    harness
        .review(
            BRANCH,
            PersonsReview::RequestChanges,
            "Please handle the empty list.",
            ("src/lib.rs", 12, "this overflows"),
        )
        .await;
    let asked = report(watched.clone().seen(quiet.mark.clone())).await;
    changes_were_requested(host.as_ref(), &asked);
    let again = report(watched.clone().seen(quiet.mark.clone())).await;
    assert_eq!(
        ids(&again),
        ids(&asked),
        "code host {}: the same mark gives the same feedback (nothing is lost between reading and acting)",
        host.kind()
    );
    let acted = watched.clone().seen(asked.mark.clone());
    let after = report(acted.clone()).await;
    assert!(
        after.feedback.is_empty(),
        "code host {}: feedback before the mark is not reported again: {after:?}",
        host.kind()
    );

    harness
        .review(
            BRANCH,
            PersonsReview::Approve,
            "Good now.",
            ("src/lib.rs", 3, "nice"),
        )
        .await;
    harness.merge(BRANCH).await;
    let merged = report(acted).await;
    assert_eq!(
        merged.state,
        ReviewState::Merged,
        "code host {}: a merged change is reported merged: {merged:?}",
        host.kind()
    );
    assert!(
        merged
            .feedback
            .iter()
            .any(|f| f.kind == FeedbackKind::Approved),
        "code host {}: the approval is reported: {merged:?}",
        host.kind()
    );
    assert!(
        !merged.wants_work(),
        "code host {}: a merged change asks for no work",
        host.kind()
    );
}

fn ids(report: &ReviewReport) -> Vec<&str> {
    report.feedback.iter().map(|f| f.id.as_str()).collect()
}

fn changes_were_requested(host: &dyn CodeHost, report: &ReviewReport) {
    assert!(
        report.wants_work(),
        "code host {}: requested changes ask for work: {report:?}",
        host.kind()
    );
    assert!(
        report
            .feedback
            .iter()
            .any(|f| f.kind == FeedbackKind::ChangesRequested && f.body.contains("empty list")),
        "code host {}: the review's verdict and body are reported: {report:?}",
        host.kind()
    );
    let inline = report
        .feedback
        .iter()
        .find_map(|f| f.place.as_ref().map(|p| (f, p)))
        .unwrap_or_else(|| {
            panic!(
                "code host {}: the inline comment is reported with its place: {report:?}",
                host.kind()
            )
        });
    assert_eq!(
        (
            inline.1.path.as_str(),
            inline.1.line,
            inline.0.body.as_str()
        ),
        ("src/lib.rs", Some(12), "this overflows"),
        "code host {}: an inline comment keeps its path, line and text",
        host.kind()
    );
    assert!(
        inline.1.thread.is_some(),
        "code host {}: an inline comment names its thread (to reply in and resolve)",
        host.kind()
    );
    let mut unique = ids(report);
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(
        unique.len(),
        report.feedback.len(),
        "code host {}: feedback ids are unique: {report:?}",
        host.kind()
    );
}
