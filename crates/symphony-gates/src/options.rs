//! Reading the options of the built-in kinds: which keys each kind takes (with their JSON
//! Schemas) and, for the kinds with more than a few, how they become the gate's settings.

use std::time::Duration;

use serde_json::{Map, Value};

use crate::ai_review::{AiReviewGate, AiReviewSettings, ReviewSeverity};
use crate::config::CheckConfig;
use crate::coverage::CoverageFormat;
use crate::error::GateError;
use crate::report::Severity;
use crate::sarif_gate::{SarifBaseline, SarifGate, SarifSettings};
use crate::tests_gate::{CoverageSettings, TestsGate, TestsSettings};

/// An option's name and the function giving its JSON Schema.
pub(crate) type OptionSchema = (&'static str, fn() -> Value);

/// The options of each built-in kind with their schemas: the one list both `build` (which
/// refuses any other key) and `options_schema` read.
pub(crate) fn builtin_options(kind: &str) -> &'static [OptionSchema] {
    fn string() -> Value {
        serde_json::json!({"type": "string"})
    }
    fn count() -> Value {
        serde_json::json!({"type": "integer", "minimum": 0})
    }
    fn flag() -> Value {
        serde_json::json!({"type": "boolean"})
    }
    fn strings() -> Value {
        serde_json::json!({"anyOf": [
            {"type": "string"},
            {"type": "array", "items": {"type": "string"}},
        ]})
    }
    fn percent() -> Value {
        serde_json::json!({"type": "integer", "minimum": 0, "maximum": 100})
    }
    fn coverage_format() -> Value {
        serde_json::json!({"enum": ["lcov", "cobertura", "llvm-json"]})
    }
    fn levels() -> Value {
        serde_json::json!({"enum": ["note", "warning", "error"]})
    }
    fn baseline() -> Value {
        serde_json::json!({"enum": ["base", "none"]})
    }
    fn exit_codes() -> Value {
        serde_json::json!({"type": "array", "minItems": 1, "items": {"type": "integer"}})
    }
    fn review_severity() -> Value {
        serde_json::json!({"enum": ["critical", "high", "medium", "low", "info"]})
    }
    fn documents() -> Value {
        serde_json::json!({"type": "array", "items": {"enum": ["changelog", "adr"]}})
    }
    match kind {
        "secrets" => &[("rules", string)],
        "command" => &[("run", string), ("sarif", string)],
        "diff_budget" => &[
            ("max_files", count),
            ("max_lines", count),
            ("protected", strings),
            ("lockfiles_need_manifest", flag),
        ],
        "docs" => &[
            ("require", documents),
            ("changelog_dir", string),
            ("adr_dir", string),
        ],
        "dependencies" => &[
            ("rustsec_db", string),
            ("osv_db", string),
            ("deny_licenses", strings),
            ("max_age_days", count),
        ],
        "tests" => &[
            ("source", strings),
            ("tests", strings),
            ("coverage_run", string),
            ("coverage_report", string),
            ("coverage_format", coverage_format),
            ("min_changed_line_coverage", percent),
        ],
        "sarif" => &[
            ("run", string),
            ("output", string),
            ("baseline", baseline),
            ("exit_codes", exit_codes),
            ("min_level", levels),
        ],
        "ai_review" => &[
            ("block_severity", review_severity),
            ("backend", string),
            ("command", string),
            ("prompt", string),
            ("guidelines", strings),
            ("context_lines", count),
        ],
        _ => &[],
    }
}

fn option_names(kind: &str) -> Vec<&'static str> {
    builtin_options(kind).iter().map(|(k, _)| *k).collect()
}

/// Reads a kind's options strictly: every key must be one the kind knows.
pub(crate) struct Options<'a> {
    map: &'a Map<String, Value>,
    known: Vec<&'static str>,
}

impl<'a> Options<'a> {
    pub(crate) fn new(map: &'a Map<String, Value>, kind: &str) -> Result<Self, GateError> {
        let known = option_names(kind);
        if let Some(unknown) = map.keys().find(|k| !known.contains(&k.as_str())) {
            return Err(GateError::Config(format!(
                "`{unknown}` is not an option of this kind (options: {})",
                known.join(", ")
            )));
        }
        Ok(Self { map, known })
    }

    pub(crate) fn string(&self, key: &str) -> Result<Option<String>, GateError> {
        debug_assert!(self.known.contains(&key));
        match self.map.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(GateError::Config(format!("`{key}` must be a string"))),
        }
    }

    pub(crate) fn count(&self, key: &str) -> Result<Option<usize>, GateError> {
        debug_assert!(self.known.contains(&key));
        match self.map.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => v.as_u64().map(|n| Some(n as usize)).ok_or_else(|| {
                GateError::Config(format!("`{key}` must be a non-negative integer"))
            }),
        }
    }

    pub(crate) fn flag(&self, key: &str, default: bool) -> Result<bool, GateError> {
        debug_assert!(self.known.contains(&key));
        match self.map.get(key) {
            None | Some(Value::Null) => Ok(default),
            Some(v) => v
                .as_bool()
                .ok_or_else(|| GateError::Config(format!("`{key}` must be true or false"))),
        }
    }

    pub(crate) fn strings(&self, key: &str) -> Result<Vec<String>, GateError> {
        debug_assert!(self.known.contains(&key));
        match self.map.get(key) {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::String(s)) => Ok(vec![s.clone()]),
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| {
                    v.as_str()
                        .map(str::to_owned)
                        .ok_or_else(|| GateError::Config(format!("`{key}` must list strings")))
                })
                .collect(),
            Some(_) => Err(GateError::Config(format!(
                "`{key}` must be a list of strings"
            ))),
        }
    }

    pub(crate) fn integers(&self, key: &str) -> Result<Option<Vec<i32>>, GateError> {
        debug_assert!(self.known.contains(&key));
        let wrong = || GateError::Config(format!("`{key}` must list integers"));
        match self.map.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| {
                    v.as_i64()
                        .and_then(|n| i32::try_from(n).ok())
                        .ok_or_else(wrong)
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Some),
            Some(_) => Err(wrong()),
        }
    }
}

