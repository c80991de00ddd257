//! The Codex app-server as an agent backend.

use async_trait::async_trait;
use symphony_agent::{AgentBackend, AgentError, AgentSession, SessionSpec};

use crate::options::CodexOptions;
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
