//! SPEC §17.2 "Workspace Manager and Safety": one test per bullet, named after it, plus the
//! git population extension. These use the real `bash` and `git`.

mod common;

use common::{git, manager};
use std::path::{Path, PathBuf};
use std::process::Command;

use proptest::prelude::*;
use symphony_core::WorkspaceKey;
use symphony_workflow::{HooksConfig, RepoSource, WorkspaceConfig};
use symphony_workspace::{HookError, HookKind, Workspace, WorkspaceError, WorkspaceManager};

fn hooks() -> HooksConfig {
    HooksConfig::default()
}

fn read(path: impl AsRef<Path>) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

/// Fails loudly when git is absent: these tests never skip silently.
fn require_git() {
    let ok = Command::new("git")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        ok,
        "the `git` program is required for these tests (and for workspace.repo)"
    );
}

/// A small upstream repository with a `main` and a `develop` branch.
fn upstream(dir: &Path) -> PathBuf {
    require_git();
    let repo = dir.join("upstream");
    std::fs::create_dir_all(repo.join("src")).unwrap();
    git(&repo, &["init", "--quiet", "--initial-branch=main"]);
    std::fs::write(repo.join("README.md"), "hello\n").unwrap();
    std::fs::write(repo.join("src/lib.rs"), "// lib\n").unwrap();
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "--quiet", "-m", "initial"]);
    git(&repo, &["branch", "develop"]);
    repo
}

fn git_manager(
    root: &Path,
    repo: &Path,
    base: Option<&str>,
    hooks: HooksConfig,
) -> WorkspaceManager {
    let ws = WorkspaceConfig {
        root: root.to_path_buf(),
        repo: Some(RepoSource::Path(repo.to_path_buf())),
        base_branch: base.map(str::to_owned),
    };
    WorkspaceManager::new(&ws, &hooks)
}

#[tokio::test]
async fn deterministic_workspace_path_per_issue_identifier() {
    let dir = tempfile::tempdir().unwrap();
    let m = manager(dir.path(), hooks());
    let a = m.path_for("ABC-1").unwrap();
    assert_eq!(a, m.path_for("ABC-1").unwrap());
    assert_eq!(a, dir.path().canonicalize().unwrap().join("ABC-1"));
    assert_eq!(m.ensure("ABC-1").await.unwrap().path, a);
}

#[tokio::test]
async fn missing_workspace_directory_is_created() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("not/yet/there");
    let ws = manager(&root, hooks()).ensure("ABC-1").await.unwrap();
    assert!(ws.created_now);
    assert!(ws.path.is_dir());
}

#[tokio::test]
async fn existing_workspace_directory_is_reused() {
    let dir = tempfile::tempdir().unwrap();
    let m = manager(dir.path(), hooks());
    let first = m.ensure("ABC-1").await.unwrap();
    std::fs::write(first.path.join("notes.txt"), "keep me").unwrap();
    let second = m.ensure("ABC-1").await.unwrap();
    assert!(!second.created_now);
    assert_eq!(read(second.path.join("notes.txt")), "keep me");
}

#[tokio::test]
async fn existing_non_directory_path_at_workspace_location_is_handled_safely() {
    let dir = tempfile::tempdir().unwrap();
    let m = manager(dir.path(), hooks());
    let path = m.path_for("ABC-1").unwrap();
    std::fs::write(&path, "a file, not a workspace").unwrap();
    let err = m.ensure("ABC-1").await.unwrap_err();
    assert!(matches!(err, WorkspaceError::NotADirectory { .. }), "{err}");
    assert_eq!(err.category(), "workspace_not_a_directory");
    assert_eq!(
        read(&path),
        "a file, not a workspace",
        "the file must not be replaced"
    );
}

