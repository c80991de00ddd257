//! One Claude Code process in stream-json mode and its conversation: the launch (flags and
//! environment), pipes, time limits, tool calls, events, and a restart with `--resume` when
//! the process is gone between turns.

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use symphony_agent::lines::LineReader;
use symphony_agent::session_io::{self, Interrupted, Pacer, Read};
use symphony_agent::{
    AgentError, AgentEvent, AgentEventKind, AgentSession, SessionSpec, StopSignal, ToolHandler,
    TurnOutcome,
};
use symphony_process::GroupChild;
use tokio::io::{AsyncWriteExt, BufReader};
use tokio::process::{ChildStdin, ChildStdout};
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::conversation::{Action, Conversation, Settings};
use crate::home::{new_session_id, IsolatedHome};
use crate::options::ClaudeOptions;
use crate::policy::Posture;

use crate::launch::{self, COMMAND_NOT_FOUND};
/// Signs of life closer together than this are not sent (the stall clock needs few).
const ACTIVITY_SPACING: Duration = Duration::from_millis(500);

/// The running process.
struct Process {
    child: GroupChild,
    stdin: Option<ChildStdin>,
    lines: LineReader<BufReader<ChildStdout>>,
    pid: Option<u32>,
}

/// A live Claude Code session.
pub struct ClaudeSession {
    options: ClaudeOptions,
    workspace: PathBuf,
    remove_env: Vec<String>,
    api_key: String,
    process: Option<Process>,
    /// Whether a process of this session has run (the next one resumes it).
    started_once: bool,
    conversation: Conversation,
    events: mpsc::Sender<AgentEvent>,
    stop: StopSignal,
    tools: Option<Arc<dyn ToolHandler>>,
    turn_timeout: Duration,
    stderr_log: PathBuf,
    home: Option<IsolatedHome>,
    /// Paces signs of life.
    pacer: Pacer,
}

use crate::launch::cannot_start;

impl ClaudeSession {
    pub(crate) async fn start(
        options: ClaudeOptions,
        spec: SessionSpec,
    ) -> Result<Self, AgentError> {
        let workspace = spec.workspace.clone();
        if !workspace.is_dir() {
            return Err(AgentError::InvalidWorkspaceCwd {
                path: workspace,
                message: "not a directory".to_owned(),
            });
        }
        let api_key = std::env::var(&options.api_key_var).map_err(|_| {
            cannot_start(format!(
                "claude.api_key names ${}, which is not set in Symphony's environment",
                options.api_key_var
            ))
        })?;
        launch::check_version(&options, &workspace, spec.read_timeout).await?;
        let session_id =
            new_session_id().map_err(|e| cannot_start(format!("no session id: {e}")))?;
        let logs = options.log_dir(&workspace);
        std::fs::create_dir_all(&logs).map_err(|e| {
            cannot_start(format!(
                "cannot create the agent log folder {}: {e}",
                logs.display()
            ))
        })?;
        let name = workspace
            .file_name()
            .map_or_else(|| "session".into(), |n| n.to_string_lossy().into_owned());
        let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%S%.3fZ");
        let stderr_log = logs.join(format!("{name}.{stamp}.claude-stderr.log"));
        let home = match options.isolated_home {
            true => Some(
                IsolatedHome::create(&options.homes_dir(&workspace), &session_id).map_err(|e| {
                    cannot_start(format!("cannot prepare an isolated configuration: {e}"))
                })?,
            ),
            false => None,
        };
        let settings = Settings {
            posture: Posture {
                workspace: workspace.clone(),
                allow_network: options.allow_network,
                read_only: spec.read_only,
            },
            tools: spec
                .tools
                .as_ref()
                .map(|t| t.declarations())
                .unwrap_or_default(),
        };
        let mut session = Self {
            options,
            workspace,
            remove_env: spec.remove_env,
            api_key,
            process: None,
            started_once: false,
            conversation: Conversation::new(settings, session_id),
            events: spec.events,
            stop: spec.stop,
            tools: spec.tools,
            turn_timeout: spec.turn_timeout,
            stderr_log,
            home,
            pacer: Pacer::new(ACTIVITY_SPACING),
        };
        session.spawn()?;
        session.emit(AgentEventKind::SessionStarted).await;
        Ok(session)
    }

