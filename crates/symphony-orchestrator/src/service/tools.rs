//! The tools a session offers: the tracker's, plus `record_decision` when the workflow has a
//! `docs:` section (an ADR written into the workspace, in MADR format).

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use serde_json::{json, Value};
use symphony_agent::{ToolDeclaration, ToolHandler};
use symphony_docs::adr;
use tokio::sync::mpsc;

use symphony_scheduler::Event;

use super::tracker_tools::TrackerTools;

/// Where decision records go, and who decides.
pub(crate) struct Records {
    /// The ADR folder inside the workspace.
    pub dir: PathBuf,
    /// The issue, for the record's `decision-makers`.
    pub identifier: String,
}

/// The state the agent's own tool calls last moved its issue to, shared by the session's
/// tools (which learn it from the tracker) and the worker (which decides by it whether the
/// issue left the active states by the agent's hand or a person's).
#[derive(Debug, Clone, Default)]
pub(crate) struct AgentMoves(Arc<Mutex<Option<String>>>);

impl AgentMoves {
    fn record(&self, state: String) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = Some(state);
    }

    /// The state the agent's own tool call last moved the issue to, if it moved it.
    pub fn last(&self) -> Option<String> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

/// A session's tools.
pub(crate) struct SessionTools {
    pub tracker: TrackerTools,
    pub records: Option<Records>,
    /// Told around each mutating tracker tool call (see [`Event::AgentToolCallStarted`]).
    pub scheduler: mpsc::Sender<Event>,
    /// Where the agent's own moves of its issue are kept.
    pub moves: AgentMoves,
}

#[async_trait]
impl ToolHandler for SessionTools {
    fn declarations(&self) -> Vec<ToolDeclaration> {
        let mut declarations = self.tracker.declarations();
        if self.records.is_some() {
            declarations.push(ToolDeclaration {
                name: adr::TOOL_NAME.to_owned(),
                description: "Record an architectural decision you made for this change (title, \
                              context, options, chosen option, rationale, consequences). \
                              Symphony writes it as the next MADR record in the repository."
                    .to_owned(),
                input_schema: adr::tool_schema(),
            });
        }
        declarations
    }

    async fn call(&self, name: &str, arguments: Value) -> (bool, Value) {
        let Some(records) = self.records.as_ref().filter(|_| name == adr::TOOL_NAME) else {
            // A tool that only reads cannot have moved the issue.
            if !self.tracker.mutates(name) {
                return self.tracker.call(name, arguments).await;
            }
            // Before the call: a refresh that sees the tool's effect is queued after this.
            let issue_id = self.tracker.issue().id.clone();
            let _ = self
                .scheduler
                .send(Event::AgentToolCallStarted {
                    issue_id: issue_id.clone(),
                })
                .await;
            let result = self.tracker.execute(name, arguments).await;
            if let Some(state) = &result.moved_to {
                self.moves.record(state.clone());
            }
            let _ = self
                .scheduler
                .send(Event::AgentToolCallEnded {
                    issue_id,
                    moved_to: result.moved_to.clone(),
                })
                .await;
            return (result.success, result.output);
        };
        let decision: adr::Decision = match serde_json::from_value(arguments) {
            Ok(decision) => decision,
            Err(e) => return (false, json!({ "error": format!("invalid decision: {e}") })),
        };
        let dir = records.dir.clone();
        let by = format!("Symphony agent for {}", records.identifier);
        let date = chrono::Utc::now().format("%Y-%m-%d").to_string();
        let written =
            tokio::task::spawn_blocking(move || adr::write(&dir, &decision, &date, &by)).await;
        match written {
            Ok(Ok(path)) => {
                let shown = path
                    .strip_prefix(records.dir.parent().unwrap_or(&records.dir))
                    .unwrap_or(&path)
                    .display()
                    .to_string();
                tracing::info!(issue_identifier = %records.identifier, record = %path.display(), "decision recorded");
                (true, json!({ "recorded": shown }))
            }
            Ok(Err(e)) => (false, json!({ "error": e.to_string() })),
            Err(e) => (
                false,
                json!({ "error": format!("record task failed: {e}") }),
            ),
        }
    }
}
