//! One app-server process and its conversation: pipes, time limits, tool calls, events.

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde_json::Value;
use symphony_agent::{
    AgentError, AgentEvent, AgentEventKind, AgentSession, SessionSpec, StopSignal, ToolHandler,
    TurnOutcome,
};
use symphony_process::GroupChild;
use tokio::io::{AsyncWriteExt, BufReader};
use tokio::process::{ChildStdin, ChildStdout};
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::conversation::{Action, Conversation, Purpose, Settings};
use crate::home::IsolatedHome;
use crate::CodexOptions;
use symphony_agent::lines::LineReader;
use symphony_agent::session_io::{self, Interrupted, Pacer, Read};

/// Exit status of `bash -lc` when the command is not found.
const COMMAND_NOT_FOUND: i32 = 127;
/// Signs of life closer together than this are not sent (the stall clock needs few).
const ACTIVITY_SPACING: Duration = Duration::from_millis(500);

/// A live app-server session.
pub struct CodexSession {
    child: GroupChild,
    stdin: Option<ChildStdin>,
    lines: LineReader<BufReader<ChildStdout>>,
    conversation: Conversation,
    events: mpsc::Sender<AgentEvent>,
    stop: StopSignal,
    tools: Option<Arc<dyn ToolHandler>>,
    options: CodexOptions,
    turn_timeout: Duration,
    read_timeout: Duration,
    pid: Option<u32>,
    stderr_log: PathBuf,
    /// The run's own `CODEX_HOME`, removed once the process is gone.
    home: Option<IsolatedHome>,
    /// Paces signs of life.
    pacer: Pacer,
}

