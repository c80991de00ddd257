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
        let rules = RuleSet::new(all, file.global).map_err(GateError::Config)?;
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

#[async_trait]
impl Gate for SecretsGate {
    fn kind(&self) -> &str {
        "secrets"
    }

    async fn run(&self, context: &GateContext) -> GateReport {
        let gate = self.clone();
        let change = context.change.clone();
        let scanned = tokio::task::spawn_blocking(move || {
            let mut findings = Vec::new();
            let mut binary = Vec::new();
            for file in &change.files {
                if file.binary {
                    binary.push(file.path.clone());
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
                findings.extend(gate.scan(&file.path, &text, |i| {
                    file.added.get(i).map_or(0, |l| l.line)
                }));
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
