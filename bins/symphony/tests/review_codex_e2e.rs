//! The review loop end to end (ADR 0018) with the real Codex CLI (mock model), the fake GitHub
//! and a local bare `origin` whose pushes GitHub learns of as they happen: a review asks for
//! changes with an inline comment, the agent's next round fixes it, the gates pass, one
//! fast-forward push, the thread is answered and resolved and the reviewer asked again; a
//! check of another app fails on the new head, another round fixes it; an approval and a merge
//! close the issue and remove its workspace. One pull request throughout.

mod support;

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use support::github_origin::{audit, count, origin, relay, start};
use support::{git, wait_until};
use symphony_testkit::github::{FakeGithub, NewIssue};
use symphony_testkit::requires::{run, trial, Tool};
use symphony_testkit::{codex, MockModel, Step};

const LIMIT: Duration = Duration::from_secs(180);
const TOKEN: &str = "ghp_ReviewE2e0123456789abcdefABCDEF5555555";
const REPO: &str = "acme/widgets";

fn a_review_and_a_failed_check_become_rounds_until_the_merge() {
    let Some(bin) = codex::binary("a_review_and_a_failed_check_become_rounds_until_the_merge")
    else {
        return;
    };
    let model = MockModel::start(vec![
        // The first run: the task.
        Step::Shell("printf 'hello\\n' > greeting.txt".into()),
        Step::Message("Changed the greeting.".into()),
        // Round 1: the reviewer's inline comment.
        Step::Shell("printf 'hello, world\\n' > greeting.txt".into()),
        Step::Message("Greeted the world, as asked.".into()),
        // Round 2: the other app's failed check.
        Step::Shell("printf 'hello, world!\\n' > greeting.txt".into()),
        Step::Message("Added the exclamation mark the tests expect.".into()),
    ])
    .unwrap();
    let fake = Arc::new(FakeGithub::start(TOKEN));
    let (number, _) = fake.create_issue(REPO, NewIssue::new("Greet", &["symphony:todo"]));
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let (origin, pushes) = origin(dir);
    let done = Arc::new(AtomicBool::new(false));
    let relayed = relay(Arc::clone(&fake), REPO, pushes, Arc::clone(&done));
    codex::write_config(
        &dir.join("codex"),
        &model.base_url(),
        "never",
        "danger-full-access",
    )
    .unwrap();
    let workflow = format!(
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
polling:
  interval_ms: 300
agent:
  max_turns: 1
codex:
  command: "{codex} app-server"
  approval_policy: never
  thread_sandbox: danger-full-access
  turn_sandbox_policy:
    type: dangerFullAccess
  home: isolated
  home_config: ./codex/config.toml
  read_timeout_ms: 30000
gates:
  checks:
    - kind: secrets
handoff:
  state: human-review
  needs_human_state: needs-human
review:
  poll_interval_ms: 300
---
Work on {{{{ issue.identifier }}}}: {{{{ issue.title }}}}.
"#,
        api = fake.url(),
        origin = origin.display(),
        codex = bin.display(),
    );
    std::fs::write(dir.join("WORKFLOW.md"), workflow).unwrap();
    let service = start(dir, TOKEN);
    let log = || std::fs::read_to_string(dir.join("symphony.log")).unwrap_or_default();
    wait_until("the first hand-off", LIMIT, || {
        count(dir, TOKEN, "handed_off") == 1
    });
    let pulls = fake.pulls(REPO);
    assert_eq!(pulls.len(), 1);
    let pull = pulls[0].number;
    let branch = pulls[0].pull.as_ref().unwrap().head.clone();
    let head = |origin: &Path| git(origin, &["rev-parse", &format!("refs/heads/{branch}")]);
    let first = head(&origin);
    assert_eq!(fake.issue(REPO, pull).pull.unwrap().head_sha, first);

    // Round 1: changes requested, with a comment on a line.
    let (_, comments) = fake.review_pull(
        REPO,
        pull,
        "ada",
        "CHANGES_REQUESTED",
        "Almost: see the comment.",
        &[("greeting.txt", 1, "Please greet the whole world.")],
    );
    wait_until("the first round's hand-off", LIMIT, || {
        count(dir, TOKEN, "handed_off") == 2
    });
    let second = head(&origin);
    assert_ne!(second, first);
    git(&origin, &["merge-base", "--is-ancestor", &first, &second]);
    assert_eq!(
        git(&origin, &["show", &format!("{second}:greeting.txt")]),
        "hello, world"
    );
    let round_prompt = model
        .requests()
        .iter()
        .map(Value::to_string)
        .find(|r| r.contains("Review round 1"))
        .unwrap_or_else(|| panic!("no request carried the review:\n{}", log()));
    assert!(
        round_prompt.contains("ada on `greeting.txt:1`: Please greet the whole world."),
        "the round's prompt names the comment and its line"
    );
    wait_until("the thread answered", LIMIT, || {
        count(dir, TOKEN, "review_answered") == 1
    });
    let state = fake.issue(REPO, pull).pull.unwrap();
    assert!(state.resolved_threads.contains(&comments[0]), "resolved");
    let reply = state
        .review_comments
        .iter()
        .find(|c| c.in_reply_to == Some(comments[0]))
        .expect("a reply in the thread");
    assert!(reply.body.contains(&second[..12]), "{}", reply.body);
    assert_eq!(state.requested_reviewers, ["ada"]);

    // Round 2: another app's check fails on the new head.
    fake.add_check_run(
        REPO,
        &second,
        "ci-app",
        "tests",
        "failure",
        "expected: hello, world!",
    );
    wait_until("the second round's hand-off", LIMIT, || {
        count(dir, TOKEN, "handed_off") == 3
    });
    let third = head(&origin);
    git(&origin, &["merge-base", "--is-ancestor", &second, &third]);
    assert_eq!(
        git(&origin, &["show", &format!("{third}:greeting.txt")]),
        "hello, world!"
    );
    let second_round = model
        .requests()
        .iter()
        .map(Value::to_string)
        .find(|r| r.contains("Review round 2"))
        .unwrap_or_else(|| panic!("no request carried the second round:\n{}", log()));
    let excerpt: String = second_round
        .split("Review round 2")
        .nth(1)
        .unwrap_or("")
        .chars()
        .take(600)
        .collect();
    assert!(
        excerpt.contains("`tests` (failure, by ci-app)")
            && excerpt.contains("expected: hello, world!")
            && !excerpt.contains("symphony-bot"),
        "{excerpt}"
    );

    let body = fake.issue(REPO, pull).body.unwrap_or_default();
    assert!(
        body.contains("This change answers review round 2"),
        "the proof of work says which round: {body}"
    );

    // Approved and merged: the issue is closed, its workspace gone.
    fake.review_pull(REPO, pull, "ada", "APPROVED", "Thanks!", &[]);
    fake.merge_pull(REPO, pull);
    wait_until("the issue closed", LIMIT, || !fake.issue(REPO, number).open);
    wait_until("the watch ended", LIMIT, || {
        count(dir, TOKEN, "review_watch_ended") == 1
    });
    let ws = dir.join("ws");
    wait_until("the workspace removed", LIMIT, || {
        std::fs::read_dir(&ws)
            .map(|d| {
                d.flatten()
                    .all(|e| e.file_name().to_string_lossy().starts_with('.'))
            })
            .unwrap_or(true)
    });
    service.stop(LIMIT);
    done.store(true, Ordering::Relaxed);
    relayed.join().unwrap();

    let entries = audit(dir, TOKEN);
    let kinds = |kind: &str| entries.iter().filter(|e| e["kind"] == kind).count();
    assert_eq!(fake.pulls(REPO).len(), 1, "one pull request throughout");
    assert_eq!(kinds("review_feedback_taken"), 2);
    assert_eq!(kinds("change_proposed"), 3);
    let ended = entries
        .iter()
        .find(|e| e["kind"] == "review_watch_ended")
        .unwrap();
    assert_eq!(ended["detail"]["reason"], "merged", "{}", log());
}

/// A test target of its own harness: the test needs the Codex CLI, and says so (ignored, with
/// the reason) where it is not installed, instead of passing without running.
fn main() -> std::process::ExitCode {
    run(vec![trial(
        "a_review_and_a_failed_check_become_rounds_until_the_merge",
        Tool::Codex,
        a_review_and_a_failed_check_become_rounds_until_the_merge,
    )])
}
