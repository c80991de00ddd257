//! The backend and session traits.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use symphony_core::Issue;
use tokio::sync::{mpsc, watch};

use crate::error::AgentError;
use crate::event::AgentEvent;

/// Tells a session to stop: a turn in progress ends as `turn_cancelled` after a graceful stop
/// of the agent process. Made with [`StopSignal::new`]; the sender side flips it.
#[derive(Debug, Clone)]
pub struct StopSignal(watch::Receiver<bool>);

impl StopSignal {
    /// A signal and the sender that raises it.
    pub fn new() -> (watch::Sender<bool>, Self) {
        let (tx, rx) = watch::channel(false);
        (tx, Self(rx))
    }

    /// Whether a stop was requested.
    pub fn is_raised(&self) -> bool {
        *self.0.borrow()
    }

    /// Resolves once a stop is requested (or the sender is gone, which means the same).
    pub async fn raised(&mut self) {
        let _ = self.0.wait_for(|stop| *stop).await;
    }
}

/// A tool as advertised to the agent.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolDeclaration {
    /// Tool name.
    pub name: String,
    /// What it does, for the model.
    pub description: String,
    /// JSON Schema of its arguments.
    pub input_schema: serde_json::Value,
}

/// Executes the tools an agent calls, host-side (SPEC §10.5): tracker tools run with the
/// adapter's credentials, which the agent never sees.
#[async_trait]
pub trait ToolHandler: Send + Sync {
    /// The tools to advertise (backends whose protocol declares tools up front use it).
    fn declarations(&self) -> Vec<ToolDeclaration> {
        Vec::new()
    }

    /// Runs tool `name`; returns whether it succeeded and its JSON output.
    async fn call(&self, name: &str, arguments: serde_json::Value) -> (bool, serde_json::Value);
}

/// Everything a session is started with. The caller has already validated `workspace`
/// (SPEC §9.5); the backend checks it is a directory and runs nowhere else.
#[non_exhaustive]
pub struct SessionSpec {
    /// The agent's working directory: the issue's workspace.
    pub workspace: PathBuf,
    /// The issue the session works on.
    pub issue: Issue,
    /// Environment variables removed from the agent's environment (tracker secrets).
    pub remove_env: Vec<String>,
    /// Longest silence a turn may have before it is stopped (SPEC §10.6 `turn_timeout_ms`).
    pub turn_timeout: Duration,
    /// Limit for start-up requests (`read_timeout_ms`).
    pub read_timeout: Duration,
    /// Where events go.
    pub events: mpsc::Sender<AgentEvent>,
    /// Raised to stop the session.
    pub stop: StopSignal,
    /// Host-side tools the agent may call, if any.
    pub tools: Option<Arc<dyn ToolHandler>>,
    /// The session may read the workspace and not write it (a reviewer's). Backends with a
    /// sandbox enforce it; whoever asks for it checks the workspace afterwards all the same.
    pub read_only: bool,
}

impl SessionSpec {
    /// A session in `workspace` for `issue`, reporting to `events` and stopped by `stop`, with
    /// the SPEC's default limits (an hour of silence per turn, 5 s to answer a request), no
    /// environment hidden and no tools.
    pub fn new(
        workspace: impl Into<PathBuf>,
        issue: Issue,
        events: mpsc::Sender<AgentEvent>,
        stop: StopSignal,
    ) -> Self {
        Self {
            workspace: workspace.into(),
            issue,
            remove_env: Vec::new(),
            turn_timeout: Duration::from_secs(3600),
            read_timeout: Duration::from_secs(5),
            events,
            stop,
            tools: None,
            read_only: false,
        }
    }
}

impl TurnOutcome {
    /// Turn number `turn` completed.
    pub fn new(turn: u32) -> Self {
        Self { turn }
    }
}

impl std::fmt::Debug for SessionSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionSpec")
            .field("workspace", &self.workspace)
            .field("issue", &self.issue.identifier)
            .field("remove_env", &self.remove_env)
            .field("tools", &self.tools.is_some())
            .field("read_only", &self.read_only)
            .finish_non_exhaustive()
    }
}

/// How a successful turn ended.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TurnOutcome {
    /// 1-based turn number within the session.
    pub turn: u32,
}

/// Starts agent sessions.
#[async_trait]
pub trait AgentBackend: Send + Sync {
    /// A short name for logs (`command`, `codex`).
    fn name(&self) -> &str;

    /// Starts a session in `spec.workspace`.
    async fn start(&self, spec: SessionSpec) -> Result<Box<dyn AgentSession>, AgentError>;
}

/// One agent session on one issue: turns run one after another.
#[async_trait]
pub trait AgentSession: Send {
    /// The current session id (`<thread_id>-<turn_id>`).
    fn session_id(&self) -> String;

    /// Runs one turn with `prompt`; returns when it completes, fails, times out or is stopped.
    async fn run_turn(&mut self, prompt: &str) -> Result<TurnOutcome, AgentError>;

    /// Ends the session and everything it started.
    async fn stop(&mut self);
}
