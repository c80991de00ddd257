//! Reading the SARIF 2.1.0 logs analyzers write, through a typed model of the part gates use.
//! Strict where it matters: a log that is not SARIF 2.1.0, a result without a message, a
//! region with impossible lines, a rule reference to no rule — each is an error, so a
//! gate reading it says `error` instead of passing on what it could not understand. Fields
//! Symphony does not use are ignored, as SARIF's `properties` bags and extensions allow.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::report::Severity;

/// Why a log could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SarifError {
    /// Not JSON, or JSON not shaped as SARIF (the serde message says where).
    #[error("not a SARIF log: {0}")]
    Shape(String),
    /// A SARIF log of another version.
    #[error("SARIF version {0:?}; only 2.1.0 is read")]
    Version(String),
    /// Shaped as SARIF but breaking one of its rules.
    #[error("invalid SARIF: {0}")]
    Invalid(String),
}

/// One result of an analyzer, its location resolved against the analysed folder.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AnalyzerResult {
    /// The analyzer (`tool.driver.name`).
    pub tool: String,
    /// The rule's id (`result` when the log names none).
    pub rule: String,
    /// How serious: the result's level, else its rule's default, else SARIF's `warning`.
    pub severity: Severity,
    /// The message.
    pub message: String,
    /// The file, relative to the analysed folder with `/` separators; `None` for a result
    /// with no location or one outside the folder.
    pub file: Option<String>,
    /// First line (1-based), when the result has a region with lines.
    pub start_line: Option<u32>,
    /// Last line (`start_line` when the region names none).
    pub end_line: Option<u32>,
    /// The tool's `fingerprints` and `partialFingerprints`, each under its own key.
    pub fingerprints: BTreeMap<String, String>,
    /// The region's source text when the log carries it.
    pub snippet: Option<String>,
    /// Whether the log says the result is suppressed (every suppression accepted).
    pub suppressed: bool,
}

/// What a log says: its results and whether the analyzer says it ran to completion.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct SarifReading {
    /// Results of every run, problems only (`kind` `fail`).
    pub results: Vec<AnalyzerResult>,
    /// Messages of invocations that did not succeed (`executionSuccessful: false`).
    pub failures: Vec<String>,
}

