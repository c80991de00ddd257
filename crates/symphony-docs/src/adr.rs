//! Architecture decision records in MADR 4.0 format (`docs/adr/NNNN-slug.md`), numbered after
//! the highest record already there. Written when the agent records a decision through the
//! `record_decision` tool.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::json;

use crate::{one_line, DocsError};

/// What the agent decided.
#[derive(Debug, Clone, Deserialize)]
pub struct Decision {
    /// Short title ("Use SQLite for the run history").
    pub title: String,
    /// The problem and its forces.
    pub context: String,
    /// The options considered (the chosen one included).
    #[serde(default)]
    pub options: Vec<String>,
    /// The chosen option.
    pub chosen: String,
    /// Why.
    pub rationale: String,
    /// Consequences, good and bad.
    #[serde(default)]
    pub consequences: Vec<String>,
    /// `proposed`, `accepted` (default), `deprecated`, `superseded`.
    #[serde(default)]
    pub status: Option<String>,
}

/// The `record_decision` tool's name.
pub const TOOL_NAME: &str = "record_decision";

/// The tool's input schema (JSON Schema), for agent runners.
pub fn tool_schema() -> serde_json::Value {
    json!({
        "type": "object",
        "properties": {
            "title": {"type": "string", "minLength": 3, "maxLength": 120},
            "context": {"type": "string", "minLength": 1},
            "options": {"type": "array", "items": {"type": "string"}},
            "chosen": {"type": "string", "minLength": 1},
            "rationale": {"type": "string", "minLength": 1},
            "consequences": {"type": "array", "items": {"type": "string"}},
            "status": {"type": "string", "enum": ["proposed", "accepted", "deprecated", "superseded"]}
        },
        "required": ["title", "context", "chosen", "rationale"],
        "additionalProperties": false
    })
}

/// `Use SQLite for runs!` → `use-sqlite-for-runs`.
pub fn slug(title: &str) -> String {
    let mut slug = String::new();
    for c in title.to_lowercase().chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c);
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
    }
    let slug: String = slug.trim_end_matches('-').chars().take(60).collect();
    let slug = slug.trim_end_matches('-').to_owned();
    if slug.is_empty() {
        "decision".to_owned()
    } else {
        slug
    }
}

/// The number after the highest `NNNN-*.md` in `dir` (1 for an empty or missing folder).
pub fn next_number(dir: &Path) -> u32 {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter_map(|e| {
                    let name = e.file_name().to_string_lossy().into_owned();
                    let (number, rest) = name.split_once('-')?;
                    (number.len() == 4 && rest.ends_with(".md"))
                        .then(|| number.parse::<u32>().ok())
                        .flatten()
                })
                .max()
                .unwrap_or(0)
        })
        .unwrap_or(0)
        + 1
}

/// The record's Markdown.
pub fn render(decision: &Decision, date: &str, decided_by: &str) -> Result<String, DocsError> {
    let title = one_line(&decision.title, 120);
    if title.len() < 3 || decision.chosen.trim().is_empty() || decision.rationale.trim().is_empty()
    {
        return Err(DocsError::Invalid(
            "a decision needs a title, the chosen option and a rationale".to_owned(),
        ));
    }
    let status = decision.status.as_deref().unwrap_or("accepted");
    if !["proposed", "accepted", "deprecated", "superseded"].contains(&status) {
        return Err(DocsError::Invalid(format!(
            "status {status:?} is not a MADR status"
        )));
    }
    let chosen = one_line(&decision.chosen, 200);
    let mut options: Vec<String> = decision.options.iter().map(|o| one_line(o, 200)).collect();
    if !options.contains(&chosen) {
        options.insert(0, chosen.clone());
    }
    let mut text = format!(
        "---\nstatus: {status}\ndate: {date}\ndecision-makers: {}\n---\n\n# {title}\n\n## Context and Problem Statement\n\n{}\n\n## Considered Options\n\n",
        one_line(decided_by, 120),
        decision.context.trim()
    );
    for option in &options {
        text.push_str(&format!("* {option}\n"));
    }
    text.push_str(&format!(
        "\n## Decision Outcome\n\nChosen option: \"{chosen}\", because {}\n",
        decision.rationale.trim()
    ));
    if !decision.consequences.is_empty() {
        text.push_str("\n### Consequences\n\n");
        for consequence in &decision.consequences {
            text.push_str(&format!("* {}\n", one_line(consequence, 500)));
        }
    }
    Ok(text)
}

/// Writes the record as the next `NNNN-slug.md` in `dir` (created if missing); never
/// overwrites, even when another writer takes a number at the same time.
pub fn write(
    dir: &Path,
    decision: &Decision,
    date: &str,
    decided_by: &str,
) -> Result<PathBuf, DocsError> {
    let text = render(decision, date, decided_by)?;
    std::fs::create_dir_all(dir).map_err(|e| DocsError::io(dir, e))?;
    let slug = slug(&decision.title);
    for _ in 0..100 {
        let path = dir.join(format!("{:04}-{slug}.md", next_number(dir)));
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
        {
            Ok(mut file) => {
                file.write_all(text.as_bytes())
                    .map_err(|e| DocsError::io(&path, e))?;
                return Ok(path);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(DocsError::io(&path, e)),
        }
    }
    Err(DocsError::Invalid(format!(
        "no free ADR number in {}",
        dir.display()
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decision() -> Decision {
        Decision {
            title: "Use SQLite for the run history!".into(),
            context: "Runs must survive restarts.".into(),
            options: vec!["Postgres".into()],
            chosen: "SQLite".into(),
            rationale: "it is embedded and needs no server.".into(),
            consequences: vec!["Good, because nothing to operate".into()],
            status: None,
        }
    }

    #[test]
    fn records_are_numbered_after_the_highest_and_never_overwrite() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("0007-old.md"), "x").unwrap();
        std::fs::write(dir.path().join("notes.md"), "x").unwrap();
        let first = write(dir.path(), &decision(), "2026-11-24", "agent for ABC-1").unwrap();
        assert_eq!(
            first.file_name().unwrap(),
            "0008-use-sqlite-for-the-run-history.md"
        );
        let second = write(dir.path(), &decision(), "2026-11-24", "agent").unwrap();
        assert_eq!(
            second.file_name().unwrap(),
            "0009-use-sqlite-for-the-run-history.md"
        );
        let text = std::fs::read_to_string(first).unwrap();
        assert!(
            text.starts_with("---\nstatus: accepted\ndate: 2026-11-24\n"),
            "{text}"
        );
        assert!(
            text.contains("## Considered Options\n\n* SQLite\n* Postgres\n"),
            "{text}"
        );
        assert!(
            text.contains("Chosen option: \"SQLite\", because it is embedded"),
            "{text}"
        );
    }

    #[test]
    fn bad_decisions_are_refused() {
        let mut d = decision();
        d.chosen = " ".into();
        assert!(render(&d, "2026-11-24", "x").is_err());
        let mut d = decision();
        d.status = Some("maybe".into());
        assert!(render(&d, "2026-11-24", "x").is_err());
        assert_eq!(slug("../../etc/passwd"), "etc-passwd");
        assert_eq!(slug("!!!"), "decision");
    }
}
