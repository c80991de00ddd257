//! The guidance for the turn after failed gates: a Liquid template over the blocking reports
//! (`gates.feedback` overrides the default).

use serde_json::{json, Value};

use crate::report::GateReport;

/// Findings shown per report, and tool output kept, so the prompt stays readable.
const MAX_FINDINGS: usize = 30;
const MAX_OUTPUT: usize = 3000;

/// The default feedback template. Variables: `round`, `max_rounds`, `failed` (reports with
/// `gate`, `status`, `summary`, `findings` [`rule`, `message`, `file`, `line`, `in_change`],
/// `output`).
pub const DEFAULT_TEMPLATE: &str = "Symphony's quality gates checked your change and {{ failed | size }} blocking gate(s) did not pass (round {{ round }} of {{ max_rounds }}).
{% for report in failed %}
## {{ report.gate }}: {{ report.status }}
{{ report.summary }}
{% for f in report.findings %}- {{ f.rule }}{% if f.file %} in {{ f.file }}{% if f.line %}:{{ f.line }}{% endif %}{% endif %}: {{ f.message }}
{% endfor %}{% if report.output %}
Output (end):
```
{{ report.output }}
```
{% endif %}{% endfor %}
Fix these in the workspace, then say when you are done. Do not work around a gate: do not disable or delete checks, and never allowlist a real credential — remove it.";

fn tail(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let mut start = text.len() - max;
    while !text.is_char_boundary(start) {
        start += 1;
    }
    format!("…{}", &text[start..])
}

fn report_value(report: &GateReport) -> Value {
    let findings: Vec<Value> = report
        .findings
        .iter()
        .filter(|f| f.in_change)
        .take(MAX_FINDINGS)
        .map(|f| {
            json!({
                "rule": f.rule, "message": f.message, "file": f.file, "line": f.line,
                "in_change": f.in_change,
            })
        })
        .collect();
    json!({
        "gate": report.gate,
        "status": report.status.as_str(),
        "summary": report.summary,
        "findings": findings,
        "output": report.output.as_deref().map(|o| tail(o.trim(), MAX_OUTPUT)),
    })
}

/// Renders the guidance for `failed` reports; a template error falls back to the default.
pub fn render(
    template: Option<&str>,
    failed: &[&GateReport],
    round: u32,
    max_rounds: u32,
) -> String {
    let globals = json!({
        "round": round,
        "max_rounds": max_rounds,
        "failed": failed.iter().map(|r| report_value(r)).collect::<Vec<_>>(),
    });
    let attempt = |source: &str| -> Result<String, String> {
        let parser = liquid::ParserBuilder::with_stdlib()
            .build()
            .map_err(|e| e.to_string())?;
        let template = parser.parse(source).map_err(|e| e.to_string())?;
        let globals = liquid::model::to_object(&globals).map_err(|e| e.to_string())?;
        template.render(&globals).map_err(|e| e.to_string())
    };
    match template.map(attempt) {
        Some(Ok(text)) => text,
        Some(Err(e)) => {
            tracing::warn!("gates.feedback template failed ({e}); using the default");
            attempt(DEFAULT_TEMPLATE).unwrap_or_else(|e| format!("Gates failed ({e})."))
        }
        None => attempt(DEFAULT_TEMPLATE).unwrap_or_else(|e| format!("Gates failed ({e}).")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{Finding, GateStatus, Severity};

    #[test]
    fn the_default_guidance_lists_failed_gates_and_their_findings() {
        let mut report = GateReport::new("secrets", GateStatus::Fail, "1 secrets in changed lines");
        report.findings.push(Finding::new(
            "aws-access-key-id",
            "AWS access key ID (20 characters, redacted)",
            Some("config.env".into()),
            Some(3),
            Severity::Error,
            "AKIA...",
        ));
        let text = render(None, &[&report], 1, 3);
        assert!(text.contains("round 1 of 3"), "{text}");
        assert!(text.contains("## secrets: fail"), "{text}");
        assert!(
            text.contains("- aws-access-key-id in config.env:3: AWS access key ID"),
            "{text}"
        );
        assert!(!text.contains("AKIA"), "{text}");
        let custom = render(
            Some("{{ failed[0].gate }} failed in round {{ round }}"),
            &[&report],
            2,
            3,
        );
        assert_eq!(custom, "secrets failed in round 2");
        let broken = render(Some("{% for %}"), &[&report], 1, 3);
        assert!(
            broken.contains("## secrets: fail"),
            "falls back to the default: {broken}"
        );
    }
}
