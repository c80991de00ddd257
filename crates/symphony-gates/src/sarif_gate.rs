//! The `sarif` gate: static analysis that blocks only what the change brings. A configured
//! analyzer writes SARIF for the workspace and for a clean copy of the change's base; a result
//! at the head blocks when no base result matches it and it lies in lines the change added.
//! Results match by rule and the tool's fingerprints when both logs carry them, otherwise by
//! the text of the lines they point at — never by line number, so code that moved keeps its
//! old findings out of the verdict. A log that cannot be read, an analyzer that fails, a base
//! that cannot be analysed: `error`, never a pass.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use symphony_change::{ChangeSet, FileChange};

use crate::base_checkout::BaseCheckout;
use crate::gate::{Gate, GateContext};
use crate::report::{fingerprint, Finding, GateReport, GateStatus, Severity};
use crate::sarif_log::{read_sarif, AnalyzerResult};
use crate::GateError;

/// What a head result is compared with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SarifBaseline {
    /// The analyzer's results on the change's base commit.
    Base,
    /// Nothing: every result in changed lines is new (for analyzers that cannot run on a bare
    /// checkout of the base, e.g. ones needing installed dependencies).
    None,
}

/// Settings of a `sarif` gate.
#[derive(Debug, Clone)]
pub struct SarifSettings {
    /// Run with `bash -lc` in the folder analysed (the workspace, then the base's copy).
    pub run: String,
    /// The SARIF file `run` writes, relative to the folder analysed.
    pub output: String,
    /// Time limit of one analysis (the head and the base run side by side).
    pub timeout: Duration,
    /// What head results are compared with.
    pub baseline: SarifBaseline,
    /// Exit codes that mean the analyzer ran (linters exit 1 when they find something).
    pub exit_codes: Vec<i32>,
    /// Results below this level never block.
    pub min_level: Severity,
}

impl SarifSettings {
    /// `run` writing `output`; base comparison, exit codes 0 and 1, warnings and errors block.
    pub fn new(run: impl Into<String>, output: impl Into<String>) -> Self {
        Self {
            run: run.into(),
            output: output.into(),
            timeout: Duration::from_secs(600),
            baseline: SarifBaseline::Base,
            exit_codes: vec![0, 1],
            min_level: Severity::Warning,
        }
    }
}

/// A result reduced to what matching needs.
#[derive(Debug, Clone)]
struct Keyed {
    rule: String,
    fingerprints: BTreeMap<String, String>,
    /// Rule, path (as at the base) and the normalised text of the result's lines.
    content: String,
}

/// The gate.
#[derive(Debug)]
pub struct SarifGate {
    settings: SarifSettings,
    /// The base's results by base commit: the base does not change between feedback rounds.
    base_cache: Mutex<Option<(String, Arc<Vec<Keyed>>)>>,
}

/// Why an analysis gave no verdict, and the analyzer's output when it ran.
type Failure = (String, Option<String>);

/// Lines of a result's text taken into its content key, at most.
const MAX_KEY_LINES: u32 = 20;

/// Findings kept for results that are new outside the changed lines (they do not block).
const MAX_NON_BLOCKING: usize = 200;

impl SarifGate {
    /// Checks the settings.
    pub fn new(settings: SarifSettings) -> Result<Self, GateError> {
        if settings.run.trim().is_empty() {
            return Err(GateError::Config(
                "`run` is required: the analyzer's command".to_owned(),
            ));
        }
        let output = Path::new(&settings.output);
        if settings.output.is_empty()
            || output.is_absolute()
            || output
                .components()
                .any(|c| !matches!(c, std::path::Component::Normal(_)))
        {
            return Err(GateError::Config(format!(
                "`output` {:?}: the SARIF file's path inside the analysed folder (relative, \
                 no `..`)",
                settings.output
            )));
        }
        if settings.exit_codes.is_empty() {
            return Err(GateError::Config(
                "`exit_codes` is empty: no run of the analyzer could ever count".to_owned(),
            ));
        }
        Ok(Self {
            settings,
            base_cache: Mutex::new(None),
        })
    }