#[tokio::test]
async fn optional_workspace_population_errors_are_surfaced() {
    require_git();
    let dir = tempfile::tempdir().unwrap();
    let m = git_manager(
        &dir.path().join("ws"),
        &dir.path().join("no-such-repo"),
        None,
        hooks(),
    );
    let err = m.ensure("ABC-1").await.unwrap_err();
    assert_eq!(err.category(), "workspace_population_error");
    assert!(err.to_string().contains("git"), "{err}");
    assert!(
        !m.path_for("ABC-1").unwrap().exists(),
        "a failed new workspace is removed"
    );

    let repo = upstream(dir.path());
    let m = git_manager(
        &dir.path().join("ws"),
        &repo,
        Some("no-such-branch"),
        hooks(),
    );
    let err = m.ensure("ABC-1").await.unwrap_err();
    assert!(err.to_string().contains("no-such-branch"), "{err}");
}

#[tokio::test]
async fn after_create_hook_runs_only_on_new_workspace_creation() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("created.log");
    let m = manager(
        &dir.path().join("ws"),
        HooksConfig {
            after_create: Some(format!(
                "echo \"$SYMPHONY_ISSUE_IDENTIFIER $(pwd)\" >> {}",
                log.display()
            )),
            ..hooks()
        },
    );
    let ws = m.ensure("ABC-1").await.unwrap();
    m.ensure("ABC-1").await.unwrap();
    assert_eq!(read(&log), format!("ABC-1 {}\n", ws.path.display()));
}

#[tokio::test]
async fn after_create_failure_or_timeout_is_fatal_to_workspace_creation() {
    let dir = tempfile::tempdir().unwrap();
    for (script, timeout_ms, category) in [
        ("echo boom >&2; exit 7", 30_000, "hook_failed"),
        ("sleep 30", 1_000, "hook_timeout"),
    ] {
        let m = manager(
            &dir.path().join("ws"),
            HooksConfig {
                after_create: Some(script.to_owned()),
                timeout_ms,
                ..hooks()
            },
        );
        let err = m.ensure("ABC-1").await.unwrap_err();
        assert_eq!(err.category(), category, "{err}");
        assert!(!m.path_for("ABC-1").unwrap().exists());
    }
}

async fn ensured(m: &WorkspaceManager, id: &str) -> Workspace {
    m.ensure(id).await.unwrap()
}

#[tokio::test]
async fn before_run_hook_runs_before_each_attempt_and_failure_or_timeout_aborts_the_current_attempt(
) {
    let dir = tempfile::tempdir().unwrap();
    let ok = manager(
        dir.path(),
        HooksConfig {
            before_run: Some("echo run >> runs.log".into()),
            ..hooks()
        },
    );
    let ws = ensured(&ok, "ABC-1").await;
    ok.before_run(&ws).await.unwrap();
    ok.before_run(&ws).await.unwrap();
    assert_eq!(read(ws.path.join("runs.log")), "run\nrun\n");

    let failing = manager(
        dir.path(),
        HooksConfig {
            before_run: Some("echo nope; exit 1".into()),
            ..hooks()
        },
    );
    let err = failing.before_run(&ws).await.unwrap_err();
    assert!(
        matches!(&err, HookError::Failed { hook: HookKind::BeforeRun, output, .. } if output == "nope"),
        "{err}"
    );

    let slow = manager(
        dir.path(),
        HooksConfig {
            before_run: Some("sleep 30".into()),
            timeout_ms: 1_000,
            ..hooks()
        },
    );
    let err = slow.before_run(&ws).await.unwrap_err();
    assert!(
        matches!(
            err,
            HookError::TimedOut {
                hook: HookKind::BeforeRun,
                ..
            }
        ),
        "{err}"
    );
}

