//! A workspace branch's own history, read with gix: the commits since it left its base, with
//! their messages, and a file as one of them has it. Plan rounds (ADR 0020) are found this way:
//! what Symphony decided is kept in commits on the branch, not in a store beside it.

use std::path::Path;

use gix::bstr::ByteSlice;

use crate::branch::BranchError;

/// One commit of a branch.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct BranchCommit {
    /// The commit id (hex).
    pub id: String,
    /// Its tree id (hex).
    pub tree: String,
    /// Its whole message, lossily decoded.
    pub message: String,
}

impl BranchCommit {
    /// A commit with `id`, `tree` and `message`.
    pub fn new(id: impl Into<String>, tree: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            tree: tree.into(),
            message: message.into(),
        }
    }
}

fn read_error(what: &str, e: impl std::fmt::Display) -> BranchError {
    BranchError::Commit(format!("{what}: {e}"))
}

/// The commits reachable from `HEAD` of `workspace` and not from `base_ref` (a full ref name,
/// such as `refs/remotes/origin/main`), oldest first; at most `limit`, the newest kept. A
/// missing `base_ref` is an error, not "everything": the branch point is what the history
/// is counted from. Blocking: call it from `spawn_blocking`.
pub fn branch_commits(
    workspace: &Path,
    base_ref: &str,
    limit: usize,
) -> Result<Vec<BranchCommit>, BranchError> {
    let repo = gix::open(workspace).map_err(|e| read_error("open", e))?;
    let head = repo
        .head_id()
        .map_err(|e| read_error("resolve HEAD", e))?
        .detach();
    let base = repo
        .find_reference(base_ref)
        .map_err(|e| read_error(&format!("find {base_ref}"), e))?
        .peel_to_id()
        .map_err(|e| read_error(&format!("resolve {base_ref}"), e))?
        .detach();
    let walk = repo
        .rev_walk([head])
        .with_hidden([base])
        .all()
        .map_err(|e| read_error("walk the branch", e))?;
    let mut commits = Vec::new();
    for info in walk {
        let info = info.map_err(|e| read_error("walk the branch", e))?;
        let commit = info.object().map_err(|e| read_error("read a commit", e))?;
        let message = commit
            .message_raw()
            .map_err(|e| read_error("read a commit", e))?
            .to_str_lossy()
            .into_owned();
        let tree = commit
            .tree_id()
            .map_err(|e| read_error("read a commit's tree", e))?
            .to_string();
        commits.push(BranchCommit {
            id: info.id.to_string(),
            tree,
            message,
        });
        if commits.len() >= limit {
            break;
        }
    }
    commits.reverse();
    Ok(commits)
}

/// The bytes of the file at `path` (slash-separated, relative to the repository root) in
/// `commit`; `None` when the commit has no file there (absent, or a folder or submodule).
/// Blocking.
pub fn file_at(workspace: &Path, commit: &str, path: &str) -> Result<Option<Vec<u8>>, BranchError> {
    let repo = gix::open(workspace).map_err(|e| read_error("open", e))?;
    let id = gix::ObjectId::from_hex(commit.as_bytes())
        .map_err(|e| read_error(&format!("commit id {commit:?}"), e))?;
    let tree = repo
        .find_commit(id)
        .map_err(|e| read_error(&format!("find commit {commit}"), e))?
        .tree()
        .map_err(|e| read_error(&format!("read the tree of {commit}"), e))?;
    let entry = tree
        .lookup_entry(path.split('/').map(str::as_bytes))
        .map_err(|e| read_error(&format!("look up {path:?} in {commit}"), e))?;
    let Some(entry) = entry else {
        return Ok(None);
    };
    if !entry.mode().is_blob() {
        return Ok(None);
    }
    let object = entry
        .object()
        .map_err(|e| read_error(&format!("read {path:?} in {commit}"), e))?;
    Ok(Some(object.detach().data))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    fn git(dir: &Path, args: &[&str]) -> String {
        let out = Command::new("git")
            .args(["-c", "user.name=T", "-c", "user.email=t@example.com"])
            .args(args)
            .current_dir(dir)
            .output()
            .expect("git runs");
        assert!(out.status.success(), "git {args:?}: {out:?}");
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    #[test]
    fn the_branch_history_is_what_left_the_base_and_files_read_as_committed() {
        let dir = tempfile::tempdir().unwrap();
        let repo = dir.path();
        git(repo, &["init", "-q", "--initial-branch=main"]);
        std::fs::write(repo.join("a.txt"), "base\n").unwrap();
        git(repo, &["add", "-A"]);
        git(repo, &["commit", "-q", "-m", "base"]);
        git(repo, &["update-ref", "refs/remotes/origin/main", "HEAD"]);
        git(repo, &["checkout", "-q", "-b", "symphony/X-1"]);
        std::fs::create_dir_all(repo.join("docs/adr")).unwrap();
        std::fs::write(repo.join("docs/adr/0001-x.md"), "# Plan ✓\n").unwrap();
        git(repo, &["add", "-A"]);
        git(
            repo,
            &["commit", "-q", "-m", "Plan\n\nSymphony-Plan-Round: 1"],
        );
        let first = git(repo, &["rev-parse", "HEAD"]);
        std::fs::write(repo.join("a.txt"), "changed\n").unwrap();
        git(repo, &["commit", "-q", "-am", "Code"]);

        let commits = branch_commits(repo, "refs/remotes/origin/main", 100).unwrap();
        assert_eq!(commits.len(), 2, "{commits:?}");
        assert_eq!(commits[0].id, first, "oldest first");
        assert!(commits[0].message.ends_with("Symphony-Plan-Round: 1\n"));
        assert_eq!(commits[0].tree, git(repo, &["rev-parse", "HEAD~1^{tree}"]));
        assert_eq!(commits[1].message, "Code\n");
        let newest = branch_commits(repo, "refs/remotes/origin/main", 1).unwrap();
        assert_eq!(newest.len(), 1);
        assert_eq!(newest[0].message, "Code\n", "the limit keeps the newest");

        assert_eq!(
            file_at(repo, &first, "docs/adr/0001-x.md")
                .unwrap()
                .as_deref(),
            Some("# Plan ✓\n".as_bytes())
        );
        assert_eq!(file_at(repo, &first, "docs/adr/0002-y.md").unwrap(), None);
        assert_eq!(file_at(repo, &first, "docs").unwrap(), None, "a folder");
        assert!(branch_commits(repo, "refs/remotes/origin/nope", 10).is_err());
        assert!(file_at(repo, "not-an-id", "a.txt").is_err());
    }
}
