//! The change a gate judges: every file that differs between the workspace's base commit
//! and its working tree (committed or not, new files included, ignored files excluded),
//! with the lines it adds.
//!
//! `git` computes it against a throwaway copy of the index, so the agent's own index is never
//! touched: `GIT_INDEX_FILE=<copy> git add -A` then `git diff --cached <base>`.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use serde::Serialize;

use crate::GateError;

/// How a file changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum FileChange {
    /// New file.
    Added,
    /// Changed in place.
    Modified,
    /// Removed.
    Deleted,
    /// Moved (and maybe changed).
    Renamed {
        /// The old path.
        from: String,
    },
}

/// A line the change adds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AddedLine {
    /// 1-based line number in the new file.
    pub line: u32,
    /// The text, without the newline.
    pub text: String,
}

/// One changed file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChangedFile {
    /// Path in the new tree (the old one for deletions), relative to the workspace.
    pub path: String,
    /// How it changed.
    pub change: FileChange,
    /// Whether git considers it binary (no lines then).
    pub binary: bool,
    /// Lines added, in order.
    pub added: Vec<AddedLine>,
    /// How many lines were removed.
    pub removed: u32,
}

/// What one commit of the branch added, for gates that care about history (a secret
/// committed and removed later is still pushed with the branch).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CommitPatch {
    /// The commit id.
    pub commit: String,
    /// Its changed files.
    pub files: Vec<ChangedFile>,
}

/// Commits of the branch read for [`ChangeSet::history`], newest first, at most.
pub const MAX_HISTORY_COMMITS: usize = 500;

/// Every changed file between a base commit and the working tree.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ChangeSet {
    /// The base commit id.
    pub base: String,
    /// Changed files, in git's order (by path).
    pub files: Vec<ChangedFile>,
    /// The branch's own commits since `base` (newest first), each with what it added.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub history: Vec<CommitPatch>,
}

impl ChangeSet {
    /// Lines added over all files.
    pub fn lines_added(&self) -> usize {
        self.files.iter().map(|f| f.added.len()).sum()
    }

    /// Lines removed over all files.
    pub fn lines_removed(&self) -> usize {
        self.files.iter().map(|f| f.removed as usize).sum()
    }

    /// The changed file at `path`, if any.
    pub fn file(&self, path: &str) -> Option<&ChangedFile> {
        self.files.iter().find(|f| f.path == path)
    }

    /// Reads the change of `workspace` against `base` (a commit-ish) with the `git` program.
    pub async fn from_workspace(
        workspace: &Path,
        base: &str,
        timeout: Duration,
    ) -> Result<Self, GateError> {
        let base = String::from_utf8_lossy(
            &git(
                workspace,
                &["rev-parse", "--verify", &format!("{base}^{{commit}}")],
                None,
                timeout,
            )
            .await?,
        )
        .trim()
        .to_owned();
        let index = git(
            workspace,
            &["rev-parse", "--git-path", "index"],
            None,
            timeout,
        )
        .await?;
        let index = workspace.join(String::from_utf8_lossy(&index).trim());
        let scratch = tempfile_in_git_dir(&index)?;
        if index.is_file() {
            // The index of a large repository is megabytes: copied off the async workers.
            let (from, to) = (index.clone(), scratch.clone());
            tokio::task::spawn_blocking(move || copy_index(&from, &to))
                .await
                .map_err(|e| GateError::Git(format!("copying the index: {e}")))??;
        }
        let scratch_path = scratch.to_string_lossy().into_owned();
        let result = async {
            git(workspace, &["add", "-A"], Some(&scratch_path), timeout).await?;
            git(
                workspace,
                &[
                    "-c",
                    "core.quotepath=off",
                    "diff",
                    "--cached",
                    "--no-color",
                    "--no-ext-diff",
                    "--find-renames",
                    "--unified=0",
                    &base,
                ],
                Some(&scratch_path),
                timeout,
            )
            .await
        }
        .await;
        let _ = std::fs::remove_file(&scratch);
        let mut set = Self::parse(&String::from_utf8_lossy(&result?));
        let log = git(
            workspace,
            &[
                "-c",
                "core.quotepath=off",
                "log",
                "--no-color",
                "--no-ext-diff",
                "--no-renames",
                "--unified=0",
                "-p",
                &format!("--max-count={MAX_HISTORY_COMMITS}"),
                &format!("--format={COMMIT_MARKER}%H"),
                &format!("{base}..HEAD"),
                "--",
            ],
            None,
            timeout,
        )
        .await?;
        set.history = Self::parse_log(&String::from_utf8_lossy(&log));
        set.base = base;
        Ok(set)
    }

