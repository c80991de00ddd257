//! An in-memory tracker: stateful, observable and breakable, for tests of everything above
//! the tracker seam.

use std::collections::{BTreeSet, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;
use serde_json::{json, Value};
use symphony_core::Issue;

use crate::error::{TrackerError, TrackerErrorCategory};
use crate::normalize::state_in;
use crate::tools::{ToolContext, ToolResult, ToolSpec};
use crate::tracker::Tracker;

#[derive(Default)]
struct Inner {
    /// Issues in provider order.
    issues: Vec<Issue>,
    /// Ids whose stored record cannot be normalized.
    malformed: BTreeSet<String>,
    /// Failures handed out to the next provider calls, in order.
    failures: VecDeque<TrackerError>,
    /// Provider calls made (empty-input reads make none).
    calls: u64,
}

/// A tracker held in memory. Clones share the same issues, so a test keeps one handle to
/// change issues while the code under test reads through another.
#[derive(Clone, Default)]
pub struct MemoryTracker {
    inner: Arc<Mutex<Inner>>,
}

impl MemoryTracker {
    /// An empty tracker.
    pub fn new() -> Self {
        Self::default()
    }

    /// A tracker holding `issues`, in that order.
    pub fn with_issues(issues: impl IntoIterator<Item = Issue>) -> Self {
        let tracker = Self::new();
        for issue in issues {
            tracker.upsert(issue);
        }
        tracker
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Adds an issue, or replaces the one with the same id in place.
    pub fn upsert(&self, issue: Issue) {
        let mut inner = self.lock();
        match inner.issues.iter_mut().find(|i| i.id == issue.id) {
            Some(existing) => *existing = issue,
            None => inner.issues.push(issue),
        }
    }

    /// Changes an issue's state; `false` if there is no such issue.
    pub fn set_state(&self, id: &str, state: &str) -> bool {
        let mut inner = self.lock();
        match inner.issues.iter_mut().find(|i| i.id == id) {
            Some(issue) => {
                issue.state = state.to_owned();
                true
            }
            None => false,
        }
    }

    /// Removes an issue from the scope.
    pub fn remove(&self, id: &str) {
        self.lock().issues.retain(|i| i.id != id);
    }

    /// The stored issue, if any.
    pub fn get(&self, id: &str) -> Option<Issue> {
        self.lock().issues.iter().find(|i| i.id == id).cloned()
    }

    /// Makes the stored record of `id` malformed, as a provider record missing required fields.
    pub fn mark_malformed(&self, id: &str) {
        self.lock().malformed.insert(id.to_owned());
    }

    /// Makes the next provider call fail with `error`.
    pub fn fail_next(&self, error: TrackerError) {
        self.lock().failures.push_back(error);
    }

    /// Provider calls made so far.
    pub fn provider_calls(&self) -> u64 {
        self.lock().calls
    }

    fn begin_call(inner: &mut Inner) -> Result<(), TrackerError> {
        inner.calls += 1;
        match inner.failures.pop_front() {
            Some(error) => Err(error),
            None => Ok(()),
        }
    }
}

const SET_STATE_TOOL: &str = "memory_set_issue_state";

#[async_trait]
impl Tracker for MemoryTracker {
    fn kind(&self) -> &str {
        "memory"
    }

    fn secret_environment_names(&self) -> Vec<String> {
        // In memory: no credentials.
        Vec::new()
    }

    async fn fetch_issues_by_states(&self, states: &[String]) -> Result<Vec<Issue>, TrackerError> {
        if states.is_empty() {
            return Ok(Vec::new());
        }
        let mut inner = self.lock();
        Self::begin_call(&mut inner)?;
        let mut out = Vec::new();
        for issue in inner.issues.iter().filter(|i| state_in(&i.state, states)) {
            if inner.malformed.contains(&issue.id) {
                tracing::warn!(issue_id = %issue.id, "skipping malformed issue record");
                continue;
            }
            out.push(issue.clone());
        }
        Ok(out)
    }

    async fn fetch_issues_by_ids(&self, ids: &[String]) -> Result<Vec<Issue>, TrackerError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut inner = self.lock();
        Self::begin_call(&mut inner)?;
        let wanted: BTreeSet<&String> = ids.iter().collect();
        let mut out = Vec::new();
        for issue in inner.issues.iter().filter(|i| wanted.contains(&i.id)) {
            if inner.malformed.contains(&issue.id) {
                return Err(TrackerError::new(
                    TrackerErrorCategory::Response,
                    format!("issue record {} is malformed", issue.id),
                ));
            }
            out.push(issue.clone());
        }
        Ok(out)
    }

    fn agent_tool_specs(&self) -> Vec<ToolSpec> {
        vec![ToolSpec {
            name: SET_STATE_TOOL.to_owned(),
            description: "Move the current issue to another state.".to_owned(),
            input_schema: json!({
                "type": "object",
                "properties": {"state": {"type": "string"}},
                "required": ["state"],
                "additionalProperties": false
            }),
            mutates: true,
        }]
    }

    async fn execute_agent_tool(
        &self,
        name: &str,
        arguments: Value,
        context: &ToolContext,
    ) -> ToolResult {
        if name != SET_STATE_TOOL {
            return ToolResult::failure(format!("unsupported tool {name:?}"));
        }
        let Some(state) = arguments
            .get("state")
            .and_then(Value::as_str)
            .filter(|s| !s.trim().is_empty())
        else {
            return ToolResult::failure("`state` must be a non-empty string");
        };
        if self.set_state(&context.issue.id, state) {
            ToolResult::moved(json!({"id": context.issue.id, "state": state}), state)
        } else {
            ToolResult::failure(format!("issue {} is not in the tracker", context.issue.id))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conformance::{self, ConformanceHarness, SeedIssue};
    use crate::normalize::normalize_labels;

    struct Harness {
        tracker: MemoryTracker,
    }

    #[async_trait]
    impl ConformanceHarness for Harness {
        async fn seed(&mut self, issues: &[SeedIssue]) -> Box<dyn Tracker> {
            for seed in issues {
                self.tracker.upsert({
                    let mut issue = Issue::new(
                        format!("mem-{}", seed.identifier),
                        seed.identifier.clone(),
                        seed.title.clone(),
                        seed.state.clone(),
                    );
                    issue.description = seed.description.clone();
                    issue.priority = seed.priority;
                    issue.labels = normalize_labels(&seed.labels);
                    issue
                });
            }
            Box::new(self.tracker.clone())
        }
        fn provider_calls(&self) -> u64 {
            self.tracker.provider_calls()
        }
        async fn corrupt(&mut self, identifier: &str) {
            self.tracker.mark_malformed(&format!("mem-{identifier}"));
        }
    }

    #[tokio::test]
    async fn memory_tracker_passes_the_conformance_kit() {
        conformance::run(|| Harness {
            tracker: MemoryTracker::new(),
        })
        .await;
    }

    #[tokio::test]
    async fn injected_failures_fail_the_next_call_only() {
        let t = MemoryTracker::new();
        t.fail_next(TrackerError::new(
            TrackerErrorCategory::RateLimited,
            "slow down",
        ));
        let err = t
            .fetch_issues_by_states(&["todo".into()])
            .await
            .unwrap_err();
        assert_eq!(err.category_name(), "tracker_rate_limited");
        assert!(t.fetch_issues_by_states(&["todo".into()]).await.is_ok());
        assert_eq!(t.provider_calls(), 2);
    }

    #[tokio::test]
    async fn the_state_tool_moves_the_context_issue_and_rejects_unknown_tools() {
        let issue: Issue = serde_json::from_value(
            json!({"id": "1", "identifier": "A-1", "title": "t", "state": "todo"}),
        )
        .unwrap();
        let t = MemoryTracker::with_issues([issue.clone()]);
        let ctx = ToolContext { issue };
        let done = t
            .execute_agent_tool(SET_STATE_TOOL, json!({"state": "done"}), &ctx)
            .await;
        assert!(done.success);
        assert_eq!(t.get("1").unwrap().state, "done");
        assert!(
            !t.execute_agent_tool(SET_STATE_TOOL, json!({}), &ctx)
                .await
                .success
        );
        assert!(!t.execute_agent_tool("rm_rf", json!({}), &ctx).await.success);
    }
}
