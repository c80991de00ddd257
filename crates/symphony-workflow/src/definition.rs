//! Loading `WORKFLOW.md` into a [`WorkflowDefinition`] (SPEC §5.1, §5.2, §4.1.2).

use std::io::Read;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::error::WorkflowError;
use crate::front_matter;

/// The largest workflow file Symphony reads. Real ones are a few kilobytes; anything near this
/// is a mistake (a wrong path, a generated file) and is refused before it costs memory.
pub const MAX_WORKFLOW_BYTES: u64 = 1024 * 1024;

/// Picks the workflow file: the explicit path when given, else `WORKFLOW.md` in `cwd` (SPEC §5.1).
pub fn resolve_workflow_path(explicit: Option<&Path>, cwd: &Path) -> PathBuf {
    let path = explicit.map_or_else(|| PathBuf::from("WORKFLOW.md"), Path::to_path_buf);
    if path.is_absolute() {
        path
    } else {
        cwd.join(path)
    }
}

/// A parsed workflow file: the front matter as a raw map and the trimmed prompt template.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkflowDefinition {
    /// Absolute path of the file it came from.
    pub path: PathBuf,
    /// The YAML front matter's root map; empty when the file has none.
    pub config: Map<String, Value>,
    /// The Markdown body after the front matter, trimmed.
    pub prompt_template: String,
}

impl WorkflowDefinition {
    /// Reads and parses the file at `path`.
    pub fn load(path: &Path) -> Result<Self, WorkflowError> {
        let bytes = read_bounded(path)?;
        Self::parse(path, &bytes)
    }

    /// Parses workflow file contents; `path` is used for messages and relative paths.
    pub fn parse(path: &Path, bytes: &[u8]) -> Result<Self, WorkflowError> {
        let parse_error = |message: String, line: Option<usize>, column: Option<usize>| {
            WorkflowError::WorkflowParseError {
                path: path.to_path_buf(),
                message,
                line,
                column,
            }
        };
        let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        let text = std::str::from_utf8(bytes).map_err(|e| {
            let valid = &bytes[..e.valid_up_to()];
            let line = valid.iter().filter(|&&b| b == b'\n').count() + 1;
            parse_error(
                format!(
                    "the file is not valid UTF-8 text (bad byte at offset {})",
                    e.valid_up_to()
                ),
                Some(line),
                None,
            )
        })?;
        let split =
            front_matter::split(text).map_err(|m| parse_error(m.to_owned(), Some(1), None))?;
        let config = match split.yaml {
            None => Map::new(),
            Some(yaml) => parse_front_matter(path, yaml, split.yaml_first_line)?,
        };
        Ok(Self {
            path: path.to_path_buf(),
            config,
            prompt_template: split.body.trim().to_owned(),
        })
    }

    /// The folder holding the workflow file; relative paths in the config start here.
    pub fn dir(&self) -> &Path {
        self.path.parent().unwrap_or_else(|| Path::new("/"))
    }
}

pub(crate) fn read_bounded(path: &Path) -> Result<Vec<u8>, WorkflowError> {
    let missing = |source| WorkflowError::MissingWorkflowFile {
        path: path.to_path_buf(),
        source,
    };
    let file = std::fs::File::open(path).map_err(missing)?;
    let mut bytes = Vec::new();
    file.take(MAX_WORKFLOW_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(missing)?;
    if bytes.len() as u64 > MAX_WORKFLOW_BYTES {
        return Err(WorkflowError::WorkflowParseError {
            path: path.to_path_buf(),
            message: format!(
                "the file is larger than {} KiB; a workflow file is a short Markdown document",
                MAX_WORKFLOW_BYTES / 1024
            ),
            line: None,
            column: None,
        });
    }
    Ok(bytes)
}

fn parse_front_matter(
    path: &Path,
    yaml: &str,
    first_line: usize,
) -> Result<Map<String, Value>, WorkflowError> {
    // serde_yaml_ng refuses alias expansions past a fixed budget ("repetition limit exceeded"),
    // so an alias bomb fails fast instead of eating memory.
    let value: serde_yaml_ng::Value = serde_yaml_ng::from_str(yaml).map_err(|e| {
        let location = e.location();
        WorkflowError::WorkflowParseError {
            path: path.to_path_buf(),
            message: yaml_message(&e.to_string()),
            line: location.as_ref().map(|l| l.line() + first_line - 1),
            column: location.as_ref().map(|l| l.column()),
        }
    })?;
    let found = match &value {
        serde_yaml_ng::Value::Null => return Ok(Map::new()),
        serde_yaml_ng::Value::Mapping(_) => None,
        serde_yaml_ng::Value::Sequence(_) => Some("a list"),
        serde_yaml_ng::Value::String(_) => Some("a string"),
        serde_yaml_ng::Value::Number(_) => Some("a number"),
        serde_yaml_ng::Value::Bool(_) => Some("a boolean"),
        serde_yaml_ng::Value::Tagged(_) => Some("a tagged value"),
    };
    if let Some(found) = found {
        return Err(WorkflowError::WorkflowFrontMatterNotAMap {
            path: path.to_path_buf(),
            found,
        });
    }
    match serde_json::to_value(value) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(WorkflowError::WorkflowFrontMatterNotAMap {
            path: path.to_path_buf(),
            found: "not a map",
        }),
        Err(e) => Err(WorkflowError::WorkflowParseError {
            path: path.to_path_buf(),
            message: format!("unsupported YAML in front matter: {e} (map keys must be strings)"),
            line: None,
            column: None,
        }),
    }
}

fn yaml_message(raw: &str) -> String {
    let message = strip_yaml_location(raw);
    if message.contains("repetition limit exceeded") {
        // The alias-bomb guard: say what it means.
        return format!("invalid YAML front matter: too many alias expansions ({message})");
    }
    format!("invalid YAML front matter: {message}")
}

/// serde_yaml appends " at line L column C" itself; the error shows the file position instead.
fn strip_yaml_location(message: &str) -> String {
    match message.find(" at line ") {
        Some(i) if !message[i..].contains(", ") => message[..i].to_owned(),
        _ => message.to_owned(),
    }
}

pub(crate) fn fingerprint(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

pub(crate) fn read_workflow_bytes(path: &Path) -> Result<Vec<u8>, WorkflowError> {
    read_bounded(path)
}
