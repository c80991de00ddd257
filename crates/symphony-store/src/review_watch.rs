//! A handed-off change under review that Symphony watches (ADR 0018), as the store keeps it:
//! it survives restarts, and the code host's mark of the last report acted on moves in the
//! same transaction as the feedback taken, so no feedback is acted on twice.

use serde::Serialize;

/// A watched change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ReviewWatch {
    /// Issue id.
    pub issue_id: String,
    /// Issue identifier.
    pub identifier: String,
    /// The branch holding the change.
    pub branch: String,
    /// The branch it should merge into.
    pub base_branch: String,
    /// The code host's number for the review (a pull request's), when it numbers them.
    pub number: Option<u64>,
    /// Where people see it.
    pub url: Option<String>,
    /// The head Symphony last proposed.
    pub head_sha: String,
    /// Feedback rounds taken so far.
    pub round: u32,
    /// The code host's mark of the last report acted on (`None`: nothing acted on yet).
    pub seen: Option<String>,
    /// Feedback taken for the next round and not yet addressed (the orchestrator's JSON),
    /// `None` when nothing waits.
    pub pending: Option<String>,
    /// When the watch began (store clock).
    pub since_ms: u64,
    /// When it last changed (store clock).
    pub updated_ms: u64,
}

impl ReviewWatch {
    /// A new watch of `branch` (into `base_branch`) at `head_sha` for issue `issue_id`, from
    /// `at_ms`: round 0, nothing seen, nothing pending.
    pub fn new(
        issue_id: impl Into<String>,
        identifier: impl Into<String>,
        branch: impl Into<String>,
        base_branch: impl Into<String>,
        head_sha: impl Into<String>,
        at_ms: u64,
    ) -> Self {
        Self {
            issue_id: issue_id.into(),
            identifier: identifier.into(),
            branch: branch.into(),
            base_branch: base_branch.into(),
            number: None,
            url: None,
            head_sha: head_sha.into(),
            round: 0,
            seen: None,
            pending: None,
            since_ms: at_ms,
            updated_ms: at_ms,
        }
    }
}
