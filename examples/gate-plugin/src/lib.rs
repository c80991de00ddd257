//! A third-party gate: every `TODO` a change adds must name an issue (`TODO(#123)` or
//! `TODO(ABC-12)`), so nothing is left for "later" without a ticket.
//!
//! Register it and name it in WORKFLOW.md:
//!
//! ```yaml
//! gates:
//!   checks:
//!     - kind: todo_reference
//!       marker: FIXME        # optional; default TODO
//! ```

use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use regex::Regex;
use serde_json::Value;
use symphony_gates::{
    CheckConfig, Finding, Gate, GateContext, GateError, GateFactory, GateReport, Severity,
};

/// The `kind` this gate is registered under.
pub const KIND: &str = "todo_reference";

/// Finds unreferenced markers in added lines.
pub struct TodoReferenceGate {
    word: String,
    marker: Regex,
    referenced: Regex,
}

impl TodoReferenceGate {
    /// A gate for `marker` (`TODO`, `FIXME`, ...).
    pub fn new(marker: &str) -> Result<Self, GateError> {
        let escaped = regex::escape(marker);
        Ok(Self {
            word: marker.to_owned(),
            marker: Regex::new(&format!(r"\b{escaped}\b"))
                .map_err(|e| GateError::Config(e.to_string()))?,
            referenced: Regex::new(&format!(r"\b{escaped}\((?:#\d+|[A-Z][A-Z0-9]+-\d+)\)"))
                .map_err(|e| GateError::Config(e.to_string()))?,
        })
    }
}

#[async_trait]
impl Gate for TodoReferenceGate {
    fn kind(&self) -> &str {
        KIND
    }

    async fn run(&self, context: &GateContext) -> GateReport {
        let mut findings = Vec::new();
        for file in &context.change.files {
            for line in &file.added {
                if self.marker.is_match(&line.text) && !self.referenced.is_match(&line.text) {
                    findings.push(Finding::new(
                        "todo-without-issue",
                        format!(
                            "{} added without an issue reference; write it as {}(#123)",
                            self.word, self.word
                        ),
                        Some(file.path.clone()),
                        Some(line.line),
                        Severity::Error,
                        line.text.trim(),
                    ));
                }
            }
        }
        GateReport::from_findings(KIND, findings, "unreferenced TODOs")
    }
}

/// Builds the gate from its WORKFLOW.md options.
pub struct TodoReferenceFactory;

impl GateFactory for TodoReferenceFactory {
    fn kind(&self) -> &str {
        KIND
    }

    fn build(&self, check: &CheckConfig, _base_dir: &Path) -> Result<Arc<dyn Gate>, GateError> {
        let marker = match check.options.get("marker") {
            None => "TODO",
            Some(Value::String(m)) if !m.trim().is_empty() => m.trim(),
            Some(_) => return Err(GateError::Config("`marker` must be a word".to_owned())),
        };
        if let Some(other) = check.options.keys().find(|k| k.as_str() != "marker") {
            return Err(GateError::Config(format!(
                "`{other}` is not an option (marker)"
            )));
        }
        Ok(Arc::new(TodoReferenceGate::new(marker)?))
    }

    /// Documents `marker` in `symphony schema`, so editors flag any other option as the gate
    /// itself does.
    fn options_schema(&self) -> Option<Value> {
        Some(serde_json::json!({
            "marker": {"description": "The word to look for (default TODO).", "type": "string", "minLength": 1},
        }))
    }
}
