//! Agent failures with the categories of SPEC §10.6.

use std::path::PathBuf;
use std::time::Duration;

/// Why a session could not start or a turn did not complete.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
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
        }
    }
}
