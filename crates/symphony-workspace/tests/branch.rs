//! The hand-off's git work on a real linked worktree of the shared mirror: committing the
//! tree `symphony-change` read of what the agent left (gix) and pushing the branch (`git`).
//! Uses the real `git`; never skips.

mod common;

use common::git;

use std::path::{Path, PathBuf};
use std::time::Duration;

use symphony_change::ChangeSet;
use symphony_workflow::{HooksConfig, RepoSource, WorkspaceConfig};
use symphony_workspace::{
    commit_tree, head_commit, push_branch, BranchError, Identity, WorkspaceManager,
};

/// What the hand-off does: read the change (its tree) once, then commit that tree.
async fn commit_worktree(
    ws: &Path,
    message: &str,
    identity: &Identity,
) -> Result<Option<String>, BranchError> {
    let change = ChangeSet::from_workspace(ws, "HEAD", Duration::from_secs(60))
        .await
        .expect("the change reads");
    commit_tree(ws, &change.tree, message, identity)
}

/// A bare `origin` with one commit on `main`, and a workspace for `ABC-1` populated from it.
async fn workspace(dir: &Path) -> (PathBuf, PathBuf) {
    let seed = dir.join("seed");
    std::fs::create_dir_all(seed.join("src")).unwrap();
    git(&seed, &["init", "--quiet", "--initial-branch=main"]);
    std::fs::write(seed.join("README.md"), "hello\n").unwrap();
    std::fs::write(seed.join("src/lib.rs"), "// lib\n").unwrap();
    std::fs::write(seed.join("old.txt"), "to be removed\n").unwrap();
    std::fs::write(seed.join(".gitignore"), "target/\n").unwrap();
    git(&seed, &["add", "-A"]);
    git(&seed, &["commit", "--quiet", "-m", "initial"]);
    let origin = dir.join("origin.git");
    git(
        dir,
        &[
            "clone",
            "--quiet",
            "--bare",
            "seed",
            origin.to_str().unwrap(),
        ],
    );
    let config = WorkspaceConfig {
        root: dir.join("workspaces"),
        repo: Some(RepoSource::Path(origin.clone())),
        base_branch: None,
    };
    let manager = WorkspaceManager::new(&config, &HooksConfig::default());
    let ws = manager.ensure("ABC-1").await.unwrap();
    (ws.path, origin)
}

