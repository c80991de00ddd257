//! The documentation that travels with a change: an architecture decision record in MADR
//! format when the agent records a decision ([`adr`]), a Keep-a-Changelog fragment per issue
//! ([`changelog`]), and the proof-of-work pull-request body ([`pr_body`]).

pub mod adr;
pub mod changelog;
pub mod pr_body;

/// Why a document could not be written.
#[derive(Debug, thiserror::Error)]
pub enum DocsError {
    /// The input cannot make a document (empty title, unknown category, bad template).
    #[error("invalid document input: {0}")]
    Invalid(String),
    /// The file system refused.
    #[error("cannot write {path}: {source}")]
    Io {
        /// The file or folder.
        path: String,
        /// Why.
        source: std::io::Error,
    },
}

impl DocsError {
    /// The error's category name.
    pub fn category(&self) -> &'static str {
        match self {
            Self::Invalid(_) => "invalid_document",
            Self::Io { .. } => "document_write_error",
        }
    }

    fn io(path: &std::path::Path, source: std::io::Error) -> Self {
        Self::Io {
            path: path.display().to_string(),
            source,
        }
    }
}

/// One line of plain text: trimmed, control characters removed, at most `max` characters.
pub(crate) fn one_line(text: &str, max: usize) -> String {
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .filter(|c| !c.is_control())
        .take(max)
        .collect()
}

/// The `docs:` section of WORKFLOW.md (an extension section): where records go. Present
/// (even empty) means the agent gets the `record_decision` tool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocsConfig {
    /// ADR folder, relative to the workspace.
    pub adr_dir: String,
    /// Changelog fragment folder, relative to the workspace.
    pub changelog_dir: String,
}

impl Default for DocsConfig {
    fn default() -> Self {
        Self {
            adr_dir: "docs/adr".to_owned(),
            changelog_dir: "changelog.d".to_owned(),
        }
    }
}

/// `text` as a folder inside the workspace (relative, no `..`, not absolute), without a
/// trailing slash; `None` when it is not one.
pub fn folder_in_workspace(text: &str) -> Option<String> {
    let text = text.trim();
    let path = std::path::Path::new(text);
    let inside = !text.is_empty()
        && path.is_relative()
        && path.components().all(|c| {
            matches!(
                c,
                std::path::Component::Normal(_) | std::path::Component::CurDir
            )
        });
    inside.then(|| text.trim_end_matches('/').to_owned())
}

/// A folder inside the workspace: relative, no `..`, no absolute paths.
fn workspace_folder(key: &str, value: &serde_json::Value) -> Result<String, DocsError> {
    let text = value
        .as_str()
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| DocsError::Invalid(format!("docs.{key}: expected a folder path")))?;
    folder_in_workspace(text).ok_or_else(|| {
        DocsError::Invalid(format!(
            "docs.{key}: {text:?} must be a folder inside the workspace"
        ))
    })
}

impl DocsConfig {
    /// The JSON Schema (2020-12) of the `docs` section: what `from_section` accepts.
    pub fn schema() -> serde_json::Value {
        let defaults = Self::default();
        let folder = |what: &str, default: &str| {
            serde_json::json!({
                "description": format!("{what}, relative to the workspace (no `..`, not absolute)."),
                "type": "string", "minLength": 1, "default": default,
            })
        };
        serde_json::json!({
            "description": "Extension: documentation that travels with each change (decision \
                            records the agent writes with `record_decision`, changelog fragments).",
            "type": ["object", "null"],
            "properties": {
                "adr_dir": folder("The folder of architecture decision records", &defaults.adr_dir),
                "changelog_dir": folder("The folder of changelog fragments", &defaults.changelog_dir),
            },
            "additionalProperties": false,
        })
    }

    /// Reads the section (`None` when absent).
    pub fn from_section(section: Option<&serde_json::Value>) -> Result<Option<Self>, DocsError> {
        let Some(section) = section else {
            return Ok(None);
        };
        let mut config = Self::default();
        match section {
            serde_json::Value::Null => {}
            serde_json::Value::Object(map) => {
                for (key, value) in map {
                    match key.as_str() {
                        "adr_dir" => config.adr_dir = workspace_folder(key, value)?,
                        "changelog_dir" => config.changelog_dir = workspace_folder(key, value)?,
                        other => {
                            return Err(DocsError::Invalid(format!(
                                "docs.{other} is not a setting (adr_dir, changelog_dir)"
                            )))
                        }
                    }
                }
            }
            _ => return Err(DocsError::Invalid("docs: expected a map".to_owned())),
        }
        Ok(Some(config))
    }
}

#[cfg(test)]
mod config_tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_section_enables_records_and_keeps_folders_inside_the_workspace() {
        assert_eq!(DocsConfig::from_section(None).unwrap(), None);
        assert_eq!(
            DocsConfig::from_section(Some(&json!(null))).unwrap(),
            Some(DocsConfig::default())
        );
        let config = DocsConfig::from_section(Some(&json!({"adr_dir": "doc/decisions/"})))
            .unwrap()
            .unwrap();
        assert_eq!(config.adr_dir, "doc/decisions");
        for bad in [
            json!({"adr_dir": "../outside"}),
            json!({"adr_dir": "/etc"}),
            json!({"adr": "x"}),
            json!([1]),
        ] {
            assert!(DocsConfig::from_section(Some(&bad)).is_err(), "{bad}");
        }
    }
}
