//! The port through which a gate consults a model: a *separate*, read-only agent session the
//! host runs on the gate's behalf (the `ai_review` gate's reviewer). The gates crate knows no
//! agent: the orchestrator implements [`ReviewerAgent`] with whichever backend the check names,
//! and a program embedding the gates brings its own.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde_json::Value;
use symphony_core::Usage;

/// Checks a submission when the agent makes it, so a malformed one is answered at once (and
/// the agent may correct it in the same turn).
pub type SubmissionCheck = Arc<dyn Fn(&Value) -> Result<(), String> + Send + Sync>;

/// The one tool the reviewer is given: how it answers.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ReviewTool {
    /// Its name (`submit_review`).
    pub name: String,
    /// What it is for, for the model.
    pub description: String,
    /// JSON Schema of its arguments: the answer's shape.
    pub input_schema: Value,
}

impl ReviewTool {
    /// A tool `name` described by `description`, taking arguments of `input_schema`.
    pub fn new(
        name: impl Into<String>,
        description: impl Into<String>,
        input_schema: Value,
    ) -> Self {
        Self {
            name: name.into(),
            description: description.into(),
            input_schema,
        }
    }
}

/// What a gate asks the reviewer.
#[non_exhaustive]
pub struct ReviewRequest {
    /// The whole review prompt (the gate renders it).
    pub prompt: String,
    /// The tool the answer comes through; no other tool is offered.
    pub tool: ReviewTool,
    /// Judges each call of the tool; only a call it accepts is the answer.
    pub check: SubmissionCheck,
    /// The agent backend kind (`agent.backend` when `None`).
    pub backend: Option<String>,
    /// The backend's command (its section's `command` when `None`): another model, say.
    pub command: Option<String>,
    /// Longest silence of the session before it is stopped.
    pub timeout: Duration,
}

impl ReviewRequest {
    /// A request for `prompt`, answered through `tool` and judged by `check`, on the coding
    /// backend with its own command, within an hour of silence.
    pub fn new(prompt: impl Into<String>, tool: ReviewTool, check: SubmissionCheck) -> Self {
        Self {
            prompt: prompt.into(),
            tool,
            check,
            backend: None,
            command: None,
            timeout: Duration::from_secs(3600),
        }
    }
}

impl std::fmt::Debug for ReviewRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReviewRequest")
            .field("tool", &self.tool.name)
            .field("backend", &self.backend)
            .field("command", &self.command)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// How a review session ended.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct ReviewerRun {
    /// The last submission the check accepted; `None` when the agent gave none.
    pub submission: Option<Value>,
    /// Submissions the check refused, with why (the agent was told).
    pub refused: Vec<String>,
    /// What the session used.
    pub tokens: Usage,
    /// The session's id, for the audit.
    pub session: String,
    /// Why the session failed after it started (a turn error, a timeout), if it did: its
    /// tokens were spent all the same, so a failure is a run, not an error.
    pub failure: Option<String>,
}

/// Why there was no review session.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReviewerError {
    /// The reviewer's backend cannot be built or started (configuration, a missing program).
    #[error("the reviewer could not start: {0}")]
    Unavailable(String),
    /// The session failed before it used anything (hosts report failures after start-up in
    /// [`ReviewerRun::failure`], with the tokens spent).
    #[error("the review session failed: {0}")]
    Failed(String),
}

/// Runs reviewer sessions for gates.
#[async_trait]
pub trait ReviewerAgent: Send + Sync {
    /// One read-only session in `workspace` on `request`: the agent may read the workspace and
    /// call `request.tool`, and nothing else (no tracker tools, no writes).
    async fn review(
        &self,
        workspace: &Path,
        request: ReviewRequest,
    ) -> Result<ReviewerRun, ReviewerError>;
}
