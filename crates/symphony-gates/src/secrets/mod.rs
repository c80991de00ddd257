//! The `secrets` gate: scans the lines a change adds (new files whole) for credentials with
//! the built-in rules and/or a gitleaks rules file. Findings name the rule, file and line,
//! never the secret.

mod engine;
mod gitleaks;
mod rules;

use async_trait::async_trait;

pub use engine::{shannon_entropy, Allowlist, Hit, RegexTarget, Rule, RuleSet};
pub use rules::{base62, crc32, github_style_checksum, PLACEHOLDER_WORDS};

use crate::gate::{Gate, GateContext};
use crate::report::{Finding, GateReport, GateStatus, Severity};
use crate::GateError;

/// The gate.
#[derive(Debug, Clone)]
pub struct SecretsGate {
    rules: RuleSet,
}

impl SecretsGate {
    /// The built-in rules only.
    pub fn builtin() -> Self {
        Self {
            rules: RuleSet::new(rules::builtin(), Vec::new()).expect("built-in keywords build"),
        }
    }

    /// The rules of a gitleaks TOML file, plus the built-in ones when the file says
    /// `[extend] useDefault = true` (minus its `disabledRules`).
    pub fn from_gitleaks(text: &str) -> Result<Self, GateError> {
        let file = gitleaks::parse(text).map_err(GateError::Config)?;
        let mut all = Vec::new();
        if file.use_default {
            all.extend(
                rules::builtin()
                    .into_iter()
                    .filter(|r| !file.disabled.contains(&r.id)),
            );
        }
        all.extend(file.rules);
        let rules = RuleSet::new(all, file.global)?;
        Ok(Self { rules })
    }

    /// The rules in use.
    pub fn rules(&self) -> &RuleSet {
        &self.rules
    }

    /// Findings in `text`, the content of `path`; `line_of` maps a 0-based line of `text`
    /// to the file's line number.
    pub fn scan(&self, path: &str, text: &str, line_of: impl Fn(usize) -> u32) -> Vec<Finding> {
        self.rules
            .scan(path, text)
            .into_iter()
            .map(|hit| {
                let rule = &self.rules.rules()[hit.rule];
                Finding::new(
                    rule.id.clone(),
                    format!(
                        "{} ({} characters, redacted); remove it and rotate the credential",
                        rule.description,
                        hit.secret.chars().count()
                    ),
                    Some(path.to_owned()),
                    Some(line_of(hit.line_index)),
                    Severity::Error,
                    &hit.secret,
                )
            })
            .collect()
    }
}

impl SecretsGate {
    /// Findings in the added lines of `files`; binary files are listed in `binary`.
    fn scan_files(
        &self,
        files: &[symphony_change::ChangedFile],
        mut binary: Option<&mut Vec<String>>,
    ) -> Vec<Finding> {
        let mut findings = Vec::new();
        for file in files {
            if file.binary {
                if let Some(binary) = binary.as_deref_mut() {
                    binary.push(file.path.clone());
                }
                continue;
            }
            if file.added.is_empty() {
                continue;
            }
            let text: String = file
                .added
                .iter()
                .map(|l| l.text.as_str())
                .collect::<Vec<_>>()
                .join("\n");
            findings.extend(self.scan(&file.path, &text, |i| {
                file.added.get(i).map_or(0, |l| l.line)
            }));
        }
        findings
    }
}

#[async_trait]
impl Gate for SecretsGate {
    fn kind(&self) -> &str {
        "secrets"
    }

    async fn run(&self, context: &GateContext) -> GateReport {
        let gate = self.clone();
        let change = context.change.clone();
        let scanned = tokio::task::spawn_blocking(move || {
            let mut binary = Vec::new();
            let mut findings = gate.scan_files(&change.files, Some(&mut binary));
            // A secret committed on the branch and removed later is still in what gets
            // pushed: each commit's additions count too, reported once per secret.
            let mut seen: std::collections::HashSet<String> =
                findings.iter().map(|f| f.fingerprint.clone()).collect();
            for patch in &change.history {
                let short = &patch.commit[..patch.commit.len().min(10)];
                for mut finding in gate.scan_files(&patch.files, None) {
                    if seen.insert(finding.fingerprint.clone()) {
                        finding.message = format!(
                            "{} — in commit {short} of the branch history, not just the \
                             final files: rewrite the branch (amend or squash) so no commit \
                             carries it",
                            finding.message
                        );
                        findings.push(finding);
                    }
                }
            }
            (findings, binary)
        })
        .await;
        match scanned {
            Ok((findings, binary)) => {
                let mut report = GateReport::from_findings("secrets", findings, "secrets");
                if !binary.is_empty() {
                    report.summary.push_str(&format!(
                        "; {} binary file(s) not scanned: {}",
                        binary.len(),
                        binary.join(", ")
                    ));
                }
                report
            }
            Err(e) => GateReport::new("secrets", GateStatus::Error, format!("scan failed: {e}")),
        }
    }
}