    /// Parses `git log -p --unified=0 --format=<COMMIT_MARKER>%H` output.
    pub fn parse_log(log: &str) -> Vec<CommitPatch> {
        let mut commits = Vec::new();
        let mut current: Option<(String, String)> = None;
        for line in log.split_inclusive('\n') {
            if let Some(id) = line.strip_prefix(COMMIT_MARKER) {
                if let Some((commit, diff)) = current.take() {
                    commits.push(CommitPatch {
                        commit,
                        files: Self::parse(&diff).files,
                    });
                }
                current = Some((id.trim().to_owned(), String::new()));
            } else if let Some((_, diff)) = current.as_mut() {
                diff.push_str(line);
            }
        }
        if let Some((commit, diff)) = current {
            commits.push(CommitPatch {
                commit,
                files: Self::parse(&diff).files,
            });
        }
        commits
    }

    /// The change of `workspace` since it branched from `base_ref`: from the merge base of
    /// `HEAD` and `base_ref`, so the base branch moving on does not count as the change.
    pub async fn since_branch_point(
        workspace: &Path,
        base_ref: &str,
        timeout: Duration,
    ) -> Result<Self, GateError> {
        let base = git(workspace, &["merge-base", "HEAD", base_ref], None, timeout).await?;
        let base = String::from_utf8_lossy(&base).trim().to_owned();
        Self::from_workspace(workspace, &base, timeout).await
    }

    /// Parses `git diff --unified=0` output.
    pub fn parse(diff: &str) -> Self {
        let mut files: Vec<ChangedFile> = Vec::new();
        let mut next_line = 0u32;
        for line in diff.lines() {
            if let Some(rest) = line.strip_prefix("diff --git ") {
                // `a/<old> b/<new>`; a rename's `rename to` line names it exactly later.
                let path = header_path(rest);
                files.push(ChangedFile {
                    path,
                    change: FileChange::Modified,
                    binary: false,
                    added: Vec::new(),
                    removed: 0,
                });
                continue;
            }
            let Some(file) = files.last_mut() else {
                continue;
            };
            if line.starts_with("new file mode") {
                file.change = FileChange::Added;
            } else if line.starts_with("deleted file mode") {
                file.change = FileChange::Deleted;
            } else if let Some(from) = line.strip_prefix("rename from ") {
                file.change = FileChange::Renamed {
                    from: unquote(from),
                };
            } else if let Some(to) = line.strip_prefix("rename to ") {
                file.path = unquote(to);
            } else if line.starts_with("Binary files ") {
                file.binary = true;
            } else if let Some(hunk) = line.strip_prefix("@@ ") {
                // `@@ -a,b +c,d @@`: added lines start at c.
                next_line = hunk
                    .split_whitespace()
                    .find_map(|part| part.strip_prefix('+'))
                    .and_then(|range| range.split(',').next())
                    .and_then(|start| start.parse().ok())
                    .unwrap_or(0);
            } else if line.starts_with("+++ ") || line.starts_with("--- ") {
                // The header named the file already (these lines end in a tab when the
                // name has a space, and say /dev/null for one side).
            } else if let Some(text) = line.strip_prefix('+') {
                file.added.push(AddedLine {
                    line: next_line,
                    text: text.to_owned(),
                });
                next_line += 1;
            } else if line.starts_with('-') {
                file.removed += 1;
            }
        }
        Self {
            base: String::new(),
            files,
            history: Vec::new(),
        }
    }
}

/// Copies the index with its modification time: git treats entries written in the same
/// instant as their index as "racily clean" and re-reads them, and a copy with a newer time
/// would hide a same-size edit made in that instant (a change the gates would miss).
fn copy_index(index: &Path, scratch: &Path) -> Result<(), GateError> {
    let failed = |e: std::io::Error| GateError::Git(format!("copying the index: {e}"));
    let modified = std::fs::metadata(index)
        .and_then(|m| m.modified())
        .map_err(failed)?;
    std::fs::copy(index, scratch).map_err(failed)?;
    std::fs::File::options()
        .write(true)
        .open(scratch)
        .and_then(|f| f.set_modified(modified))
        .map_err(failed)
}

