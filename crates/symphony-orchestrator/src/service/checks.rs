//! A gate's verdict in the code host's vocabulary: a check with its annotations.

use symphony_code_host::{CheckAnnotation, CheckConclusion, CheckResult};
use symphony_gates::{GateReport, GateStatus, Severity};

/// Annotations sent per gate (GitHub shows the first ones anyway).
const MAX_ANNOTATIONS_PER_GATE: usize = 200;

/// A gate's verdict as a forge check.
pub(crate) fn check_result(report: &GateReport) -> CheckResult {
    {
        let mut check_result = CheckResult::new(
            report.gate.clone(),
            match report.status {
                GateStatus::Pass => CheckConclusion::Success,
                GateStatus::Fail => CheckConclusion::Failure,
                GateStatus::Error => CheckConclusion::Error,
                GateStatus::Skipped => CheckConclusion::Skipped,
            },
            report.summary.clone(),
        );
        check_result.annotations = report
            .findings
            .iter()
            .filter_map(|f| {
                Some(CheckAnnotation::new(
                    f.file.clone()?,
                    f.line?,
                    match f.severity {
                        Severity::Error => "failure",
                        Severity::Warning => "warning",
                        Severity::Note => "notice",
                    }
                    .to_owned(),
                    f.rule.clone(),
                    f.message.clone(),
                ))
            })
            .take(MAX_ANNOTATIONS_PER_GATE)
            .collect();
        check_result
    }
}
