//! The tools a session offers: the tracker's, plus `record_decision` when the workflow has a
//! `docs:` section (an ADR written into the workspace, in MADR format).

use std::path::PathBuf;

use async_trait::async_trait;
use serde_json::{json, Value};
use symphony_agent::{ToolDeclaration, ToolHandler};
use symphony_docs::adr;
use tokio::sync::mpsc;

use crate::scheduler::Event;

use super::worker::TrackerTools;

/// Where decision records go, and who decides.
pub(crate) struct Records {
    /// The ADR folder inside the workspace.
    pub dir: PathBuf,
    /// The issue, for the record's `decision-makers`.
    pub identifier: String,
}

/// A session's tools.
pub(crate) struct SessionTools {
    pub tracker: TrackerTools,
    pub records: Option<Records>,
    /// Told before each mutating tracker tool call (see [`Event::AgentUsedTrackerTool`]).
    pub scheduler: mpsc::UnboundedSender<Event>,
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
            // Before the call: a refresh that sees the tool's effect is queued after this.
            // A tool that only reads cannot have moved the issue.
            if self.tracker.mutates(name) {
                let _ = self.scheduler.send(Event::AgentUsedTrackerTool {
                    issue_id: self.tracker.issue().id.clone(),
                });
            }
            return self.tracker.call(name, arguments).await;
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
