//! Gate reports as SARIF 2.1.0 (one run per gate), for code-scanning tools and check-run
//! annotations.

use serde_json::{json, Value};

use crate::report::{GateReport, GateStatus, Severity};

/// The SARIF schema URI written into every log.
pub const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Note => "note",
    }
}

/// One SARIF log holding a run per report.
pub fn to_sarif(reports: &[GateReport]) -> Value {
    let runs: Vec<Value> = reports.iter().map(run).collect();
    json!({ "$schema": SCHEMA, "version": "2.1.0", "runs": runs })
}

fn run(report: &GateReport) -> Value {
    let mut rule_ids: Vec<&str> = Vec::new();
    for finding in &report.findings {
        if !rule_ids.contains(&finding.rule.as_str()) {
            rule_ids.push(&finding.rule);
        }
    }
    let rules: Vec<Value> = rule_ids
        .iter()
        .map(|id| json!({ "id": id, "shortDescription": { "text": id } }))
        .collect();
    let results: Vec<Value> = report
        .findings
        .iter()
        .map(|f| {
            let mut result = json!({
                "ruleId": f.rule,
                "ruleIndex": rule_ids.iter().position(|id| *id == f.rule).unwrap_or(0),
                "level": level(f.severity),
                "message": { "text": f.message },
                "partialFingerprints": { "symphony/v1": f.fingerprint },
                "baselineState": if f.in_change { "new" } else { "unchanged" },
            });
            if let Some(file) = &f.file {
                let mut location = json!({ "artifactLocation": { "uri": file } });
                if let Some(line) = f.line.filter(|l| *l > 0) {
                    location["region"] = json!({ "startLine": line });
                }
                result["locations"] = json!([{ "physicalLocation": location }]);
            }
            result
        })
        .collect();
    json!({
        "tool": { "driver": {
            "name": format!("symphony-{}", report.gate),
            "informationUri": "https://github.com/symphony-rs/symphony",
            "version": env!("CARGO_PKG_VERSION"),
            "rules": rules,
        }},
        "invocations": [{
            "executionSuccessful": report.status != GateStatus::Error,
            "toolExecutionNotifications": if report.status == GateStatus::Error {
                json!([{ "level": "error", "message": { "text": report.summary } }])
            } else {
                json!([])
            },
        }],
        "results": results,
        "properties": {
            "status": report.status.as_str(),
            "blocking": report.blocking,
            "summary": report.summary,
            "durationMs": report.duration_ms,
        },
    })
}
