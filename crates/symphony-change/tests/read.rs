//! Reading the change of real git workspaces: what is in it, the tree it snapshots, the
//! agent's index left alone, conflicts and unreadable workspaces refused.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use symphony_change::{ChangeSet, FileChange};

const LIMIT: Duration = Duration::from_secs(30);

fn git(dir: &Path, args: &[&str]) -> String {
    let output = Command::new("git")
        .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("git is required for these tests: {e}"));
    assert!(
        output.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

/// A repository with one commit on `main`, then `files` written on top.
fn workspace(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    git(dir.path(), &["init", "-q", "-b", "main"]);
    std::fs::write(dir.path().join("legacy.env"), "OLD=1\n").unwrap();
    std::fs::write(dir.path().join(".gitignore"), "ignored.txt\n").unwrap();
    git(dir.path(), &["add", "-A"]);
    git(dir.path(), &["commit", "-q", "-m", "base"]);
    for (path, text) in files {
        let path = dir.path().join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    dir
}

#[tokio::test]
async fn the_change_is_read_from_the_working_tree_without_touching_the_index() {
    let dir = workspace(&[("src/new.rs", "fn main() {}\n"), ("ignored.txt", "x\n")]);
    std::fs::write(dir.path().join("legacy.env"), "OLD=1\nMORE=1\n").unwrap();
    let index_before = std::fs::read(dir.path().join(".git/index")).unwrap();
    let change = ChangeSet::from_workspace(dir.path(), "main", LIMIT)
        .await
        .unwrap();
    let paths: Vec<&str> = change.files.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(
        paths,
        ["legacy.env", "src/new.rs"],
        "ignored files are not part of it"
    );
    assert_eq!(change.file("src/new.rs").unwrap().change, FileChange::Added);
    let legacy = change.file("legacy.env").unwrap();
    assert_eq!(legacy.added.len(), 1);
    assert_eq!(
        (legacy.added[0].line, legacy.added[0].text.as_str()),
        (2, "MORE=1")
    );
    assert_eq!(change.base.len(), 40);
    assert_eq!(
        std::fs::read(dir.path().join(".git/index")).unwrap(),
        index_before
    );
    let leftovers: Vec<_> = std::fs::read_dir(dir.path().join(".git"))
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("symphony-change-index")
        })
        .collect();
    assert!(leftovers.is_empty(), "the scratch index is removed");
}

/// The tree is the working tree as `git add -A` records it: checking it out gives back the
/// files the change lists, staged, unstaged, untracked and deleted alike, and nothing ignored.
#[tokio::test]
async fn the_tree_is_the_working_tree_the_files_describe() {
    let dir = workspace(&[("a.txt", "staged\n"), ("ignored.txt", "secret\n")]);
    let d = dir.path();
    git(d, &["add", "a.txt"]);
    std::fs::write(d.join("b.txt"), "untracked\n").unwrap();
    std::fs::remove_file(d.join("legacy.env")).unwrap();
    let change = ChangeSet::from_workspace(d, "main", LIMIT).await.unwrap();
    assert_eq!(change.tree.len(), 40, "{change:?}");
    assert_eq!(git(d, &["cat-file", "-t", &change.tree]), "tree");
    let listed = git(d, &["ls-tree", "--name-only", "-r", &change.tree]);
    let listed: Vec<&str> = listed.lines().collect();
    assert_eq!(listed, [".gitignore", "a.txt", "b.txt"]);
    assert_eq!(
        git(d, &["show", &format!("{}:b.txt", change.tree)]),
        "untracked"
    );
    let diffed = git(d, &["diff", "--name-only", &change.base, &change.tree]);
    let mut from_files: Vec<&str> = change.files.iter().map(|f| f.path.as_str()).collect();
    from_files.sort_unstable();
    assert_eq!(diffed.lines().collect::<Vec<_>>(), from_files);
    // Nothing changed: the tree is HEAD's own.
    let clean = workspace(&[]);
    let change = ChangeSet::from_workspace(clean.path(), "main", LIMIT)
        .await
        .unwrap();
    assert!(change.is_empty());
    assert_eq!(
        change.tree,
        git(clean.path(), &["rev-parse", "HEAD^{tree}"])
    );
}

