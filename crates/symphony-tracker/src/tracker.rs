//! The adapter trait (SPEC §11.1, §10.5).

use async_trait::async_trait;
use serde_json::Value;
use symphony_core::Issue;

use crate::candidates::CandidateRead;
use crate::error::TrackerError;
use crate::hand_off::IssueHandOff;
use crate::tools::{ToolContext, ToolResult, ToolSpec};

/// An issue tracker, as the scheduler sees it: two reads, and optionally agent tools.
///
/// Contract (checked by [`crate::conformance`]):
/// - both reads return normalized issues (see [`crate::normalize`]) and make **no** provider
///   request for an empty input;
/// - `fetch_issues_by_states` may omit (and log) malformed records; `fetch_issues_by_ids` must
///   fail on a malformed requested record, omits ids no longer visible, treats input as a set
///   and returns each id at most once;
/// - both are atomic: a paging or transport failure fails the whole call.
#[async_trait]
pub trait Tracker: Send + Sync {
    /// The `tracker.kind` this adapter serves.
    fn kind(&self) -> &str;

    /// Issues in the scope whose state is one of `states` (compared trimmed, case-insensitively).
    async fn fetch_issues_by_states(&self, states: &[String]) -> Result<Vec<Issue>, TrackerError>;

    /// The candidates in `states`, for the scheduler's poll. Given `since`, the mark of an
    /// earlier answer for the same states, a tracker may answer with only what changed since
    /// ([`CandidateRead`]); by default it answers completely with
    /// [`Self::fetch_issues_by_states`]. A mark it does not recognise gets a complete answer.
    async fn fetch_candidates(
        &self,
        states: &[String],
        since: Option<&str>,
    ) -> Result<CandidateRead, TrackerError> {
        let _ = since;
        Ok(CandidateRead::complete(
            self.fetch_issues_by_states(states).await?,
        ))
    }

    /// Current snapshots of the issues with these dispatch ids.
    async fn fetch_issues_by_ids(&self, ids: &[String]) -> Result<Vec<Issue>, TrackerError>;

    /// Tools the agent may call; none by default.
    fn agent_tool_specs(&self) -> Vec<ToolSpec> {
        Vec::new()
    }

    /// Runs one advertised tool host-side. Unknown names give a failure result, never a panic.
    async fn execute_agent_tool(
        &self,
        name: &str,
        arguments: Value,
        context: &ToolContext,
    ) -> ToolResult {
        let _ = (arguments, context);
        ToolResult::failure(format!("unsupported tool {name:?}"))
    }

    /// Environment variables holding this adapter's secrets; removed from every child
    /// process (hooks, agents, gates, git). Required, with no default: an adapter that forgot
    /// it would leak its token to the agent, so each one says so — an empty list included.
    fn secret_environment_names(&self) -> Vec<String>;

    /// The hand-off capability (moving issues, commenting), when this tracker has it. `None`
    /// is a typed "unsupported": a workflow whose stages need it is refused before any run.
    /// A wrapper forwards its inner tracker's (as [`crate::ObservedTracker`] does).
    fn issue_hand_off(&self) -> Option<&dyn IssueHandOff> {
        None
    }

    /// Requests left in the provider's rate-limit window, as last reported (`None` when the
    /// provider has no such budget or has not reported it yet). Read by metrics.
    fn rate_limit_remaining(&self) -> Option<u64> {
        None
    }
}

/// Hands `issue` off through `tracker`'s capability; a tracker without it is an
/// `unsupported_tracker_operation` error naming its kind.
pub async fn hand_off(
    tracker: &dyn Tracker,
    issue: &Issue,
    state: Option<&str>,
    comment: Option<&str>,
) -> Result<(), TrackerError> {
    match tracker.issue_hand_off() {
        Some(capability) => capability.hand_off(issue, state, comment).await,
        None => Err(TrackerError::new(
            crate::TrackerErrorCategory::UnsupportedOperation,
            format!(
                "tracker kind {:?} cannot move issues or comment on them",
                tracker.kind()
            ),
        )),
    }
}
