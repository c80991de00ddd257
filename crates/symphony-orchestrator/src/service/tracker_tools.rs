//! A tracker's agent tools as a session's tool handler, bound to the session's issue.

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::Value;
use symphony_agent::{ToolDeclaration, ToolHandler};
use symphony_core::Issue;
use symphony_tracker::{ToolContext, Tracker};

/// A tracker's agent tools as an agent session's [`ToolHandler`], bound to the session's issue
/// (SPEC §10.5): advertised from `agent_tool_specs`, run host-side with the adapter's
/// credentials, unknown names refused.
pub struct TrackerTools {
    tracker: Arc<dyn Tracker>,
    issue: Issue,
}

impl TrackerTools {
    /// `tracker`'s tools for a session on `issue`.
    pub fn new(tracker: Arc<dyn Tracker>, issue: Issue) -> Self {
        Self { tracker, issue }
    }

    /// The issue the tools act on.
    pub(crate) fn issue(&self) -> &Issue {
        &self.issue
    }

    /// Whether `name` is an advertised tool that can change tracker state.
    pub fn mutates(&self, name: &str) -> bool {
        self.tracker
            .agent_tool_specs()
            .iter()
            .any(|spec| spec.name == name && spec.mutates)
    }
}

impl TrackerTools {
    /// Runs one advertised tool with the session's issue; unknown names are refused.
    pub async fn execute(&self, name: &str, arguments: Value) -> symphony_tracker::ToolResult {
        if !self
            .tracker
            .agent_tool_specs()
            .iter()
            .any(|spec| spec.name == name)
        {
            return symphony_tracker::ToolResult::failure(format!("unsupported tool {name:?}"));
        }
        let context = ToolContext::new(self.issue.clone());
        self.tracker
            .execute_agent_tool(name, arguments, &context)
            .await
    }
}

#[async_trait]
impl ToolHandler for TrackerTools {
    fn declarations(&self) -> Vec<ToolDeclaration> {
        self.tracker
            .agent_tool_specs()
            .into_iter()
            .map(|spec| ToolDeclaration {
                name: spec.name,
                description: spec.description,
                input_schema: spec.input_schema,
            })
            .collect()
    }

    async fn call(&self, name: &str, arguments: Value) -> (bool, Value) {
        let result = self.execute(name, arguments).await;
        (result.success, result.output)
    }
}
