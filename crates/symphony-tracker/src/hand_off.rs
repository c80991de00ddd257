//! The optional hand-off capability (DESIGN §4): moving an issue and commenting on it, used
//! only by Symphony's own stages (hand-off, gates exhausted, nothing to hand off), never by the
//! scheduler. A tracker that has it says so through
//! [`Tracker::issue_hand_off`](crate::Tracker::issue_hand_off); one that has
//! not is known before any run starts, instead of failing at the end of one.

use async_trait::async_trait;
use symphony_core::Issue;

use crate::error::TrackerError;

/// Moves issues and comments on them.
#[async_trait]
pub trait IssueHandOff: Send + Sync {
    /// Moves `issue` to `state` and/or adds `comment` (Markdown).
    async fn hand_off(
        &self,
        issue: &Issue,
        state: Option<&str>,
        comment: Option<&str>,
    ) -> Result<(), TrackerError>;
}
