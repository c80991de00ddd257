//! Provider-native agent tools (SPEC §10.5): specs advertised to the agent, calls executed
//! host-side with the adapter's own credentials.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use symphony_core::Issue;

/// A tool an adapter offers the agent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ToolSpec {
    /// Tool name, unique within the adapter.
    pub name: String,
    /// What it does, for the model.
    pub description: String,
    /// JSON Schema of its arguments.
    pub input_schema: Value,
    /// Whether it changes tracker state.
    pub mutates: bool,
}

/// What a tool call runs with: the issue the session works on, never a credential.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ToolContext {
    /// The session's issue, as last normalized.
    pub issue: Issue,
}

/// The outcome of a tool call, translated into the agent protocol by the runner.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ToolResult {
    /// Whether the call succeeded.
    pub success: bool,
    /// JSON-safe output: the result, or `{"error": ...}` on failure.
    pub output: Value,
    /// The state the call moved the session's issue to, when it did — as the tracker now
    /// reports it. Only such a move is the agent's own hand-off: reconciliation leaves a run
    /// alone in that state, and any other move out of the active states stops it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub moved_to: Option<String>,
}

impl ToolSpec {
    /// A tool that reads only; [`ToolSpec::mutating`] marks one that changes the tracker.
    pub fn new(
        name: impl Into<String>,
        description: impl Into<String>,
        input_schema: Value,
    ) -> Self {
        Self {
            name: name.into(),
            description: description.into(),
            input_schema,
            mutates: false,
        }
    }

    /// The same tool, marked as changing the tracker.
    pub fn mutating(mut self) -> Self {
        self.mutates = true;
        self
    }
}

impl ToolContext {
    /// The context of a call made for `issue`.
    pub fn new(issue: Issue) -> Self {
        Self { issue }
    }
}

impl ToolResult {
    /// A successful result that changed no issue's state.
    pub fn ok(output: Value) -> Self {
        Self {
            success: true,
            output,
            moved_to: None,
        }
    }

    /// A successful result that moved the session's issue to `state`.
    pub fn moved(output: Value, state: impl Into<String>) -> Self {
        Self {
            success: true,
            output,
            moved_to: Some(state.into()),
        }
    }

    /// A failed result with a message the agent can act on.
    pub fn failure(message: impl Into<String>) -> Self {
        Self {
            success: false,
            output: serde_json::json!({ "error": message.into() }),
            moved_to: None,
        }
    }

    /// A failed result with structured `output` (an `error` field and whatever helps the
    /// agent, such as when to retry).
    pub fn failure_with(output: Value) -> Self {
        Self {
            success: false,
            output,
            moved_to: None,
        }
    }
}
