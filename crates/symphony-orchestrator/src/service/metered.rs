//! A tracker that counts and times every call to the one it wraps, so `/metrics` covers every
//! adapter (built-in or plugin) without each one measuring itself.

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use serde_json::Value;
use symphony_core::Issue;
use symphony_tracker::{ToolContext, ToolResult, ToolSpec, Tracker, TrackerError};
use tracing::Instrument as _;

use crate::metrics::{ServiceMetrics, TrackerOutcome};

/// Wraps `inner`; every call is recorded in `metrics`.
pub(crate) struct MeteredTracker {
    inner: Arc<dyn Tracker>,
    metrics: Arc<ServiceMetrics>,
}

impl MeteredTracker {
    pub(crate) fn wrap(inner: Arc<dyn Tracker>, metrics: Arc<ServiceMetrics>) -> Arc<dyn Tracker> {
        Arc::new(Self { inner, metrics })
    }

    /// The trace span of one call.
    fn span(&self, operation: &'static str) -> tracing::Span {
        tracing::debug_span!("tracker_request", tracker = %self.inner.kind(), operation)
    }

    fn record(&self, operation: &'static str, ok: bool, started: Instant) {
        let outcome = if ok {
            TrackerOutcome::Ok
        } else {
            TrackerOutcome::Error
        };
        self.metrics.tracker_call(
            operation,
            outcome,
            started.elapsed(),
            self.inner.rate_limit_remaining(),
        );
    }

    /// A call the caller gave up on after `limit` (the future was dropped unfinished).
    pub(crate) fn record_timeout(
        metrics: &ServiceMetrics,
        operation: &'static str,
        limit: Duration,
    ) {
        metrics.tracker_call(operation, TrackerOutcome::Timeout, limit, None);
    }
}

#[async_trait]
impl Tracker for MeteredTracker {
    fn kind(&self) -> &str {
        self.inner.kind()
    }

    async fn fetch_issues_by_states(&self, states: &[String]) -> Result<Vec<Issue>, TrackerError> {
        let started = Instant::now();
        let result = self
            .inner
            .fetch_issues_by_states(states)
            .instrument(self.span("fetch_issues_by_states"))
            .await;
        self.record("fetch_issues_by_states", result.is_ok(), started);
        result
    }

    async fn fetch_issues_by_ids(&self, ids: &[String]) -> Result<Vec<Issue>, TrackerError> {
        let started = Instant::now();
        let result = self
            .inner
            .fetch_issues_by_ids(ids)
            .instrument(self.span("fetch_issues_by_ids"))
            .await;
        self.record("fetch_issues_by_ids", result.is_ok(), started);
        result
    }

    fn agent_tool_specs(&self) -> Vec<ToolSpec> {
        self.inner.agent_tool_specs()
    }

    async fn execute_agent_tool(
        &self,
        name: &str,
        arguments: Value,
        context: &ToolContext,
    ) -> ToolResult {
        let started = Instant::now();
        let result = self
            .inner
            .execute_agent_tool(name, arguments, context)
            .instrument(self.span("execute_agent_tool"))
            .await;
        self.record("execute_agent_tool", result.success, started);
        result
    }

    fn secret_environment_names(&self) -> Vec<String> {
        self.inner.secret_environment_names()
    }

    async fn hand_off(
        &self,
        issue: &Issue,
        state: Option<&str>,
        comment: Option<&str>,
    ) -> Result<(), TrackerError> {
        let started = Instant::now();
        let result = self
            .inner
            .hand_off(issue, state, comment)
            .instrument(self.span("hand_off"))
            .await;
        self.record("hand_off", result.is_ok(), started);
        result
    }

    fn rate_limit_remaining(&self) -> Option<u64> {
        self.inner.rate_limit_remaining()
    }
}
