//! Agent failures with the categories of SPEC §10.6.

use std::path::PathBuf;
use std::time::Duration;

/// Why a session could not start or a turn did not complete.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AgentError {
    /// The agent program could not be started.
    #[error("cannot start the agent: {message}")]
    NotFound {
        /// The OS error.
        message: String,
    },
    /// The workspace is not a directory the agent may run in.
    #[error("invalid agent working directory {path}: {message}")]
    InvalidWorkspaceCwd {
        /// The rejected path.
        path: PathBuf,
        /// Why.
        message: String,
    },
    /// The turn went silent for longer than the turn timeout; the agent was stopped.
    #[error("turn {turn} produced no output for {} s and was stopped", silence.as_secs())]
    TurnTimeout {
        /// Which turn.
        turn: u32,
        /// The silence allowed.
        silence: Duration,
    },
    /// The turn ended unsuccessfully.
    #[error("turn {turn} failed ({status}): {output}")]
    TurnFailed {
        /// Which turn.
        turn: u32,
        /// Exit status in words.
        status: String,
        /// The end of its output.
        output: String,
    },
    /// The turn was stopped on request (reconciliation, shutdown).
    #[error("turn {turn} was cancelled")]
    TurnCancelled {
        /// Which turn.
        turn: u32,
    },
    /// A request to the agent got no answer in time (start-up, `read_timeout_ms`).
    #[error("the agent did not answer {request} within {} ms", timeout.as_millis())]
    ResponseTimeout {
        /// Which request.
        request: String,
        /// The limit.
        timeout: Duration,
    },
    /// The agent answered a request with an error.
    #[error("the agent refused {request}: {message}")]
    ResponseError {
        /// Which request.
        request: String,
        /// Its error.
        message: String,
    },
    /// The agent process exited (or closed its output) while it was needed.
    #[error("the agent process exited unexpectedly ({status}){}", if stderr.is_empty() { String::new() } else { format!(": {stderr}") })]
    PortExit {
        /// Exit status in words.
        status: String,
        /// The end of its diagnostic output.
        stderr: String,
    },
    /// The agent asked for user input, which an unattended run cannot give.
    #[error("turn {turn} needs user input, which this run does not give: {message}")]
    TurnInputRequired {
        /// Which turn.
        turn: u32,
        /// What it asked.
        message: String,
    },
    /// The model's API failed the turn (an HTTP error, a timeout, a broken stream) after the
    /// agent's own retries.
    #[error("turn {turn}: the model API failed{}: {message}", status.map(|s| format!(" (HTTP {s})")).unwrap_or_default())]
    ModelApi {
        /// Which turn.
        turn: u32,
        /// The HTTP status, when there was one.
        status: Option<u16>,
        /// What the agent said.
        message: String,
    },
    /// The agent stopped at its own limit of model round trips in one turn.
    #[error("turn {turn} reached the agent's limit of model round trips")]
    MaxTurns {
        /// Which turn.
        turn: u32,
    },
    /// The agent program is a version this backend does not speak.
    #[error("{program} {found} is not a supported version (supported: {supported})")]
    VersionUnsupported {
        /// The program.
        program: String,
        /// Its version, as it said it.
        found: String,
        /// What is supported.
        supported: String,
    },
    /// The agent asked to do something the approval policy refuses.
    #[error("turn {turn}: approval refused by policy: {message}")]
    ApprovalRefused {
        /// Which turn.
        turn: u32,
        /// What it asked to do, and why it was refused.
        message: String,
    },
}

impl AgentError {
    /// The SPEC category name.
    pub fn category(&self) -> &'static str {
        match self {
            Self::NotFound { .. } => "codex_not_found",
            Self::InvalidWorkspaceCwd { .. } => "invalid_workspace_cwd",
            Self::TurnTimeout { .. } => "turn_timeout",
            Self::TurnFailed { .. } => "turn_failed",
            Self::TurnCancelled { .. } => "turn_cancelled",
            Self::ResponseTimeout { .. } => "response_timeout",
            Self::ResponseError { .. } => "response_error",
            Self::PortExit { .. } => "port_exit",
            Self::TurnInputRequired { .. } => "turn_input_required",
            Self::ApprovalRefused { .. } => "approval_refused",
            Self::ModelApi { .. } => "model_api_error",
            Self::MaxTurns { .. } => "turn_max_turns",
            Self::VersionUnsupported { .. } => "agent_version_unsupported",
        }
    }
}
