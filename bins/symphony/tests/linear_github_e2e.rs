//! A Linear issue handed off as a GitHub pull request: the fake Linear as the tracker, the
//! fake GitHub as the code host (`code_host: {kind: github}`), real git with a bare `origin`
//! whose pushes GitHub learns of, and a shell agent. The issue is worked on once, its change
//! passes the gates, the branch is pushed, one pull request is opened on GitHub, and the
//! Linear issue moves to In Review with a comment linking the pull request.

mod support;

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use support::github_origin::{origin, relay};
use support::{all_files, contains, git, run_with, wait_until, Served};
use symphony_testkit::github::FakeGithub;
use symphony_testkit::linear::FakeLinear;

const LIMIT: Duration = Duration::from_secs(120);
const GITHUB_TOKEN: &str = "ghp_LinearToGithub0123456789abcdefABCDEF";
const LINEAR_KEY: &str = "lin_api_LinearToGithub0123456789abcdef";
const REPO: &str = "acme/widgets";

fn workflow(linear: &str, github: &str, origin: &Path) -> String {
    format!(
        r#"---
tracker:
  kind: linear
  provider:
    team: ENG
    endpoint: {linear}
    api_key: $E2E_LINEAR_KEY
code_host:
  kind: github
  repo: {REPO}
  api_url: {github}
  token: $E2E_GITHUB_TOKEN
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
    echo "$SYMPHONY_ISSUE_IDENTIFIER" >> ../../ran.log
    printf 'hello\n' > greeting.txt
gates:
  checks:
    - kind: secrets
handoff:
  state: In Review
  needs_human_state: Backlog
---
Work on {{{{ issue.identifier }}}}: {{{{ issue.title }}}}.
"#,
        origin = origin.display(),
    )
}

fn start(dir: &Path) -> Served {
    run_with(
        dir,
        "symphony.log",
        "info",
        &[
            ("E2E_LINEAR_KEY", LINEAR_KEY),
            ("E2E_GITHUB_TOKEN", GITHUB_TOKEN),
        ],
    )
}

#[test]
fn a_linear_issue_becomes_one_github_pull_request_linked_back_on_linear() {
    let linear = FakeLinear::start(LINEAR_KEY);
    let (_, identifier) = linear.create_issue("ENG", "Greet", "Todo", &[]);
    let github = Arc::new(FakeGithub::start(GITHUB_TOKEN));
    github.create_repo(REPO);
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let (origin, pushes) = origin(dir);
    let done = Arc::new(AtomicBool::new(false));
    let relayed = relay(Arc::clone(&github), REPO, pushes, Arc::clone(&done));
    std::fs::write(
        dir.join("WORKFLOW.md"),
        workflow(&linear.endpoint(), &github.url(), &origin),
    )
    .unwrap();

    let child = start(dir);
    wait_until("the Linear issue to be handed off", LIMIT, || {
        linear.state_of(&identifier) == "In Review"
    });
    child.stop(LIMIT);
    done.store(true, Ordering::Relaxed);
    relayed.join().unwrap();
    let log = std::fs::read_to_string(dir.join("symphony.log")).unwrap();

    let ran = std::fs::read_to_string(dir.join("ran.log")).unwrap();
    assert_eq!(
        ran.lines().collect::<Vec<_>>(),
        [identifier.as_str()],
        "{log}"
    );
    // One pull request on GitHub, from the pushed branch, named after the Linear issue.
    let pulls = github.pulls(REPO);
    assert_eq!(pulls.len(), 1, "{log}");
    let pull = &pulls[0];
    assert!(pull.title.starts_with("ENG-1: Greet"), "{}", pull.title);
    let spec = pull.pull.as_ref().unwrap();
    assert_eq!(spec.base, "main");
    assert!(spec.head.starts_with("symphony/"), "{}", spec.head);
    assert_eq!(
        git(&origin, &["show", &format!("{}:greeting.txt", spec.head)]),
        "hello"
    );
    let body = pull.body.clone().unwrap_or_default();
    assert!(
        body.contains("https://linear.app/fake/issue/eng-1"),
        "the pull request links the Linear issue: {body}"
    );
    // The Linear issue links the pull request back.
    let comments = linear.issue(&identifier).comments;
    assert_eq!(comments.len(), 1, "{comments:?}");
    assert!(
        comments[0].contains(&format!(
            "https://github.example/{REPO}/pull/{}",
            pull.number
        )),
        "{}",
        comments[0]
    );
    linear.assert_all_valid();
    // Neither credential is in any file the run left.
    let mut files = Vec::new();
    all_files(dir, &mut files);
    for (path, bytes) in files {
        for secret in [GITHUB_TOKEN, LINEAR_KEY] {
            assert!(
                !contains(&bytes, secret.as_bytes()),
                "a secret leaked into {path}"
            );
        }
    }
}
