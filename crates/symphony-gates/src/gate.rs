//! The `Gate` seam and the runner that applies the common rules: path filters, a time limit,
//! and "an error, a timeout or a skip is never a pass".

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use globset::{Glob, GlobSet, GlobSetBuilder};

use crate::report::{GateReport, GateStatus};
use crate::reviewer::ReviewerAgent;
use crate::GateError;
use symphony_change::ChangeSet;

/// The issue a change is for, as gates that explain it to someone (a reviewer) need it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct GateIssue {
    /// The tracker's key (`ABC-12`).
    pub identifier: String,
    /// Its title.
    pub title: String,
    /// Its description, if any.
    pub description: Option<String>,
    /// Its page, if any.
    pub url: Option<String>,
}

impl GateIssue {
    /// Issue `identifier` titled `title`.
    pub fn new(identifier: impl Into<String>, title: impl Into<String>) -> Self {
        Self {
            identifier: identifier.into(),
            title: title.into(),
            description: None,
            url: None,
        }
    }
}

/// What a gate judges.
#[derive(Clone)]
#[non_exhaustive]
pub struct GateContext {
    /// The workspace (a git working tree).
    pub workspace: PathBuf,
    /// The change against the workspace's base.
    pub change: Arc<ChangeSet>,
    /// Environment variables removed from anything a gate runs (tracker secrets).
    pub remove_env: Vec<String>,
    /// The issue the change is for, when the host knows it.
    pub issue: Option<GateIssue>,
    /// Runs reviewer sessions, when the host offers them (the `ai_review` gate needs one).
    pub reviewer: Option<Arc<dyn ReviewerAgent>>,
}

impl std::fmt::Debug for GateContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GateContext")
            .field("workspace", &self.workspace)
            .field("files", &self.change.files.len())
            .field("remove_env", &self.remove_env)
            .field("issue", &self.issue)
            .field("reviewer", &self.reviewer.is_some())
            .finish()
    }
}

impl GateContext {
    /// The context of judging `change` in `workspace`, hiding nothing from what gates run.
    pub fn new(workspace: impl Into<PathBuf>, change: Arc<ChangeSet>) -> Self {
        Self {
            workspace: workspace.into(),
            change,
            remove_env: Vec::new(),
            issue: None,
            reviewer: None,
        }
    }
}

/// A quality gate. Implementations report what they find; the runner decides pass/fail
/// timing and filtering (see [`GateRunner`]).
#[async_trait]
pub trait Gate: Send + Sync {
    /// The gate's kind (`secrets`, `command`, ...).
    fn kind(&self) -> &str;

    /// Judges the change. Failures to judge are `GateStatus::Error` reports, not panics.
    async fn run(&self, context: &GateContext) -> GateReport;
}

/// How one configured gate is run.
#[derive(Debug, Clone, PartialEq)]
pub struct GateSettings {
    /// Name in reports (defaults to the kind).
    pub name: String,
    /// Whether a fail or error stops the hand-off.
    pub blocking: bool,
    /// Time limit for one run.
    pub timeout: Duration,
    /// The gate runs only when a changed path matches one of these (all paths when empty).
    pub paths: Vec<String>,
    /// Changed paths matching these never make the gate apply.
    pub exclude: Vec<String>,
}

impl GateSettings {
    /// Blocking, 10 minutes, every path.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            blocking: true,
            timeout: Duration::from_secs(600),
            paths: Vec::new(),
            exclude: Vec::new(),
        }
    }
}

/// A gate with its settings, ready to run.
pub struct GateRunner {
    gate: Arc<dyn Gate>,
    settings: GateSettings,
    include: Option<GlobSet>,
    exclude: GlobSet,
}

pub(crate) fn globs(patterns: &[String]) -> Result<GlobSet, GateError> {
    let mut builder = GlobSetBuilder::new();
    for pattern in patterns {
        builder.add(
            Glob::new(pattern)
                .map_err(|e| GateError::Config(format!("path filter {pattern:?}: {e}")))?,
        );
    }
    builder
        .build()
        .map_err(|e| GateError::Config(format!("path filters: {e}")))
}

impl GateRunner {
    /// Checks the settings' path filters.
    pub fn new(gate: Arc<dyn Gate>, settings: GateSettings) -> Result<Self, GateError> {
        let include = if settings.paths.is_empty() {
            None
        } else {
            Some(globs(&settings.paths)?)
        };
        let exclude = globs(&settings.exclude)?;
        Ok(Self {
            gate,
            settings,
            include,
            exclude,
        })
    }

