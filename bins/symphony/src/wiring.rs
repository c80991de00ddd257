//! Which tracker and agent backend a configuration gets in this binary.

use std::sync::Arc;

use symphony_agent::{AgentBackend, CommandBackend};
use symphony_agent_codex::{CodexBackend, CodexOptions};
use symphony_code_host::CodeHostRegistry;
use symphony_gates::GateRegistry;
use symphony_orchestrator::Wiring;
use symphony_tracker::Tracker;
use symphony_tracker_github::{GithubCodeHostFactory, GithubTracker};
use symphony_tracker_local::{LocalCodeHostFactory, LocalTracker};
use symphony_workflow::{AgentBackendKind, ServiceConfig};

/// The adapters this binary ships.
pub struct BinaryWiring;

impl Wiring for BinaryWiring {
    fn tracker(&self, config: &ServiceConfig) -> Result<Arc<dyn Tracker>, String> {
        match config.tracker.kind.as_str() {
            symphony_tracker_local::KIND => Ok(Arc::new(
                LocalTracker::from_config(&config.tracker).map_err(|e| e.to_string())?,
            )),
            symphony_tracker_github::KIND => Ok(Arc::new(
                GithubTracker::from_config(&config.tracker).map_err(|e| e.to_string())?,
            )),
            other => match crate::plugins::plugins()
                .iter()
                .find(|p| p.profile().kind() == other)
            {
                Some(plugin) => plugin.build(config),
                None => Err(format!(
                    "tracker.kind {other:?} has no adapter in this build"
                )),
            },
        }
    }

    fn backend(&self, config: &ServiceConfig) -> Result<Arc<dyn AgentBackend>, String> {
        match config.agent.backend {
            AgentBackendKind::Command => {
                let command = config
                    .agent
                    .command
                    .clone()
                    .ok_or("agent.command is required for the command backend")?;
                Ok(Arc::new(CommandBackend::new(command)))
            }
            AgentBackendKind::Codex => Ok(Arc::new(CodexBackend::new(CodexOptions::from_config(
                &config.codex,
            )))),
        }
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
