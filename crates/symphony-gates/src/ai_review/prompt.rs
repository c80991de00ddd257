//! What the reviewer is shown: the issue, the diff, the files around each hunk (numbered
//! lines, so findings can name them), the repository's review guidelines — rendered through a
//! Liquid template (the default ships; a check's `prompt` overrides it). Everything is bounded:
//! a large change is cut, and the prompt says so.

use std::path::Path;
use std::time::Duration;

use serde_json::{json, Value};
use symphony_change::{ChangeSet, FileChange};
use symphony_process::run_bounded;

use crate::gate::GateIssue;

/// The default review prompt. Variables: `issue` (`identifier`, `title`, `description`,
/// `url`), `diff`, `diff_truncated`, `files` (`path`, `excerpt`), `files_truncated`,
/// `guidelines` (with `guidelines_path`), `tool`, `block_severity`.
pub const DEFAULT_PROMPT: &str = r#"You are reviewing a change another engineer (an AI coding agent) made for the issue below, before any person sees it. You are a reviewer only: do not edit files, run nothing that changes the workspace. You may read any file in the workspace.

## The issue: {{ issue.identifier }}: {{ issue.title }}
{% if issue.description %}{{ issue.description }}
{% endif %}
## The change
```diff
{{ diff }}
```
{% if diff_truncated %}(The diff was cut here; read the files themselves for the rest.)
{% endif %}
## The changed files around each hunk (line numbers as in the changed file)
{% for file in files %}
### {{ file.path }}
```
{{ file.excerpt }}
```
{% endfor %}{% if files_truncated %}(More files changed than are shown here.)
{% endif %}{% if guidelines %}
## This repository's review guidelines ({{ guidelines_path }})
{{ guidelines }}
{% endif %}
## What to do
Look for real problems the change brings: security (injection, unsafe input handling, secrets, missing authorization), correctness (wrong logic, unhandled errors, races, data loss), missing or weak tests, and performance, maintainability, style or docs issues worth a comment. Report only problems in this change, each on the lines of the changed file where it is. Severity: critical (exploitable or data-losing), high (a real defect or vulnerability), medium (should be fixed), low (minor), info (a remark). Findings at {{ block_severity }} or above stop the change until they are fixed; do not inflate or deflate severities.

When you are done, call the `{{ tool }}` tool exactly once with your review: `findings` (an empty list if there is nothing to report) and a short `summary`. Your answer counts only through that tool.
"#;

/// Bounds of what the prompt shows.
#[derive(Debug, Clone)]
pub(crate) struct PromptLimits {
    pub diff_bytes: usize,
    pub context_lines: u32,
    pub excerpt_bytes: usize,
    pub guideline_bytes: usize,
}

impl Default for PromptLimits {
    fn default() -> Self {
        Self {
            diff_bytes: 200_000,
            context_lines: 20,
            excerpt_bytes: 200_000,
            guideline_bytes: 20_000,
        }
    }
}

/// Cuts `text` to at most `max` bytes on a line boundary; says whether it cut.
fn cut(text: &str, max: usize) -> (String, bool) {
    if text.len() <= max {
        return (text.to_owned(), false);
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let end = text[..end].rfind('\n').unwrap_or(end);
    (text[..end].to_owned(), true)
}

/// The change as a unified diff (the tree the gates judge against the base; new files too).
pub(crate) async fn unified_diff(
    workspace: &Path,
    change: &ChangeSet,
    remove_env: &[String],
    timeout: Duration,
) -> Result<String, String> {
    let mut git = symphony_process::child_command("git");
    git.args([
        "-c",
        "core.quotepath=off",
        "diff",
        "--no-color",
        "--no-ext-diff",
        "--find-renames",
        "--unified=3",
        &change.base,
    ]);
    if !change.tree.is_empty() {
        git.arg(&change.tree);
    }
    git.current_dir(workspace);
    for name in remove_env {
        git.env_remove(name);
    }
    match run_bounded(git, timeout).await {
        Ok(done) if done.status.success() => Ok(done.output),
        Ok(done) => Err(format!(
            "`git diff` failed: {}",
            done.output.lines().last().unwrap_or("")
        )),
        Err(e) => Err(format!("`git diff` did not run: {e:?}")),
    }
}

/// Each changed text file's added lines with `context` lines around them, numbered.
fn excerpts(workspace: &Path, change: &ChangeSet, limits: &PromptLimits) -> (Vec<Value>, bool) {
    let mut files = Vec::new();
    let mut used = 0usize;
    for file in &change.files {
        if file.binary || matches!(file.change, FileChange::Deleted) || file.added.is_empty() {
            continue;
        }
        let Ok(bytes) = std::fs::read(workspace.join(&file.path)) else {
            continue;
        };
        let text = String::from_utf8_lossy(&bytes);
        let lines: Vec<&str> = text.lines().collect();
        let mut ranges: Vec<(u32, u32)> = Vec::new();
        for added in &file.added {
            let start = added.line.saturating_sub(limits.context_lines).max(1);
            let end = added.line.saturating_add(limits.context_lines);
            match ranges.last_mut() {
                Some(last) if start <= last.1 + 1 => last.1 = last.1.max(end),
                _ => ranges.push((start, end)),
            }
        }
        let width = lines.len().to_string().len();
        let mut excerpt = String::new();
        for (i, (start, end)) in ranges.iter().enumerate() {
            if i > 0 {
                excerpt.push_str("...\n");
            }
            for n in *start..=(*end).min(lines.len() as u32) {
                excerpt.push_str(&format!("{n:>width$} | {}\n", lines[n as usize - 1]));
            }
        }
        if used + excerpt.len() > limits.excerpt_bytes {
            return (files, true);
        }
        used += excerpt.len();
        files.push(json!({"path": file.path, "excerpt": excerpt.trim_end()}));
    }
    (files, false)
}

/// The first of `paths` that is a readable file in the workspace, and its (bounded) text.
fn guidelines(workspace: &Path, paths: &[String], max: usize) -> Option<(String, String)> {
    paths.iter().find_map(|path| {
        let text = std::fs::read_to_string(workspace.join(path)).ok()?;
        Some((path.clone(), cut(&text, max).0))
    })
}

/// Everything the template may use.
pub(crate) struct PromptInput<'a> {
    pub workspace: &'a Path,
    pub change: &'a ChangeSet,
    pub issue: Option<&'a GateIssue>,
    pub diff: &'a str,
    pub guideline_paths: &'a [String],
    pub tool: &'a str,
    pub block_severity: &'a str,
    pub limits: &'a PromptLimits,
}

