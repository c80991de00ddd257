//! The code-host trait: where a change is proposed for review and its checks are published.
//! Separate from the tracker (where issues live): Linear or Jira issues can have GitHub pull
//! requests, and local issues local branches.

use async_trait::async_trait;
use symphony_core::Issue;

use crate::error::{CodeHostError, CodeHostErrorCategory};
use crate::proposal::{ChangeProposal, CheckResult, ProposalOutcome};
use crate::review::{ReviewReport, WatchedChange};

/// Where changes are reviewed: a forge (GitHub pull requests) or the local repository.
///
/// Contract (checked by [`crate::conformance`]):
/// - `propose_change` opens the review of the proposal's branch, or updates the open one —
///   never a second — and is safe to call again with the same proposal;
/// - `publish_checks` reports each check on the commit, again safely;
/// - `review_report`, where a host offers it, gives the same feedback for the same `seen`
///   mark (plus whatever came since) and none again once the mark moves past it;
/// - failures are typed [`CodeHostError`]s, never panics.
#[async_trait]
pub trait CodeHost: Send + Sync {
    /// The `code_host.kind` this implementation serves.
    fn kind(&self) -> &str;

    /// Environment variables holding this code host's secrets: removed from every child
    /// program's environment. Required, so an implementation with a token cannot forget it;
    /// one without secrets returns an empty list.
    fn secret_environment_names(&self) -> Vec<String>;

    /// Whether the branch must be on the remote before it is proposed (a forge reviews pushed
    /// branches; the local host reviews the branch where it is).
    fn needs_pushed_branch(&self) -> bool;

    /// Opens the review (pull request) of `proposal`'s branch for `issue`, or updates the open
    /// one (title, body); never opens a second.
    async fn propose_change(
        &self,
        issue: &Issue,
        proposal: &ChangeProposal,
    ) -> Result<ProposalOutcome, CodeHostError>;

    /// Publishes the gate verdicts on commit `head_sha` (statuses or check runs on a forge).
    async fn publish_checks(
        &self,
        issue: &Issue,
        head_sha: &str,
        checks: &[CheckResult],
    ) -> Result<(), CodeHostError>;

    /// Reports on `watched`, the change proposed for `issue`: where its review stands, its
    /// head, conflicts, and the feedback since `watched.seen` (ADR 0018). The default refuses:
    /// a host that cannot report is never watched, and the issue stays with a person.
    async fn review_report(
        &self,
        issue: &Issue,
        watched: &WatchedChange,
    ) -> Result<ReviewReport, CodeHostError> {
        let _ = (issue, watched);
        Err(CodeHostError::new(
            CodeHostErrorCategory::Unsupported,
            format!("code host {} does not report reviews", self.kind()),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A host that proposes and publishes but says nothing of reviews.
    struct Silent;

    #[async_trait]
    impl CodeHost for Silent {
        fn kind(&self) -> &str {
            "silent"
        }
        fn secret_environment_names(&self) -> Vec<String> {
            Vec::new()
        }
        fn needs_pushed_branch(&self) -> bool {
            false
        }
        async fn propose_change(
            &self,
            _: &Issue,
            _: &ChangeProposal,
        ) -> Result<ProposalOutcome, CodeHostError> {
            Ok(ProposalOutcome::new(None, None, true))
        }
        async fn publish_checks(
            &self,
            _: &Issue,
            _: &str,
            _: &[CheckResult],
        ) -> Result<(), CodeHostError> {
            Ok(())
        }
    }

    #[tokio::test]
    async fn a_host_that_cannot_report_reviews_refuses_to() {
        let issue = Issue::new("1", "A-1", "t", "human review");
        let watched = WatchedChange::new("symphony/a-1", "main", None, "aaa");
        let error = Silent.review_report(&issue, &watched).await.unwrap_err();
        assert_eq!(error.category, CodeHostErrorCategory::Unsupported);
        assert!(error.message.contains("silent"), "{error}");
    }
}