#[tokio::test]
async fn after_run_hook_runs_after_each_attempt_and_failure_or_timeout_is_logged_and_ignored() {
    let dir = tempfile::tempdir().unwrap();
    let m = manager(
        dir.path(),
        HooksConfig {
            after_run: Some("echo done >> after.log; exit 3".into()),
            ..hooks()
        },
    );
    let ws = ensured(&m, "ABC-1").await;
    m.after_run(&ws).await; // returns (), whatever the hook does
    m.after_run(&ws).await;
    assert_eq!(read(ws.path.join("after.log")), "done\ndone\n");
    let slow = manager(
        dir.path(),
        HooksConfig {
            after_run: Some("sleep 30".into()),
            timeout_ms: 1_000,
            ..hooks()
        },
    );
    slow.after_run(&ws).await;
    assert!(ws.path.is_dir());
}

#[tokio::test]
async fn before_remove_hook_runs_on_cleanup_and_failures_or_timeouts_are_ignored() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("removed.log");
    let m = manager(
        &dir.path().join("ws"),
        HooksConfig {
            before_remove: Some(format!("ls > {}; exit 9", log.display())),
            ..hooks()
        },
    );
    let ws = ensured(&m, "ABC-1").await;
    std::fs::write(ws.path.join("work.txt"), "x").unwrap();
    assert!(m.remove("ABC-1").await.unwrap());
    assert_eq!(
        read(&log),
        "work.txt\n",
        "the hook ran inside the workspace before deletion"
    );
    assert!(!ws.path.exists());
    assert!(
        !m.remove("ABC-1").await.unwrap(),
        "removing a missing workspace is a no-op"
    );

    let slow = manager(
        &dir.path().join("ws"),
        HooksConfig {
            before_remove: Some("sleep 30".into()),
            timeout_ms: 1_000,
            ..hooks()
        },
    );
    let ws = ensured(&slow, "ABC-2").await;
    assert!(slow.remove("ABC-2").await.unwrap());
    assert!(!ws.path.exists());
}

#[tokio::test]
async fn workspace_path_sanitization_hash_collision_resistance_and_root_containment_are_enforced_before_agent_launch(
) {
    let dir = tempfile::tempdir().unwrap();
    let m = manager(dir.path(), hooks());
    let root = dir.path().canonicalize().unwrap();
    for hostile in [
        "../../etc",
        "/etc/passwd",
        "..",
        ".",
        "a/../../b",
        "x\0y",
        "ünï côdé",
        "",
    ] {
        let ws = m.ensure(hostile).await.unwrap();
        assert_eq!(
            ws.path.parent(),
            Some(root.as_path()),
            "{hostile:?} -> {}",
            ws.path.display()
        );
        assert_eq!(m.agent_cwd(&ws).unwrap(), ws.path);
    }
}

#[tokio::test]
async fn identifiers_unchanged_by_sanitization_keep_their_key_and_ones_that_sanitize_alike_get_distinct_keys(
) {
    let dir = tempfile::tempdir().unwrap();
    let m = manager(dir.path(), hooks());
    assert_eq!(m.ensure("PROJ-42").await.unwrap().key.as_str(), "PROJ-42");
    let a = m.ensure("team/PROJ 42").await.unwrap();
    let b = m.ensure("team:PROJ#42").await.unwrap();
    assert_ne!(a.path, b.path);
    assert!(
        a.key.as_str().starts_with("team_PROJ_42-") && b.key.as_str().starts_with("team_PROJ_42-")
    );
}

#[tokio::test]
async fn agent_launch_uses_the_per_issue_workspace_path_as_cwd_and_rejects_out_of_root_paths() {
    let dir = tempfile::tempdir().unwrap();
    let m = manager(&dir.path().join("ws"), hooks());
    let ws = m.ensure("ABC-1").await.unwrap();
    assert_eq!(m.agent_cwd(&ws).unwrap(), ws.path);

    let outside = Workspace {
        path: dir.path().to_path_buf(),
        ..ws.clone()
    };
    assert_eq!(
        m.agent_cwd(&outside).unwrap_err().category(),
        "workspace_outside_root"
    );
    let sibling = m.ensure("ABC-2").await.unwrap();
    let swapped = Workspace {
        path: sibling.path.clone(),
        ..ws.clone()
    };
    assert_eq!(
        m.agent_cwd(&swapped).unwrap_err().category(),
        "workspace_outside_root"
    );
}

