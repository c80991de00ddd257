//! The `docs` gate: a change under configured paths must bring its documentation — a
//! changelog fragment and/or an architecture decision record.

use async_trait::async_trait;
use globset::GlobSet;

use crate::gate::{globs, Gate, GateContext};
use crate::report::{Finding, GateReport, Severity};
use crate::GateError;
use symphony_change::{ChangeSet, FileChange};

/// What a change must bring.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocKind {
    /// A new file in the changelog fragment folder.
    Changelog,
    /// A new `NNNN-slug.md` in the ADR folder.
    Adr,
}

/// Settings of a `docs` gate.
#[derive(Debug, Clone)]
pub struct DocsSettings {
    /// Changes to these paths need documentation (globs; all paths when empty).
    pub paths: Vec<String>,
    /// What they need.
    pub require: Vec<DocKind>,
    /// Changelog fragment folder.
    pub changelog_dir: String,
    /// ADR folder.
    pub adr_dir: String,
}

impl Default for DocsSettings {
    fn default() -> Self {
        Self {
            paths: Vec::new(),
            require: vec![DocKind::Changelog],
            changelog_dir: "changelog.d".to_owned(),
            adr_dir: "docs/adr".to_owned(),
        }
    }
}

/// The gate.
#[derive(Debug, Clone)]
pub struct DocsGate {
    settings: DocsSettings,
    paths: Option<GlobSet>,
}

impl DocsGate {
    /// Checks the path globs.
    pub fn new(settings: DocsSettings) -> Result<Self, GateError> {
        if settings.require.is_empty() {
            return Err(GateError::Config(
                "docs gate: `require` names nothing (changelog, adr)".to_owned(),
            ));
        }
        let paths = if settings.paths.is_empty() {
            None
        } else {
            Some(globs(&settings.paths)?)
        };
        Ok(Self { settings, paths })
    }

    fn in_folder(path: &str, folder: &str) -> bool {
        path.strip_prefix(folder.trim_end_matches('/'))
            .is_some_and(|rest| rest.starts_with('/') && !rest[1..].contains('/'))
    }

    fn is_adr(&self, path: &str) -> bool {
        Self::in_folder(path, &self.settings.adr_dir)
            && path.rsplit('/').next().is_some_and(|name| {
                // Bytes, not a string slice: byte 4 may fall inside a character (`123é.md`).
                let bytes = name.as_bytes();
                name.ends_with(".md")
                    && bytes.len() > 5
                    && bytes[..4].iter().all(u8::is_ascii_digit)
                    && bytes[4] == b'-'
            })
    }

    /// The findings for `change`.
    pub fn judge(&self, change: &ChangeSet) -> Vec<Finding> {
        let docs =
            |path: &str| Self::in_folder(path, &self.settings.changelog_dir) || self.is_adr(path);
        let touched: Vec<&str> = change
            .files
            .iter()
            .map(|f| f.path.as_str())
            .filter(|p| !docs(p))
            .filter(|p| self.paths.as_ref().is_none_or(|set| set.is_match(p)))
            .collect();
        if touched.is_empty() {
            return Vec::new();
        }
        let added = |want: &dyn Fn(&str) -> bool| {
            change.files.iter().any(|f| {
                matches!(f.change, FileChange::Added | FileChange::Modified) && want(&f.path)
            })
        };
        let mut findings = Vec::new();
        for kind in &self.settings.require {
            let (present, rule, what) = match kind {
                DocKind::Changelog => (
                    added(&|p| Self::in_folder(p, &self.settings.changelog_dir)),
                    "changelog-fragment-missing",
                    format!("a changelog fragment in {}/", self.settings.changelog_dir),
                ),
                DocKind::Adr => (
                    added(&|p| self.is_adr(p)),
                    "adr-missing",
                    format!("an ADR ({}/NNNN-title.md)", self.settings.adr_dir),
                ),
            };
            if !present {
                findings.push(Finding::new(
                    rule,
                    format!(
                        "{} changed ({}{}) without {what}",
                        if touched.len() == 1 {
                            "a documented path"
                        } else {
                            "documented paths"
                        },
                        touched
                            .iter()
                            .take(3)
                            .copied()
                            .collect::<Vec<_>>()
                            .join(", "),
                        if touched.len() > 3 { ", ..." } else { "" }
                    ),
                    None,
                    None,
                    Severity::Error,
                    rule,
                ));
            }
        }
        findings
    }
}

#[async_trait]
impl Gate for DocsGate {
    fn kind(&self) -> &str {
        "docs"
    }

    async fn run(&self, context: &GateContext) -> GateReport {
        GateReport::from_findings("docs", self.judge(&context.change), "missing documents")
    }
}
