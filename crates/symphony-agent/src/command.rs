//! The `command` backend: each turn runs a shell command in the workspace with the prompt on
//! stdin. Any CLI agent can be driven this way, and it gives tests a real subprocess.

use std::collections::VecDeque;
use std::process::Stdio;
use std::time::Duration;

use async_trait::async_trait;
use chrono::Utc;
use symphony_process::GroupChild;
use tokio::io::{AsyncRead, AsyncWriteExt, BufReader};
use tokio::sync::mpsc::error::TrySendError;
use tokio::time::Instant;

use crate::backend::{AgentBackend, AgentSession, SessionSpec, TurnOutcome};
use crate::error::AgentError;
use crate::event::{clip, AgentEvent, AgentEventKind};
use crate::lines::{Line, LineReader};

/// After the command exits, how long output from leftover children is still read.
const DRAIN_GRACE: Duration = Duration::from_secs(2);
/// Prefix of an output line that calls a host-side tool.
pub const TOOL_DIRECTIVE: &str = "::symphony-tool ";
/// How long a lifecycle event waits for room in a full event channel.
const EMIT_PATIENCE: Duration = Duration::from_secs(1);
/// Lines of output kept for the failure message of a turn.
const TAIL_LINES: usize = 20;
/// A line longer than this (with no newline) is cut, so a flood cannot grow memory.
const MAX_LINE_BUFFER: usize = 64 * 1024;

/// Runs `bash -lc <command>` per turn.
#[derive(Debug, Clone)]
pub struct CommandBackend {
    command: String,
}

impl CommandBackend {
    /// A backend running `command` (a shell command line, kept verbatim).
    pub fn new(command: impl Into<String>) -> Self {
        Self {
            command: command.into(),
        }
    }
}

#[async_trait]
impl AgentBackend for CommandBackend {
    fn name(&self) -> &str {
        "command"
    }

    async fn start(&self, spec: SessionSpec) -> Result<Box<dyn AgentSession>, AgentError> {
        if !spec.workspace.is_dir() {
            return Err(AgentError::InvalidWorkspaceCwd {
                path: spec.workspace.clone(),
                message: "not a directory".to_owned(),
            });
        }
        let thread = format!(
            "cmd{:x}",
            Utc::now().timestamp_nanos_opt().unwrap_or_default()
        );
        let session = CommandSession {
            command: self.command.clone(),
            thread,
            turn: 0,
            spec,
        };
        session.emit(None, AgentEventKind::SessionStarted).await;
        Ok(Box::new(session))
    }
}

struct CommandSession {
    command: String,
    thread: String,
    turn: u32,
    spec: SessionSpec,
}

impl CommandSession {
    /// Sends a lifecycle event. A consumer that stays full for [`EMIT_PATIENCE`] loses it
    /// rather than stalling the turn: the turn's result is returned either way.
    async fn emit(&self, pid: Option<u32>, kind: AgentEventKind) {
        let _ = self
            .spec
            .events
            .send_timeout(self.event(pid, kind), EMIT_PATIENCE)
            .await;
    }

    fn event(&self, pid: Option<u32>, kind: AgentEventKind) -> AgentEvent {
        AgentEvent {
            timestamp: Utc::now(),
            session_id: self.session_id(),
            pid,
            kind,
        }
    }

    fn command(&self) -> tokio::process::Command {
        let mut command = symphony_process::child_command("bash");
        command
            .arg("-lc")
            .arg(&self.command)
            .current_dir(&self.spec.workspace)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .env("SYMPHONY_ISSUE_ID", &self.spec.issue.id)
            .env("SYMPHONY_ISSUE_IDENTIFIER", &self.spec.issue.identifier)
            .env("SYMPHONY_WORKSPACE_PATH", &self.spec.workspace)
            .env("SYMPHONY_TURN", self.turn.to_string())
            .env("SYMPHONY_SESSION_ID", self.session_id());
        for name in &self.spec.remove_env {
            command.env_remove(name);
        }
        command
    }

    /// Runs a `::symphony-tool {...}` directive; returns a line describing the outcome.
    async fn call_tool(&self, directive: &str) -> String {
        #[derive(serde::Deserialize)]
        struct Call {
            name: String,
            #[serde(default)]
            arguments: serde_json::Value,
        }
        let Some(tools) = &self.spec.tools else {
            return "tool call ignored: this session has no tools".to_owned();
        };
        match serde_json::from_str::<Call>(directive.trim()) {
            Ok(call) => {
                let (ok, output) = tools.call(&call.name, call.arguments).await;
                clip(&format!("tool {} {}: {output}", call.name, if ok { "succeeded" } else { "failed" }))
            }
            Err(e) => clip(&format!("malformed tool call ({e}); expected {TOOL_DIRECTIVE}{{\"name\": ..., \"arguments\": {{...}}}}")),
        }
    }

    async fn fail(&self, pid: Option<u32>, error: AgentError) -> Result<TurnOutcome, AgentError> {
        self.emit(
            pid,
            AgentEventKind::TurnFailed {
                turn: self.turn,
                category: error.category().to_owned(),
                message: error.to_string(),
            },
        )
        .await;
        Err(error)
    }
}

#[async_trait]
impl AgentSession for CommandSession {
    fn session_id(&self) -> String {
        format!("{}-{}", self.thread, self.turn)
    }

