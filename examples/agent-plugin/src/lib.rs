//! An agent backend that replays a recorded transcript instead of asking a model: each turn
//! plays the next segment of a JSON-lines file — messages, token counts, and calls of the
//! session's host-side tools (so a replayed run can move its issue like a real agent). Useful
//! to demonstrate a workflow, or to test one, with no model at all.
//!
//! ```text
//! agent:
//!   backend: replay
//! replay:
//!   transcript: /abs/path/session.jsonl
//! ```
//!
//! Transcript lines: `{"say": "text"}`, `{"tokens": {"input": 10, "output": 5}}`,
//! `{"tool": "name", "arguments": {...}}`, and `{"end_turn": true}` between turns.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use serde_json::{json, Value};
use symphony_agent::{
    AgentBackend, AgentBackendFactory, AgentError, AgentEvent, AgentEventKind, AgentSession,
    BackendBuildError, SessionSpec, TurnOutcome, Usage,
};
use symphony_workflow::{ConfigSection, SectionContext, SectionError, ServiceConfig};

/// The `agent.backend` value.
pub const KIND: &str = "replay";
/// The section holding the backend's settings.
pub const SECTION: &str = "replay";

/// One recorded step.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// The agent says something.
    Say(String),
    /// The agent reports token usage.
    Tokens {
        /// Input tokens.
        input: u64,
        /// Output tokens.
        output: u64,
    },
    /// The agent calls a host-side tool.
    Tool {
        /// The tool's name.
        name: String,
        /// Its arguments.
        arguments: Value,
    },
}

/// A transcript's turns, read and checked: every line is a step or a turn break.
pub fn read_transcript(path: &Path) -> Result<Vec<Vec<Step>>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read the transcript {}: {e}", path.display()))?;
    let mut turns = vec![Vec::new()];
    for (number, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let value: Value = serde_json::from_str(line)
            .map_err(|e| format!("transcript line {}: not JSON: {e}", number + 1))?;
        let step = if value.get("end_turn").is_some() {
            turns.push(Vec::new());
            continue;
        } else if let Some(text) = value.get("say").and_then(Value::as_str) {
            Step::Say(text.to_owned())
        } else if let Some(tokens) = value.get("tokens") {
            let count = |key: &str| tokens.get(key).and_then(Value::as_u64).unwrap_or(0);
            Step::Tokens {
                input: count("input"),
                output: count("output"),
            }
        } else if let Some(name) = value.get("tool").and_then(Value::as_str) {
            Step::Tool {
                name: name.to_owned(),
                arguments: value.get("arguments").cloned().unwrap_or(json!({})),
            }
        } else {
            return Err(format!(
                "transcript line {}: expected say, tokens, tool or end_turn",
                number + 1
            ));
        };
        if let Some(turn) = turns.last_mut() {
            turn.push(step);
        }
    }
    Ok(turns)
}

/// The transcript path `section` names: an absolute path (the backend is built from the
/// resolved configuration, which no longer knows the workflow's folder).
fn transcript_path(section: Option<&Value>) -> Result<PathBuf, String> {
    let path = section
        .and_then(|s| s.get("transcript"))
        .and_then(Value::as_str)
        .ok_or("replay.transcript is required: the absolute path of a JSON-lines transcript")?;
    let path = PathBuf::from(path);
    if !path.is_absolute() {
        return Err(format!(
            "replay.transcript must be absolute, not {}",
            path.display()
        ));
    }
    Ok(path)
}

/// `replay:`, validated at load: the transcript exists and reads.
#[derive(Debug, Default, Clone, Copy)]
pub struct ReplaySection;

impl ConfigSection for ReplaySection {
    fn key(&self) -> &str {
        SECTION
    }

    fn owner(&self) -> &str {
        "the replay agent backend (example plugin)"
    }

    fn schema(&self) -> Value {
        json!({
            "description": "Extension: the transcript the replay agent backend plays.",
            "type": ["object", "null"],
            "properties": {"transcript": {"type": "string", "description": "Absolute path of a JSON-lines transcript."}},
            "additionalProperties": false,
        })
    }

    fn validate(&self, value: &Value, _context: &SectionContext<'_>) -> Result<(), SectionError> {
        read_transcript(&transcript_path(Some(value))?)
            .map(drop)
            .map_err(Into::into)
    }
}