/// Starts each commit in the history log; no diff line can start with it (they start with
/// `diff`, `index`, `@@`, `+`, `-`, ...).
const COMMIT_MARKER: &str = "symphony-commit ";

/// The new path of a `diff --git` header (`a/<old> b/<new>`, each side C-quoted when unusual).
/// An unquoted name may itself contain ` b/`, so the split is not searched for: without a
/// rename both sides are the same name, which fixes where they meet (as `git apply` reads it).
fn header_path(rest: &str) -> String {
    if let Some((old, after)) = quoted_prefix(rest) {
        let new = after.strip_prefix(' ').unwrap_or(after);
        let new = quoted_prefix(new).map_or_else(|| new.to_owned(), |(n, _)| n);
        let new = new.strip_prefix("b/").map(str::to_owned);
        return new.unwrap_or_else(|| old.trim_start_matches("a/").to_owned());
    }
    if let Some(at) = rest.find(" \"b/") {
        return unquote(&rest[at + 1..]).trim_start_matches("b/").to_owned();
    }
    let half = rest.len().saturating_sub(5) / 2;
    if let (Some(old), Some(new)) = (
        rest.get(2..2 + half),
        rest.get(2 + half..).and_then(|r| r.strip_prefix(" b/")),
    ) {
        if rest.starts_with("a/") && old == new {
            return new.to_owned();
        }
    }
    // A rename with different names: its `rename to` line names the file.
    rest.rsplit_once(" b/")
        .map_or_else(|| rest.to_owned(), |(_, new)| new.to_owned())
}

/// A C-quoted string at the start of `text` (`"..."`), unquoted, and what follows it.
fn quoted_prefix(text: &str) -> Option<(String, &str)> {
    let body = text.strip_prefix('"')?;
    let mut escaped = false;
    for (at, c) in body.char_indices() {
        match c {
            '\\' if !escaped => escaped = true,
            '"' if !escaped => {
                return Some((unquote(&text[..at + 2]), &body[at + 1..]));
            }
            _ => escaped = false,
        }
    }
    None
}