    /// The gate's name.
    pub fn name(&self) -> &str {
        &self.settings.name
    }

    /// Whether any changed path is one this gate looks at.
    pub fn applies_to(&self, change: &ChangeSet) -> bool {
        change.files.iter().any(|f| {
            !self.exclude.is_match(&f.path)
                && self
                    .include
                    .as_ref()
                    .is_none_or(|set| set.is_match(&f.path))
        })
    }

    /// Runs the gate under its settings.
    pub async fn run(&self, context: &GateContext) -> GateReport {
        let started = Instant::now();
        let mut report = if !self.applies_to(&context.change) {
            GateReport::new(
                &self.settings.name,
                GateStatus::Skipped,
                "no changed path matches this gate's filters",
            )
        } else {
            // The gate runs as its own task, so a panic in it (a plugin's, or a bug on odd
            // input) is an `error` verdict instead of taking the worker down on every retry.
            let gate = Arc::clone(&self.gate);
            let owned = context.clone();
            let mut task = tokio::spawn(async move { gate.run(&owned).await });
            match tokio::time::timeout(self.settings.timeout, &mut task).await {
                Ok(Ok(report)) => report,
                Ok(Err(e)) => GateReport::new(
                    &self.settings.name,
                    GateStatus::Error,
                    format!("the gate failed ({e}); a failed gate is never a pass"),
                ),
                Err(_) => {
                    task.abort();
                    GateReport::new(
                        &self.settings.name,
                        GateStatus::Error,
                        format!(
                            "timed out after {} ms (a timeout is never a pass)",
                            self.settings.timeout.as_millis()
                        ),
                    )
                }
            }
        };
        report.gate = self.settings.name.clone();
        report.blocking = self.settings.blocking;
        report.duration_ms = started.elapsed().as_millis() as u64;
        report
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use symphony_change::{ChangedFile, FileChange};

    struct Sleepy;

    struct Panicky;

    #[async_trait]
    impl Gate for Panicky {
        fn kind(&self) -> &str {
            "panicky"
        }
        async fn run(&self, _: &GateContext) -> GateReport {
            panic!("index out of bounds")
        }
    }

    #[tokio::test]
    async fn a_gate_that_panics_is_an_error_verdict() {
        let runner = GateRunner::new(Arc::new(Panicky), GateSettings::new("panicky")).unwrap();
        let report = runner.run(&context(&["src/lib.rs"])).await;
        assert_eq!(report.status, GateStatus::Error);
        assert!(
            report.summary.contains("never a pass"),
            "{}",
            report.summary
        );
    }

    #[async_trait]
    impl Gate for Sleepy {
        fn kind(&self) -> &str {
            "sleepy"
        }
        async fn run(&self, _: &GateContext) -> GateReport {
            tokio::time::sleep(Duration::from_secs(60)).await;
            GateReport::new("sleepy", GateStatus::Pass, "never")
        }
    }

    fn context(paths: &[&str]) -> GateContext {
        let files = paths
            .iter()
            .map(|p| ChangedFile::new(*p, FileChange::Modified))
            .collect();
        GateContext::new(".", Arc::new(ChangeSet::new("", files)))
    }

    #[tokio::test]
    async fn a_timeout_is_an_error_never_a_pass() {
        let mut settings = GateSettings::new("slow");
        settings.timeout = Duration::from_millis(20);
        let runner = GateRunner::new(Arc::new(Sleepy), settings).unwrap();
        let report = runner.run(&context(&["a.rs"])).await;
        assert_eq!(report.status, GateStatus::Error);
        assert!(report.blocks());
    }

    #[tokio::test]
    async fn path_filters_decide_whether_a_gate_applies() {
        let mut settings = GateSettings::new("docs");
        settings.paths = vec!["src/**".into()];
        settings.exclude = vec!["src/generated/**".into()];
        let runner = GateRunner::new(Arc::new(Sleepy), settings).unwrap();
        assert!(runner.applies_to(&context(&["src/a.rs"]).change));
        assert!(!runner.applies_to(&context(&["README.md", "src/generated/x.rs"]).change));
        let report = runner.run(&context(&["README.md"])).await;
        assert_eq!(report.status, GateStatus::Skipped);
        assert!(!report.blocks());
        assert!(GateRunner::new(
            Arc::new(Sleepy),
            GateSettings {
                paths: vec!["[".into()],
                ..GateSettings::new("bad")
            }
        )
        .is_err());
    }
}