/// The `tests` kind from its options: the coverage settings come as a set or not at all.
pub(crate) fn tests_gate(check: &CheckConfig, o: &Options<'_>) -> Result<TestsGate, GateError> {
    let defaults = TestsSettings::default();
    let or_default = |given: Vec<String>, default: Vec<String>| {
        if given.is_empty() {
            default
        } else {
            given
        }
    };
    let coverage = match (o.string("coverage_run")?, o.string("coverage_report")?) {
        (None, None) => {
            if o.string("coverage_format")?.is_some()
                || o.count("min_changed_line_coverage")?.is_some()
            {
                return Err(GateError::Config(
                    "`coverage_format` and `min_changed_line_coverage` need `coverage_run` and \
                     `coverage_report`"
                        .to_owned(),
                ));
            }
            None
        }
        (Some(run), Some(report)) => {
            let format = o
                .string("coverage_format")?
                .unwrap_or_else(|| "lcov".to_owned());
            Some(CoverageSettings {
                run,
                report,
                format: CoverageFormat::from_name(&format).ok_or_else(|| {
                    GateError::Config(format!(
                        "`coverage_format` {format:?}: expected lcov, cobertura or llvm-json"
                    ))
                })?,
                timeout: check
                    .settings
                    .timeout
                    .saturating_sub(Duration::from_millis(100)),
            })
        }
        _ => {
            return Err(GateError::Config(
                "`coverage_run` and `coverage_report` go together: the command and the report \
                 it writes"
                    .to_owned(),
            ))
        }
    };
    let min = o.count("min_changed_line_coverage")?.unwrap_or(100);
    TestsGate::new(TestsSettings {
        source: or_default(o.strings("source")?, defaults.source),
        tests: or_default(o.strings("tests")?, defaults.tests),
        coverage,
        min_changed_line_coverage: u8::try_from(min).unwrap_or(u8::MAX),
    })
}

/// The `sarif` kind from its options.
pub(crate) fn sarif_gate(check: &CheckConfig, o: &Options<'_>) -> Result<SarifGate, GateError> {
    let run = o.string("run")?.unwrap_or_default();
    let output = o.string("output")?.ok_or_else(|| {
        GateError::Config("`output` is required: the SARIF file the analyzer writes".to_owned())
    })?;
    let mut settings = SarifSettings::new(run, output);
    settings.timeout = check
        .settings
        .timeout
        .saturating_sub(Duration::from_millis(100))
        .max(Duration::from_millis(100));
    settings.baseline = match o.string("baseline")?.as_deref() {
        None | Some("base") => SarifBaseline::Base,
        Some("none") => SarifBaseline::None,
        Some(other) => {
            return Err(GateError::Config(format!(
                "`baseline` {other:?}: expected base or none"
            )))
        }
    };
    settings.min_level = match o.string("min_level")?.as_deref() {
        None | Some("warning") => Severity::Warning,
        Some("error") => Severity::Error,
        Some("note") => Severity::Note,
        Some(other) => {
            return Err(GateError::Config(format!(
                "`min_level` {other:?}: expected note, warning or error"
            )))
        }
    };
    if let Some(codes) = o.integers("exit_codes")? {
        settings.exit_codes = codes;
    }
    SarifGate::new(settings)
}

/// The `ai_review` kind from its options.
pub(crate) fn ai_review_gate(
    check: &CheckConfig,
    o: &Options<'_>,
) -> Result<AiReviewGate, GateError> {
    let mut settings = AiReviewSettings::default();
    if let Some(name) = o.string("block_severity")? {
        settings.block_severity = ReviewSeverity::from_name(&name).ok_or_else(|| {
            GateError::Config(format!(
                "`block_severity` {name:?}: expected critical, high, medium, low or info"
            ))
        })?;
    }
    let non_empty = |key: &str| -> Result<Option<String>, GateError> {
        match o.string(key)? {
            Some(s) if s.trim().is_empty() => Err(GateError::Config(format!(
                "`{key}` is empty: leave it out for the default"
            ))),
            other => Ok(other),
        }
    };
    settings.backend = non_empty("backend")?;
    settings.command = non_empty("command")?;
    settings.prompt = o.string("prompt")?;
    let guidelines = o.strings("guidelines")?;
    if !guidelines.is_empty() {
        settings.guidelines = guidelines;
    }
    if let Some(lines) = o.count("context_lines")? {
        settings.context_lines = u32::try_from(lines).unwrap_or(u32::MAX).min(500);
    }
    settings.timeout = check.settings.timeout;
    AiReviewGate::new(settings)
}
