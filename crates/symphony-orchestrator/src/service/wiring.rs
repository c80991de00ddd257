//! The seam between the service and the adapters a build ships.

use std::sync::Arc;

use symphony_agent::{AgentBackend, BackendBuildError};
use symphony_tracker::{Tracker, TrackerError};
use symphony_workflow::ServiceConfig;

/// Builds the tracker, agent backend, gates and code host a configuration names. The binary
/// implements it with the adapters it ships; tests and embedders bring their own. A kind with
/// no adapter is an error (`unsupported_tracker_kind`, `unsupported_agent_backend`), never a
/// stand-in.
pub trait Wiring: Send + Sync + 'static {
    /// The tracker for `config.tracker`.
    fn tracker(&self, config: &ServiceConfig) -> Result<Arc<dyn Tracker>, TrackerError>;
    /// The agent backend `config.agent.backend` names, with its settings.
    fn backend(&self, config: &ServiceConfig) -> Result<Arc<dyn AgentBackend>, BackendBuildError>;
    /// The gate kinds `gates.checks` may name: the built-in ones unless a program adds its own.
    fn gates(&self) -> symphony_gates::GateRegistry {
        symphony_gates::GateRegistry::builtin()
    }
    /// The code-host kinds `code_host:` may name (and which serves a tracker with no
    /// `code_host:` section). No default: the implementations live in adapter crates, and a
    /// build that forgets them must not hand off into nowhere.
    fn code_hosts(&self) -> symphony_code_host::CodeHostRegistry;
}