/// git quotes unusual paths C-style (`"a\tb"`); plain ones come as they are.
fn unquote(path: &str) -> String {
    let Some(inner) = path.strip_prefix('"').and_then(|p| p.strip_suffix('"')) else {
        return path.to_owned();
    };
    let mut bytes = Vec::new();
    let mut chars = inner.bytes().peekable();
    while let Some(b) = chars.next() {
        if b != b'\\' {
            bytes.push(b);
            continue;
        }
        match chars.next() {
            Some(b'n') => bytes.push(b'\n'),
            Some(b't') => bytes.push(b'\t'),
            Some(b'r') => bytes.push(b'\r'),
            Some(b'a') => bytes.push(0x07),
            Some(b'b') => bytes.push(0x08),
            Some(b'f') => bytes.push(0x0c),
            Some(b'v') => bytes.push(0x0b),
            Some(b'"') => bytes.push(b'"'),
            Some(b'\\') => bytes.push(b'\\'),
            Some(d @ b'0'..=b'7') => {
                let mut value = u32::from(d - b'0');
                for _ in 0..2 {
                    if let Some(&n @ b'0'..=b'7') = chars.peek() {
                        value = value * 8 + u32::from(n - b'0');
                        chars.next();
                    }
                }
                bytes.push(value as u8);
            }
            Some(other) => bytes.push(other),
            None => {}
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

fn tempfile_in_git_dir(index: &Path) -> Result<std::path::PathBuf, GateError> {
    let dir = index
        .parent()
        .ok_or_else(|| GateError::Git("the index has no folder".to_owned()))?;
    let name = format!(
        "symphony-gates-index-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos())
    );
    Ok(dir.join(name))
}

async fn git(
    workspace: &Path,
    args: &[&str],
    index: Option<&str>,
    timeout: Duration,
) -> Result<Vec<u8>, GateError> {
    let mut command = symphony_process::child_command("git");
    command
        .args(args)
        .current_dir(workspace)
        .stdin(Stdio::null())
        .kill_on_drop(true);
    if let Some(index) = index {
        command.env("GIT_INDEX_FILE", index);
    }
    let what = format!("git {}", args.join(" "));
    let output = match tokio::time::timeout(timeout, command.output()).await {
        Ok(Ok(output)) => output,
        Ok(Err(e)) => return Err(GateError::Git(format!("{what}: {e}"))),
        Err(_) => {
            return Err(GateError::Git(format!(
                "{what}: no answer within {} ms",
                timeout.as_millis()
            )))
        }
    };
    if !output.status.success() {
        return Err(GateError::Git(format!(
            "{what}: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        )));
    }
    Ok(output.stdout)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIFF: &str = "diff --git a/src/lib.rs b/src/lib.rs
index 1111111..2222222 100644
--- a/src/lib.rs
+++ b/src/lib.rs
@@ -3,0 +4,2 @@ fn main() {
+let a = 1;
+let b = 2;
@@ -10 +12 @@
-old
+new
diff --git a/new.txt b/new.txt
new file mode 100644
index 0000000..3333333
--- /dev/null
+++ b/new.txt
@@ -0,0 +1 @@
+hello
diff --git a/gone.txt b/gone.txt
deleted file mode 100644
index 4444444..0000000
--- a/gone.txt
+++ /dev/null
@@ -1,2 +0,0 @@
-x
-y
diff --git a/old name.md b/new name.md
similarity index 90%
rename from old name.md
rename to new name.md
diff --git a/logo.png b/logo.png
new file mode 100644
index 0000000..5555555
Binary files /dev/null and b/logo.png differ
diff --git \"a/tab\\there\" \"b/tab\\there\"
new file mode 100644
--- /dev/null
+++ \"b/tab\\there\"
@@ -0,0 +1 @@
+x
";

    #[test]
    fn unified_diffs_parse_into_files_and_added_lines() {
        let set = ChangeSet::parse(DIFF);
        let paths: Vec<&str> = set.files.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "src/lib.rs",
                "new.txt",
                "gone.txt",
                "new name.md",
                "logo.png",
                "tab\there"
            ]
        );
        let lib = set.file("src/lib.rs").unwrap();
        let added: Vec<(u32, &str)> = lib
            .added
            .iter()
            .map(|l| (l.line, l.text.as_str()))
            .collect();
        assert_eq!(added, [(4, "let a = 1;"), (5, "let b = 2;"), (12, "new")]);
        assert_eq!(lib.removed, 1);
        assert_eq!(set.file("new.txt").unwrap().change, FileChange::Added);
        assert_eq!(set.file("gone.txt").unwrap().change, FileChange::Deleted);
        assert_eq!(set.file("gone.txt").unwrap().removed, 2);
        assert_eq!(
            set.file("new name.md").unwrap().change,
            FileChange::Renamed {
                from: "old name.md".into()
            }
        );
        assert!(set.file("logo.png").unwrap().binary);
        assert_eq!(set.lines_added(), 5);
    }

    /// A name may contain ` b/`, spaces (git then ends `+++` lines with a tab) or control
    /// characters (quoted C-style); each file keeps its exact name.
    #[test]
    fn unusual_names_are_read_exactly() {
        let diff = "diff --git a/x b/c d b/x b/c d\nnew file mode 100644\n--- /dev/null\n+++ b/x b/c d\t\n@@ -0,0 +1 @@\n+hi\n\
diff --git \"a/f\\fv\\v\\a\\303\\251\" \"b/f\\fv\\v\\a\\303\\251\"\nnew file mode 100644\n\
diff --git a/bin b/x b/bin b/x\nnew file mode 100644\nBinary files /dev/null and b/bin b/x differ\n\
diff --git a/old b/name b/new b/name\nsimilarity index 100%\nrename from old b/name\nrename to new b/name\n";
        let paths: Vec<String> = ChangeSet::parse(diff)
            .files
            .into_iter()
            .map(|f| f.path)
            .collect();
        assert_eq!(
            paths,
            ["x b/c d", "f\u{c}v\u{b}\u{7}é", "bin b/x", "new b/name"]
        );
    }
}
