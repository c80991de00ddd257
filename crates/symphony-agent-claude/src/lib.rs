//! The Claude Code agent backend (ADR 0021): the `claude` CLI (2.1.332) driven headless, one
//! process per session speaking stream-json both ways. [`Conversation`] is the protocol as a
//! pure state machine (lines in, actions out): user turns, permission requests answered by
//! the posture ([`policy`]), Symphony's tools served as the in-process MCP server `symphony`
//! ([`mcp`]), token counts and cost. [`ClaudeSession`] runs it against the real process: its own
//! process group, a bounded line reader, stderr in a log per session, a configuration folder
//! per session, tracker secrets and the operator's `ANTHROPIC_*`/`CLAUDE_*` variables removed.

mod backend;
mod conversation;
mod home;
mod launch;
pub mod mcp;
mod options;
pub mod policy;
mod protocol;
mod section;
mod session;

pub use backend::{ClaudeBackend, ClaudeBackendFactory};
pub use conversation::{Action, Conversation, Settings};
pub use launch::SUPPORTED_VERSIONS;
pub use options::ClaudeOptions;
pub use protocol::{parse, ControlRequest, Incoming, Malformed, TurnResult, TurnUsage};
pub use section::{ClaudeHomeMode, ClaudeSection, CLAUDE_BACKEND, DEFAULT_CLAUDE_COMMAND};
pub use session::ClaudeSession;