    /// Starts the process (resuming the session when one ran before).
    fn spawn(&mut self) -> Result<(), AgentError> {
        let stderr = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.stderr_log)
            .map_err(|e| cannot_start(format!("cannot open {}: {e}", self.stderr_log.display())))?;
        let mut command = symphony_process::child_command("bash");
        command
            .arg("-lc")
            .arg(format!("exec {} \"$@\"", self.options.command))
            .arg("claude")
            .args(launch::arguments(
                &self.options,
                self.conversation.read_only(),
                self.conversation.offers_tools(),
                self.conversation.session_id(),
                self.started_once,
            ))
            .current_dir(&self.workspace)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(stderr));
        launch::environment(
            &mut command,
            &self.options,
            &self.remove_env,
            &self.api_key,
            self.home.as_ref(),
        );
        let mut child = GroupChild::spawn(command)
            .map_err(|e| cannot_start(format!("cannot run {:?}: {e}", self.options.command)))?;
        let stdin = child.child().stdin.take();
        let stdout = child
            .child()
            .stdout
            .take()
            .ok_or_else(|| cannot_start("the agent's stdout is not a pipe".to_owned()))?;
        let pid = child.id();
        self.process = Some(Process {
            child,
            stdin,
            lines: LineReader::new(BufReader::new(stdout)),
            pid,
        });
        self.started_once = true;
        Ok(())
    }

    fn pid(&self) -> Option<u32> {
        self.process.as_ref().and_then(|p| p.pid)
    }

    async fn emit(&mut self, kind: AgentEventKind) {
        if !self.pacer.admit(&kind) {
            return;
        }
        let event = AgentEvent::new(self.conversation.session_id(), self.pid(), kind);
        let _ = self.events.send(event).await;
    }

    async fn write(&mut self, line: &str) -> Result<(), AgentError> {
        let Some(stdin) = self.process.as_mut().and_then(|p| p.stdin.as_mut()) else {
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

    /// The process is gone (or its pipes are): how it ended, with the end of its stderr.
    async fn exited(&mut self) -> AgentError {
        let status = match self.process.take() {
            Some(mut process) => {
                process.stdin = None;
                tokio::time::timeout(Duration::from_secs(2), process.child.child().wait())
                    .await
                    .ok()
                    .and_then(Result::ok)
            }
            None => None,
        };
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

    /// The next line, unless the deadline passes, a stop is asked for, or the output ends.
    async fn read_until(&mut self, deadline: Instant) -> Result<String, Interrupted> {
        loop {
            let Some(process) = self.process.as_mut() else {
                return Err(Interrupted::Exited);
            };
            match session_io::read_until(&mut process.lines, &self.stop, deadline).await {
                Read::Line(text) => return Ok(text),
                Read::TooLong(bytes) => self.emit(session_io::too_long(bytes)).await,
                Read::Interrupted(why) => return Err(why),
            }
        }
    }

    /// Performs one action; returns the turn's end when it is one.
    async fn perform(
        &mut self,
        action: Action,
    ) -> Result<Option<Result<(), AgentError>>, AgentError> {
        match action {
            Action::Write(line) => self.write(&line).await?,
            Action::Emit(kind) => self.emit(kind).await,
            Action::CallTool {
                request_id,
                mcp_id,
                name,
                arguments,
            } => {
                let (success, output) = match &self.tools {
                    Some(tools) => tools.call(&name, arguments).await,
                    None => (
                        false,
                        serde_json::json!({"error": "no tools in this session"}),
                    ),
                };
                let line = Conversation::tool_reply(&request_id, &mcp_id, success, &output);
                self.write(&line).await?;
            }
            Action::TurnEnded(result) => return Ok(Some(result)),
        }
        Ok(None)
    }

    /// Reads the turn's stream until its `result`; `turn_timeout` is a silence limit.
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

    /// How the process ended, if it did while no turn was running.
    fn ended_between_turns(&mut self) -> Option<String> {
        let process = self.process.as_mut()?;
        // When it cannot be told, the process is assumed alive: a second process on the same
        // session would be worse than a turn that fails on a dead pipe.
        let status = process.child.child().try_wait().ok()??;
        Some(symphony_process::describe_status(&status))
    }

    /// Ends the process (group), keeping the session for a later `--resume`.
    async fn end_process(&mut self) {
        if let Some(mut process) = self.process.take() {
            process.stdin = None;
            process.child.stop().await;
        }
    }
}

#[async_trait]
impl AgentSession for ClaudeSession {
    fn session_id(&self) -> String {
        self.conversation.session_id().to_owned()
    }

    async fn run_turn(&mut self, prompt: &str) -> Result<TurnOutcome, AgentError> {
        // A process that died since the last turn (killed while the gates ran, say) is started
        // again on the same session: `--resume` gives the model its history back.
        if let Some(status) = self.ended_between_turns() {
            self.process = None;
            self.emit(AgentEventKind::Notification {
                message: format!("claude ended between turns ({status}); resuming the session"),
            })
            .await;
        }
        if self.process.is_none() {
            self.spawn()?;
        }
        let line = self.conversation.start_turn(prompt);
        let turn = self.conversation.turn();
        self.emit(AgentEventKind::TurnStarted { turn }).await;
        let result = match self.write(&line).await {
            Ok(()) => self.stream_turn().await,
            Err(e) => Err(e),
        };
        match &result {
            Ok(()) => self.emit(AgentEventKind::TurnCompleted { turn }).await,
            Err(e) => {
                if matches!(
                    e,
                    AgentError::TurnCancelled { .. } | AgentError::TurnTimeout { .. }
                ) {
                    // A turn cut short leaves the process mid-answer: it is ended, and a later
                    // turn resumes the session in a new one.
                    self.end_process().await;
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
        self.end_process().await;
        self.home = None;
    }
}
