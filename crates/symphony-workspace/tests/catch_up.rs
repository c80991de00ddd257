//! A review round's catch-up on a real linked worktree of the shared mirror (ADR 0018): the
//! base merged in (cleanly, or with conflicts left for the agent and committed as a merge),
//! rebased onto and pushed only over Symphony's own last push, someone else's push taken or
//! refused, and a rewritten branch refused. Uses the real `git`; never skips.

mod common;

use common::git;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use symphony_change::ChangeSet;
use symphony_workflow::{HooksConfig, RepoSource, WorkspaceConfig};
use symphony_workspace::{
    commit_tree, head_commit, push_branch, BaseMerge, CatchUp, Identity, Workspace,
    WorkspaceManager,
};

const BRANCH: &str = "symphony/ABC-1";
const LIMIT: Duration = Duration::from_secs(60);

struct Setup {
    _dir: tempfile::TempDir,
    manager: WorkspaceManager,
    ws: Workspace,
    /// A clone of `origin` where "other people" commit and push.
    person: PathBuf,
}

/// `origin` with `greeting.txt` and `other.txt` on `main`; the workspace of ABC-1 changed
/// `greeting.txt`, committed and pushed as the hand-off does.
async fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let seed = d.join("seed");
    std::fs::create_dir_all(&seed).unwrap();
    git(&seed, &["init", "-q", "-b", "main"]);
    std::fs::write(seed.join("greeting.txt"), "hi\n").unwrap();
    std::fs::write(seed.join("other.txt"), "one\n").unwrap();
    git(&seed, &["add", "-A"]);
    git(&seed, &["commit", "-q", "-m", "initial"]);
    git(d, &["clone", "-q", "--bare", "seed", "origin.git"]);
    let config = WorkspaceConfig {
        root: d.join("workspaces"),
        repo: Some(RepoSource::Path(d.join("origin.git"))),
        base_branch: Some("main".into()),
    };
    let manager = WorkspaceManager::new(&config, &HooksConfig::default());
    let ws = manager.ensure("ABC-1").await.unwrap();
    std::fs::write(ws.path.join("greeting.txt"), "hello\n").unwrap();
    hand_off(&ws.path, "Greet", None).await;
    git(d, &["clone", "-q", "origin.git", "person"]);
    let person = d.join("person");
    Setup {
        _dir: dir,
        manager,
        ws,
        person,
    }
}

/// What the hand-off does: read the change against the branch point, commit its tree, push.
async fn hand_off(ws: &Path, message: &str, replacing: Option<&str>) -> String {
    let change = ChangeSet::since_branch_point(ws, "refs/remotes/origin/main", LIMIT)
        .await
        .expect("the change reads");
    commit_tree(ws, &change.tree, message, &Identity::default()).unwrap();
    push_branch(ws, "origin", BRANCH, replacing, LIMIT)
        .await
        .expect("the push");
    head_commit(ws).unwrap()
}

/// A person commits `file` = `text` on `branch` and pushes it.
fn person_pushes(person: &Path, branch: &str, file: &str, text: &str) -> String {
    git(person, &["fetch", "-q", "origin"]);
    git(
        person,
        &["checkout", "-q", "-B", branch, &format!("origin/{branch}")],
    );
    std::fs::write(person.join(file), text).unwrap();
    git(
        person,
        &["commit", "-q", "-am", &format!("{file} by a person")],
    );
    git(person, &["push", "-q", "origin", branch]);
    git(person, &["rev-parse", "HEAD"])
}

fn merging(base: bool) -> CatchUp {
    let mut request = CatchUp::new(Identity::default(), "Merge origin/main (review round 1)");
    request.merge_base = base.then(|| "main".to_owned());
    request
}

#[tokio::test]
async fn conflicts_are_left_for_the_agent_and_committed_as_a_merge_that_pushes_forward() {
    let s = setup().await;
    let ws = &s.ws.path;
    let pushed = head_commit(ws).unwrap();
    let main = person_pushes(&s.person, "main", "greeting.txt", "hey\n");
    person_pushes(&s.person, "main", "other.txt", "two\n");
    let main_tip = git(&s.person, &["rev-parse", "HEAD"]);

    let caught = s.manager.catch_up(&s.ws, &merging(true)).await.unwrap();
    assert_eq!(
        caught.base,
        BaseMerge::Conflicts {
            paths: vec!["greeting.txt".into()]
        }
    );
    assert_eq!(caught.took_push, None);
    let text = std::fs::read_to_string(ws.join("greeting.txt")).unwrap();
    assert!(text.contains("<<<<<<<") && text.contains("hey") && text.contains("hello"));
    // Asked again (a retried attempt): the merge under way is kept, not started over.
    std::fs::write(ws.join("notes.txt"), "agent's work so far\n").unwrap();
    let again = s.manager.catch_up(&s.ws, &merging(true)).await.unwrap();
    assert_eq!(again.base, caught.base);
    assert!(ws.join("notes.txt").exists());
    std::fs::remove_file(ws.join("notes.txt")).unwrap();
    let refused = ChangeSet::since_branch_point(ws, "refs/remotes/origin/main", LIMIT)
        .await
        .unwrap_err();
    assert_eq!(refused.category(), "change_unmerged", "{refused}");

    // The agent resolves it in the worktree, without staging.
    std::fs::write(ws.join("greeting.txt"), "hello, hey\n").unwrap();
    let change = ChangeSet::since_branch_point(ws, "refs/remotes/origin/main", LIMIT)
        .await
        .unwrap();
    let paths: Vec<&str> = change.files.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(
        paths,
        ["greeting.txt"],
        "what the base brought (other.txt) is not the change"
    );
    let head = hand_off(ws, "Greet (review round 1)", None).await;
    let parents = git(ws, &["rev-list", "--parents", "-n", "1", &head]);
    assert_eq!(
        parents.split(' ').skip(1).collect::<Vec<_>>(),
        [pushed.as_str(), main_tip.as_str()],
        "a merge of the branch and the base"
    );
    assert_eq!(git(ws, &["show", &format!("{head}:other.txt")]), "two");
    assert_eq!(
        git(ws, &["show", &format!("{head}:greeting.txt")]),
        "hello, hey"
    );
    let merge_head = Command::new("git")
        .args(["rev-parse", "-q", "--verify", "MERGE_HEAD"])
        .current_dir(ws)
        .status()
        .unwrap();
    assert!(!merge_head.success(), "the merge is finished");
    assert_eq!(git(ws, &["status", "--porcelain"]), "", "a clean worktree");
    git(ws, &["merge-base", "--is-ancestor", &main, &head]);
}

