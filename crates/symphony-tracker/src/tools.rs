//! Provider-native agent tools (SPEC §10.5): specs advertised to the agent, calls executed
//! host-side with the adapter's own credentials.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use symphony_core::Issue;

/// A tool an adapter offers the agent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
pub struct ToolContext {
    /// The session's issue, as last normalized.
    pub issue: Issue,
}

/// The outcome of a tool call, translated into the agent protocol by the runner.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
}