#[derive(Deserialize)]
struct Log {
    version: String,
    runs: Option<Vec<Run>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Run {
    tool: Tool,
    results: Option<Vec<RawResult>>,
    #[serde(default)]
    invocations: Vec<Invocation>,
    #[serde(default)]
    original_uri_base_ids: BTreeMap<String, ArtifactLocation>,
    #[serde(default)]
    artifacts: Vec<Artifact>,
}

#[derive(Deserialize)]
struct Tool {
    driver: Driver,
}

#[derive(Deserialize)]
struct Driver {
    name: String,
    #[serde(default)]
    rules: Vec<Rule>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Rule {
    id: String,
    default_configuration: Option<RuleConfiguration>,
}

#[derive(Deserialize)]
struct RuleConfiguration {
    level: Option<Level>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Invocation {
    execution_successful: bool,
    #[serde(default)]
    tool_execution_notifications: Vec<Notification>,
}

#[derive(Deserialize)]
struct Notification {
    message: Message,
}

#[derive(Deserialize, Clone, Copy)]
#[serde(rename_all = "camelCase")]
enum Level {
    None,
    Note,
    Warning,
    Error,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawResult {
    rule_id: Option<String>,
    rule_index: Option<i64>,
    rule: Option<RuleReference>,
    kind: Option<String>,
    level: Option<Level>,
    message: Message,
    #[serde(default)]
    locations: Vec<Location>,
    #[serde(default)]
    fingerprints: BTreeMap<String, String>,
    #[serde(default)]
    partial_fingerprints: BTreeMap<String, String>,
    #[serde(default)]
    suppressions: Vec<Suppression>,
}

#[derive(Deserialize)]
struct RuleReference {
    id: Option<String>,
    index: Option<i64>,
}

#[derive(Deserialize)]
struct Message {
    text: Option<String>,
    id: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Location {
    physical_location: Option<PhysicalLocation>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PhysicalLocation {
    artifact_location: Option<ArtifactLocation>,
    region: Option<Region>,
}

#[derive(Deserialize, Clone)]
#[serde(rename_all = "camelCase")]
struct ArtifactLocation {
    uri: Option<String>,
    uri_base_id: Option<String>,
    index: Option<i64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Region {
    start_line: Option<i64>,
    end_line: Option<i64>,
    snippet: Option<Snippet>,
}

#[derive(Deserialize)]
struct Snippet {
    text: Option<String>,
}

#[derive(Deserialize)]
struct Artifact {
    location: Option<ArtifactLocation>,
}

#[derive(Deserialize)]
struct Suppression {
    status: Option<String>,
}

impl Level {
    fn severity(self) -> Severity {
        match self {
            Self::Error => Severity::Error,
            Self::Warning => Severity::Warning,
            Self::Note | Self::None => Severity::Note,
        }
    }
}

/// Reads a log; `root` is the folder the analyzer ran on (absolute `file:` URIs under it
/// become relative paths).
pub fn read_sarif(bytes: &[u8], root: &Path) -> Result<SarifReading, SarifError> {
    let log: Log = serde_json::from_slice(bytes).map_err(|e| SarifError::Shape(e.to_string()))?;
    if log.version != "2.1.0" {
        return Err(SarifError::Version(log.version));
    }
    let roots = roots(root);
    let mut reading = SarifReading::default();
    for (r, run) in log.runs.unwrap_or_default().iter().enumerate() {
        for invocation in run.invocations.iter().filter(|i| !i.execution_successful) {
            let said: Vec<String> = invocation
                .tool_execution_notifications
                .iter()
                .filter_map(|n| n.message.text.clone())
                .collect();
            reading.failures.push(format!(
                "{} says it did not run to completion{}",
                run.tool.driver.name,
                if said.is_empty() {
                    String::new()
                } else {
                    format!(": {}", said.join("; "))
                }
            ));
        }
        for (i, result) in run.results.iter().flatten().enumerate() {
            let at = || format!("runs[{r}].results[{i}]");
            if result.kind.as_deref().is_some_and(|k| k != "fail") {
                continue;
            }
            let rule =
                rule_of(run, result).map_err(|e| SarifError::Invalid(format!("{}: {e}", at())))?;
            let message = result
                .message
                .text
                .clone()
                .or_else(|| result.message.id.clone())
                .ok_or_else(|| {
                    SarifError::Invalid(format!("{}: a message needs `text` or `id`", at()))
                })?;
            let level = result
                .level
                .or_else(|| rule.and_then(|r| r.default_configuration.as_ref()?.level))
                .unwrap_or(Level::Warning);
            let physical = result
                .locations
                .first()
                .and_then(|l| l.physical_location.as_ref());
            let file = physical
                .and_then(|p| p.artifact_location.as_ref())
                .and_then(|a| resolve(run, a, &roots, 0))
                .filter(|f| !f.is_empty());
            let region = physical.and_then(|p| p.region.as_ref());
            let (start_line, end_line) =
                lines(region).map_err(|e| SarifError::Invalid(format!("{}: {e}", at())))?;
            let mut fingerprints = BTreeMap::new();
            for (key, value) in &result.fingerprints {
                fingerprints.insert(format!("fingerprints/{key}"), value.clone());
            }
            for (key, value) in &result.partial_fingerprints {
                fingerprints.insert(format!("partialFingerprints/{key}"), value.clone());
            }
            reading.results.push(AnalyzerResult {
                tool: run.tool.driver.name.clone(),
                rule: result
                    .rule_id
                    .clone()
                    .or_else(|| result.rule.as_ref().and_then(|r| r.id.clone()))
                    .or_else(|| rule.map(|r| r.id.clone()))
                    .unwrap_or_else(|| "result".to_owned()),
                severity: level.severity(),
                message,
                file,
                start_line,
                end_line,
                fingerprints,
                snippet: region.and_then(|r| r.snippet.as_ref()?.text.clone()),
                suppressed: !result.suppressions.is_empty()
                    && result
                        .suppressions
                        .iter()
                        .all(|s| s.status.as_deref().is_none_or(|s| s == "accepted")),
            });
        }
    }
    Ok(reading)
}

/// The rule a result names by index (checked against the driver's rules) or by id.
fn rule_of<'a>(run: &'a Run, result: &RawResult) -> Result<Option<&'a Rule>, String> {
    let index = result
        .rule_index
        .or_else(|| result.rule.as_ref().and_then(|r| r.index));
    match index {
        Some(-1) | None => {}
        Some(i) => {
            return usize::try_from(i)
                .ok()
                .and_then(|i| run.tool.driver.rules.get(i))
                .map(Some)
                .ok_or_else(|| {
                    format!(
                        "rule index {i} but the driver lists {} rule(s)",
                        run.tool.driver.rules.len()
                    )
                })
        }
    }
    let id = result
        .rule_id
        .as_deref()
        .or_else(|| result.rule.as_ref().and_then(|r| r.id.as_deref()));
    Ok(id.and_then(|id| run.tool.driver.rules.iter().find(|r| r.id == id)))
}

fn lines(region: Option<&Region>) -> Result<(Option<u32>, Option<u32>), String> {
    let Some(region) = region else {
        return Ok((None, None));
    };
    let line = |value: Option<i64>, name: &str| -> Result<Option<u32>, String> {
        value
            .map(|l| {
                u32::try_from(l)
                    .ok()
                    .filter(|l| *l >= 1)
                    .ok_or_else(|| format!("`{name}` {l} is not a line number (1 or more)"))
            })
            .transpose()
    };
    let start = line(region.start_line, "startLine")?;
    let end = line(region.end_line, "endLine")?;
    match (start, end) {
        (Some(s), Some(e)) if e < s => Err(format!("`endLine` {e} is before `startLine` {s}")),
        (None, Some(_)) => Err("`endLine` without `startLine`".to_owned()),
        (Some(s), None) => Ok((Some(s), Some(s))),
        other => Ok(other),
    }
}

/// The analysed folder as given and as the file system names it (`/tmp` may be a link).
fn roots(root: &Path) -> Vec<PathBuf> {
    let mut roots = vec![root.to_path_buf()];
    if let Ok(canonical) = root.canonicalize() {
        if canonical != root {
            roots.push(canonical);
        }
    }
    roots
}

/// A location's path relative to the analysed folder: its `uriBaseId` chain resolved (at
/// most a few levels: SARIF forbids cycles, a hostile log may still hold one), percent-
/// decoded, `file:` URIs under the folder made relative. Outside the folder: `None`.
fn resolve(
    run: &Run,
    location: &ArtifactLocation,
    roots: &[PathBuf],
    depth: usize,
) -> Option<String> {
    if depth > 8 {
        return None;
    }
    let uri = match &location.uri {
        Some(uri) => uri.clone(),
        None => {
            let artifact = run.artifacts.get(usize::try_from(location.index?).ok()?)?;
            return resolve(run, artifact.location.as_ref()?, roots, depth + 1);
        }
    };
    let joined = match location
        .uri_base_id
        .as_ref()
        .and_then(|id| run.original_uri_base_ids.get(id))
    {
        // An unknown base id (`%SRCROOT%` left for the consumer) is the analysed folder.
        Some(base) if !is_absolute_uri(&uri) => {
            let prefix = resolve(run, base, roots, depth + 1)?;
            if prefix.is_empty() {
                uri
            } else {
                format!("{}/{uri}", prefix.trim_end_matches('/'))
            }
        }
        _ => uri,
    };
    relative(&joined, roots)
}

fn is_absolute_uri(uri: &str) -> bool {
    uri.starts_with("file:") || uri.starts_with('/')
}

fn relative(uri: &str, roots: &[PathBuf]) -> Option<String> {
    let path = match uri.strip_prefix("file://") {
        // `file:///abs` and `file://localhost/abs`; another host is not this machine.
        Some(rest) => match rest.find('/') {
            Some(0) => rest.to_owned(),
            Some(i) if &rest[..i] == "localhost" => rest[i..].to_owned(),
            _ => return None,
        },
        None => uri.strip_prefix("file:").unwrap_or(uri).to_owned(),
    };
    let decoded = percent_encoding::percent_decode_str(&path)
        .decode_utf8()
        .ok()?
        .into_owned();
    if decoded.starts_with('/') {
        let absolute = Path::new(&decoded);
        return roots.iter().find_map(|root| {
            let inner = absolute.strip_prefix(root).ok()?;
            Some(inner.to_str()?.to_owned())
        });
    }
    let mut parts: Vec<&str> = Vec::new();
    for part in decoded.split('/') {
        match part {
            "" | "." => {}
            // A relative path climbing out of the folder is not in it.
            ".." => {
                parts.pop()?;
            }
            other => parts.push(other),
        }
    }
    (!parts.is_empty()).then(|| parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(log: serde_json::Value) -> Result<SarifReading, SarifError> {
        read_sarif(log.to_string().as_bytes(), Path::new("/work/repo"))
    }

    fn log(results: serde_json::Value) -> serde_json::Value {
        serde_json::json!({
            "version": "2.1.0",
            "runs": [{
                "tool": {"driver": {"name": "lint", "rules": [
                    {"id": "R1", "defaultConfiguration": {"level": "error"}},
                    {"id": "R2"},
                ]}},
                "originalUriBaseIds": {"SRC": {"uri": "file:///work/repo/src/"}},
                "artifacts": [{"location": {"uri": "lib/a%20b.py", "uriBaseId": "SRC"}}],
                "results": results,
            }],
        })
    }

    #[test]
    fn locations_resolve_to_paths_in_the_folder() {
        let reading = read(log(serde_json::json!([
            {"ruleId": "R1", "message": {"text": "m"}, "locations": [{"physicalLocation": {
                "artifactLocation": {"uri": "file:///work/repo/%C3%A9t%C3%A9.py"},
                "region": {"startLine": 3}}}]},
            {"ruleIndex": 1, "message": {"text": "m"}, "locations": [{"physicalLocation": {
                "artifactLocation": {"index": 0}, "region": {"startLine": 2, "endLine": 4}}}]},
            {"ruleId": "R9", "level": "note", "message": {"id": "m9"}, "locations": [{"physicalLocation": {
                "artifactLocation": {"uri": "./x/../y.py", "uriBaseId": "%SRCROOT%"}}}]},
            {"ruleId": "R1", "message": {"text": "outside"}, "locations": [{"physicalLocation": {
                "artifactLocation": {"uri": "file:///etc/passwd"}}}]},
            {"ruleId": "R1", "kind": "pass", "level": "none", "message": {"text": "not a problem"}},
        ])))
        .unwrap();
        let got: Vec<_> = reading
            .results
            .iter()
            .map(|r| {
                (
                    r.rule.as_str(),
                    r.file.as_deref(),
                    r.start_line,
                    r.end_line,
                    r.severity,
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                ("R1", Some("été.py"), Some(3), Some(3), Severity::Error),
                (
                    "R2",
                    Some("src/lib/a b.py"),
                    Some(2),
                    Some(4),
                    Severity::Warning
                ),
                ("R9", Some("y.py"), None, None, Severity::Note),
                ("R1", None, None, None, Severity::Error),
            ]
        );
    }

    #[test]
    fn what_is_not_sarif_is_an_error() {
        let bad = [
            serde_json::json!({"runs": []}),
            serde_json::json!({"version": "2.0.0", "runs": []}),
            log(serde_json::json!([{"ruleId": "R1"}])),
            log(serde_json::json!([{"ruleId": "R1", "message": {}}])),
            log(serde_json::json!([{"ruleIndex": 7, "message": {"text": "m"}}])),
            log(serde_json::json!([{"message": {"text": "m"}, "level": "fatal"}])),
            log(
                serde_json::json!([{"message": {"text": "m"}, "locations": [{"physicalLocation": {
                "region": {"startLine": 0}}}]}]),
            ),
            log(
                serde_json::json!([{"message": {"text": "m"}, "locations": [{"physicalLocation": {
                "region": {"startLine": 5, "endLine": 2}}}]}]),
            ),
        ];
        for log in bad {
            assert!(read(log.clone()).is_err(), "{log}");
        }
        assert!(read_sarif(b"Found 3 errors.", Path::new("/")).is_err());
    }

    #[test]
    fn failed_invocations_and_suppressions_are_read() {
        let mut value = log(serde_json::json!([
            {"ruleId": "R1", "message": {"text": "m"}, "suppressions": [{"kind": "inSource"}]},
            {"ruleId": "R1", "message": {"text": "m"}, "suppressions": [{"kind": "external", "status": "underReview"}]},
        ]));
        value["runs"][0]["invocations"] = serde_json::json!([{
            "executionSuccessful": false,
            "toolExecutionNotifications": [{"message": {"text": "parser crashed"}}],
        }]);
        let reading = read(value).unwrap();
        assert_eq!(
            reading
                .results
                .iter()
                .map(|r| r.suppressed)
                .collect::<Vec<_>>(),
            [true, false]
        );
        assert_eq!(reading.failures.len(), 1);
        assert!(reading.failures[0].contains("parser crashed"));
    }
}
