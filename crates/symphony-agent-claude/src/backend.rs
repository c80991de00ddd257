//! Claude Code as an agent backend.

use std::sync::Arc;

use async_trait::async_trait;
use symphony_agent::{
    AgentBackend, AgentBackendFactory, AgentError, AgentSession, BackendBuildError, SessionSpec,
};
use symphony_workflow::{ConfigSection, ServiceConfig};

use crate::options::ClaudeOptions;
use crate::section::{ClaudeSection, CLAUDE_BACKEND};
use crate::session::ClaudeSession;

/// Starts Claude Code sessions.
#[derive(Debug, Clone)]
pub struct ClaudeBackend {
    options: ClaudeOptions,
}

impl ClaudeBackend {
    /// A backend with these options.
    pub fn new(options: ClaudeOptions) -> Self {
        Self { options }
    }
}

#[async_trait]
impl AgentBackend for ClaudeBackend {
    fn name(&self) -> &str {
        CLAUDE_BACKEND
    }

    async fn start(&self, spec: SessionSpec) -> Result<Box<dyn AgentSession>, AgentError> {
        let session = ClaudeSession::start(self.options.clone(), spec).await?;
        Ok(Box::new(session))
    }
}

/// `agent.backend: claude`, configured by the `claude` section.
#[derive(Debug, Default, Clone, Copy)]
pub struct ClaudeBackendFactory;

impl AgentBackendFactory for ClaudeBackendFactory {
    fn kind(&self) -> &str {
        CLAUDE_BACKEND
    }

    fn sections(&self) -> Vec<Arc<dyn ConfigSection>> {
        vec![Arc::new(ClaudeSection)]
    }

    /// Every result Claude Code reports carries its price (`total_cost_usd`).
    fn prices_usage(&self) -> bool {
        true
    }

    fn build(&self, config: &ServiceConfig) -> Result<Arc<dyn AgentBackend>, BackendBuildError> {
        let options = ClaudeOptions::from_section(config.extensions.get(CLAUDE_BACKEND))
            .map_err(|e| BackendBuildError::Invalid(e.to_string()))?;
        Ok(Arc::new(ClaudeBackend::new(options)))
    }
}
