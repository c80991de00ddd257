//! The `command` gate: runs a configured command (tests, linters) in the workspace; its exit
//! code decides. Output is kept (its tail) and read into findings when it is SARIF (a file
//! the command writes) or lines shaped `file:line[:col]: message` / rustc's `--> file:line:col`.

use std::path::Path;
use std::time::Duration;

use async_trait::async_trait;
use regex::Regex;
use symphony_process::{run_bounded, RunError};

use crate::gate::{Gate, GateContext};
use crate::report::{Finding, GateReport, GateStatus, Severity};
use crate::sarif_log::{read_sarif, SarifError};
use symphony_change::ChangeSet;

/// Settings of a `command` gate.
#[derive(Debug, Clone)]
pub struct CommandSettings {
    /// Run with `bash -lc` in the workspace.
    pub run: String,
    /// Time limit (the process group is killed at it).
    pub timeout: Duration,
    /// A SARIF file the command writes, relative to the workspace.
    pub sarif: Option<String>,
}

/// The gate.
#[derive(Debug, Clone)]
pub struct CommandGate {
    settings: CommandSettings,
}

impl CommandGate {
    /// A gate running `settings.run`.
    pub fn new(settings: CommandSettings) -> Self {
        Self { settings }
    }
}

fn compiler_style() -> (Regex, Regex, Regex) {
    (
        // gcc, clang, ruff, mypy, eslint (unix), shellcheck (gcc format), go vet
        Regex::new(r"^(?P<file>[^\s:][^:\n]*?):(?P<line>\d+)(?::(?P<col>\d+))?:\s*(?P<msg>.+)$")
            .expect("static regex"),
        // rustc / clippy: the message line, then ` --> file:line:col`
        Regex::new(r"^\s*--> (?P<file>[^:\n]+):(?P<line>\d+):(?P<col>\d+)$").expect("static regex"),
        Regex::new(r"^(?P<level>error|warning)(?:\[(?P<code>[^\]]+)\])?: (?P<msg>.+)$")
            .expect("static regex"),
    )
}

fn severity(text: &str) -> Severity {
    let lower = text.to_lowercase();
    if lower.starts_with("warning") || lower.contains(" warning") {
        Severity::Warning
    } else if lower.starts_with("note") || lower.starts_with("info") {
        Severity::Note
    } else {
        Severity::Error
    }
}

/// Findings in a tool's text output.
pub fn parse_output(gate: &str, output: &str, workspace: &Path) -> Vec<Finding> {
    let (plain, arrow, header) = compiler_style();
    let mut findings = Vec::new();
    let mut last_header: Option<(String, String)> = None;
    for line in output.lines() {
        if let Some(c) = header.captures(line) {
            let code = c
                .name("code")
                .map_or(c["level"].to_owned(), |m| m.as_str().to_owned());
            last_header = Some((code, line.to_owned()));
            continue;
        }
        if let Some(c) = arrow.captures(line) {
            if let Some((code, message)) = last_header.take() {
                findings.push(finding(gate, &code, &message, &c["file"], &c["line"]));
            }
            continue;
        }
        if let Some(c) = plain.captures(line) {
            let file = c["file"].trim();
            // Only lines naming a real file: "Compiling foo: 1:2" is not a location.
            if workspace.join(file).is_file() {
                let msg = c["msg"].trim();
                findings.push(finding(gate, rule_of(msg), msg, file, &c["line"]));
            }
        }
    }
    findings
}

fn rule_of(message: &str) -> &str {
    message
        .split_whitespace()
        .find(|w| {
            w.chars().any(|c| c.is_ascii_digit())
                && w.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
        .unwrap_or("diagnostic")
}

fn finding(gate: &str, rule: &str, message: &str, file: &str, line: &str) -> Finding {
    Finding::new(
        format!("{gate}/{rule}"),
        message.to_owned(),
        Some(file.trim_start_matches("./").to_owned()),
        line.parse().ok(),
        severity(message),
        message,
    )
}

/// Findings in a SARIF log (read strictly: see [`read_sarif`]); `root` is the folder the
/// tool ran on. Suppressed results are not findings.
pub fn parse_sarif(gate: &str, log: &[u8], root: &Path) -> Result<Vec<Finding>, SarifError> {
    Ok(read_sarif(log, root)?
        .results
        .into_iter()
        .filter(|r| !r.suppressed)
        .map(|r| {
            Finding::new(
                format!("{gate}/{}", r.rule),
                r.message.clone(),
                r.file,
                r.start_line,
                r.severity,
                &r.message,
            )
        })
        .collect())
}

/// Marks each finding as in the change or not (its file and line among the added lines).
pub fn mark_in_change(findings: &mut [Finding], change: &ChangeSet) {
    for finding in findings {
        finding.in_change = match (&finding.file, finding.line) {
            (Some(file), Some(line)) => change
                .file(file)
                .is_some_and(|f| f.added.iter().any(|a| a.line == line)),
            (Some(file), None) => change.file(file).is_some(),
            _ => false,
        };
    }
}

#[async_trait]
impl Gate for CommandGate {
    fn kind(&self) -> &str {
        "command"
    }

    async fn run(&self, context: &GateContext) -> GateReport {
        let command =
            crate::shell::bash(&self.settings.run, &context.workspace, &context.remove_env);
        let finished = match run_bounded(command, self.settings.timeout).await {
            Ok(finished) => finished,
            Err(RunError::Spawn(e)) => {
                return GateReport::new(
                    "command",
                    GateStatus::Error,
                    format!("could not start bash: {e}"),
                )
            }
            Err(RunError::TimedOut { output }) => {
                let mut report = GateReport::new(
                    "command",
                    GateStatus::Error,
                    format!(
                        "`{}` ran past {} ms and was stopped (a timeout is never a pass)",
                        self.settings.run,
                        self.settings.timeout.as_millis()
                    ),
                );
                report.output = Some(output);
                return report;
            }
        };
        let mut findings = parse_output("command", &finished.output, &context.workspace);
        if let Some(path) = &self.settings.sarif {
            match tokio::fs::read(context.workspace.join(path))
                .await
                .map_err(|e| e.to_string())
                .and_then(|bytes| {
                    parse_sarif("command", &bytes, &context.workspace).map_err(|e| e.to_string())
                }) {
                Ok(found) => findings.extend(found),
                Err(e) => {
                    let mut report = GateReport::new(
                        "command",
                        GateStatus::Error,
                        format!("the SARIF file {path} could not be read: {e}"),
                    );
                    report.output = Some(finished.output);
                    return report;
                }
            }
        }
        mark_in_change(&mut findings, &context.change);
        let code = finished.status.code();
        let (status, summary) = match code {
            Some(0) => (
                GateStatus::Pass,
                format!("`{}` succeeded", self.settings.run),
            ),
            Some(127) => (
                GateStatus::Error,
                format!("`{}`: command not found (exit 127)", self.settings.run),
            ),
            _ => (
                GateStatus::Fail,
                format!(
                    "`{}` failed ({}); {} finding(s) in changed lines",
                    self.settings.run,
                    symphony_process::describe_status(&finished.status),
                    findings.iter().filter(|f| f.in_change).count()
                ),
            ),
        };
        let mut report = GateReport::new("command", status, summary);
        report.findings = findings;
        report.output = Some(finished.output);
        report
    }
}
