//! The agent seam (SPEC §10): an [`AgentBackend`] starts an [`AgentSession`] in a workspace;
//! the session runs turns and streams [`AgentEvent`]s to the orchestrator. [`CommandBackend`]
//! drives any command-line agent (one shell command per turn, prompt on stdin; tools are called
//! by printing `::symphony-tool {"name": ..., "arguments": {...}}` lines); the Codex app-server
//! backend has its own crate.

mod backend;
mod command;
mod error;
mod event;
pub mod lines;
mod log_tail;
mod registry;
pub mod session_io;

pub use backend::{
    AgentBackend, AgentSession, SessionSpec, StopSignal, ToolDeclaration, ToolHandler, TurnOutcome,
};
pub use command::{CommandBackend, TOOL_DIRECTIVE};
pub use error::AgentError;
pub use event::{clip, AgentEvent, AgentEventKind, MAX_EVENT_LINE};
pub use log_tail::log_tail;
pub use registry::{
    AgentBackendFactory, AgentBackendRegistry, BackendBuildError, CommandBackendFactory,
};
/// What a session used, as [`AgentEventKind::TokenUsage`] reports it (re-exported so a backend
/// needs this crate alone).
pub use symphony_core::Usage;
