//! The reviewer's answer: its shape (a typed model whose JSON Schema the reviewer is given as
//! its tool's arguments) and the checks a well-shaped answer must still pass. Anything else is
//! not an answer: the gate says `error`, never `pass`.

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;
use symphony_change::ChangeSet;

/// How serious a finding is, most serious first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReviewSeverity {
    /// Exploitable or data-losing: must not ship.
    Critical,
    /// A real defect or vulnerability.
    High,
    /// Should be fixed, not urgent.
    Medium,
    /// Minor.
    Low,
    /// A remark.
    Info,
}

impl ReviewSeverity {
    /// The lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Critical => "critical",
            Self::High => "high",
            Self::Medium => "medium",
            Self::Low => "low",
            Self::Info => "info",
        }
    }

    /// The severity named `name`.
    pub fn from_name(name: &str) -> Option<Self> {
        [
            Self::Critical,
            Self::High,
            Self::Medium,
            Self::Low,
            Self::Info,
        ]
        .into_iter()
        .find(|s| s.as_str() == name)
    }

    /// Whether this is at least as serious as `other`.
    pub fn at_least(self, other: Self) -> bool {
        self <= other
    }
}

/// What a finding is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReviewCategory {
    /// Injection, secrets, authentication, unsafe input handling.
    Security,
    /// Wrong behaviour, crashes, races, data loss.
    Correctness,
    /// Missing or weak tests.
    Tests,
    /// Needless slowness or resource use.
    Performance,
    /// Hard to change or understand.
    Maintainability,
    /// Naming, formatting, idiom.
    Style,
    /// Documentation.
    Docs,
}

impl ReviewCategory {
    /// The lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Security => "security",
            Self::Correctness => "correctness",
            Self::Tests => "tests",
            Self::Performance => "performance",
            Self::Maintainability => "maintainability",
            Self::Style => "style",
            Self::Docs => "docs",
        }
    }
}

/// One problem the reviewer found.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewFinding {
    /// The file, relative to the repository root (as in the diff).
    pub file: String,
    /// First line of the problem (1-based, in the file as changed).
    #[schemars(range(min = 1))]
    pub start_line: u32,
    /// Last line (the first again for one line).
    #[schemars(range(min = 1))]
    pub end_line: u32,
    /// How serious.
    pub severity: ReviewSeverity,
    /// What it is about.
    pub category: ReviewCategory,
    /// What is wrong and why it matters.
    #[schemars(length(min = 1))]
    pub message: String,
    /// How to fix it, when there is a clear way.
    #[serde(default)]
    pub suggested_fix: Option<String>,
}

/// The answer: every finding (an empty list when there is nothing to report) and a summary.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewAnswer {
    /// The findings.
    pub findings: Vec<ReviewFinding>,
    /// The review in a few sentences.
    #[schemars(length(min = 1))]
    pub summary: String,
}

/// The JSON Schema of [`ReviewAnswer`], self-contained (no `$ref`), as a tool's arguments.
pub fn answer_schema() -> Value {
    let settings = schemars::generate::SchemaSettings::draft2020_12().with(|s| {
        s.inline_subschemas = true;
    });
    let mut schema = settings
        .into_generator()
        .into_root_schema_for::<ReviewAnswer>()
        .to_value();
    if let Some(map) = schema.as_object_mut() {
        // Tool schemas are plain objects; the meta-schema and title are noise to a model.
        map.remove("$schema");
        map.remove("title");
    }
    schema
}

/// `value` read as an answer about `change`: well shaped, every line range real, every file
/// one the change holds (a finding on a file the change does not touch could never be on a
/// changed line, and is more likely a misread path than a review).
pub fn read_answer(value: &Value, change: &ChangeSet) -> Result<ReviewAnswer, String> {
    let answer: ReviewAnswer = serde_json::from_value(value.clone())
        .map_err(|e| format!("the review does not match its schema: {e}"))?;
    if answer.summary.trim().is_empty() {
        return Err("`summary` is empty".to_owned());
    }
    for (i, finding) in answer.findings.iter().enumerate() {
        let at = format!("findings[{i}]");
        if finding.start_line == 0 || finding.end_line < finding.start_line {
            return Err(format!(
                "{at}: lines {}..{} are not a range of 1-based lines",
                finding.start_line, finding.end_line
            ));
        }
        if finding.message.trim().is_empty() {
            return Err(format!("{at}: `message` is empty"));
        }
        if change.file(&finding.file).is_none() {
            return Err(format!(
                "{at}: {:?} is not a file this change touches (use the path as the diff shows it)",
                finding.file
            ));
        }
    }
    Ok(answer)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use symphony_change::{AddedLine, ChangedFile, FileChange};

    fn change() -> ChangeSet {
        let mut file = ChangedFile::new("app/db.py", FileChange::Modified);
        file.added.push(AddedLine::new(4, "q = f\"...{name}\""));
        ChangeSet::new("base", vec![file])
    }

    fn finding() -> Value {
        json!({"file": "app/db.py", "start_line": 4, "end_line": 4, "severity": "high",
               "category": "security", "message": "SQL built from input"})
    }

    #[test]
    fn a_well_formed_answer_is_read() {
        let answer = read_answer(
            &json!({"findings": [finding()], "summary": "one issue"}),
            &change(),
        )
        .unwrap();
        assert_eq!(answer.findings[0].severity, ReviewSeverity::High);
        assert!(ReviewSeverity::Critical.at_least(ReviewSeverity::High));
        assert!(!ReviewSeverity::Medium.at_least(ReviewSeverity::High));
    }

    #[test]
    fn anything_else_is_refused_with_the_reason() {
        let mut extra = finding();
        extra["confidence"] = json!(0.9);
        let mut backwards = finding();
        backwards["end_line"] = json!(2);
        let mut elsewhere = finding();
        elsewhere["file"] = json!("app/other.py");
        let mut severity = finding();
        severity["severity"] = json!("blocker");
        for (answer, why) in [
            (json!("Looks good to me!"), "schema"),
            (json!({"findings": []}), "summary"),
            (json!({"findings": [extra], "summary": "s"}), "confidence"),
            (
                json!({"findings": [backwards], "summary": "s"}),
                "not a range",
            ),
            (
                json!({"findings": [elsewhere], "summary": "s"}),
                "not a file this change",
            ),
            (json!({"findings": [severity], "summary": "s"}), "blocker"),
            (json!({"findings": [], "summary": " "}), "empty"),
        ] {
            let error = read_answer(&answer, &change()).unwrap_err();
            assert!(error.contains(why), "{answer}: {error}");
        }
    }

    #[test]
    fn the_schema_is_self_contained_and_names_every_field() {
        let schema = answer_schema();
        let text = schema.to_string();
        assert!(!text.contains("$ref"), "{text}");
        let item = &schema["properties"]["findings"]["items"];
        for field in [
            "file",
            "start_line",
            "end_line",
            "severity",
            "category",
            "message",
        ] {
            assert!(
                item["required"].as_array().unwrap().contains(&json!(field)),
                "{field}: {item}"
            );
        }
        assert_eq!(item["additionalProperties"], json!(false));
    }
}
