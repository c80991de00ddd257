//! Which tracker and agent backend a configuration gets in this binary.

use std::sync::Arc;

use symphony_agent::{
    AgentBackend, AgentBackendRegistry, BackendBuildError, CommandBackendFactory,
};
use symphony_agent_claude::ClaudeBackendFactory;
use symphony_agent_codex::CodexBackendFactory;
use symphony_code_host::CodeHostRegistry;
use symphony_gates::GateRegistry;
use symphony_orchestrator::Wiring;
use symphony_tracker::{Tracker, TrackerError, TrackerErrorCategory};
use symphony_tracker_github::{GithubCodeHostFactory, GithubTracker};
use symphony_tracker_linear::LinearTracker;
use symphony_tracker_local::{LocalCodeHostFactory, LocalTracker};
use symphony_workflow::ServiceConfig;

/// The adapters this binary ships.
pub struct BinaryWiring;

impl Wiring for BinaryWiring {
    fn tracker(&self, config: &ServiceConfig) -> Result<Arc<dyn Tracker>, TrackerError> {
        match config.tracker.kind.as_str() {
            symphony_tracker_local::KIND => {
                Ok(Arc::new(LocalTracker::from_config(&config.tracker)?))
            }
            symphony_tracker_github::KIND => {
                Ok(Arc::new(GithubTracker::from_config(&config.tracker)?))
            }
            symphony_tracker_linear::KIND => {
                Ok(Arc::new(LinearTracker::from_config(&config.tracker)?))
            }
            other => match crate::plugins::plugins()
                .iter()
                .find(|p| p.profile().kind() == other)
            {
                Some(plugin) => plugin.build(config),
                None => Err(TrackerError::new(
                    TrackerErrorCategory::UnsupportedTrackerKind,
                    format!("tracker.kind {other:?} has no adapter in this build"),
                )),
            },
        }
    }

    fn backend(&self, config: &ServiceConfig) -> Result<Arc<dyn AgentBackend>, BackendBuildError> {
        agent_backends().build(config)
    }

    fn gates(&self) -> GateRegistry {
        let mut registry = GateRegistry::builtin();
        for factory in crate::plugins::gates() {
            registry.register(Arc::clone(factory));
        }
        registry
    }

    fn code_hosts(&self) -> CodeHostRegistry {
        let mut registry = CodeHostRegistry::new()
            .with(Arc::new(LocalCodeHostFactory))
            .with(Arc::new(GithubCodeHostFactory));
        for factory in crate::plugins::code_hosts() {
            registry.register(Arc::clone(factory));
        }
        registry
    }
}

/// The agent backend kinds of this build: `command`, `codex`, `claude`, and the installed
/// plugins'.
pub(crate) fn agent_backends() -> AgentBackendRegistry {
    let mut registry = AgentBackendRegistry::new()
        .with(Arc::new(CommandBackendFactory))
        .with(Arc::new(CodexBackendFactory))
        .with(Arc::new(ClaudeBackendFactory));
    for factory in crate::plugins::agents() {
        registry.register(Arc::clone(factory));
    }
    registry
}