/// Renders `template` (the default when `None`); a template that fails is an error (the
/// workflow's own prompt is never silently replaced).
pub(crate) fn render(template: Option<&str>, input: &PromptInput<'_>) -> Result<String, String> {
    let (diff, diff_truncated) = cut(input.diff, input.limits.diff_bytes);
    let (files, files_truncated) = excerpts(input.workspace, input.change, input.limits);
    let guide = guidelines(
        input.workspace,
        input.guideline_paths,
        input.limits.guideline_bytes,
    );
    let issue = input.issue.map_or_else(
        || json!({"identifier": "", "title": "", "description": null, "url": null}),
        |i| json!({"identifier": i.identifier, "title": i.title, "description": i.description, "url": i.url}),
    );
    let globals = json!({
        "issue": issue,
        "diff": diff,
        "diff_truncated": diff_truncated,
        "files": files,
        "files_truncated": files_truncated,
        "guidelines": guide.as_ref().map(|g| g.1.clone()),
        "guidelines_path": guide.as_ref().map(|g| g.0.clone()),
        "tool": input.tool,
        "block_severity": input.block_severity,
    });
    let parser = liquid::ParserBuilder::with_stdlib()
        .build()
        .map_err(|e| e.to_string())?;
    let template = parser
        .parse(template.unwrap_or(DEFAULT_PROMPT))
        .map_err(|e| format!("the review prompt is not a valid Liquid template: {e}"))?;
    let globals = liquid::model::to_object(&globals).map_err(|e| e.to_string())?;
    template
        .render(&globals)
        .map_err(|e| format!("the review prompt failed to render: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use symphony_change::{AddedLine, ChangedFile};

    #[test]
    fn excerpts_number_the_lines_around_each_hunk() {
        let dir = tempfile::tempdir().unwrap();
        let text: String = (1..=60).map(|n| format!("line {n}\n")).collect();
        std::fs::write(dir.path().join("a.py"), text).unwrap();
        let mut file = ChangedFile::new("a.py", FileChange::Modified);
        file.added.push(AddedLine::new(10, "line 10"));
        file.added.push(AddedLine::new(50, "line 50"));
        let change = ChangeSet::new("base", vec![file]);
        let limits = PromptLimits {
            context_lines: 2,
            ..PromptLimits::default()
        };
        let (files, truncated) = excerpts(dir.path(), &change, &limits);
        assert!(!truncated);
        assert_eq!(
            files[0]["excerpt"],
            " 8 | line 8\n 9 | line 9\n10 | line 10\n11 | line 11\n12 | line 12\n...\n48 | line 48\n49 | line 49\n50 | line 50\n51 | line 51\n52 | line 52"
        );
    }

    #[test]
    fn a_broken_template_is_an_error_not_a_silent_default() {
        let dir = tempfile::tempdir().unwrap();
        let change = ChangeSet::new("base", vec![]);
        let input = PromptInput {
            workspace: dir.path(),
            change: &change,
            issue: None,
            diff: "",
            guideline_paths: &[],
            tool: "submit_review",
            block_severity: "high",
            limits: &PromptLimits::default(),
        };
        assert!(render(Some("{% for %}"), &input).is_err());
        let text = render(None, &input).unwrap();
        assert!(text.contains("call the `submit_review` tool"), "{text}");
    }
}
