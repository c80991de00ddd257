//! The `tests` gate: a change that touches source files must add or change tests, and — with
//! a coverage report configured — the executable lines it adds must be covered: at least
//! `min_changed_line_coverage` percent of them, each uncovered one a finding on its line.
//! Running the tests themselves stays a `command` gate; this one judges what they covered.

use std::time::Duration;

use async_trait::async_trait;
use globset::GlobSet;
use symphony_change::{ChangeSet, ChangedFile, FileChange};

use crate::coverage::{Coverage, CoverageFormat};
use crate::gate::{globs, Gate, GateContext};
use crate::report::{Finding, GateReport, GateStatus, Severity};
use crate::GateError;

/// Source files by default: the common languages' extensions.
pub const DEFAULT_SOURCE: &[&str] = &[
    "**/*.{rs,py,js,jsx,mjs,cjs,ts,tsx,go,java,kt,kts,scala,rb,php,cs,swift,c,cc,cpp,cxx,h,hpp,m,ex,exs,erl,hs,clj,dart,lua,sh}",
];

/// Test files by default: test folders, and the naming conventions of the same languages.
pub const DEFAULT_TESTS: &[&str] = &[
    "**/tests/**",
    "**/test/**",
    "**/__tests__/**",
    "**/spec/**",
    "**/testdata/**",
    "**/*_test.{go,py,rb,rs,exs,dart,c,cc,cpp}",
    "**/test_*.py",
    "**/*.{test,spec}.{js,jsx,mjs,cjs,ts,tsx}",
    "**/*{Test,Tests,Spec,IT}.{java,kt,scala,cs,swift,php,m}",
    "**/*_spec.rb",
];

/// Lines that, added to a source file, are tests themselves (Rust's inline test modules).
const INLINE_TEST_MARKERS: &[&str] = &["#[test]", "#[tokio::test", "#[cfg(test)]", "proptest!"];

/// How the coverage report is made and read.
#[derive(Debug, Clone)]
pub struct CoverageSettings {
    /// Run with `bash -lc` in the workspace; it writes the report.
    pub run: String,
    /// The report, relative to the workspace.
    pub report: String,
    /// Its format.
    pub format: CoverageFormat,
    /// Time limit of `run`.
    pub timeout: Duration,
}

/// Settings of a `tests` gate.
#[derive(Debug, Clone)]
pub struct TestsSettings {
    /// Source files (globs); default [`DEFAULT_SOURCE`].
    pub source: Vec<String>,
    /// Test files (globs); default [`DEFAULT_TESTS`]. A test file is never a source file.
    pub tests: Vec<String>,
    /// The coverage report, when added lines must be covered.
    pub coverage: Option<CoverageSettings>,
    /// The share of added executable lines that must be covered, in percent (0..=100).
    pub min_changed_line_coverage: u8,
}

impl Default for TestsSettings {
    fn default() -> Self {
        Self {
            source: DEFAULT_SOURCE.iter().map(|s| (*s).to_owned()).collect(),
            tests: DEFAULT_TESTS.iter().map(|s| (*s).to_owned()).collect(),
            coverage: None,
            min_changed_line_coverage: 100,
        }
    }
}

/// The gate.
#[derive(Debug, Clone)]
pub struct TestsGate {
    settings: TestsSettings,
    source: GlobSet,
    tests: GlobSet,
}

impl TestsGate {
    /// Checks the globs and the threshold.
    pub fn new(settings: TestsSettings) -> Result<Self, GateError> {
        if settings.min_changed_line_coverage > 100 {
            return Err(GateError::Config(
                "`min_changed_line_coverage` is a percentage: 0 to 100".to_owned(),
            ));
        }
        if settings.source.is_empty() {
            return Err(GateError::Config(
                "`source` names no file: the gate would never apply".to_owned(),
            ));
        }
        Ok(Self {
            source: globs(&settings.source)?,
            tests: globs(&settings.tests)?,
            settings,
        })
    }

    fn is_test(&self, file: &ChangedFile) -> bool {
        self.tests.is_match(&file.path)
            || file.added.iter().any(|l| {
                INLINE_TEST_MARKERS
                    .iter()
                    .any(|m| l.text.trim_start().starts_with(m))
            })
    }

