//! The `diff_budget` gate: limits on how much a change touches, protected paths, and
//! lockfiles that change without their manifest.

use async_trait::async_trait;
use globset::GlobSet;

use crate::gate::{globs, Gate, GateContext};
use crate::report::{Finding, GateReport, Severity};
use crate::GateError;
use symphony_change::ChangeSet;

/// Lockfiles and the manifests that explain them (same folder).
const LOCKFILES: &[(&str, &[&str])] = &[
    ("Cargo.lock", &["Cargo.toml"]),
    ("package-lock.json", &["package.json"]),
    ("yarn.lock", &["package.json"]),
    ("pnpm-lock.yaml", &["package.json"]),
    ("poetry.lock", &["pyproject.toml"]),
    ("uv.lock", &["pyproject.toml"]),
    ("Pipfile.lock", &["Pipfile"]),
    ("go.sum", &["go.mod"]),
    ("Gemfile.lock", &["Gemfile"]),
    ("composer.lock", &["composer.json"]),
];

/// Settings of a `diff_budget` gate.
#[derive(Debug, Clone, Default)]
pub struct BudgetSettings {
    /// At most this many changed files.
    pub max_files: Option<usize>,
    /// At most this many changed lines (added plus removed).
    pub max_lines: Option<usize>,
    /// Paths no change may touch (globs).
    pub protected: Vec<String>,
    /// A lockfile may only change with its manifest.
    pub lockfiles_need_manifest: bool,
}

/// The gate.
#[derive(Debug, Clone)]
pub struct DiffBudgetGate {
    settings: BudgetSettings,
    protected: GlobSet,
}

impl DiffBudgetGate {
    /// Checks the protected-path globs.
    pub fn new(settings: BudgetSettings) -> Result<Self, GateError> {
        let protected = globs(&settings.protected)?;
        Ok(Self {
            settings,
            protected,
        })
    }

    /// The findings for `change`.
    pub fn judge(&self, change: &ChangeSet) -> Vec<Finding> {
        let mut findings = Vec::new();
        let files = change.files.len();
        if let Some(max) = self.settings.max_files.filter(|max| files > *max) {
            findings.push(Finding::new(
                "max-files",
                format!("the change touches {files} files; the budget is {max}"),
                None,
                None,
                Severity::Error,
                &files.to_string(),
            ));
        }
        let lines = change.lines_added() + change.lines_removed();
        if let Some(max) = self.settings.max_lines.filter(|max| lines > *max) {
            findings.push(Finding::new(
                "max-lines",
                format!("the change adds and removes {lines} lines; the budget is {max}"),
                None,
                None,
                Severity::Error,
                &lines.to_string(),
            ));
        }
        for file in &change.files {
            if self.protected.is_match(&file.path) {
                findings.push(Finding::new(
                    "protected-path",
                    format!("{} is protected; changes to it need a person", file.path),
                    Some(file.path.clone()),
                    None,
                    Severity::Error,
                    &file.path,
                ));
            }
        }
        if self.settings.lockfiles_need_manifest {
            for file in &change.files {
                let (folder, name) = match file.path.rsplit_once('/') {
                    Some((folder, name)) => (format!("{folder}/"), name),
                    None => (String::new(), file.path.as_str()),
                };
                let Some((_, manifests)) = LOCKFILES.iter().find(|(lock, _)| *lock == name) else {
                    continue;
                };
                let explained = manifests
                    .iter()
                    .any(|m| change.file(&format!("{folder}{m}")).is_some());
                if !explained {
                    findings.push(Finding::new(
                        "lockfile-without-manifest",
                        format!(
                            "{} changed but {} did not; dependency changes start in the manifest",
                            file.path,
                            manifests
                                .iter()
                                .map(|m| format!("{folder}{m}"))
                                .collect::<Vec<_>>()
                                .join(" or ")
                        ),
                        Some(file.path.clone()),
                        None,
                        Severity::Error,
                        &file.path,
                    ));
                }
            }
        }
        findings
    }
}

#[async_trait]
impl Gate for DiffBudgetGate {
    fn kind(&self) -> &str {
        "diff_budget"
    }

    async fn run(&self, context: &GateContext) -> GateReport {
        GateReport::from_findings(
            "diff_budget",
            self.judge(&context.change),
            "budget breaches",
        )
    }
}