    /// Runs the analyzer on `dir` and reads its log.
    async fn analyze(
        &self,
        dir: &Path,
        remove_env: &[String],
    ) -> Result<Vec<AnalyzerResult>, Failure> {
        let settings = &self.settings;
        let report = crate::shell::ReportRun {
            run: &settings.run,
            report: &settings.output,
            timeout: settings.timeout,
            ran: &|status| {
                status
                    .code()
                    .is_some_and(|c| settings.exit_codes.contains(&c))
            },
            failed: &|status| {
                format!(
                    "`{}` failed ({}; exit codes of a run: {:?})",
                    settings.run,
                    symphony_process::describe_status(status),
                    settings.exit_codes
                )
            },
            unreadable: &|e| format!("`{}` wrote no {}: {e}", settings.run, settings.output),
        }
        .in_dir(dir, remove_env)
        .await?;
        let reading = read_sarif(&report.bytes, dir).map_err(|e| {
            (
                format!("{}: {e}", settings.output),
                Some(report.output.clone()),
            )
        })?;
        if !reading.failures.is_empty() {
            return Err((reading.failures.join("; "), Some(report.output)));
        }
        Ok(reading
            .results
            .into_iter()
            .filter(|r| !r.suppressed)
            .collect())
    }

    /// The base's results, keyed, from the cache or by analysing a copy of the base.
    async fn base(&self, context: &GateContext) -> Result<Arc<Vec<Keyed>>, Failure> {
        let commit = &context.change.base;
        if let Some((cached, results)) = self.base_cache.lock().expect("cache lock").as_ref() {
            if cached == commit {
                return Ok(Arc::clone(results));
            }
        }
        let checkout = BaseCheckout::of(
            &context.workspace,
            commit,
            &context.remove_env,
            self.settings.timeout,
        )
        .await
        .map_err(|e| (e, None))?;
        let root = checkout.path();
        let results = self
            .analyze(&root, &context.remove_env)
            .await
            .map_err(|(why, output)| (format!("on the base {commit}: {why}"), output))?;
        let mut texts = FileTexts::new(&root);
        let keyed: Arc<Vec<Keyed>> = Arc::new(
            results
                .iter()
                .map(|r| keyed(r, r.file.as_deref(), &mut texts))
                .collect(),
        );
        *self.base_cache.lock().expect("cache lock") = Some((commit.clone(), Arc::clone(&keyed)));
        Ok(keyed)
    }
}

/// Files' lines read once each, whitespace-normalised.
struct FileTexts<'a> {
    root: &'a Path,
    files: HashMap<String, Option<Vec<String>>>,
}

impl<'a> FileTexts<'a> {
    fn new(root: &'a Path) -> Self {
        Self {
            root,
            files: HashMap::new(),
        }
    }

    fn lines(&mut self, file: &str, start: u32, end: u32) -> Option<String> {
        let lines = self
            .files
            .entry(file.to_owned())
            .or_insert_with(|| {
                let text = std::fs::read(self.root.join(file)).ok()?;
                Some(
                    String::from_utf8_lossy(&text)
                        .lines()
                        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
                        .collect(),
                )
            })
            .as_ref()?;
        let end = end.min(start.saturating_add(MAX_KEY_LINES - 1));
        let picked: Vec<&str> = (start..=end)
            .filter_map(|n| lines.get(n as usize - 1).map(String::as_str))
            .collect();
        (!picked.is_empty()).then(|| picked.join("\n"))
    }
}

fn rule_name(result: &AnalyzerResult) -> String {
    format!("{}/{}", result.tool, result.rule)
}

/// `result` keyed with its file named `path` (the base's name of a renamed file).
fn keyed(result: &AnalyzerResult, path: Option<&str>, texts: &mut FileTexts<'_>) -> Keyed {
    let text = match (result.file.as_deref(), result.start_line, result.end_line) {
        (Some(file), Some(start), Some(end)) => texts.lines(file, start, end),
        _ => None,
    }
    .or_else(|| {
        result
            .snippet
            .as_ref()
            .map(|s| s.split_whitespace().collect::<Vec<_>>().join(" "))
    })
    .unwrap_or_else(|| result.message.clone());
    let rule = rule_name(result);
    Keyed {
        content: fingerprint(&rule, path, &text),
        rule,
        fingerprints: result.fingerprints.clone(),
    }
}

fn same(head: &Keyed, base: &Keyed) -> bool {
    if head.rule != base.rule {
        return false;
    }
    let shared: Vec<&String> = head
        .fingerprints
        .keys()
        .filter(|k| base.fingerprints.contains_key(*k))
        .collect();
    if shared.is_empty() {
        head.content == base.content
    } else {
        shared
            .iter()
            .any(|k| head.fingerprints.get(*k) == base.fingerprints.get(*k))
    }
}