    /// Source files the change adds to or edits (not test files).
    fn sources<'a>(&self, change: &'a ChangeSet) -> Vec<&'a ChangedFile> {
        change
            .files
            .iter()
            .filter(|f| !matches!(f.change, FileChange::Deleted) && !f.binary)
            .filter(|f| self.source.is_match(&f.path) && !self.tests.is_match(&f.path))
            .collect()
    }

    /// The findings on `change` without coverage: source changed, no test added or changed.
    pub fn judge_presence(&self, change: &ChangeSet) -> Vec<Finding> {
        let sources = self.sources(change);
        if sources.is_empty() {
            return Vec::new();
        }
        let tested = change
            .files
            .iter()
            .filter(|f| !matches!(f.change, FileChange::Deleted))
            .any(|f| self.is_test(f));
        if tested {
            return Vec::new();
        }
        let listed: Vec<&str> = sources.iter().take(3).map(|f| f.path.as_str()).collect();
        vec![Finding::new(
            "tests-missing",
            format!(
                "source changed ({}{}) but no test was added or changed",
                listed.join(", "),
                if sources.len() > 3 { ", ..." } else { "" }
            ),
            None,
            None,
            Severity::Error,
            "tests-missing",
        )]
    }

    /// The uncovered added executable lines of the change's source files, and the share
    /// covered (`None` when the change adds no executable line). A changed source file the
    /// report does not cover at all is a finding of its own: its lines cannot be judged.
    pub fn judge_coverage(
        &self,
        change: &ChangeSet,
        coverage: &Coverage,
    ) -> (Vec<Finding>, Option<f64>) {
        let mut findings = Vec::new();
        let (mut executable, mut covered) = (0usize, 0usize);
        // Every source file, those with inline tests too: adding a test module to a file
        // must not take its other added lines out of the coverage judgement.
        for file in self.sources(change) {
            let Some(lines) = coverage.lines(&file.path) else {
                if !file.added.is_empty() {
                    findings.push(Finding::new(
                        "coverage-missing-file",
                        format!("the coverage report does not cover {} at all", file.path),
                        Some(file.path.clone()),
                        file.added.first().map(|l| l.line),
                        Severity::Error,
                        &file.path,
                    ));
                }
                continue;
            };
            for added in &file.added {
                let Some(hits) = lines.get(&added.line) else {
                    continue;
                };
                executable += 1;
                if *hits > 0 {
                    covered += 1;
                } else {
                    findings.push(Finding::new(
                        "line-not-covered",
                        format!(
                            "added line {} of {} is not run by the tests",
                            added.line, file.path
                        ),
                        Some(file.path.clone()),
                        Some(added.line),
                        Severity::Error,
                        added.text.trim(),
                    ));
                }
            }
        }
        let share = (executable > 0).then(|| covered as f64 * 100.0 / executable as f64);
        (findings, share)
    }

    async fn coverage(
        &self,
        settings: &CoverageSettings,
        context: &GateContext,
    ) -> Result<Coverage, (String, Option<String>)> {
        let report = crate::shell::ReportRun {
            run: &settings.run,
            report: &settings.report,
            timeout: settings.timeout,
            ran: &|status| status.success(),
            failed: &|_| {
                format!(
                    "`{}` failed, so there is no coverage to judge",
                    settings.run
                )
            },
            unreadable: &|e| {
                format!(
                    "the coverage report {} could not be read: {e}",
                    settings.report
                )
            },
        }
        .in_dir(&context.workspace, &context.remove_env)
        .await?;
        Coverage::parse(settings.format, &report.bytes, &context.workspace)
            .map_err(|e| (e, Some(report.output)))
    }
}

#[async_trait]
impl Gate for TestsGate {
    fn kind(&self) -> &str {
        "tests"
    }

    async fn run(&self, context: &GateContext) -> GateReport {
        let mut findings = self.judge_presence(&context.change);
        let Some(settings) = &self.settings.coverage else {
            return GateReport::from_findings("tests", findings, "untested changes");
        };
        if self.sources(&context.change).is_empty() {
            return GateReport::from_findings("tests", findings, "untested changes");
        }
        let coverage = match self.coverage(settings, context).await {
            Ok(coverage) => coverage,
            Err((why, output)) => {
                // No coverage is no verdict: an error, never a pass.
                let mut report = GateReport::new("tests", GateStatus::Error, why);
                report.output = output;
                report.findings = findings;
                return report;
            }
        };
        let (uncovered, share) = self.judge_coverage(&context.change, &coverage);
        let min = f64::from(self.settings.min_changed_line_coverage);
        let below = share.is_some_and(|s| s < min);
        let missing_files = uncovered.iter().any(|f| f.rule == "coverage-missing-file");
        let mut report = if findings.is_empty() && !below && !missing_files {
            let summary = match share {
                Some(share) => format!("tests changed; {share:.0}% of added executable lines covered (at least {min:.0}%)"),
                None => "tests changed; no added line is executable".to_owned(),
            };
            GateReport::new("tests", GateStatus::Pass, summary)
        } else {
            let mut parts = Vec::new();
            if !findings.is_empty() {
                parts.push("source changed without tests".to_owned());
            }
            if let Some(share) = share.filter(|_| below) {
                parts.push(format!(
                    "{share:.0}% of added executable lines covered, below {min:.0}%"
                ));
            }
            if missing_files {
                parts.push("changed files missing from the coverage report".to_owned());
            }
            GateReport::new("tests", GateStatus::Fail, parts.join("; "))
        };
        // Uncovered lines are findings either way; below the threshold they block.
        findings.extend(uncovered.into_iter().map(|mut f| {
            if !below && f.rule == "line-not-covered" {
                f.in_change = false;
            }
            f
        }));
        report.findings = findings;
        report
    }
}
