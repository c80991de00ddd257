//! The review loop's branch work through the real `symphony` binary (ADR 0018), with a shell
//! agent, the fake GitHub and a bare `origin` whose pushes GitHub learns of as they happen:
//! - the base moves and the pull request no longer merges: Symphony merges the base into
//!   the workspace, leaves the conflict to the agent, and commits the agent's resolution as a
//!   merge (two parents) pushed as a fast-forward;
//! - a person pushes to the branch (`review.on_head_moved: rebase`): the watch takes their
//!   head, the next round builds on their commit, nothing of theirs is overwritten;
//! - a merge ends it. One pull request throughout, every push a fast-forward.

mod support;

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use support::github_origin::{audit, count, origin, relay, start};
use support::{git, prompts, wait_until};
use symphony_testkit::github::{FakeGithub, NewIssue};

const LIMIT: Duration = Duration::from_secs(120);
const TOKEN: &str = "ghp_ReviewBranch0123456789abcdefABCDEF666";
const REPO: &str = "acme/widgets";

/// A person commits `file` = `text` on `branch` of `origin` and pushes it; the new head.
fn person_pushes(person: &Path, branch: &str, file: &str, text: &str) -> String {
    git(person, &["fetch", "-q", "origin"]);
    git(
        person,
        &["checkout", "-q", "-B", branch, &format!("origin/{branch}")],
    );
    std::fs::write(person.join(file), text).unwrap();
    git(person, &["add", file]);
    git(
        person,
        &["commit", "-q", "-m", &format!("{file} by a person")],
    );
    git(person, &["push", "-q", "origin", branch]);
    git(person, &["rev-parse", "HEAD"])
}

/// The shell agent: resolves a conflict in `greeting.txt` when there is one; else writes
/// the greeting and a note the first time, and adds to the note after.
const AGENT: &str = r#"mkdir -p ../../prompts
    cat > ../../prompts/$(date +%s%N).txt
    if grep -q '^<<<<<<<' greeting.txt; then printf 'hello, hey\n' > greeting.txt
    elif [ ! -e notes.txt ]; then printf 'hello\n' > greeting.txt; echo one > notes.txt
    else echo more >> notes.txt; fi"#;

/// The workflow: GitHub on the fake at `api`, workspaces from `origin`, the shell agent, and
/// `review` (further `review:` keys, indented).
fn workflow(api: &str, origin: &Path, review: &str) -> String {
    format!(
        r#"---
tracker:
  kind: github
  provider:
    repo: {REPO}
    api_url: {api}
    token: $SYMPHONY_E2E_GITHUB_TOKEN
workspace:
  root: ./ws
  repo: {origin}
  base_branch: main
polling:
  interval_ms: 300
agent:
  backend: command
  max_turns: 1
  command: |
    {AGENT}
gates:
  checks:
    - kind: secrets
handoff:
  state: human-review
  needs_human_state: needs-human
review:
  poll_interval_ms: 300
{review}---
Work on {{{{ issue.identifier }}}}: {{{{ issue.title }}}}.
"#,
        origin = origin.display(),
    )
}

/// One issue on the fake GitHub, a bare `origin` whose pushes it learns of, a person's clone
/// of it, and the workflow with `review` (further `review:` keys) written.
struct Scene {
    fake: Arc<FakeGithub>,
    number: u64,
    tmp: tempfile::TempDir,
    origin: std::path::PathBuf,
    person: std::path::PathBuf,
    done: Arc<AtomicBool>,
    relayed: std::sync::Mutex<Option<std::thread::JoinHandle<()>>>,
}

impl Scene {
    fn start(review: &str) -> Self {
        let fake = Arc::new(FakeGithub::start(TOKEN));
        let (number, _) = fake.create_issue(REPO, NewIssue::new("Greet", &["symphony:todo"]));
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        let (origin, pushes) = origin(dir);
        let done = Arc::new(AtomicBool::new(false));
        let relayed = relay(Arc::clone(&fake), REPO, pushes, Arc::clone(&done));
        git(dir, &["clone", "-q", "origin.git", "person"]);
        let person = dir.join("person");
        std::fs::write(
            dir.join("WORKFLOW.md"),
            workflow(&fake.url(), &origin, review),
        )
        .unwrap();
        Self {
            fake,
            number,
            tmp,
            origin,
            person,
            done,
            relayed: std::sync::Mutex::new(Some(relayed)),
        }
    }

    /// Stops relaying pushes (once the service has stopped).
    fn finish(&self) {
        self.done.store(true, Ordering::Relaxed);
        if let Some(relayed) = self.relayed.lock().unwrap().take() {
            relayed.join().unwrap();
        }
    }
}

