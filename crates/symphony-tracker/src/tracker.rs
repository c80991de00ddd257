//! The adapter trait (SPEC §11.1, §10.5).

use async_trait::async_trait;
use serde_json::Value;
use symphony_core::Issue;

use crate::error::TrackerError;
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

    /// Hand-off capability (DESIGN §4), used only by Symphony's own hand-off stage — never
    /// by the scheduler: moves `issue` to `state` and/or adds `comment` (Markdown).
    async fn hand_off(
        &self,
        issue: &Issue,
        state: Option<&str>,
        comment: Option<&str>,
    ) -> Result<(), TrackerError> {
        let _ = (issue, state, comment);
        Err(TrackerError::new(
            crate::TrackerErrorCategory::InvalidTrackerConfig,
            format!(
                "tracker kind {:?} cannot move issues or comment on them",
                self.kind()
            ),
        ))
    }

    /// Requests left in the provider's rate-limit window, as last reported (`None` when the
    /// provider has no such budget or has not reported it yet). Read by metrics.
    fn rate_limit_remaining(&self) -> Option<u64> {
        None
    }
}