#[tokio::test]
async fn everything_the_agent_left_is_committed_once_and_the_index_follows() {
    let dir = tempfile::tempdir().unwrap();
    let (ws, _origin) = workspace(dir.path()).await;
    let before = head_commit(&ws).unwrap();
    // An unstaged edit, a staged new file, a deletion, an untracked file in a new folder,
    // an executable, a symlink, and an ignored build output.
    std::fs::write(ws.join("README.md"), "hello, world\n").unwrap();
    std::fs::write(ws.join("staged.txt"), "staged\n").unwrap();
    git(&ws, &["add", "staged.txt"]);
    std::fs::remove_file(ws.join("old.txt")).unwrap();
    std::fs::create_dir_all(ws.join("docs/new")).unwrap();
    std::fs::write(ws.join("docs/new/guide.md"), "# Guide\n").unwrap();
    std::fs::write(ws.join("run.sh"), "#!/bin/sh\necho hi\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(ws.join("run.sh"), std::fs::Permissions::from_mode(0o755)).unwrap();
    std::os::unix::fs::symlink("README.md", ws.join("link.md")).unwrap();
    std::fs::create_dir_all(ws.join("target")).unwrap();
    std::fs::write(ws.join("target/out.bin"), "build output").unwrap();

    let identity = Identity {
        name: "Symphony".into(),
        email: "symphony@example.com".into(),
    };
    let message = "ABC-1: Improve the greeting\n\nSymphony-Issue: ABC-1\n";
    let commit = commit_worktree(&ws, message, &identity)
        .await
        .unwrap()
        .expect("there was something to commit");
    assert_eq!(head_commit(&ws).unwrap(), commit);
    assert_eq!(git(&ws, &["rev-parse", "HEAD~1"]), before);
    assert_eq!(
        git(&ws, &["rev-parse", "--abbrev-ref", "HEAD"]),
        "symphony/ABC-1",
        "the commit went onto the workspace branch"
    );
    let files = git(&ws, &["show", "--name-status", "--format=", "HEAD"]);
    let mut files: Vec<&str> = files.lines().collect();
    files.sort();
    assert_eq!(
        files,
        [
            "A\tdocs/new/guide.md",
            "A\tlink.md",
            "A\trun.sh",
            "A\tstaged.txt",
            "D\told.txt",
            "M\tREADME.md"
        ]
    );
    assert_eq!(
        git(&ws, &["ls-tree", "HEAD", "run.sh"]).split(' ').next(),
        Some("100755")
    );
    assert_eq!(
        git(&ws, &["ls-tree", "HEAD", "link.md"]).split(' ').next(),
        Some("120000")
    );
    assert_eq!(
        git(&ws, &["log", "-1", "--format=%an <%ae>%n%B"]),
        "Symphony <symphony@example.com>\nABC-1: Improve the greeting\n\nSymphony-Issue: ABC-1"
    );
    assert_eq!(
        git(&ws, &["status", "--porcelain"]),
        "",
        "the index was reset to the new commit and ignored files stay out"
    );
    assert_eq!(
        commit_worktree(&ws, message, &identity).await.unwrap(),
        None,
        "nothing left: no empty commit"
    );
}

#[tokio::test]
async fn the_branch_is_pushed_fast_forward_only() {
    let dir = tempfile::tempdir().unwrap();
    let (ws, origin) = workspace(dir.path()).await;
    std::fs::write(ws.join("feature.txt"), "one\n").unwrap();
    let first = commit_worktree(&ws, "ABC-1: one", &Identity::default())
        .await
        .unwrap()
        .unwrap();
    let timeout = Duration::from_secs(60);
    push_branch(&ws, "origin", "symphony/ABC-1", None, timeout)
        .await
        .unwrap();
    assert_eq!(
        git(&origin, &["rev-parse", "refs/heads/symphony/ABC-1"]),
        first
    );
    // Pushing again is a no-op, and later work fast-forwards.
    push_branch(&ws, "origin", "symphony/ABC-1", None, timeout)
        .await
        .unwrap();
    std::fs::write(ws.join("feature.txt"), "two\n").unwrap();
    let second = commit_worktree(&ws, "ABC-1: two", &Identity::default())
        .await
        .unwrap()
        .unwrap();
    push_branch(&ws, "origin", "symphony/ABC-1", None, timeout)
        .await
        .unwrap();
    assert_eq!(
        git(&origin, &["rev-parse", "refs/heads/symphony/ABC-1"]),
        second
    );

    // Someone else moved the remote branch: the push is refused, nothing is overwritten.
    let other = dir.path().join("other");
    git(
        dir.path(),
        &[
            "clone",
            "--quiet",
            "--branch",
            "symphony/ABC-1",
            origin.to_str().unwrap(),
            "other",
        ],
    );
    std::fs::write(other.join("theirs.txt"), "theirs\n").unwrap();
    git(&other, &["add", "-A"]);
    git(&other, &["commit", "--quiet", "-m", "theirs"]);
    git(&other, &["push", "--quiet", "origin", "symphony/ABC-1"]);
    let theirs = git(&other, &["rev-parse", "HEAD"]);
    std::fs::write(ws.join("feature.txt"), "three\n").unwrap();
    commit_worktree(&ws, "ABC-1: three", &Identity::default())
        .await
        .unwrap()
        .unwrap();
    let error = push_branch(&ws, "origin", "symphony/ABC-1", None, timeout)
        .await
        .unwrap_err();
    assert!(matches!(error, BranchError::Push(_)), "{error}");
    assert_eq!(error.category(), "handoff_push_error");
    assert_eq!(
        git(&origin, &["rev-parse", "refs/heads/symphony/ABC-1"]),
        theirs
    );
    // Option-looking names never reach git as options.
    assert!(push_branch(&ws, "--receive-pack=evil", "x", None, timeout)
        .await
        .is_err());
}

#[tokio::test]
async fn only_a_tree_of_the_repository_is_committed() {
    let dir = tempfile::tempdir().unwrap();
    let (ws, _) = workspace(dir.path()).await;
    let head = head_commit(&ws).unwrap();
    let identity = Identity::default();
    for (tree, why) in [
        (head.clone(), "a commit, not a tree"),
        (
            "0123456789012345678901234567890123456789".to_owned(),
            "unknown",
        ),
        ("HEAD^{tree}".to_owned(), "not an id"),
    ] {
        let error = commit_tree(&ws, &tree, "ABC-1: x", &identity).unwrap_err();
        assert_eq!(error.category(), "handoff_commit_error", "{why}: {error}");
    }
    assert_eq!(head_commit(&ws).unwrap(), head, "no commit was made");
    // HEAD's own tree: nothing to commit, no empty commit.
    let own = git(&ws, &["rev-parse", "HEAD^{tree}"]);
    assert_eq!(commit_tree(&ws, &own, "ABC-1: x", &identity).unwrap(), None);
}