#[tokio::test]
async fn an_unresolved_merge_conflict_is_refused_not_read_as_a_change() {
    let dir = workspace(&[]);
    let d = dir.path();
    git(d, &["checkout", "-q", "-b", "other"]);
    std::fs::write(d.join("legacy.env"), "OLD=2\n").unwrap();
    git(d, &["commit", "-q", "-am", "other"]);
    git(d, &["checkout", "-q", "main"]);
    std::fs::write(d.join("legacy.env"), "OLD=3\n").unwrap();
    git(d, &["commit", "-q", "-am", "main"]);
    let merge = Command::new("git")
        .args(["merge", "-q", "other"])
        .current_dir(d)
        .output()
        .unwrap();
    assert!(!merge.status.success(), "the merge conflicts");
    let error = ChangeSet::from_workspace(d, "main", LIMIT)
        .await
        .unwrap_err();
    assert_eq!(error.category(), "change_unmerged", "{error}");
    assert!(error.to_string().contains("legacy.env"), "{error}");
    // Resolved in the worktree without staging it (an agent cannot always): the file, free
    // of markers, is the change.
    std::fs::write(d.join("legacy.env"), "OLD=23\n").unwrap();
    let change = ChangeSet::from_workspace(d, "HEAD", LIMIT).await.unwrap();
    let paths: Vec<&str> = change.files.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(
        paths,
        ["legacy.env"],
        "the resolution is read as the change"
    );
    assert_eq!(
        git(d, &["show", &format!("{}:legacy.env", change.tree)]),
        "OLD=23"
    );
}

#[tokio::test]
async fn an_unreadable_workspace_or_base_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let error = ChangeSet::from_workspace(dir.path(), "main", LIMIT)
        .await
        .unwrap_err();
    assert_eq!(error.category(), "change_git_error", "{error}");
    let repo = workspace(&[("a.txt", "hello\n")]);
    let error = ChangeSet::from_workspace(repo.path(), "no-such-branch", LIMIT)
        .await
        .unwrap_err();
    assert!(error.to_string().contains("no-such-branch"), "{error}");
    let error = ChangeSet::from_workspace(repo.path(), "main", Duration::ZERO)
        .await
        .unwrap_err();
    assert_eq!(error.category(), "change_timeout", "{error}");
}

#[tokio::test]
async fn a_same_size_edit_made_as_the_index_was_written_is_still_seen() {
    use std::time::UNIX_EPOCH;
    let seconds = |p: &Path| {
        std::fs::metadata(p)
            .unwrap()
            .modified()
            .unwrap()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs()
    };
    // git trusts an entry's stat data unless the entry is as new as its index file ("racily
    // clean"); the scratch copy of the index must keep that protection.
    for _ in 0..20 {
        let dir = workspace(&[]);
        let d = dir.path();
        std::fs::write(d.join("setting.env"), "LEVEL=1\n").unwrap();
        git(d, &["add", "setting.env"]);
        git(d, &["commit", "-q", "-m", "setting"]);
        std::fs::write(d.join("setting.env"), "LEVEL=2\n").unwrap();
        if seconds(&d.join(".git/index")) != seconds(&d.join("setting.env")) {
            continue; // crossed a second boundary: try again for the racy case
        }
        tokio::time::sleep(Duration::from_millis(1_100)).await;
        let change = ChangeSet::from_workspace(d, "main", LIMIT).await.unwrap();
        let file = change
            .file("setting.env")
            .expect("the same-size edit is in the change");
        assert_eq!(
            file.added
                .iter()
                .map(|l| l.text.as_str())
                .collect::<Vec<_>>(),
            ["LEVEL=2"],
            "the edit made in the index's own second is seen"
        );
        return;
    }
    panic!("could not write the file in the index's second in 20 tries");
}