#[tokio::test]
async fn symlinks_that_escape_the_root_are_refused_and_never_followed_on_removal() {
    let dir = tempfile::tempdir().unwrap();
    let outside = dir.path().join("outside");
    std::fs::create_dir(&outside).unwrap();
    std::fs::write(outside.join("precious"), "x").unwrap();
    let m = manager(&dir.path().join("ws"), hooks());
    let path = m.path_for("ABC-1").unwrap();
    std::os::unix::fs::symlink(&outside, &path).unwrap();
    let err = m.ensure("ABC-1").await.unwrap_err();
    assert_eq!(err.category(), "workspace_outside_root", "{err}");
    assert!(m.remove("ABC-1").await.unwrap());
    assert!(
        outside.join("precious").exists(),
        "removal must not follow the link"
    );
}

#[tokio::test]
async fn git_population_gives_each_issue_a_checkout_on_its_own_branch_from_one_shared_mirror() {
    let dir = tempfile::tempdir().unwrap();
    let repo = upstream(dir.path());
    let root = dir.path().join("ws");
    let m = git_manager(
        &root,
        &repo,
        None,
        HooksConfig {
            after_create: Some("test -f README.md".into()),
            ..hooks()
        },
    );
    let a = m.ensure("ABC-1").await.unwrap();
    let b = m.ensure("owner/repo#2").await.unwrap();
    for ws in [&a, &b] {
        assert_eq!(read(ws.path.join("README.md")), "hello\n");
        assert_eq!(
            git(&ws.path, &["branch", "--show-current"]),
            format!("symphony/{}", ws.key)
        );
        // A linked worktree: `.git` is a file pointing into the shared mirror, not a clone.
        assert!(ws.path.join(".git").is_file());
        // The index written with the checkout matches the files: git sees a clean tree.
        assert_eq!(git(&ws.path, &["status", "--porcelain"]), "");
        assert!(git(&ws.path, &["worktree", "list"]).contains(&ws.path.display().to_string()));
    }
    assert!(m.remove("ABC-1").await.unwrap());
    assert!(!git(&b.path, &["worktree", "list"]).contains(&a.path.display().to_string()));
    let mirrors: Vec<_> = std::fs::read_dir(root.join(".symphony/mirrors"))
        .unwrap()
        .collect();
    assert_eq!(mirrors.len(), 1);

    let dev = git_manager(&root, &repo, Some("develop"), hooks())
        .ensure("ABC-3")
        .await
        .unwrap();
    assert_eq!(
        git(&dev.path, &["rev-parse", "HEAD"]),
        git(&repo, &["rev-parse", "develop"])
    );
}

#[tokio::test]
async fn a_reused_git_workspace_is_never_reset_and_its_branch_outlives_removal() {
    let dir = tempfile::tempdir().unwrap();
    let repo = upstream(dir.path());
    let m = git_manager(&dir.path().join("ws"), &repo, None, hooks());
    let ws = m.ensure("ABC-1").await.unwrap();
    std::fs::write(ws.path.join("README.md"), "edited by the agent\n").unwrap();
    // Upstream moves on; the reused workspace must not be touched.
    std::fs::write(repo.join("README.md"), "upstream v2\n").unwrap();
    git(&repo, &["commit", "--quiet", "-am", "v2"]);
    let again = m.ensure("ABC-1").await.unwrap();
    assert!(!again.created_now);
    assert_eq!(read(again.path.join("README.md")), "edited by the agent\n");

    // Committed work on the workspace branch survives removing the workspace.
    git(&ws.path, &["commit", "--quiet", "-am", "agent work"]);
    let head = git(&ws.path, &["rev-parse", "HEAD"]);
    assert!(m.remove("ABC-1").await.unwrap());
    let recreated = m.ensure("ABC-1").await.unwrap();
    assert!(recreated.created_now);
    assert_eq!(git(&recreated.path, &["rev-parse", "HEAD"]), head);
    // A brand-new issue starts from the fetched upstream.
    let fresh = m.ensure("ABC-2").await.unwrap();
    assert_eq!(read(fresh.path.join("README.md")), "upstream v2\n");
}

