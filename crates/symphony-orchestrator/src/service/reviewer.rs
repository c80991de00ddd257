//! The orchestrator's side of the `ai_review` gate's reviewer (the gates crate's
//! [`ReviewerAgent`] port): a separate session on whichever backend a check names — the coding
//! agent's by default — read-only, offered nothing but the tool it answers with, its tokens
//! counted with the run's. The backends are built when a workflow becomes current, so a
//! reviewer that cannot be built refuses the workflow instead of failing a run later.

use std::path::Path;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use serde_json::{json, Value};
use symphony_agent::{
    AgentBackend, AgentEventKind, BackendBuildError, SessionSpec, StopSignal, ToolDeclaration,
    ToolHandler,
};
use symphony_core::{Issue, Usage};
use symphony_gates::{
    CheckConfig, ReviewRequest, ReviewTool, ReviewerAgent, ReviewerError, ReviewerRun,
    SubmissionCheck,
};
use symphony_workflow::{ServiceConfig, Workflow, COMMAND_BACKEND};
use tokio::sync::mpsc;

use super::wiring::Wiring;

/// The gate kind whose checks name reviewers.
const AI_REVIEW: &str = "ai_review";

/// Events of a review session held before its agent is slowed down (only tokens are read).
const REVIEW_EVENT_BUFFER: usize = 64;

/// What a reviewer is told when its turn ended without an accepted answer (once).
const REMINDER: &str = "Your review counts only when you submit it by calling the tool you were \
                        given, with arguments that match its schema. Call it now, once.";

/// A check's reviewer: its backend kind and command, as the check names them.
type ReviewerKey = (Option<String>, Option<String>);

/// The reviewer backends a workflow's `ai_review` checks name, built.
#[derive(Default)]
pub struct ReviewerBackends {
    backends: Vec<(ReviewerKey, Arc<dyn AgentBackend>)>,
}

impl ReviewerBackends {
    /// Builds each reviewer `checks` name, from `workflow`'s configuration, as a run does
    /// (`symphony check` shows them, or the error).
    pub fn build(
        wiring: &dyn Wiring,
        workflow: &Workflow,
        checks: &[CheckConfig],
    ) -> Result<Self, BackendBuildError> {
        let mut built = Self::default();
        for check in checks.iter().filter(|c| c.kind == AI_REVIEW) {
            let text = |key: &str| {
                check
                    .options
                    .get(key)
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            };
            let key = (text("backend"), text("command"));
            if built.backends.iter().any(|(k, _)| *k == key) {
                continue;
            }
            let config = reviewer_config(&workflow.config, key.0.as_deref(), key.1.as_deref());
            let backend = wiring.backend(&config).map_err(|e| {
                BackendBuildError::Invalid(format!(
                    "the reviewer of gate {:?}: {e}",
                    check.settings.name
                ))
            })?;
            built.backends.push((key, backend));
        }
        Ok(built)
    }

    /// Each built reviewer: its backend kind and command.
    pub fn described(&self) -> Vec<String> {
        self.backends
            .iter()
            .map(|((kind, command), backend)| {
                let kind = kind.as_deref().unwrap_or(backend.name());
                match command {
                    Some(command) => format!("{kind} running `{command}`"),
                    None => format!("{kind} with its own command"),
                }
            })
            .collect()
    }

    fn get(
        &self,
        backend: &Option<String>,
        command: &Option<String>,
    ) -> Option<Arc<dyn AgentBackend>> {
        self.backends
            .iter()
            .find(|((b, c), _)| b == backend && c == command)
            .map(|(_, backend)| Arc::clone(backend))
    }
}

/// `config` with the reviewer's backend kind and command: the command is `agent.command` for
/// the `command` backend, else the `command` key of the backend's own section (`codex:`).
fn reviewer_config(
    config: &ServiceConfig,
    backend: Option<&str>,
    command: Option<&str>,
) -> ServiceConfig {
    let mut config = config.clone();
    if let Some(kind) = backend {
        config.agent.backend = kind.to_owned();
    }
    if let Some(command) = command {
        if config.agent.backend == COMMAND_BACKEND {
            config.agent.command = Some(command.to_owned());
        } else {
            let section = config
                .extensions
                .entry(config.agent.backend.clone())
                .or_insert_with(|| json!({}));
            if !section.is_object() {
                *section = json!({});
            }
            section["command"] = Value::String(command.to_owned());
        }
    }
    config
}

