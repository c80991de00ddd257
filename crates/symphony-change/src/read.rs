//! Reading the change of a workspace with the `git` program, on a scratch copy of its index.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use crate::change_set::ChangeSet;
use crate::error::ChangeError;
use crate::parse::COMMIT_MARKER;

/// Commits of the branch read for [`ChangeSet::history`], newest first, at most.
pub const MAX_HISTORY_COMMITS: usize = 500;

impl ChangeSet {
    /// Reads the change of `workspace` against `base` (a commit-ish) with the `git` program.
    /// Refuses a workspace with an unresolved merge conflict: a path the index records as
    /// conflicted whose file still holds conflict markers. A conflicted path whose file no
    /// longer does (the agent edited the markers away, or deleted the file) is resolved as the
    /// file is: an agent cannot always stage its resolution, and a marker-free file is one.
    pub async fn from_workspace(
        workspace: &Path,
        base: &str,
        timeout: Duration,
    ) -> Result<Self, ChangeError> {
        let git = Git { workspace, timeout };
        let base = git
            .text(
                &["rev-parse", "--verify", &format!("{base}^{{commit}}")],
                None,
            )
            .await?;
        // `git add -A` would take a conflicted file, markers and all, as resolved.
        let unmerged = git.run(&["ls-files", "--unmerged", "-z"], None).await?;
        let unresolved: Vec<String> = unmerged_paths(&unmerged)
            .into_iter()
            .filter(|path| holds_conflict_markers(&workspace.join(path)))
            .collect();
        if !unresolved.is_empty() {
            return Err(ChangeError::Unmerged { paths: unresolved });
        }
        let tree = git.snapshot().await?;
        let diff = git
            .run(
                &[
                    "-c",
                    "core.quotepath=off",
                    "diff",
                    "--no-color",
                    "--no-ext-diff",
                    "--find-renames",
                    "--unified=0",
                    &base,
                    &tree,
                ],
                None,
            )
            .await?;
        let mut set = Self::parse(&String::from_utf8_lossy(&diff));
        let log = git
            .run(
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
            )
            .await?;
        set.history = Self::parse_log(&String::from_utf8_lossy(&log));
        set.base = base;
        set.tree = tree;
        Ok(set)
    }

    /// The tree id `git add -A` would record for `workspace`'s working tree (what
    /// [`ChangeSet::tree`] holds), read without touching its index: whether the files changed
    /// since a change was read, without reading the change again.
    pub async fn working_tree(workspace: &Path, timeout: Duration) -> Result<String, ChangeError> {
        Git { workspace, timeout }.snapshot().await
    }

    /// The change of `workspace` since it branched from `base_ref`: from the merge base of
    /// `HEAD` and `base_ref`, so the base branch moving on does not count as the change. With
    /// a merge under way (`MERGE_HEAD`, the base merged in for a review round), from the merge
    /// base of `base_ref` and the merge being made, so what the merge brings from the base is
    /// not counted as the change either.
    pub async fn since_branch_point(
        workspace: &Path,
        base_ref: &str,
        timeout: Duration,
    ) -> Result<Self, ChangeError> {
        let git = Git { workspace, timeout };
        let merging = git
            .run(
                &["rev-parse", "-q", "--verify", "MERGE_HEAD^{commit}"],
                None,
            )
            .await
            .is_ok();
        let mut args = vec!["merge-base", base_ref, "HEAD"];
        if merging {
            // `git merge-base A B C`: the base of A and a merge of B and C.
            args.push("MERGE_HEAD");
        }
        let base = git.text(&args, None).await?;
        Self::from_workspace(workspace, &base, timeout).await
    }
}

/// The paths of `git ls-files --unmerged -z` (`<mode> <id> <stage>\t<path>\0`), once each.
fn unmerged_paths(listing: &[u8]) -> Vec<String> {
    let mut paths: Vec<String> = Vec::new();
    for record in listing.split(|&b| b == 0).filter(|r| !r.is_empty()) {
        let path = record
            .iter()
            .position(|&b| b == b'\t')
            .map_or(record, |tab| &record[tab + 1..]);
        let path = String::from_utf8_lossy(path).into_owned();
        if paths.last() != Some(&path) {
            paths.push(path);
        }
    }
    paths
}

/// Whether the file at `path` still holds a conflict marker line (`<<<<<<< `, `>>>>>>> `):
/// `=======` alone is not one, Markdown underlines headings with it. A file that cannot be
/// read as one (gone, a symlink, a folder) holds none; one that cannot be read at all is
/// taken as still conflicted.
fn holds_conflict_markers(path: &Path) -> bool {
    use std::io::BufRead as _;
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.is_file() => {}
        Ok(_) => return false,
        Err(e) => return e.kind() != std::io::ErrorKind::NotFound,
    }
    let Ok(file) = std::fs::File::open(path) else {
        return true;
    };
    let mut reader = std::io::BufReader::new(file);
    let mut line = Vec::new();
    loop {
        line.clear();
        match reader.read_until(b'\n', &mut line) {
            Ok(0) => return false,
            Ok(_) => {
                let marker = |m: &[u8]| {
                    line.starts_with(m)
                        && matches!(line.get(m.len()), None | Some(b' ' | b'\n' | b'\r'))
                };
                if marker(b"<<<<<<<") || marker(b">>>>>>>") {
                    return true;
                }
            }
            Err(_) => return true,
        }
    }
}

