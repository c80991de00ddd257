//! The code-host trait: where a change is proposed for review and its checks are published.
//! Separate from the tracker (where issues live): Linear or Jira issues can have GitHub pull
//! requests, and local issues local branches.

use async_trait::async_trait;
use symphony_core::Issue;

use crate::error::CodeHostError;
use crate::line_comments::LineComments;
use crate::proposal::{ChangeProposal, CheckResult, ProposalOutcome};
use crate::review::ReviewReports;

/// Where changes are reviewed: a forge (GitHub pull requests) or the local repository.
///
/// Contract (checked by [`crate::conformance`]):
/// - `propose_change` opens the review of the proposal's branch, or updates the open one —
///   never a second — and is safe to call again with the same proposal;
/// - `publish_checks` reports each check on the commit, again safely;
/// - its [`ReviewReports`], where it has them, give the same feedback for the same `seen`
///   mark (plus whatever came since) and none again once the mark moves past it
///   ([`crate::review_conformance`]);
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

    /// The review-report capability (ADR 0018), when this host has it. `None` is a typed
    /// "unsupported": a workflow that watches reviews is refused before any run. A wrapper
    /// forwards its inner host's.
    fn review_reports(&self) -> Option<&dyn ReviewReports> {
        None
    }

    /// The line-comments capability, when this host can post remarks on a change's lines.
    /// `None`: remarks are recorded as not posted. A wrapper forwards its inner host's.
    fn line_comments(&self) -> Option<&dyn LineComments> {
        None
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

    #[test]
    fn a_host_says_whether_it_reports_reviews() {
        assert!(Silent.review_reports().is_none());
    }
}