#[tokio::test]
async fn a_workspace_made_where_no_branch_is_kept_continues_the_pushed_branch() {
    let dir = tempfile::tempdir().unwrap();
    let repo = upstream(dir.path());
    // A change handed off from another machine: its branch is on the remote only.
    git(&repo, &["checkout", "--quiet", "-b", "symphony/ABC-1"]);
    std::fs::write(repo.join("README.md"), "handed off\n").unwrap();
    git(&repo, &["commit", "--quiet", "-am", "the agent's change"]);
    let pushed = git(&repo, &["rev-parse", "HEAD"]);
    git(&repo, &["checkout", "--quiet", "main"]);

    let m = git_manager(&dir.path().join("ws"), &repo, None, hooks());
    let ws = m.ensure("ABC-1").await.unwrap();
    assert!(ws.created_now);
    assert_eq!(git(&ws.path, &["rev-parse", "HEAD"]), pushed);
    assert_eq!(
        git(&ws.path, &["rev-parse", "--abbrev-ref", "HEAD"]),
        "symphony/ABC-1"
    );
    // An issue without a pushed branch still starts from the base.
    let fresh = m.ensure("ABC-2").await.unwrap();
    assert_eq!(read(fresh.path.join("README.md")), "hello\n");
}

#[tokio::test]
async fn a_reused_workspace_that_is_no_longer_a_checkout_is_reported_not_repaired() {
    let dir = tempfile::tempdir().unwrap();
    let repo = upstream(dir.path());
    let m = git_manager(&dir.path().join("ws"), &repo, None, hooks());
    let path = m.path_for("ABC-1").unwrap();
    std::fs::create_dir_all(&path).unwrap();
    std::fs::write(path.join("mine.txt"), "x").unwrap();
    let err = m.ensure("ABC-1").await.unwrap_err();
    assert_eq!(err.category(), "workspace_population_error");
    assert!(path.join("mine.txt").exists());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn workspace_path_is_always_strictly_inside_the_root(id in prop_oneof![
        any::<String>(),
        "[./a-z\\\\]{0,12}",
        proptest::collection::vec(any::<char>(), 10_000..10_200).prop_map(|c| c.into_iter().collect::<String>()),
    ]) {
        let dir = tempfile::tempdir().unwrap();
        let m = manager(dir.path(), hooks());
        let root = dir.path().canonicalize().unwrap();
        let path = m.path_for(&id).unwrap();
        prop_assert_eq!(path.parent(), Some(root.as_path()));
        let key = WorkspaceKey::from_identifier(&id);
        prop_assert_eq!(path.file_name().and_then(|n| n.to_str()), Some(key.as_str()));
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let ws = rt.block_on(m.ensure(&id)).unwrap();
        prop_assert!(ws.path.is_dir());
        prop_assert_eq!(m.agent_cwd(&ws).unwrap(), path);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_new_workspaces_share_the_mirror_safely() {
    let dir = tempfile::tempdir().unwrap();
    let repo = upstream(dir.path());
    let m = git_manager(&dir.path().join("ws"), &repo, None, hooks());
    let tasks: Vec<_> = (0..6)
        .map(|i| {
            let m = m.clone();
            tokio::spawn(async move { m.ensure(&format!("CON-{i}")).await })
        })
        .collect();
    for task in tasks {
        let ws = task.await.unwrap().unwrap();
        assert_eq!(
            git(&ws.path, &["branch", "--show-current"]),
            format!("symphony/{}", ws.key)
        );
        assert_eq!(git(&ws.path, &["status", "--porcelain"]), "");
    }
}