/// `agent.backend: replay`.
#[derive(Debug, Default, Clone, Copy)]
pub struct ReplayFactory;

impl AgentBackendFactory for ReplayFactory {
    fn kind(&self) -> &str {
        KIND
    }

    fn sections(&self) -> Vec<Arc<dyn ConfigSection>> {
        vec![Arc::new(ReplaySection)]
    }

    fn build(&self, config: &ServiceConfig) -> Result<Arc<dyn AgentBackend>, BackendBuildError> {
        let path =
            transcript_path(config.extensions.get(SECTION)).map_err(BackendBuildError::Invalid)?;
        let turns = read_transcript(&path).map_err(BackendBuildError::Invalid)?;
        Ok(Arc::new(ReplayBackend {
            turns: Arc::new(turns),
        }))
    }
}

/// Plays one transcript to every session.
#[derive(Debug, Clone)]
pub struct ReplayBackend {
    turns: Arc<Vec<Vec<Step>>>,
}

#[async_trait]
impl AgentBackend for ReplayBackend {
    fn name(&self) -> &str {
        KIND
    }

    async fn start(&self, spec: SessionSpec) -> Result<Box<dyn AgentSession>, AgentError> {
        let session = ReplaySession {
            turns: Arc::clone(&self.turns),
            spec,
            turn: 0,
        };
        session.emit(AgentEventKind::SessionStarted).await;
        Ok(Box::new(session))
    }
}

struct ReplaySession {
    turns: Arc<Vec<Vec<Step>>>,
    spec: SessionSpec,
    turn: u32,
}

impl ReplaySession {
    async fn emit(&self, kind: AgentEventKind) {
        let event = AgentEvent::new(self.session_id(), None, kind);
        let _ = self.spec.events.send(event).await;
    }
}

#[async_trait]
impl AgentSession for ReplaySession {
    fn session_id(&self) -> String {
        format!("replay-{}-{}", self.spec.issue.identifier, self.turn)
    }

    async fn run_turn(&mut self, _prompt: &str) -> Result<TurnOutcome, AgentError> {
        self.turn += 1;
        let turn = self.turn;
        self.emit(AgentEventKind::TurnStarted { turn }).await;
        let steps = self
            .turns
            .get(turn as usize - 1)
            .cloned()
            .unwrap_or_default();
        for step in steps {
            match step {
                Step::Say(message) => self.emit(AgentEventKind::Notification { message }).await,
                Step::Tokens { input, output } => {
                    self.emit(AgentEventKind::TokenUsage(Usage::tokens(
                        input,
                        output,
                        input + output,
                    )))
                    .await
                }
                Step::Tool { name, arguments } => {
                    let message = match &self.spec.tools {
                        Some(tools) => {
                            let (ok, output) = tools.call(&name, arguments).await;
                            format!("tool {name}: {} {output}", if ok { "ok" } else { "failed" })
                        }
                        None => format!("tool {name}: no tools in this session"),
                    };
                    self.emit(AgentEventKind::Notification { message }).await;
                }
            }
        }
        self.emit(AgentEventKind::TurnCompleted { turn }).await;
        Ok(TurnOutcome::new(turn))
    }

    async fn stop(&mut self) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transcripts_split_into_turns_and_refuse_garbage() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.jsonl");
        std::fs::write(
            &path,
            "{\"say\": \"hi\"}\n{\"tokens\": {\"input\": 3, \"output\": 2}}\n{\"end_turn\": true}\n{\"tool\": \"x\", \"arguments\": {\"a\": 1}}\n",
        )
        .unwrap();
        let turns = read_transcript(&path).unwrap();
        assert_eq!(turns.len(), 2);
        assert_eq!(turns[0][0], Step::Say("hi".into()));
        assert_eq!(
            turns[1][0],
            Step::Tool {
                name: "x".into(),
                arguments: json!({"a": 1})
            }
        );
        std::fs::write(&path, "{\"sing\": 1}\n").unwrap();
        assert!(read_transcript(&path).unwrap_err().contains("line 1"));
        assert!(transcript_path(Some(&json!({"transcript": "rel.jsonl"}))).is_err());
    }
}