#[tokio::test]
async fn a_clean_merge_is_made_before_the_round_and_not_again() {
    let s = setup().await;
    let ws = &s.ws.path;
    let pushed = head_commit(ws).unwrap();
    let main = person_pushes(&s.person, "main", "other.txt", "two\n");
    let caught = s.manager.catch_up(&s.ws, &merging(true)).await.unwrap();
    let BaseMerge::Merged { commit } = caught.base else {
        panic!("{caught:?}");
    };
    assert_eq!(head_commit(ws).unwrap(), commit);
    assert_eq!(
        git(ws, &["log", "-1", "--format=%P|%an|%s", &commit]),
        format!("{pushed} {main}|Symphony|Merge origin/main (review round 1)")
    );
    let again = s.manager.catch_up(&s.ws, &merging(true)).await.unwrap();
    assert_eq!(again.base, BaseMerge::UpToDate);
    let nothing_asked = s.manager.catch_up(&s.ws, &merging(false)).await.unwrap();
    assert_eq!(nothing_asked.base, BaseMerge::NotAsked);
}

#[tokio::test]
async fn a_push_on_top_is_taken_only_when_allowed_and_a_rewrite_never() {
    let s = setup().await;
    let ws = &s.ws.path;
    let theirs = person_pushes(&s.person, BRANCH, "other.txt", "theirs\n");
    let refused = s
        .manager
        .catch_up(&s.ws, &merging(false))
        .await
        .unwrap_err();
    assert_eq!(refused.category(), "review_foreign_push", "{refused}");
    assert!(refused.needs_person());
    let mut take = merging(false);
    take.take_pushes = true;
    let caught = s.manager.catch_up(&s.ws, &take).await.unwrap();
    assert_eq!(caught.took_push.as_deref(), Some(theirs.as_str()));
    assert_eq!(head_commit(ws).unwrap(), theirs);
    assert_eq!(
        std::fs::read_to_string(ws.join("other.txt")).unwrap(),
        "theirs\n"
    );

    // Someone rewrites the branch (a force push without Symphony's commits).
    git(
        &s.person,
        &["checkout", "-q", "-B", "rewrite", "origin/main"],
    );
    std::fs::write(s.person.join("greeting.txt"), "rewritten\n").unwrap();
    git(&s.person, &["commit", "-q", "-am", "rewrite"]);
    git(
        &s.person,
        &[
            "push",
            "-q",
            "--force",
            "origin",
            &format!("rewrite:{BRANCH}"),
        ],
    );
    let rewritten = s.manager.catch_up(&s.ws, &take).await.unwrap_err();
    assert_eq!(
        rewritten.category(),
        "review_branch_rewritten",
        "{rewritten}"
    );
    assert_eq!(
        head_commit(ws).unwrap(),
        theirs,
        "the workspace is left as it was"
    );
}

#[tokio::test]
async fn a_rebase_replaces_only_symphonys_own_push_and_falls_back_to_a_merge() {
    let s = setup().await;
    let ws = &s.ws.path;
    let pushed = head_commit(ws).unwrap();
    let main = person_pushes(&s.person, "main", "other.txt", "two\n");
    let mut rebase = merging(true);
    rebase.rebase = true;
    let caught = s.manager.catch_up(&s.ws, &rebase).await.unwrap();
    let BaseMerge::Rebased { head } = caught.base else {
        panic!("{caught:?}");
    };
    assert_eq!(
        git(ws, &["rev-parse", "HEAD~1"]),
        main,
        "replayed onto the base"
    );
    // Replacing anything but Symphony's last push is refused by the remote.
    let stale = "1111111111111111111111111111111111111111";
    let error = push_branch(ws, "origin", BRANCH, Some(stale), LIMIT)
        .await
        .unwrap_err();
    assert!(
        error.to_string().contains("stale info") || error.to_string().contains("rejected"),
        "{error}"
    );
    let fast_forward_only = push_branch(ws, "origin", BRANCH, None, LIMIT).await;
    assert!(
        fast_forward_only.is_err(),
        "a rebased branch does not fast-forward"
    );
    push_branch(ws, "origin", BRANCH, Some(&pushed), LIMIT)
        .await
        .expect("replacing Symphony's own last push");
    assert_eq!(
        git(&s.person, &["ls-remote", "origin", BRANCH])
            .split('\t')
            .next(),
        Some(head.as_str())
    );

    // A rebase git cannot finish is undone; the base is merged instead.
    let replayed = head_commit(ws).unwrap();
    person_pushes(&s.person, "main", "greeting.txt", "hey\n");
    let caught = s.manager.catch_up(&s.ws, &rebase).await.unwrap();
    assert_eq!(
        caught.base,
        BaseMerge::Conflicts {
            paths: vec!["greeting.txt".into()]
        }
    );
    assert_eq!(head_commit(ws).unwrap(), replayed, "the rebase was undone");
}