/// `git` in one workspace, each command under the same time limit.
struct Git<'a> {
    workspace: &'a Path,
    timeout: Duration,
}

impl Git<'_> {
    /// The tree `git add -A` would record for the working tree, written with a scratch copy
    /// of the index (removed afterwards) so the agent's own index stays as it was.
    async fn snapshot(&self) -> Result<String, ChangeError> {
        let index = self
            .text(&["rev-parse", "--git-path", "index"], None)
            .await?;
        let index = self.workspace.join(index);
        let scratch = scratch_path(&index)?;
        if index.is_file() {
            // The index of a large repository is megabytes: copied off the async workers.
            let (from, to) = (index.clone(), scratch.clone());
            tokio::task::spawn_blocking(move || copy_index(&from, &to))
                .await
                .map_err(|e| ChangeError::Io {
                    what: "copying the index",
                    source: std::io::Error::other(e),
                })??;
        }
        let scratch_index = Some(scratch.as_path());
        let tree = async {
            self.run(&["add", "-A"], scratch_index).await?;
            self.text(&["write-tree"], scratch_index).await
        }
        .await;
        let _ = std::fs::remove_file(&scratch);
        tree
    }

    /// Runs `git <args>` and returns its trimmed standard output as text.
    async fn text(&self, args: &[&str], index: Option<&Path>) -> Result<String, ChangeError> {
        let out = self.run(args, index).await?;
        Ok(String::from_utf8_lossy(&out).trim().to_owned())
    }

    /// Runs `git <args>` (with `GIT_INDEX_FILE=index` when given) and returns its output.
    async fn run(&self, args: &[&str], index: Option<&Path>) -> Result<Vec<u8>, ChangeError> {
        let mut command = symphony_process::child_command("git");
        command
            .args(args)
            .current_dir(self.workspace)
            .stdin(Stdio::null())
            .kill_on_drop(true);
        if let Some(index) = index {
            command.env("GIT_INDEX_FILE", index);
        }
        let what = || format!("git {}", args.join(" "));
        let output = match tokio::time::timeout(self.timeout, command.output()).await {
            Ok(Ok(output)) => output,
            Ok(Err(e)) => {
                return Err(ChangeError::Git {
                    command: what(),
                    reason: e.to_string(),
                })
            }
            Err(_) => {
                return Err(ChangeError::TimedOut {
                    command: what(),
                    after_ms: self.timeout.as_millis(),
                })
            }
        };
        if !output.status.success() {
            return Err(ChangeError::Git {
                command: what(),
                reason: String::from_utf8_lossy(&output.stderr).trim().to_owned(),
            });
        }
        Ok(output.stdout)
    }
}

/// Copies the index with its modification time: git treats entries written in the same
/// instant as their index as "racily clean" and re-reads them, and a copy with a newer time
/// would hide a same-size edit made in that instant (a change the gates would miss).
fn copy_index(index: &Path, scratch: &Path) -> Result<(), ChangeError> {
    let failed = |source| ChangeError::Io {
        what: "copying the index",
        source,
    };
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

/// A fresh name next to the index (same filesystem, inside the git folder: never in the
/// worktree, where `git add -A` would take it).
fn scratch_path(index: &Path) -> Result<PathBuf, ChangeError> {
    let dir = index.parent().ok_or_else(|| ChangeError::Io {
        what: "finding the index's folder",
        source: std::io::Error::other(format!("{} has no folder", index.display())),
    })?;
    let name = format!(
        "symphony-change-index-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos())
    );
    Ok(dir.join(name))
}

#[cfg(test)]
mod tests {
    use super::{holds_conflict_markers, unmerged_paths};

    #[test]
    fn only_marker_lines_mean_a_conflict_is_still_there() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("f.txt");
        for (text, conflicted) in [
            ("a\n<<<<<<< HEAD\nb\n=======\nc\n>>>>>>> main\n", true),
            ("a\n>>>>>>> main\n", true),
            ("<<<<<<<\n", true),
            (
                "Title\n=======\n\nText with <<<<<<<< arrows and a <<<<<<< marker mid-line.\n",
                false,
            ),
            ("resolved\n", false),
        ] {
            std::fs::write(&file, text).unwrap();
            assert_eq!(holds_conflict_markers(&file), conflicted, "{text:?}");
        }
        assert!(
            !holds_conflict_markers(&dir.path().join("gone.txt")),
            "deleted: resolved"
        );
    }

    #[test]
    fn each_conflicted_path_is_named_once() {
        let listing = b"100644 1111111111111111111111111111111111111111 1\ta b.txt\0\
100644 2222222222222222222222222222222222222222 2\ta b.txt\0\
100644 3333333333333333333333333333333333333333 3\ta b.txt\0\
100644 4444444444444444444444444444444444444444 2\tsrc/\xc3\xa9.rs\0";
        assert_eq!(unmerged_paths(listing), ["a b.txt", "src/é.rs"]);
    }
}
