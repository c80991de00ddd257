//! The Codex app-server as an agent backend.

use std::sync::Arc;

use async_trait::async_trait;
use symphony_agent::{
    AgentBackend, AgentBackendFactory, AgentError, AgentSession, BackendBuildError, SessionSpec,
};
use symphony_workflow::{ConfigSection, ServiceConfig, CODEX_BACKEND};

use crate::options::CodexOptions;
use crate::section::CodexSection;
use crate::session::CodexSession;

/// Starts Codex app-server sessions.
#[derive(Debug, Clone)]
pub struct CodexBackend {
    options: CodexOptions,
}

impl CodexBackend {
    /// A backend with these options.
    pub fn new(options: CodexOptions) -> Self {
        Self { options }
    }
}

#[async_trait]
impl AgentBackend for CodexBackend {
    fn name(&self) -> &str {
        "codex"
    }

    async fn start(&self, spec: SessionSpec) -> Result<Box<dyn AgentSession>, AgentError> {
        let session = CodexSession::start(self.options.clone(), spec).await?;
        Ok(Box::new(session))
    }
}

/// `agent.backend: codex` (the default), configured by the `codex` section.
#[derive(Debug, Default, Clone, Copy)]
pub struct CodexBackendFactory;

impl AgentBackendFactory for CodexBackendFactory {
    fn kind(&self) -> &str {
        CODEX_BACKEND
    }

    fn sections(&self) -> Vec<Arc<dyn ConfigSection>> {
        vec![Arc::new(CodexSection)]
    }

    fn build(&self, config: &ServiceConfig) -> Result<Arc<dyn AgentBackend>, BackendBuildError> {
        let options = CodexOptions::from_section(config.extensions.get(CODEX_BACKEND))
            .map_err(|e| BackendBuildError::Invalid(e.to_string()))?;
        Ok(Arc::new(CodexBackend::new(options)))
    }
}
