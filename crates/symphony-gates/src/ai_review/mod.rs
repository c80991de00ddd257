//! The `ai_review` gate: a separate reviewer session (any agent backend the host can run, read
//! only, offered no tool but the one it answers with) reviews the change. Its answer must match
//! a schema; a reviewer that answers anything else, fails, or touches the workspace gives no
//! verdict — `error`, never a pass. Findings at or above `block_severity` on lines the change
//! added block (they go back to the coding agent like any gate's); the rest are reported, for
//! the pull request.

mod answer;
mod prompt;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use symphony_change::ChangeSet;

pub use answer::{
    answer_schema, read_answer, ReviewAnswer, ReviewCategory, ReviewFinding, ReviewSeverity,
};
pub use prompt::DEFAULT_PROMPT;

use crate::gate::{Gate, GateContext};
use crate::report::{Finding, GateReport, GateStatus, Severity};
use crate::reviewer::{ReviewRequest, ReviewTool};
use crate::GateError;

/// The tool the reviewer answers with.
pub const REVIEW_TOOL: &str = "submit_review";

/// Where a repository's review guidelines are looked for, by default (the first found).
pub const DEFAULT_GUIDELINES: &[&str] = &[
    "REVIEW.md",
    "REVIEW_GUIDELINES.md",
    ".github/REVIEW_GUIDELINES.md",
    "docs/REVIEW.md",
];

/// Settings of an `ai_review` gate.
#[derive(Debug, Clone)]
pub struct AiReviewSettings {
    /// Findings this serious or more, on changed lines, block.
    pub block_severity: ReviewSeverity,
    /// The reviewer's agent backend kind (the coding agent's when `None`).
    pub backend: Option<String>,
    /// The reviewer backend's command (its section's when `None`).
    pub command: Option<String>,
    /// The review prompt, a Liquid template ([`DEFAULT_PROMPT`] when `None`).
    pub prompt: Option<String>,
    /// Review guideline files, the first found is shown ([`DEFAULT_GUIDELINES`] by default).
    pub guidelines: Vec<String>,
    /// Lines shown around each hunk.
    pub context_lines: u32,
    /// Longest silence of the reviewer's session.
    pub timeout: Duration,
}

impl Default for AiReviewSettings {
    fn default() -> Self {
        Self {
            block_severity: ReviewSeverity::High,
            backend: None,
            command: None,
            prompt: None,
            guidelines: DEFAULT_GUIDELINES.iter().map(|s| (*s).to_owned()).collect(),
            context_lines: 20,
            timeout: Duration::from_secs(600),
        }
    }
}

/// The gate.
#[derive(Debug, Clone)]
pub struct AiReviewGate {
    settings: AiReviewSettings,
}

impl AiReviewGate {
    /// Checks the prompt template compiles.
    pub fn new(settings: AiReviewSettings) -> Result<Self, GateError> {
        if let Some(template) = &settings.prompt {
            liquid::ParserBuilder::with_stdlib()
                .build()
                .and_then(|p| p.parse(template))
                .map_err(|e| {
                    GateError::Config(format!("`prompt` is not a valid Liquid template: {e}"))
                })?;
        }
        Ok(Self { settings })
    }

    /// The gate's findings for `answer` about `change`: blocking when serious enough and on
    /// lines the change added.
    pub fn findings(&self, answer: &ReviewAnswer, change: &ChangeSet) -> Vec<Finding> {
        answer
            .findings
            .iter()
            .map(|f| {
                let mut message = format!(
                    "[{} · {}] {}",
                    f.severity.as_str(),
                    f.category.as_str(),
                    f.message.trim()
                );
                if let Some(fix) = f.suggested_fix.as_deref().filter(|s| !s.trim().is_empty()) {
                    message.push_str(&format!("\nSuggested fix: {}", fix.trim()));
                }
                let severity = match f.severity {
                    ReviewSeverity::Critical | ReviewSeverity::High => Severity::Error,
                    ReviewSeverity::Medium => Severity::Warning,
                    ReviewSeverity::Low | ReviewSeverity::Info => Severity::Note,
                };
                let touched = change.file(&f.file).is_some_and(|file| {
                    file.added
                        .iter()
                        .any(|a| (f.start_line..=f.end_line).contains(&a.line))
                });
                let mut finding = Finding::new(
                    format!("ai_review/{}", f.category.as_str()),
                    message,
                    Some(f.file.clone()),
                    Some(f.start_line),
                    severity,
                    &format!("{}\n{}", f.file, f.message),
                );
                finding.in_change = touched && f.severity.at_least(self.settings.block_severity);
                finding
            })
            .collect()
    }
}

