//! The agent tools of the local tracker, executed host-side and confined to the issues folder.

use std::path::{Path, PathBuf};

use serde_json::{json, Value};
use symphony_tracker::{ToolResult, ToolSpec};

use crate::file::parse_issue_file;

/// Moves the session's issue to another state.
pub const SET_STATE: &str = "local_issue_set_state";
/// Appends a comment to the session's issue.
pub const COMMENT: &str = "local_issue_comment";

const MAX_COMMENT_BYTES: usize = 64 * 1024;

pub(crate) fn specs() -> Vec<ToolSpec> {
    let set_state = ToolSpec::new(
        SET_STATE,
        "Move the issue you are working on to another state (for example `human review` or \
         `done`).",
        json!({
            "type": "object",
            "properties": {"state": {"type": "string", "minLength": 1, "maxLength": 100}},
            "required": ["state"],
            "additionalProperties": false
        }),
    );
    let comment = ToolSpec::new(
        COMMENT,
        "Append a comment (Markdown) to the issue you are working on.",
        json!({
            "type": "object",
            "properties": {"body": {"type": "string", "minLength": 1, "maxLength": MAX_COMMENT_BYTES}},
            "required": ["body"],
            "additionalProperties": false
        }),
    );
    vec![set_state.mutating(), comment.mutating()]
}

/// Who writes: the agent through its tools, or Symphony's own hand-off stage.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Author {
    Agent,
    Symphony,
}

pub(crate) fn execute(folder: &Path, name: &str, arguments: &Value, id: &str) -> ToolResult {
    execute_as(folder, name, arguments, id, Author::Agent)
}

pub(crate) fn execute_as(
    folder: &Path,
    name: &str,
    arguments: &Value,
    id: &str,
    author: Author,
) -> ToolResult {
    let path = match issue_path(folder, id) {
        Ok(path) => path,
        Err(message) => return ToolResult::failure(message),
    };
    let result = match name {
        SET_STATE => set_state(&path, id, arguments, author)
            .map(|(output, state)| ToolResult::moved(output, state)),
        COMMENT => comment(&path, id, arguments, author).map(ToolResult::ok),
        other => Err(format!(
            "unsupported tool {other:?}; this tracker offers {SET_STATE} and {COMMENT}"
        )),
    };
    result.unwrap_or_else(ToolResult::failure)
}

/// The file of issue `id`, which must be a plain file name inside `folder`.
pub(crate) fn issue_path(folder: &Path, id: &str) -> Result<PathBuf, String> {
    let plain = !id.is_empty()
        && !id.starts_with('.')
        && !id.contains(['/', '\\', '\0'])
        && id.len() <= 200;
    if !plain {
        return Err(format!(
            "issue id {id:?} does not name a file in the issues folder"
        ));
    }
    let path = folder.join(format!("{id}.md"));
    if !path.is_file() {
        return Err(format!("issue {id} no longer exists"));
    }
    Ok(path)
}

fn string_argument<'a>(arguments: &'a Value, key: &str, max: usize) -> Result<&'a str, String> {
    let value = arguments
        .get(key)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| format!("`{key}` must be a non-empty string"))?;
    if value.len() > max {
        return Err(format!("`{key}` is longer than {max} bytes"));
    }
    Ok(value)
}

/// Writes the new state; returns the output and the state as the tracker now reads it.
fn set_state(
    path: &Path,
    id: &str,
    arguments: &Value,
    author: Author,
) -> Result<(Value, String), String> {
    let state = string_argument(arguments, "state", 100)?;
    if state.contains(['\n', '\r']) {
        return Err("`state` must be one line".to_owned());
    }
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read issue {id}: {e}"))?;
    let updated = replace_state_line(&text, state)
        .ok_or_else(|| format!("issue {id} has no front matter to update"))?;
    // Never write a file the tracker could not read back.
    let issue =
        parse_issue_file(id, &updated).map_err(|e| format!("refusing to write issue {id}: {e}"))?;
    write_atomically(path, &updated)?;
    match author {
        Author::Agent => tracing::info!(issue_id = %id, state, "agent moved issue"),
        Author::Symphony => tracing::info!(issue_id = %id, state, "hand-off moved issue"),
    }
    Ok((json!({"id": id, "state": issue.state}), issue.state))
}

/// Replaces (or adds) the top-level `state:` line of the front matter, leaving the rest as
/// written, comments included.
fn replace_state_line(text: &str, state: &str) -> Option<String> {
    let mut lines: Vec<&str> = text.split_inclusive('\n').collect();
    if lines.first().map(|l| l.trim_end()) != Some("---") {
        return None;
    }
    let close = lines.iter().skip(1).position(|l| l.trim_end() == "---")? + 1;
    let quoted = serde_json::to_string(state).ok()?;
    let new_line = format!("state: {quoted}\n");
    match (1..close).find(|&i| lines[i].starts_with("state:")) {
        Some(i) => lines[i] = &new_line,
        None => lines.insert(close, &new_line),
    }
    Some(lines.concat())
}

fn comment(path: &Path, id: &str, arguments: &Value, author: Author) -> Result<Value, String> {
    let body = crate::review::defused(string_argument(arguments, "body", MAX_COMMENT_BYTES)?);
    let mut text =
        std::fs::read_to_string(path).map_err(|e| format!("cannot read issue {id}: {e}"))?;
    let at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    if !text.ends_with('\n') {
        text.push('\n');
    }
    let who = match author {
        Author::Agent => "the agent",
        Author::Symphony => "Symphony",
    };
    text.push_str(&format!("\n## Comment from {who} ({at})\n\n{body}\n"));
    parse_issue_file(id, &text).map_err(|e| format!("refusing to write issue {id}: {e}"))?;
    write_atomically(path, &text)?;
    Ok(json!({"id": id, "commented_at": at}))
}

/// Writes beside the file and renames over it, so a reader sees the old or the new file whole.
pub(crate) fn write_atomically(path: &Path, text: &str) -> Result<(), String> {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("issue.md");
    let temp = path.with_file_name(format!(".{name}.tmp-{}", std::process::id()));
    std::fs::write(&temp, text)
        .and_then(|()| std::fs::rename(&temp, path))
        .map_err(|e| {
            let _ = std::fs::remove_file(&temp);
            format!("cannot write {}: {e}", path.display())
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_state_line_is_replaced_in_place_keeping_comments() {
        let text = "---\n# owner: docs team\ntitle: t\nstate: todo   # set by hand\nlabels: [a]\n---\nbody\n";
        let out = replace_state_line(text, "human review").unwrap();
        assert_eq!(
            out,
            "---\n# owner: docs team\ntitle: t\nstate: \"human review\"\nlabels: [a]\n---\nbody\n"
        );
    }

    #[test]
    fn a_missing_state_line_is_added_before_the_closing_fence() {
        let out = replace_state_line("---\ntitle: t\n---\nbody", "done").unwrap();
        assert_eq!(out, "---\ntitle: t\nstate: \"done\"\n---\nbody");
        assert_eq!(replace_state_line("no front matter", "done"), None);
    }

    #[test]
    fn ids_that_escape_the_folder_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        for id in ["../etc/passwd", ".hidden", "a/b", "", "x\0y"] {
            assert!(issue_path(dir.path(), id).is_err(), "{id:?}");
        }
    }
}