impl CodexSession {
    pub(crate) async fn start(
        mut options: CodexOptions,
        spec: SessionSpec,
    ) -> Result<Self, AgentError> {
        if spec.read_only {
            // Codex's own read-only sandbox, whatever the workflow set for coding sessions.
            options.thread_sandbox = Some(serde_json::json!("read-only"));
            options.turn_sandbox_policy =
                Some(serde_json::json!({"type": "readOnly", "networkAccess": false}));
        }
        let workspace = spec.workspace.clone();
        if !workspace.is_dir() {
            return Err(AgentError::InvalidWorkspaceCwd {
                path: workspace,
                message: "not a directory".to_owned(),
            });
        }
        let logs = options.log_dir(&workspace);
        std::fs::create_dir_all(&logs).map_err(|e| AgentError::NotFound {
            message: format!("cannot create the agent log folder {}: {e}", logs.display()),
        })?;
        let name = workspace
            .file_name()
            .map_or_else(|| "session".into(), |n| n.to_string_lossy().into_owned());
        let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%S%.3fZ");
        let stderr_log = logs.join(format!("{name}.{stamp}.codex-stderr.log"));
        let stderr = tokio::fs::File::create(&stderr_log)
            .await
            .map_err(|e| AgentError::NotFound {
                message: format!("cannot create {}: {e}", stderr_log.display()),
            })?
            .into_std()
            .await;
        let home = match options.isolated_home {
            true => Some(
                IsolatedHome::create(
                    &options.homes_dir(&workspace),
                    options.home_config.as_deref(),
                )
                .map_err(|e| AgentError::NotFound {
                    message: format!("cannot prepare an isolated CODEX_HOME: {e}"),
                })?,
            ),
            false => None,
        };

        let mut command = symphony_process::child_command("bash");
        command
            .arg("-lc")
            .arg(&options.command)
            .current_dir(&workspace)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(stderr));
        for name in &spec.remove_env {
            command.env_remove(name);
        }
        // The client never needs an API key of the operator's shell: codex reads its own.
        if let Some(home) = &home {
            command.env("CODEX_HOME", home.path());
        }
        let mut child = GroupChild::spawn(command).map_err(|e| AgentError::NotFound {
            message: format!("cannot run bash -lc {:?}: {e}", options.command),
        })?;
        let stdin = child.child().stdin.take();
        let stdout = child
            .child()
            .stdout
            .take()
            .ok_or_else(|| AgentError::NotFound {
                message: "the agent's stdout is not a pipe".to_owned(),
            })?;
        let pid = child.id();
        let settings = Settings {
            workspace: workspace.clone(),
            approvals: options.approvals,
            user_input: options.user_input,
            tools: spec
                .tools
                .as_ref()
                .map(|t| t.declarations())
                .unwrap_or_default(),
        };
        let mut session = Self {
            child,
            stdin,
            lines: LineReader::new(BufReader::new(stdout)),
            conversation: Conversation::new(settings),
            events: spec.events,
            stop: spec.stop,
            tools: spec.tools,
            options,
            turn_timeout: spec.turn_timeout,
            read_timeout: spec.read_timeout,
            pid,
            stderr_log,
            home,
            pacer: Pacer::new(ACTIVITY_SPACING),
        };
        match session.handshake(&spec.issue).await {
            Ok(()) => Ok(session),
            Err(e) => {
                session.stop().await;
                Err(e)
            }
        }
    }

    async fn handshake(&mut self, issue: &symphony_core::Issue) -> Result<(), AgentError> {
        let (_, line) = self.conversation.initialize();
        self.write(&line).await?;
        self.answer(Purpose::Initialize).await?;
        let line = self.conversation.initialized();
        self.write(&line).await?;
        let (_, line) = self.conversation.thread_start(
            self.options.approval_policy.as_ref(),
            self.options.thread_sandbox.as_ref(),
        );
        self.write(&line).await?;
        let result = self.answer(Purpose::ThreadStart).await?;
        self.conversation
            .thread_started(&result)
            .map_err(|e| AgentError::ResponseError {
                request: "thread/start".to_owned(),
                message: e.to_string(),
            })?;
        let title = format!("{}: {}", issue.identifier, issue.title);
        if let Some((_, line)) = self.conversation.set_name(&title) {
            self.write(&line).await?;
            // A name is a courtesy: a server that refuses it still runs the turn.
            if let Err(e) = self.answer(Purpose::SetName).await {
                if !matches!(e, AgentError::ResponseError { .. }) {
                    return Err(e);
                }
            }
        }
        self.emit(AgentEventKind::SessionStarted).await;
        Ok(())
    }

    async fn write(&mut self, line: &str) -> Result<(), AgentError> {
        let Some(stdin) = self.stdin.as_mut() else {
            return Err(self.exited().await);
        };
        let written = async {
            stdin.write_all(line.as_bytes()).await?;
            stdin.write_all(b"\n").await?;
            stdin.flush().await
        }
        .await;
        match written {
            Ok(()) => Ok(()),
            Err(_) => Err(self.exited().await),
        }
    }

    async fn emit(&mut self, kind: AgentEventKind) {
        if !self.pacer.admit(&kind) {
            return;
        }
        let event = AgentEvent::new(self.conversation.session_id(), self.pid, kind);
        let _ = self.events.send(event).await;
    }

    /// The process is gone (or its pipes are): how it ended, with the end of its stderr.
    async fn exited(&mut self) -> AgentError {
        self.stdin = None;
        let status = tokio::time::timeout(Duration::from_secs(2), self.child.child().wait())
            .await
            .ok()
            .and_then(Result::ok);
        let stderr = symphony_agent::log_tail(&self.stderr_log, 1_500).await;
        match status {
            Some(status) if status.code() == Some(COMMAND_NOT_FOUND) => AgentError::NotFound {
                message: format!("{:?} not found: {stderr}", self.options.command),
            },
            Some(status) => AgentError::PortExit {
                status: symphony_process::describe_status(&status),
                stderr,
            },
            None => AgentError::PortExit {
                status: "stdout closed".to_owned(),
                stderr,
            },
        }
    }

    /// Reads lines until `wanted` is answered, handling everything else meanwhile.
    async fn answer(&mut self, wanted: Purpose) -> Result<Value, AgentError> {
        let limit = self.read_timeout;
        // A limit on the answer, not on silence: chatter meanwhile does not extend it.
        let deadline = Instant::now() + limit;
        loop {
            let line = match self.read_until(deadline).await {
                Ok(line) => line,
                Err(Interrupted::TimedOut) => {
                    return Err(AgentError::ResponseTimeout {
                        request: wanted.method().to_owned(),
                        timeout: limit,
                    })
                }
                Err(Interrupted::Stopped) => {
                    return Err(AgentError::TurnCancelled {
                        turn: self.conversation.turn(),
                    })
                }
                Err(Interrupted::Exited) => return Err(self.exited().await),
            };
            let mut actions = Vec::new();
            self.conversation.handle_line(&line, &mut actions);
            for action in actions {
                match action {
                    Action::Answered { purpose, outcome } if purpose == wanted => {
                        return outcome.map_err(|e| AgentError::ResponseError {
                            request: wanted.method().to_owned(),
                            message: format!("{} (code {})", e.message, e.code),
                        });
                    }
                    other => {
                        if let Some(ended) = self.perform(other).await? {
                            // A turn cannot end before it is answered; keep it for the caller.
                            return Err(ended.err().unwrap_or(AgentError::ResponseError {
                                request: wanted.method().to_owned(),
                                message: "the turn ended before turn/start was answered".into(),
                            }));
                        }
                    }
                }
            }
        }
    }

    /// Performs one action; returns the turn's end when it is one.
    async fn perform(
        &mut self,
        action: Action,
    ) -> Result<Option<Result<(), AgentError>>, AgentError> {
        match action {
            Action::Send(line) => self.write(&line).await?,
            Action::Emit(kind) => self.emit(kind).await,
            Action::CallTool {
                request_id,
                tool,
                arguments,
            } => {
                let (success, output) = match &self.tools {
                    Some(tools) => tools.call(&tool, arguments).await,
                    None => (
                        false,
                        serde_json::json!({"error": "no tools in this session"}),
                    ),
                };
                let line = Conversation::tool_reply(&request_id, success, &output);
                self.write(&line).await?;
            }
            Action::Answered { .. } => {}
            Action::TurnEnded(result) => return Ok(Some(result)),
        }
        Ok(None)
    }

    /// The next line, unless the deadline passes, a stop is asked for, or the output ends.
    async fn read_until(&mut self, deadline: Instant) -> Result<String, Interrupted> {
        loop {
            match session_io::read_until(&mut self.lines, &self.stop, deadline).await {
                Read::Line(text) => return Ok(text),
                Read::TooLong(bytes) => self.emit(session_io::too_long(bytes)).await,
                Read::Interrupted(why) => return Err(why),
            }
        }
    }
}