#[test]
fn a_conflict_is_merged_for_the_agent_and_a_persons_push_is_built_on() {
    let scene = Scene::start("  on_head_moved: rebase\n");
    let Scene {
        fake,
        number,
        origin,
        person,
        ..
    } = &scene;
    let (dir, number) = (scene.tmp.path(), *number);
    let service = start(dir, TOKEN);
    let log = || std::fs::read_to_string(dir.join("symphony.log")).unwrap_or_default();
    wait_until("the first hand-off", LIMIT, || {
        count(dir, TOKEN, "handed_off") == 1
    });
    let pulls = fake.pulls(REPO);
    assert_eq!(pulls.len(), 1);
    let pull = pulls[0].number;
    let branch = pulls[0].pull.as_ref().unwrap().head.clone();
    let head = || git(origin, &["rev-parse", &format!("refs/heads/{branch}")]);
    let first = head();

    // The base moves under the change, and GitHub says the pull request no longer merges.
    let main = person_pushes(person, "main", "greeting.txt", "hey\n");
    fake.set_mergeable(REPO, pull, Some(false));
    wait_until("the conflict round's hand-off", LIMIT, || {
        count(dir, TOKEN, "handed_off") == 2
    });
    let second = head();
    let parents = git(origin, &["rev-list", "--parents", "-n", "1", &second]);
    assert_eq!(
        parents.split(' ').skip(1).collect::<Vec<_>>(),
        [first.as_str(), main.as_str()],
        "the resolution is committed as a merge of the branch and the base:\n{}",
        log()
    );
    assert_eq!(
        git(origin, &["show", &format!("{second}:greeting.txt")]),
        "hello, hey"
    );
    let round = prompts(dir).pop().unwrap();
    assert!(
        round.contains("## Review round 1")
            && round.contains("conflict markers")
            && round.contains("- `greeting.txt`"),
        "{round}"
    );
    fake.set_mergeable(REPO, pull, Some(true));

    // A person pushes to the branch: their commit becomes the change's.
    let theirs = person_pushes(person, &branch, "notes.txt", "one\nfrom a person\n");
    wait_until("the person's head taken", LIMIT, || {
        count(dir, TOKEN, "review_head_adopted") == 1
    });
    fake.review_pull(
        REPO,
        pull,
        "ada",
        "CHANGES_REQUESTED",
        "One more note.",
        &[],
    );
    wait_until("the next round's hand-off", LIMIT, || {
        count(dir, TOKEN, "handed_off") == 3
    });
    let third = head();
    assert_eq!(
        git(origin, &["rev-parse", &format!("{third}~1")]),
        theirs,
        "the round built on the person's commit"
    );
    assert_eq!(
        git(origin, &["show", &format!("{third}:notes.txt")]),
        "one\nfrom a person\nmore"
    );

    fake.review_pull(REPO, pull, "ada", "APPROVED", "Thanks!", &[]);
    fake.merge_pull(REPO, pull);
    wait_until("the issue closed", LIMIT, || !fake.issue(REPO, number).open);
    wait_until("the watch ended", LIMIT, || {
        count(dir, TOKEN, "review_watch_ended") == 1
    });
    service.stop(LIMIT);
    scene.finish();

    assert_eq!(fake.pulls(REPO).len(), 1, "one pull request throughout");
    for (older, newer) in [(&first, &second), (&second, &theirs), (&theirs, &third)] {
        git(origin, &["merge-base", "--is-ancestor", older, newer]);
    }
    let entries = audit(dir, TOKEN);
    assert!(
        !entries.iter().any(|e| e["kind"] == "review_handed_to"),
        "nothing went to a person: {}",
        log()
    );
}

/// With `review.allow_rebase_push`, a base that moved is rebased onto instead of merged: the
/// round's push replaces Symphony's own last push (with a lease on it), history stays linear.
#[test]
fn with_allow_rebase_push_the_branch_is_rebased_onto_the_moved_base() {
    let scene = Scene::start("  allow_rebase_push: true\n");
    let Scene {
        fake,
        origin,
        person,
        ..
    } = &scene;
    let dir = scene.tmp.path();
    let service = start(dir, TOKEN);
    let log = || std::fs::read_to_string(dir.join("symphony.log")).unwrap_or_default();
    wait_until("the first hand-off", LIMIT, || {
        count(dir, TOKEN, "handed_off") == 1
    });
    let pulls = fake.pulls(REPO);
    let pull = pulls[0].number;
    let branch = pulls[0].pull.as_ref().unwrap().head.clone();
    let head = || git(origin, &["rev-parse", &format!("refs/heads/{branch}")]);
    let first = head();

    // The base moves (another file: git can rebase), and GitHub says the change is behind.
    let main = person_pushes(person, "main", "other.txt", "from main\n");
    fake.set_mergeable(REPO, pull, Some(false));
    wait_until("the round's hand-off", LIMIT, || {
        count(dir, TOKEN, "handed_off") == 2
    });
    service.stop(LIMIT);
    scene.finish();

    let second = head();
    // main -> the rebased first commit -> the round's commit: linear, on the new base.
    assert_eq!(
        git(origin, &["rev-parse", &format!("{second}~2")]),
        main,
        "rebased onto the moved base:\n{}",
        log()
    );
    let parents = git(origin, &["rev-list", "--parents", "-n", "1", &second]);
    assert_eq!(parents.split(' ').count(), 2, "no merge commit: {parents}");
    let replaced = std::process::Command::new("git")
        .args(["merge-base", "--is-ancestor", &first, &second])
        .current_dir(origin)
        .status()
        .unwrap();
    assert!(
        !replaced.success(),
        "the push replaced Symphony's own last push"
    );
    assert_eq!(
        git(origin, &["show", &format!("{second}:other.txt")]),
        "from main"
    );
    assert_eq!(
        git(origin, &["show", &format!("{second}:greeting.txt")]),
        "hello"
    );
    assert_eq!(fake.pulls(REPO).len(), 1, "one pull request throughout");
}