/// Whether `result` lies in lines `change` added (a result on a whole new file does).
fn in_added_lines(result: &AnalyzerResult, change: &ChangeSet) -> bool {
    let Some(file) = result.file.as_deref().and_then(|f| change.file(f)) else {
        return false;
    };
    match (result.start_line, result.end_line) {
        (Some(start), Some(end)) => file.added.iter().any(|a| (start..=end).contains(&a.line)),
        _ => matches!(file.change, FileChange::Added),
    }
}

/// Marks which head results have no match at the base, each base result matching at most
/// one: results outside the changed lines claim their matches first, so when a duplicate
/// appears it is the one in the change that counts as new.
fn new_results(head: &[Keyed], outside_first: &[usize], base: &[Keyed]) -> HashSet<usize> {
    let mut by_rule: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, b) in base.iter().enumerate() {
        by_rule.entry(b.rule.as_str()).or_default().push(i);
    }
    let mut taken = vec![false; base.len()];
    let mut new = HashSet::new();
    for &h in outside_first {
        let candidates = by_rule
            .get(head[h].rule.as_str())
            .map_or(&[][..], Vec::as_slice);
        match candidates
            .iter()
            .find(|&&b| !taken[b] && same(&head[h], &base[b]))
        {
            Some(&b) => taken[b] = true,
            None => {
                new.insert(h);
            }
        }
    }
    new
}

#[async_trait]
impl Gate for SarifGate {
    fn kind(&self) -> &str {
        "sarif"
    }

    async fn run(&self, context: &GateContext) -> GateReport {
        let head = self.analyze(&context.workspace, &context.remove_env);
        let (head, base) = match self.settings.baseline {
            SarifBaseline::Base => {
                let (head, base) = tokio::join!(head, self.base(context));
                (head, base.map(Some))
            }
            SarifBaseline::None => (head.await, Ok(None)),
        };
        let (head, base) = match (head, base) {
            (Ok(head), Ok(base)) => (head, base),
            (Err((why, output)), _) | (_, Err((why, output))) => {
                let mut report = GateReport::new("sarif", GateStatus::Error, why);
                report.output = output;
                return report;
            }
        };
        let change = &context.change;
        let renamed: HashMap<&str, &str> = change
            .files
            .iter()
            .filter_map(|f| match &f.change {
                FileChange::Renamed { from } => Some((f.path.as_str(), from.as_str())),
                _ => None,
            })
            .collect();
        let mut texts = FileTexts::new(&context.workspace);
        let head_keyed: Vec<Keyed> = head
            .iter()
            .map(|r| {
                let path = r.file.as_deref().map(|f| *renamed.get(f).unwrap_or(&f));
                keyed(r, path, &mut texts)
            })
            .collect();
        let in_change: Vec<bool> = head.iter().map(|r| in_added_lines(r, change)).collect();
        let mut order: Vec<usize> = (0..head.len()).collect();
        order.sort_by_key(|&i| in_change[i]);
        let new = match &base {
            Some(base) => new_results(&head_keyed, &order, base),
            None => (0..head.len()).collect(),
        };
        let mut findings = Vec::new();
        let mut non_blocking = 0usize;
        for (i, result) in head.iter().enumerate() {
            if !new.contains(&i) {
                continue;
            }
            let blocks = in_change[i] && result.severity >= self.settings.min_level;
            if !blocks {
                non_blocking += 1;
                if non_blocking > MAX_NON_BLOCKING {
                    continue;
                }
            }
            let mut finding = Finding::new(
                rule_name(result),
                result.message.clone(),
                result.file.clone(),
                result.start_line,
                result.severity,
                &head_keyed[i].content,
            );
            finding.in_change = blocks;
            findings.push(finding);
        }
        let blocking = findings.iter().filter(|f| f.in_change).count();
        let existing = head.len() - new.len();
        let min_level = match self.settings.min_level {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Note => "note",
        };
        let summary = format!(
            "{blocking} new result(s) in changed lines; {non_blocking} new elsewhere or below \
             {min_level} (not blocking); {existing} already at the base"
        );
        let status = if blocking > 0 {
            GateStatus::Fail
        } else {
            GateStatus::Pass
        };
        let mut report = GateReport::new("sarif", status, summary);
        report.findings = findings;
        report
    }
}
