//! Watching a tracker's calls without writing a decorator: [`ObservedTracker`] forwards every
//! [`Tracker`] method to the tracker it wraps, once, here beside the trait (so a method added
//! to the trait is forwarded in one place, and the compiler says so); a [`TrackerObserver`]
//! only says what to do around the calls that reach the provider (metrics, spans, audit).

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use serde_json::Value;
use symphony_core::Issue;
use tracing::Instrument as _;

use crate::candidates::CandidateRead;
use crate::error::TrackerError;
use crate::hand_off::IssueHandOff;
use crate::tools::{ToolContext, ToolResult, ToolSpec};
use crate::tracker::Tracker;

/// A call of a [`Tracker`] that reaches its provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TrackerCall {
    /// [`Tracker::fetch_issues_by_states`].
    FetchIssuesByStates,
    /// [`Tracker::fetch_candidates`].
    FetchCandidates,
    /// [`Tracker::fetch_issues_by_ids`].
    FetchIssuesByIds,
    /// [`Tracker::execute_agent_tool`].
    ExecuteAgentTool,
    /// [`IssueHandOff::hand_off`].
    HandOff,
}

impl TrackerCall {
    /// The method's name (`fetch_issues_by_states`, ...), as metrics and traces label it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::FetchIssuesByStates => "fetch_issues_by_states",
            Self::FetchCandidates => "fetch_candidates",
            Self::FetchIssuesByIds => "fetch_issues_by_ids",
            Self::ExecuteAgentTool => "execute_agent_tool",
            Self::HandOff => "hand_off",
        }
    }
}

/// What happens around each call an [`ObservedTracker`] forwards.
pub trait TrackerObserver: Send + Sync + 'static {
    /// The span `call` on the tracker of kind `tracker` runs in; none by default.
    fn span(&self, tracker: &str, call: TrackerCall) -> tracing::Span {
        let _ = (tracker, call);
        tracing::Span::none()
    }

    /// `call` ended, successfully or not, after `elapsed`; `tracker` is the wrapped tracker
    /// (for what it reports after the call, such as [`Tracker::rate_limit_remaining`]).
    fn finished(&self, tracker: &dyn Tracker, call: TrackerCall, ok: bool, elapsed: Duration);
}

/// `inner`, with `observer` told about every call that reaches the provider. Everything else
/// (kind, tools, secrets, rate limit) is `inner`'s own.
pub struct ObservedTracker<O> {
    inner: Arc<dyn Tracker>,
    observer: O,
}

impl<O: TrackerObserver> ObservedTracker<O> {
    /// Wraps `inner`.
    pub fn new(inner: Arc<dyn Tracker>, observer: O) -> Self {
        Self { inner, observer }
    }

    async fn observe<T>(
        &self,
        call: TrackerCall,
        ok: impl FnOnce(&T) -> bool,
        run: impl std::future::Future<Output = T>,
    ) -> T {
        let started = Instant::now();
        let result = run
            .instrument(self.observer.span(self.inner.kind(), call))
            .await;
        self.observer
            .finished(self.inner.as_ref(), call, ok(&result), started.elapsed());
        result
    }
}

#[async_trait]
impl<O: TrackerObserver> Tracker for ObservedTracker<O> {
    fn kind(&self) -> &str {
        self.inner.kind()
    }

    async fn fetch_issues_by_states(&self, states: &[String]) -> Result<Vec<Issue>, TrackerError> {
        self.observe(
            TrackerCall::FetchIssuesByStates,
            Result::is_ok,
            self.inner.fetch_issues_by_states(states),
        )
        .await
    }

    async fn fetch_candidates(
        &self,
        states: &[String],
        since: Option<&str>,
    ) -> Result<CandidateRead, TrackerError> {
        self.observe(
            TrackerCall::FetchCandidates,
            Result::is_ok,
            self.inner.fetch_candidates(states, since),
        )
        .await
    }

    async fn fetch_issues_by_ids(&self, ids: &[String]) -> Result<Vec<Issue>, TrackerError> {
        self.observe(
            TrackerCall::FetchIssuesByIds,
            Result::is_ok,
            self.inner.fetch_issues_by_ids(ids),
        )
        .await
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
        self.observe(
            TrackerCall::ExecuteAgentTool,
            |result: &ToolResult| result.success,
            self.inner.execute_agent_tool(name, arguments, context),
        )
        .await
    }

    fn secret_environment_names(&self) -> Vec<String> {
        self.inner.secret_environment_names()
    }

    fn issue_hand_off(&self) -> Option<&dyn IssueHandOff> {
        self.inner
            .issue_hand_off()
            .map(|_| self as &dyn IssueHandOff)
    }

    fn rate_limit_remaining(&self) -> Option<u64> {
        self.inner.rate_limit_remaining()
    }
}

#[async_trait]
impl<O: TrackerObserver> IssueHandOff for ObservedTracker<O> {
    async fn hand_off(
        &self,
        issue: &Issue,
        state: Option<&str>,
        comment: Option<&str>,
    ) -> Result<(), TrackerError> {
        self.observe(
            TrackerCall::HandOff,
            Result::is_ok,
            crate::tracker::hand_off(self.inner.as_ref(), issue, state, comment),
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;
    use crate::MemoryTracker;

    #[derive(Default)]
    struct Calls(Mutex<Vec<(TrackerCall, bool)>>);

    impl TrackerObserver for Arc<Calls> {
        fn finished(&self, _: &dyn Tracker, call: TrackerCall, ok: bool, _: Duration) {
            self.0.lock().unwrap().push((call, ok));
        }
    }

    #[tokio::test]
    async fn every_provider_call_is_observed_with_its_outcome_and_the_rest_is_forwarded() {
        let calls = Arc::new(Calls::default());
        let inner: Arc<dyn Tracker> = Arc::new(MemoryTracker::new());
        let tracker = ObservedTracker::new(Arc::clone(&inner), Arc::clone(&calls));
        assert_eq!(tracker.kind(), inner.kind());
        tracker
            .fetch_issues_by_states(&["todo".into()])
            .await
            .unwrap();
        let read = tracker
            .fetch_candidates(&["todo".into()], Some("a mark"))
            .await
            .unwrap();
        assert!(
            read.complete && read.mark.is_none(),
            "the default answers completely"
        );
        tracker.fetch_issues_by_ids(&["1".into()]).await.unwrap();
        let issue = Issue::new("1", "M-1", "t", "todo");
        let context = ToolContext {
            issue: issue.clone(),
        };
        let result = tracker
            .execute_agent_tool("no_such_tool", Value::Null, &context)
            .await;
        assert!(!result.success);
        assert!(
            tracker.issue_hand_off().is_none(),
            "the memory tracker has none"
        );
        let handed = crate::hand_off(&tracker, &issue, Some("done"), None).await;
        assert_eq!(
            handed.unwrap_err().category_name(),
            "unsupported_tracker_operation"
        );
        assert_eq!(
            *calls.0.lock().unwrap(),
            [
                (TrackerCall::FetchIssuesByStates, true),
                (TrackerCall::FetchCandidates, true),
                (TrackerCall::FetchIssuesByIds, true),
                (TrackerCall::ExecuteAgentTool, false),
            ]
        );
        assert_eq!(
            tracker.secret_environment_names(),
            inner.secret_environment_names()
        );
    }
}
