//! The workspace branch at hand-off: commit the judged tree of what the agent left (gix) and push
//! the branch (the `git` program: gix cannot push, and `git` brings the user's transports and
//! credential helpers). See docs/adr/0010.

use std::path::Path;
use std::time::Duration;

use gix::bstr::ByteSlice;
use symphony_process::{describe_status, run_bounded, RunError};

/// Why the branch could not be committed or pushed.
#[derive(Debug, thiserror::Error)]
pub enum BranchError {
    /// Reading the worktree or writing the commit failed.
    #[error("cannot commit the workspace: {0}")]
    Commit(String),
    /// `git push` failed or timed out.
    #[error("cannot push the branch: {0}")]
    Push(String),
}

impl BranchError {
    /// The error's category name.
    pub fn category(&self) -> &'static str {
        match self {
            Self::Commit(_) => "handoff_commit_error",
            Self::Push(_) => "handoff_push_error",
        }
    }
}

/// Who Symphony's commits are by (never the user's global git identity by accident).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// Display name.
    pub name: String,
    /// Email.
    pub email: String,
}

impl Default for Identity {
    fn default() -> Self {
        Self {
            name: "Symphony".to_owned(),
            email: "symphony@localhost".to_owned(),
        }
    }
}

fn commit_error(what: &str, e: impl std::fmt::Display) -> BranchError {
    BranchError::Commit(format!("{what}: {e}"))
}

/// The commit `HEAD` of `workspace` points at.
pub fn head_commit(workspace: &Path) -> Result<String, BranchError> {
    let repo = gix::open(workspace).map_err(|e| commit_error("open", e))?;
    let id = repo
        .head_id()
        .map_err(|e| commit_error("resolve HEAD", e))?;
    Ok(id.to_string())
}

/// Commits `tree` (a tree id, as `symphony_change::ChangeSet::tree` records the working tree
/// the gates judged) on top of `HEAD` as one commit on the current branch, and resets the index to it
/// so `git status` is clean afterwards. `None` when `HEAD` already has that tree: nothing to
/// commit, no empty commit. Blocking: call it from `spawn_blocking`.
///
/// The tree is computed once, by whoever reads the change; committing it (rather than
/// re-reading the worktree here) means what is proposed is exactly what was judged.
pub fn commit_tree(
    workspace: &Path,
    tree: &str,
    message: &str,
    identity: &Identity,
) -> Result<Option<String>, BranchError> {
    commit(workspace, tree, message, identity, false)
}

/// Like [`commit_tree`], but always commits, even when `HEAD` already has `tree`: a commit
/// whose message is the record (a plan round's, ADR 0020), whether or not the agent committed
/// the files itself. Blocking.
pub fn commit_record(
    workspace: &Path,
    tree: &str,
    message: &str,
    identity: &Identity,
) -> Result<String, BranchError> {
    commit(workspace, tree, message, identity, true)?
        .ok_or_else(|| BranchError::Commit("the record commit was not written".to_owned()))
}

fn commit(
    workspace: &Path,
    tree: &str,
    message: &str,
    identity: &Identity,
    always: bool,
) -> Result<Option<String>, BranchError> {
    let repo = gix::open(workspace).map_err(|e| commit_error("open", e))?;
    let head = repo
        .head_commit()
        .map_err(|e| commit_error("read HEAD (a workspace branch has a commit)", e))?;
    let head_tree = head.tree_id().map_err(|e| commit_error("HEAD's tree", e))?;
    let tree = gix::ObjectId::from_hex(tree.as_bytes())
        .map_err(|e| commit_error(&format!("tree id {tree:?}"), e))?;
    let kind = repo
        .find_header(tree)
        .map_err(|e| commit_error(&format!("find tree {tree}"), e))?
        .kind();
    if kind != gix::object::Kind::Tree {
        return Err(BranchError::Commit(format!(
            "{tree} is a {kind}, not a tree"
        )));
    }
    // A merge under way (the base merged before a review round, conflicts resolved by the
    // agent) is committed as a merge, so the branch contains the base and the push stays a
    // fast-forward.
    let merging = merge_head(&repo)?;
    if tree == head_tree.detach() && merging.is_none() && !always {
        return Ok(None);
    }
    let when = gix::date::Time::now_local_or_utc();
    let mut time = gix::date::parse::TimeBuf::default();
    let signature = gix::actor::SignatureRef {
        name: identity.name.as_str().into(),
        email: identity.email.as_str().into(),
        time: when.to_str(&mut time),
    };
    let commit = repo
        .commit_as(
            signature,
            signature,
            "HEAD",
            message,
            tree,
            std::iter::once(head.id).chain(merging),
        )
        .map_err(|e| commit_error("write the commit", e))?
        .detach();
    let mut fresh = repo
        .index_from_tree(&tree)
        .map_err(|e| commit_error("rebuild the index", e))?;
    fresh
        .write(Default::default())
        .map_err(|e| commit_error("write the index", e))?;
    if merging.is_some() {
        for done in MERGE_STATE {
            match std::fs::remove_file(repo.git_dir().join(done)) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(commit_error(&format!("remove {done}"), e)),
            }
        }
    }
    Ok(Some(commit.to_string()))
}

/// The files of a merge under way, in the worktree's own git directory.
const MERGE_STATE: [&str; 4] = ["MERGE_HEAD", "MERGE_MSG", "MERGE_MODE", "AUTO_MERGE"];

