//! What a gate says about a change (DESIGN §4): a status, findings and a summary.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use symphony_core::Usage;

/// A gate's verdict. Only `Pass` is a pass: an error, a timeout or a skip never is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GateStatus {
    /// The change meets the gate.
    Pass,
    /// The change breaks the gate (blocking findings in changed lines).
    Fail,
    /// The gate could not decide: its tool failed, timed out, or its data is missing.
    Error,
    /// The gate does not apply to this change (no changed path matches its filters).
    Skipped,
}

impl GateStatus {
    /// The name used in reports and the audit log.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pass => "pass",
            Self::Fail => "fail",
            Self::Error => "error",
            Self::Skipped => "skipped",
        }
    }
}

/// How serious a finding is (SARIF levels).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Informational.
    Note,
    /// Worth a look.
    Warning,
    /// Must be fixed.
    Error,
}

/// One problem a gate found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Finding {
    /// Rule id (e.g. `aws-access-key-id`).
    pub rule: String,
    /// What is wrong, for a person. Never contains a secret.
    pub message: String,
    /// Path relative to the workspace, if the finding is in a file.
    pub file: Option<String>,
    /// 1-based line, if known.
    pub line: Option<u32>,
    /// How serious.
    pub severity: Severity,
    /// Stable identity across runs: rule, file and a digest of the offending content (never
    /// the content itself), so a finding can be recognised again after lines move.
    pub fingerprint: String,
    /// Whether the finding is in lines this change added (only those block).
    pub in_change: bool,
}

impl Finding {
    /// A finding; `evidence` only feeds the fingerprint digest.
    pub fn new(
        rule: impl Into<String>,
        message: impl Into<String>,
        file: Option<String>,
        line: Option<u32>,
        severity: Severity,
        evidence: &str,
    ) -> Self {
        let rule = rule.into();
        let fingerprint = fingerprint(&rule, file.as_deref(), evidence);
        Self {
            rule,
            message: message.into(),
            file,
            line,
            severity,
            fingerprint,
            in_change: true,
        }
    }
}

/// `sha256(rule NUL file NUL evidence)`, first 16 bytes in hex.
pub fn fingerprint(rule: &str, file: Option<&str>, evidence: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(rule.as_bytes());
    hasher.update([0]);
    hasher.update(file.unwrap_or_default().as_bytes());
    hasher.update([0]);
    hasher.update(evidence.as_bytes());
    hasher.finalize()[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Everything one gate run produced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct GateReport {
    /// The gate's configured name.
    pub gate: String,
    /// Verdict.
    pub status: GateStatus,
    /// Whether a `fail`/`error` of this gate stops the hand-off.
    pub blocking: bool,
    /// Findings, blocking or not.
    pub findings: Vec<Finding>,
    /// One line for tables and the agent's next prompt.
    pub summary: String,
    /// Tool output kept for people (truncated), if any.
    pub output: Option<String>,
    /// How long the gate took.
    pub duration_ms: u64,
    /// Tokens an agent session of the gate used (the `ai_review` gate's reviewer): they count
    /// toward the issue's usage like the coding agent's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_tokens: Option<Usage>,
}

impl GateReport {
    /// A report with no findings.
    pub fn new(gate: impl Into<String>, status: GateStatus, summary: impl Into<String>) -> Self {
        Self {
            gate: gate.into(),
            status,
            blocking: true,
            findings: Vec::new(),
            summary: summary.into(),
            output: None,
            duration_ms: 0,
            agent_tokens: None,
        }
    }

    /// `fail` when any finding is in the change, `pass` otherwise; findings in untouched
    /// code are reported, never blocking.
    pub fn from_findings(gate: impl Into<String>, findings: Vec<Finding>, what: &str) -> Self {
        let new = findings.iter().filter(|f| f.in_change).count();
        let old = findings.len() - new;
        let (status, summary) = if new > 0 {
            (
                GateStatus::Fail,
                format!("{new} {what} in changed lines{}", existing(old)),
            )
        } else {
            (
                GateStatus::Pass,
                format!("no {what} in changed lines{}", existing(old)),
            )
        };
        let mut report = Self::new(gate, status, summary);
        report.findings = findings;
        report
    }

    /// Whether this report stops the hand-off.
    pub fn blocks(&self) -> bool {
        self.blocking && matches!(self.status, GateStatus::Fail | GateStatus::Error)
    }
}

fn existing(count: usize) -> String {
    if count == 0 {
        String::new()
    } else {
        format!(" ({count} already present elsewhere, not blocking)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_are_stable_and_never_contain_the_evidence() {
        let a = fingerprint("r", Some("a.txt"), "AKIASECRETVALUE");
        assert_eq!(a, fingerprint("r", Some("a.txt"), "AKIASECRETVALUE"));
        assert_ne!(a, fingerprint("r", Some("b.txt"), "AKIASECRETVALUE"));
        assert_eq!(a.len(), 32);
        assert!(!a.contains("AKIA"));
    }

    #[test]
    fn only_findings_in_the_change_fail_a_gate() {
        let mut old = Finding::new("r", "m", Some("a".into()), Some(1), Severity::Error, "x");
        old.in_change = false;
        let report = GateReport::from_findings("secrets", vec![old.clone()], "secrets");
        assert_eq!(report.status, GateStatus::Pass);
        assert!(report.summary.contains("1 already present"));
        let new = Finding::new("r", "m", Some("a".into()), Some(2), Severity::Error, "y");
        let report = GateReport::from_findings("secrets", vec![old, new], "secrets");
        assert_eq!(report.status, GateStatus::Fail);
        assert!(report.blocks());
    }
}