fn error(summary: impl Into<String>) -> GateReport {
    GateReport::new("ai_review", GateStatus::Error, summary)
}

#[async_trait]
impl Gate for AiReviewGate {
    fn kind(&self) -> &str {
        "ai_review"
    }

    async fn run(&self, context: &GateContext) -> GateReport {
        let Some(reviewer) = &context.reviewer else {
            return error("no reviewer agent: whatever runs this gate offers none, so the change cannot be reviewed");
        };
        let change = Arc::clone(&context.change);
        let diff = match prompt::unified_diff(
            &context.workspace,
            &change,
            &context.remove_env,
            Duration::from_secs(120),
        )
        .await
        {
            Ok(diff) => diff,
            Err(e) => return error(e),
        };
        let limits = prompt::PromptLimits {
            context_lines: self.settings.context_lines,
            ..prompt::PromptLimits::default()
        };
        let text = match prompt::render(
            self.settings.prompt.as_deref(),
            &prompt::PromptInput {
                workspace: &context.workspace,
                change: &change,
                issue: context.issue.as_ref(),
                diff: &diff,
                guideline_paths: &self.settings.guidelines,
                tool: REVIEW_TOOL,
                block_severity: self.settings.block_severity.as_str(),
                limits: &limits,
            },
        ) {
            Ok(text) => text,
            Err(e) => return error(e),
        };
        let tool = ReviewTool::new(
            REVIEW_TOOL,
            "Submit your review of the change: every finding with its file, lines, severity, \
             category, message and suggested fix, and a summary. Call it once, at the end.",
            answer_schema(),
        );
        let checked = Arc::clone(&change);
        let check =
            Arc::new(move |value: &serde_json::Value| read_answer(value, &checked).map(|_| ()));
        let mut request = ReviewRequest::new(text, tool, check);
        request.backend = self.settings.backend.clone();
        request.command = self.settings.command.clone();
        request.timeout = self.settings.timeout;
        let run = match reviewer.review(&context.workspace, request).await {
            Ok(run) => run,
            Err(e) => return error(e.to_string()),
        };
        if let Some(why) = &run.failure {
            let mut report = error(format!("the review session failed: {why}"));
            report.agent_tokens = Some(run.tokens);
            return report;
        }
        // Read-only is the reviewer's contract; whatever the backend could enforce, a changed
        // workspace means the change judged is no longer the change there.
        if !change.tree.is_empty() {
            match ChangeSet::working_tree(&context.workspace, Duration::from_secs(120)).await {
                Ok(tree) if tree == change.tree => {}
                Ok(_) => {
                    let mut report = error("the reviewer changed the workspace (a review session must only read it); its review is not used");
                    report.agent_tokens = Some(run.tokens);
                    return report;
                }
                Err(e) => {
                    return error(format!(
                        "cannot re-read the workspace after the review: {e}"
                    ))
                }
            }
        }
        let answer = match run.submission.as_ref().map(|s| read_answer(s, &change)) {
            Some(Ok(answer)) => answer,
            Some(Err(why)) => {
                let mut report = error(format!("the reviewer's answer is not a review: {why}"));
                report.agent_tokens = Some(run.tokens);
                return report;
            }
            None => {
                let mut report = error(format!(
                    "the reviewer gave no review through `{REVIEW_TOOL}` (an answer in any other form is not one){}",
                    match run.refused.last() {
                        Some(why) => format!("; its last attempt was refused: {why}"),
                        None => String::new(),
                    }
                ));
                report.agent_tokens = Some(run.tokens);
                return report;
            }
        };
        let findings = self.findings(&answer, &change);
        let blocking = findings.iter().filter(|f| f.in_change).count();
        let others = findings.len() - blocking;
        let status = if blocking > 0 {
            GateStatus::Fail
        } else {
            GateStatus::Pass
        };
        let mut report = GateReport::new(
            "ai_review",
            status,
            format!(
                "{blocking} finding(s) at {} or above in changed lines; {others} other(s) for the pull request",
                self.settings.block_severity.as_str()
            ),
        );
        report.findings = findings;
        report.output = Some(format!(
            "Reviewer ({}): {}",
            run.session,
            answer.summary.trim()
        ));
        report.agent_tokens = Some(run.tokens);
        report
    }
}