/// The commit being merged into `HEAD`, when a merge is under way (`MERGE_HEAD`).
fn merge_head(repo: &gix::Repository) -> Result<Option<gix::ObjectId>, BranchError> {
    let path = repo.git_dir().join("MERGE_HEAD");
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(commit_error("read MERGE_HEAD", e)),
    };
    // One line per merged commit; Symphony merges one, and an octopus is not its to commit.
    let mut ids = text.lines().filter(|l| !l.trim().is_empty());
    let (Some(first), None) = (ids.next(), ids.next()) else {
        return Err(BranchError::Commit(
            "MERGE_HEAD names more than one commit; finish or abort that merge by hand".to_owned(),
        ));
    };
    gix::ObjectId::from_hex(first.trim().as_bytes())
        .map(Some)
        .map_err(|e| commit_error("MERGE_HEAD", e))
}

/// Pushes the local `branch` of `workspace` to the same branch on `remote`. Fast-forward only:
/// a remote branch that moved elsewhere is an error for a person, never overwritten. With
/// `replacing`, the remote branch may be replaced, but only while it is still at that commit
/// (`--force-with-lease`): a branch Symphony rebased replaces Symphony's own last push and
/// nothing anyone pushed since.
pub async fn push_branch(
    workspace: &Path,
    remote: &str,
    branch: &str,
    replacing: Option<&str>,
    timeout: Duration,
) -> Result<(), BranchError> {
    if remote.starts_with('-') || branch.starts_with('-') {
        return Err(BranchError::Push(format!(
            "refusing remote {remote:?} / branch {branch:?}"
        )));
    }
    if let Some(expected) = replacing {
        if expected.len() < 40 || !expected.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(BranchError::Push(format!(
                "refusing to replace {branch:?} at {expected:?}: not a full commit id"
            )));
        }
    }
    let refspec = format!("refs/heads/{branch}:refs/heads/{branch}");
    let lease =
        replacing.map(|expected| format!("--force-with-lease=refs/heads/{branch}:{expected}"));
    let mut command = symphony_process::child_command("git");
    command
        .args(["push", "--porcelain"])
        .args(lease.as_slice())
        .args(["--", remote, &refspec])
        .current_dir(workspace)
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_ASKPASS", "true");
    match run_bounded(command, timeout).await {
        Ok(done) if done.status.success() => Ok(()),
        Ok(done) => Err(BranchError::Push(format!(
            "`git push {remote} {refspec}` failed ({}): {}",
            describe_status(&done.status),
            done.output.trim()
        ))),
        Err(RunError::TimedOut { output }) => Err(BranchError::Push(format!(
            "`git push` timed out after {} s: {}",
            timeout.as_secs(),
            output.trim()
        ))),
        Err(RunError::Spawn(e)) => Err(BranchError::Push(format!("cannot run git: {e}"))),
    }
}

/// The branch `refs/remotes/<remote>/HEAD` names (the remote's default branch), if recorded.
pub fn remote_default_branch(workspace: &Path, remote: &str) -> Option<String> {
    let repo = gix::open(workspace).ok()?;
    let head = repo
        .find_reference(format!("refs/remotes/{remote}/HEAD").as_str())
        .ok()?;
    let target = head
        .target()
        .try_name()?
        .as_bstr()
        .to_str()
        .ok()?
        .to_owned();
    target
        .strip_prefix(&format!("refs/remotes/{remote}/"))
        .map(str::to_owned)
}

/// Subjects of the commits reachable from `head` but not from `base`, oldest first, at most
/// `limit` (the newest are kept).
pub fn commit_subjects(
    workspace: &Path,
    base: &str,
    head: &str,
    limit: usize,
) -> Result<Vec<String>, BranchError> {
    let repo = gix::open(workspace).map_err(|e| commit_error("open", e))?;
    let parse = |id: &str| {
        gix::ObjectId::from_hex(id.as_bytes()).map_err(|e| commit_error(&format!("id {id}"), e))
    };
    let walk = repo
        .rev_walk([parse(head)?])
        .with_hidden([parse(base)?])
        .all()
        .map_err(|e| commit_error("walk the branch", e))?;
    let mut subjects = Vec::new();
    for info in walk {
        let info = info.map_err(|e| commit_error("walk the branch", e))?;
        let commit = info
            .object()
            .map_err(|e| commit_error("read a commit", e))?;
        let message = commit
            .message_raw()
            .map_err(|e| commit_error("read a commit", e))?;
        let subject = message.lines().next().unwrap_or_default();
        subjects.push(subject.to_str_lossy().trim().to_owned());
        if subjects.len() >= limit {
            break;
        }
    }
    subjects.reverse();
    Ok(subjects)
}

/// The branch `HEAD` of `workspace` is on (`None` when detached).
pub fn head_branch(workspace: &Path) -> Result<Option<String>, BranchError> {
    let repo = gix::open(workspace).map_err(|e| commit_error("open", e))?;
    let name = repo.head_name().map_err(|e| commit_error("read HEAD", e))?;
    Ok(name.and_then(|name| {
        name.as_bstr()
            .to_str()
            .ok()
            .and_then(|n| n.strip_prefix("refs/heads/"))
            .map(str::to_owned)
    }))
}
