//! The Codex agent backend (SPEC §10): a client of `codex app-server` for the pinned Codex
//! version (0.169). [`Conversation`] is the protocol as a pure state machine (lines in,
//! actions out); [`CodexBackend`] runs it against the real process: `bash -lc <codex.command>`
//! in the workspace, newline-delimited JSON on stdio with a 10 MB line cap, stderr in a log
//! file per session, tracker secrets removed from the environment, optionally an isolated
//! `CODEX_HOME` per run.

mod backend;
mod conversation;
mod conversation_vocabulary;
mod home;
mod items;
mod options;
mod policy;
mod protocol;
mod section;
mod session;

pub use backend::{CodexBackend, CodexBackendFactory};
pub use conversation::{Action, Conversation, Purpose, Settings};
pub use options::CodexOptions;
pub use policy::{ApprovalAnswer, UserInputAnswer};
pub use protocol::{parse, Incoming, Malformed, RpcError};
pub use section::{CodexHomeMode, CodexSection, DEFAULT_CODEX_COMMAND};
pub use session::CodexSession;
pub use symphony_agent::lines::{Line, LineReader, MAX_LINE};
