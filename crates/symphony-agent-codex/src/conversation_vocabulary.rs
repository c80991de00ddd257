//! The conversation's vocabulary: what each of Symphony's requests was for, what the session
//! is asked to do, and a conversation's fixed settings.

use std::path::PathBuf;

use serde_json::Value;
use symphony_agent::{AgentError, AgentEventKind, ToolDeclaration};

use crate::policy::{ApprovalAnswer, UserInputAnswer};
use crate::protocol::RpcError;

/// What one of our requests was for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// `initialize`.
    Initialize,
    /// `thread/start`.
    ThreadStart,
    /// `thread/name/set`.
    SetName,
    /// `turn/start`.
    TurnStart,
    /// `turn/interrupt`.
    Interrupt,
}

impl Purpose {
    /// The method it sent.
    pub fn method(self) -> &'static str {
        match self {
            Self::Initialize => "initialize",
            Self::ThreadStart => "thread/start",
            Self::SetName => "thread/name/set",
            Self::TurnStart => "turn/start",
            Self::Interrupt => "turn/interrupt",
        }
    }
}

/// What the session must do after a line.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Write this line.
    Send(String),
    /// One of our requests was answered.
    Answered {
        /// What it was for.
        purpose: Purpose,
        /// The answer.
        outcome: Result<Value, RpcError>,
    },
    /// Tell the orchestrator.
    Emit(AgentEventKind),
    /// Run a host-side tool, then answer with [`Conversation::tool_reply`].
    CallTool {
        /// The request to answer.
        request_id: Value,
        /// Tool name.
        tool: String,
        /// Its arguments.
        arguments: Value,
    },
    /// The current turn is over.
    TurnEnded(Result<(), AgentError>),
}

/// Fixed settings of a conversation.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The workspace (absolute).
    pub workspace: PathBuf,
    /// Approval answers.
    pub approvals: ApprovalAnswer,
    /// User-input answers.
    pub user_input: UserInputAnswer,
    /// Tools advertised on `thread/start`.
    pub tools: Vec<ToolDeclaration>,
}
