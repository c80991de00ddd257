//! A gate's verdict in the code host's vocabulary: a check with its annotations.

use symphony_code_host::{CheckAnnotation, CheckConclusion, CheckResult};
use symphony_gates::{GateReport, GateStatus, Severity};

/// Annotations sent per gate (GitHub shows the first ones anyway).
const MAX_ANNOTATIONS_PER_GATE: usize = 200;

/// A gate's verdict as a forge check.
pub(crate) fn check_result(report: &GateReport) -> CheckResult {
    CheckResult {
        name: report.gate.clone(),
        conclusion: match report.status {
            GateStatus::Pass => CheckConclusion::Success,
            GateStatus::Fail => CheckConclusion::Failure,
            GateStatus::Error => CheckConclusion::Error,
            GateStatus::Skipped => CheckConclusion::Skipped,
        },
        summary: report.summary.clone(),
        annotations: report
            .findings
            .iter()
            .filter_map(|f| {
                Some(CheckAnnotation {
                    path: f.file.clone()?,
                    line: f.line?,
                    level: match f.severity {
                        Severity::Error => "failure",
                        Severity::Warning => "warning",
                        Severity::Note => "notice",
                    }
                    .to_owned(),
                    title: f.rule.clone(),
                    message: f.message.clone(),
                })
            })
            .take(MAX_ANNOTATIONS_PER_GATE)
            .collect(),
    }
}