/// Runs one worker's reviews.
pub(crate) struct WorkerReviewer {
    pub backends: Arc<ReviewerBackends>,
    pub issue: Issue,
    pub remove_env: Vec<String>,
    pub read_timeout: std::time::Duration,
}

/// The answer tool: each call is checked, the last accepted one kept.
struct SubmitTool {
    tool: ReviewTool,
    check: SubmissionCheck,
    answers: Arc<Mutex<(Option<Value>, Vec<String>)>>,
}

#[async_trait]
impl ToolHandler for SubmitTool {
    fn declarations(&self) -> Vec<ToolDeclaration> {
        vec![ToolDeclaration {
            name: self.tool.name.clone(),
            description: self.tool.description.clone(),
            input_schema: self.tool.input_schema.clone(),
        }]
    }

    async fn call(&self, name: &str, arguments: Value) -> (bool, Value) {
        if name != self.tool.name {
            return (
                false,
                json!({"error": format!("no tool {name:?} here: a reviewer has only `{}`", self.tool.name)}),
            );
        }
        let verdict = (self.check)(&arguments);
        let mut answers = self.answers.lock().expect("answers lock");
        match verdict {
            Ok(()) => {
                answers.0 = Some(arguments);
                (true, json!({"accepted": true}))
            }
            Err(why) => {
                answers.1.push(why.clone());
                (
                    false,
                    json!({"error": format!("review refused: {why}; fix it and call the tool again")}),
                )
            }
        }
    }
}

#[async_trait]
impl ReviewerAgent for WorkerReviewer {
    async fn review(
        &self,
        workspace: &Path,
        request: ReviewRequest,
    ) -> Result<ReviewerRun, ReviewerError> {
        let backend = self
            .backends
            .get(&request.backend, &request.command)
            .ok_or_else(|| {
                ReviewerError::Unavailable(
                    "no reviewer was built for this check (the workflow changed under the run?)"
                        .to_owned(),
                )
            })?;
        let answers = Arc::new(Mutex::new((None, Vec::new())));
        let (events, mut received) = mpsc::channel(REVIEW_EVENT_BUFFER);
        // Nobody stops a review from outside: the gate runner's time limit drops it, and the
        // session's own silence limit stops a stuck agent.
        let (_stop, stop) = StopSignal::new();
        let mut spec = SessionSpec::new(workspace, self.issue.clone(), events, stop);
        spec.remove_env = self.remove_env.clone();
        spec.turn_timeout = request.timeout;
        spec.read_timeout = self.read_timeout;
        spec.read_only = true;
        spec.tools = Some(Arc::new(SubmitTool {
            tool: request.tool.clone(),
            check: Arc::clone(&request.check),
            answers: Arc::clone(&answers),
        }));
        let tokens = tokio::spawn(async move {
            let mut tokens = Usage::default();
            while let Some(event) = received.recv().await {
                if let AgentEventKind::TokenUsage(usage) = event.kind {
                    // Cumulative for the session: the largest report is the session's use.
                    tokens = tokens.at_least(&usage);
                }
            }
            tokens
        });
        let mut session = backend
            .start(spec)
            .await
            .map_err(|e| ReviewerError::Unavailable(format!("[{}] {e}", e.category())))?;
        let mut turn = session.run_turn(&request.prompt).await;
        if turn.is_ok() && answers.lock().expect("answers lock").0.is_none() {
            turn = session.run_turn(REMINDER).await;
        }
        let session_id = session.session_id();
        session.stop().await;
        drop(session);
        let tokens = tokens.await.unwrap_or_default();
        let (submission, refused) = std::mem::take(&mut *answers.lock().expect("answers lock"));
        let mut run = ReviewerRun::default();
        run.submission = submission;
        run.refused = refused;
        run.tokens = tokens;
        run.session = session_id;
        // A failed turn still spent tokens: they are reported with the failure.
        run.failure = turn.err().map(|e| format!("[{}] {e}", e.category()));
        Ok(run)
    }
}
