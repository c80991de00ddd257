//! [`LinearTracker`]: the adapter the binary builds for `tracker.kind: linear`, wiring the
//! reads, the hand-off and the tool to one client.

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::Value;
use symphony_core::Issue;
use symphony_tracker::{
    CandidateRead, IssueHandOff, ToolContext, ToolResult, ToolSpec, Tracker, TrackerError,
};
use symphony_workflow::TrackerConfig;

use crate::client::{self, RateLimits, RequestStats};
use crate::config::{LinearConfig, API_KEY_VARIABLE};
use crate::profile::KIND;
use crate::tool::TOOL;
use crate::{handoff, reads, tool};

/// The Linear adapter.
pub struct LinearTracker {
    config: LinearConfig,
    client: client::Client,
    state_ids: handoff::StateIds,
}

impl std::fmt::Debug for LinearTracker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LinearTracker")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl LinearTracker {
    /// An adapter for `config`.
    pub fn new(config: LinearConfig) -> Result<Self, TrackerError> {
        Ok(Self {
            client: client::Client::new(&config)?,
            config,
            state_ids: handoff::StateIds::default(),
        })
    }

    /// An adapter for a resolved `tracker` section.
    pub fn from_config(tracker: &TrackerConfig) -> Result<Self, TrackerError> {
        Self::new(LinearConfig::from_provider(
            &tracker.provider,
            tracker.terminal_states.clone(),
        )?)
    }

    /// The settings it runs with.
    pub fn config(&self) -> &LinearConfig {
        &self.config
    }

    /// Requests sent and complexity spent so far.
    pub fn stats(&self) -> Arc<RequestStats> {
        Arc::clone(&self.client.stats)
    }

    /// Linear's budgets as last reported.
    pub fn rate_limits(&self) -> RateLimits {
        self.client.rate_limits()
    }
}

#[async_trait]
impl Tracker for LinearTracker {
    fn kind(&self) -> &str {
        KIND
    }

    async fn fetch_issues_by_states(&self, states: &[String]) -> Result<Vec<Issue>, TrackerError> {
        reads::by_states(&self.client, &self.config, states).await
    }

    async fn fetch_candidates(
        &self,
        states: &[String],
        since: Option<&str>,
    ) -> Result<CandidateRead, TrackerError> {
        reads::candidates(&self.client, &self.config, states, since).await
    }

    async fn fetch_issues_by_ids(&self, ids: &[String]) -> Result<Vec<Issue>, TrackerError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        reads::by_ids(&self.client, &self.config, ids).await
    }

    fn agent_tool_specs(&self) -> Vec<ToolSpec> {
        vec![tool::spec()]
    }

    async fn execute_agent_tool(
        &self,
        name: &str,
        arguments: Value,
        context: &ToolContext,
    ) -> ToolResult {
        if name != TOOL {
            return ToolResult::failure(format!("unsupported tool {name:?}"));
        }
        tool::run(&self.client, &self.config, arguments, context).await
    }

    fn secret_environment_names(&self) -> Vec<String> {
        let mut names = vec![API_KEY_VARIABLE.to_owned()];
        names.extend(self.config.api_key_variable.clone());
        names.sort_unstable();
        names.dedup();
        names
    }

    fn issue_hand_off(&self) -> Option<&dyn IssueHandOff> {
        Some(self)
    }

    fn rate_limit_remaining(&self) -> Option<u64> {
        let limits = self.client.rate_limits();
        limits.requests_remaining
    }
}

#[async_trait]
impl IssueHandOff for LinearTracker {
    async fn hand_off(
        &self,
        issue: &Issue,
        state: Option<&str>,
        comment: Option<&str>,
    ) -> Result<(), TrackerError> {
        handoff::hand_off(
            &self.client,
            &self.config,
            &self.state_ids,
            issue,
            state,
            comment,
        )
        .await
    }
}
