//! Agent backends by kind (`agent.backend`), so a backend can live in its own crate — a plugin's
//! as much as Codex's — and a build offers exactly the kinds it registers.

use std::sync::Arc;

use symphony_workflow::{ConfigSection, ServiceConfig, COMMAND_BACKEND};

use crate::backend::AgentBackend;
use crate::command::CommandBackend;

/// Why a configuration's backend could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BackendBuildError {
    /// `agent.backend` names a kind this build has no factory for.
    #[error("agent.backend {kind:?} has no implementation in this build (known: {known})")]
    Unsupported {
        /// The kind asked for.
        kind: String,
        /// The kinds there are.
        known: String,
    },
    /// The backend's settings are not usable.
    #[error("invalid agent backend configuration: {0}")]
    Invalid(String),
}

impl BackendBuildError {
    /// The error's category name.
    pub fn category(&self) -> &'static str {
        match self {
            Self::Unsupported { .. } => "unsupported_agent_backend",
            Self::Invalid(_) => "invalid_agent_config",
        }
    }
}

/// One agent backend kind: its settings and how to build it.
pub trait AgentBackendFactory: Send + Sync {
    /// The `agent.backend` value it serves (lowercase).
    fn kind(&self) -> &str;

    /// WORKFLOW.md sections holding this backend's own settings, validated at load and on
    /// reload. A backend whose settings all live in `agent:` has none.
    fn sections(&self) -> Vec<Arc<dyn ConfigSection>> {
        Vec::new()
    }

    /// The backend for `config` (whose `agent.backend` is this kind).
    fn build(&self, config: &ServiceConfig) -> Result<Arc<dyn AgentBackend>, BackendBuildError>;

    /// Whether its sessions price their own usage (`Usage::cost_micros` on every report), so
    /// a cost budget needs no price table in the workflow. Default: no.
    fn prices_usage(&self) -> bool {
        false
    }
}

/// The agent backend kinds a build can be configured with.
#[derive(Clone, Default)]
pub struct AgentBackendRegistry {
    factories: Vec<Arc<dyn AgentBackendFactory>>,
}

impl std::fmt::Debug for AgentBackendRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.kinds()).finish()
    }
}

impl AgentBackendRegistry {
    /// No kinds: nothing can be built until kinds are registered.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or replaces) the factory of its kind.
    pub fn register(&mut self, factory: Arc<dyn AgentBackendFactory>) {
        self.factories.retain(|f| f.kind() != factory.kind());
        self.factories.push(factory);
    }

    /// The registry with `factory` added.
    pub fn with(mut self, factory: Arc<dyn AgentBackendFactory>) -> Self {
        self.register(factory);
        self
    }

    /// The registered kinds, in registration order.
    pub fn kinds(&self) -> Vec<String> {
        self.factories.iter().map(|f| f.kind().to_owned()).collect()
    }

    /// The kinds whose sessions price their own usage
    /// ([`AgentBackendFactory::prices_usage`]).
    pub fn self_pricing_kinds(&self) -> Vec<String> {
        self.factories
            .iter()
            .filter(|f| f.prices_usage())
            .map(|f| f.kind().to_owned())
            .collect()
    }

    /// Every section the registered backends own.
    pub fn sections(&self) -> Vec<Arc<dyn ConfigSection>> {
        self.factories.iter().flat_map(|f| f.sections()).collect()
    }

    /// The backend `config.agent.backend` names.
    pub fn build(
        &self,
        config: &ServiceConfig,
    ) -> Result<Arc<dyn AgentBackend>, BackendBuildError> {
        let kind = config.agent.backend.as_str();
        let factory = self
            .factories
            .iter()
            .find(|f| f.kind() == kind)
            .ok_or_else(|| BackendBuildError::Unsupported {
                kind: kind.to_owned(),
                known: self.kinds().join(", "),
            })?;
        factory.build(config)
    }
}

/// `agent.backend: command`: `agent.command` once per turn.
#[derive(Debug, Default, Clone, Copy)]
pub struct CommandBackendFactory;

impl AgentBackendFactory for CommandBackendFactory {
    fn kind(&self) -> &str {
        COMMAND_BACKEND
    }

    fn build(&self, config: &ServiceConfig) -> Result<Arc<dyn AgentBackend>, BackendBuildError> {
        let command = config.agent.command.clone().ok_or_else(|| {
            BackendBuildError::Invalid(
                "agent.command is required for the command backend".to_owned(),
            )
        })?;
        Ok(Arc::new(CommandBackend::new(command)))
    }
}