#[async_trait]
impl AgentSession for CodexSession {
    fn session_id(&self) -> String {
        self.conversation.session_id()
    }

    async fn run_turn(&mut self, prompt: &str) -> Result<TurnOutcome, AgentError> {
        let (_, line) = self
            .conversation
            .turn_start(prompt, self.options.turn_sandbox_policy.as_ref());
        let turn = self.conversation.turn();
        self.write(&line).await?;
        let result = self.answer(Purpose::TurnStart).await;
        let result = match result {
            Ok(answer) => {
                self.conversation.turn_started(&answer);
                self.emit(AgentEventKind::TurnStarted { turn }).await;
                self.stream_turn().await
            }
            Err(e) => Err(e),
        };
        self.conversation.abandon_turn();
        match &result {
            Ok(()) => self.emit(AgentEventKind::TurnCompleted { turn }).await,
            Err(e) => {
                if matches!(
                    e,
                    AgentError::TurnCancelled { .. } | AgentError::TurnTimeout { .. }
                ) {
                    // Ask the agent to stop the turn; the caller stops the process anyway.
                    if let Some((_, line)) = self.conversation.interrupt() {
                        let _ = self.write(&line).await;
                    }
                }
                self.emit(AgentEventKind::TurnFailed {
                    turn,
                    category: e.category().to_owned(),
                    message: e.to_string(),
                })
                .await;
            }
        }
        result.map(|()| TurnOutcome::new(turn))
    }

    async fn stop(&mut self) {
        // Closing stdin asks the app-server to exit; the group stop makes sure of it.
        self.stdin = None;
        self.child.stop().await;
        self.home = None;
    }
}

impl CodexSession {
    /// Reads the turn's stream until it ends; `turn_timeout` is a silence limit.
    async fn stream_turn(&mut self) -> Result<(), AgentError> {
        let turn = self.conversation.turn();
        loop {
            let deadline = Instant::now() + self.turn_timeout;
            let line = match self.read_until(deadline).await {
                Ok(line) => line,
                Err(Interrupted::TimedOut) => {
                    return Err(AgentError::TurnTimeout {
                        turn,
                        silence: self.turn_timeout,
                    })
                }
                Err(Interrupted::Stopped) => return Err(AgentError::TurnCancelled { turn }),
                Err(Interrupted::Exited) => return Err(self.exited().await),
            };
            let mut actions = Vec::new();
            self.conversation.handle_line(&line, &mut actions);
            for action in actions {
                if let Some(ended) = self.perform(action).await? {
                    return ended;
                }
            }
        }
    }
}
