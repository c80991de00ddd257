//! Events a session streams to the orchestrator (SPEC §10.4).

use chrono::{DateTime, Utc};
use serde::Serialize;
use symphony_core::Usage;

/// Longest text an event carries; longer agent output lines are cut (the orchestrator keeps
/// events in memory and shows them to people).
pub const MAX_EVENT_LINE: usize = 2 * 1024;

/// One thing that happened in a session.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct AgentEvent {
    /// When it happened.
    pub timestamp: DateTime<Utc>,
    /// The session it belongs to (`<thread_id>-<turn_id>` once a turn runs).
    pub session_id: String,
    /// Pid of the agent process, when one is running.
    pub pid: Option<u32>,
    /// What happened.
    #[serde(flatten)]
    pub kind: AgentEventKind,
}

impl AgentEvent {
    /// An event of session `session_id` (process `pid` when there is one), stamped now.
    pub fn new(session_id: impl Into<String>, pid: Option<u32>, kind: AgentEventKind) -> Self {
        Self {
            timestamp: Utc::now(),
            session_id: session_id.into(),
            pid,
            kind,
        }
    }
}

/// The kinds of [`AgentEvent`].
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum AgentEventKind {
    /// The session is ready for turns.
    SessionStarted,
    /// A turn began.
    TurnStarted {
        /// 1-based turn number within the session.
        turn: u32,
    },
    /// A turn ended successfully.
    TurnCompleted {
        /// Which turn.
        turn: u32,
    },
    /// A turn ended unsuccessfully.
    TurnFailed {
        /// Which turn.
        turn: u32,
        /// SPEC category (`turn_failed`, `turn_timeout`, `turn_cancelled`).
        category: String,
        /// Explanation.
        message: String,
    },
    /// A line of agent output (cut to [`MAX_EVENT_LINE`]).
    Notification {
        /// The text.
        message: String,
    },
    /// Output lines that were not forwarded because the agent wrote faster than they are consumed.
    OutputDropped {
        /// How many.
        lines: u64,
    },
    /// The agent's latest rate-limit report, as the agent sent it.
    RateLimits {
        /// The payload.
        payload: serde_json::Value,
    },
    /// A sign of life with nothing to report yet: an item started, output or reasoning is
    /// streaming, a turn began on the agent's side. It only keeps the stall clock (SPEC §8.5)
    /// from running; backends may coalesce it (the Codex runner sends at most two a second).
    Activity {
        /// What the agent reported, e.g. its protocol method (`item/agentMessage/delta`).
        what: String,
    },
    /// Tokens (and cost, when the agent prices its work) used so far, cumulative for the
    /// session.
    TokenUsage(Usage),
}

/// Cuts `text` to at most [`MAX_EVENT_LINE`] bytes on a character boundary (every backend's
/// event text goes through it).
pub fn clip(text: &str) -> String {
    if text.len() <= MAX_EVENT_LINE {
        return text.to_owned();
    }
    let mut end = MAX_EVENT_LINE;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}
