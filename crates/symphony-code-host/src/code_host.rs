//! The code-host trait: where a change is proposed for review and its checks are published.
//! Separate from the tracker (where issues live): Linear or Jira issues can have GitHub pull
//! requests, and local issues local branches.

use async_trait::async_trait;
use symphony_core::Issue;

use crate::error::CodeHostError;
use crate::proposal::{ChangeProposal, CheckResult, ProposalOutcome};

/// Where changes are reviewed: a forge (GitHub pull requests) or the local repository.
///
/// Contract (checked by [`crate::conformance`]):
/// - `propose_change` opens the review of the proposal's branch, or updates the open one —
///   never a second — and is safe to call again with the same proposal;
/// - `publish_checks` reports each check on the commit, again safely;
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
}