    async fn run_turn(&mut self, prompt: &str) -> Result<TurnOutcome, AgentError> {
        self.turn += 1;
        let turn = self.turn;
        if self.spec.stop.is_raised() {
            return self.fail(None, AgentError::TurnCancelled { turn }).await;
        }
        let mut child = GroupChild::spawn(self.command()).map_err(|e| AgentError::NotFound {
            message: format!("bash: {e}"),
        })?;
        let pid = child.id();
        self.emit(pid, AgentEventKind::TurnStarted { turn }).await;

        if let Some(mut stdin) = child.child().stdin.take() {
            let prompt = prompt.to_owned();
            // A separate task: an agent that never reads stdin must not block the turn.
            tokio::spawn(async move {
                let _ = stdin.write_all(prompt.as_bytes()).await;
            });
        }
        let mut out = Stream::new(child.child().stdout.take());
        let mut err = Stream::new(child.child().stderr.take());
        let mut tail: VecDeque<String> = VecDeque::new();
        let mut dropped = 0u64;
        let silence = self.spec.turn_timeout;
        let mut deadline = Instant::now() + silence;
        let mut exit = None;
        let mut stop = self.spec.stop.clone();

        loop {
            let (mut out_lines, mut err_lines) = (Vec::new(), Vec::new());
            let mut heard = false;
            tokio::select! {
                () = stop.raised() => {
                    child.stop().await;
                    return self.fail(pid, AgentError::TurnCancelled { turn }).await;
                }
                () = tokio::time::sleep_until(deadline) => {
                    child.stop().await;
                    if exit.is_some() {
                        // Only leftovers of the finished command were holding the pipes.
                        break;
                    }
                    return self.fail(pid, AgentError::TurnTimeout { turn, silence }).await;
                }
                status = child.child().wait(), if exit.is_none() => {
                    exit = Some(status);
                    deadline = Instant::now() + DRAIN_GRACE;
                }
                got = out.read_lines(&mut out_lines), if out.is_open() => heard = got,
                got = err.read_lines(&mut err_lines), if err.is_open() => heard = got,
            }
            if heard && exit.is_none() {
                // turn_timeout is a silence limit: any output restarts it (SPEC §10.6).
                deadline = Instant::now() + silence;
            }
            for line in &out_lines {
                if let Some(directive) = line.strip_prefix(TOOL_DIRECTIVE) {
                    let note = self.call_tool(directive).await;
                    let _ = self
                        .spec
                        .events
                        .try_send(self.event(pid, AgentEventKind::Notification { message: note }));
                }
            }
            for line in out_lines.into_iter().chain(err_lines) {
                tail.push_back(line.clone());
                if tail.len() > TAIL_LINES {
                    tail.pop_front();
                }
                let event = self.event(pid, AgentEventKind::Notification { message: line });
                match self.spec.events.try_send(event) {
                    Ok(()) | Err(TrySendError::Closed(_)) => {}
                    Err(TrySendError::Full(_)) => dropped += 1,
                }
            }
            if exit.is_some() && !out.is_open() && !err.is_open() {
                break;
            }
        }
        if dropped > 0 {
            self.emit(pid, AgentEventKind::OutputDropped { lines: dropped })
                .await;
        }
        let status = match exit {
            Some(Ok(status)) => status,
            unreadable => {
                // The loop only ends after the exit was seen, but its status may be unreadable.
                let output = match unreadable {
                    Some(Err(e)) => format!("cannot read the exit status: {e}"),
                    _ => "the turn ended without an exit status".to_owned(),
                };
                let status = "unknown".to_owned();
                return self
                    .fail(
                        pid,
                        AgentError::TurnFailed {
                            turn,
                            status,
                            output,
                        },
                    )
                    .await;
            }
        };
        if status.success() {
            self.emit(pid, AgentEventKind::TurnCompleted { turn }).await;
            Ok(TurnOutcome { turn })
        } else {
            let output = tail.into_iter().collect::<Vec<_>>().join("\n");
            let status = symphony_process::describe_status(&status);
            self.fail(
                pid,
                AgentError::TurnFailed {
                    turn,
                    status,
                    output,
                },
            )
            .await
        }
    }

    async fn stop(&mut self) {
        // Each turn's process group ends with its turn; nothing outlives run_turn.
    }
}

/// One output pipe, split into bounded lines (the shared [`LineReader`], heads kept: an
/// overlong line is shown clipped, as people read it).
struct Stream<R> {
    lines: Option<LineReader<BufReader<R>>>,
}

impl<R: AsyncRead + Unpin> Stream<R> {
    fn new(reader: Option<R>) -> Self {
        Self {
            lines: reader
                .map(|r| LineReader::with_cap(BufReader::new(r), MAX_LINE_BUFFER).keeping_heads()),
        }
    }

    fn is_open(&self) -> bool {
        self.lines.is_some()
    }

    /// Reads once and appends complete lines to `lines`; `false` at end of stream.
    async fn read_lines(&mut self, lines: &mut Vec<String>) -> bool {
        let Some(reader) = self.lines.as_mut() else {
            return false;
        };
        let mut read = Vec::new();
        let open = match reader.read_available(&mut read).await {
            Ok(open) => open,
            // A broken pipe ends the stream like its end would, keeping what came.
            Err(_) => {
                read.extend(reader.take_partial());
                false
            }
        };
        if !open {
            self.lines = None;
        }
        lines.extend(read.into_iter().map(|line| match line {
            Line::Text(text) | Line::TooLong { head: text, .. } => clip(text.trim_end()),
        }));
        open
    }
}
