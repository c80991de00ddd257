//! `symphony run` with the GitHub adapter against the fake GitHub and the `command` backend:
//! an issue labelled `symphony:todo` is run once, and the agent's `github_api` calls move it to
//! `symphony:human-review` — through injected 502s, a secondary rate limit and a malformed
//! refresh. A canary token never reaches the agent's environment, the logs or the state files.

mod support;

use std::process::Command;
use std::time::Duration;

use support::{all_files, contains, run_with, wait_until};
use symphony_testkit::github::{FakeGithub, Fault, NewIssue};

const LIMIT: Duration = Duration::from_secs(120);
const CANARY: &str = "ghp_CanaryE2e0123456789abcdefABCDEF999999";
const REPO: &str = "acme/widgets";

const WORKFLOW: &str = r#"---
tracker:
  kind: github
  provider:
    repo: acme/widgets
    api_url: API_URL
    token: $SYMPHONY_E2E_GITHUB_TOKEN
    max_rate_limit_wait_ms: 5000
workspace:
  root: ./ws
polling:
  interval_ms: 200
agent:
  backend: command
  command: |
    number="${SYMPHONY_ISSUE_IDENTIFIER#*#}"
    echo "$SYMPHONY_ISSUE_IDENTIFIER" >> ../../ran.log
    env > ../../agent-env.txt
    echo '::symphony-tool {"name": "github_api", "arguments": {"method": "POST", "path": "/repos/acme/widgets/issues/'"$number"'/comments", "body": {"body": "Done: see the branch."}}}'
    echo '::symphony-tool {"name": "github_api", "arguments": {"method": "POST", "path": "/repos/acme/widgets/issues/'"$number"'/labels", "body": {"labels": ["symphony:human-review"]}}}'
    echo '::symphony-tool {"name": "github_api", "arguments": {"method": "DELETE", "path": "/repos/acme/widgets/issues/'"$number"'/labels/symphony:todo"}}'
    echo '::symphony-tool {"name": "github_api", "arguments": {"method": "GET", "path": "/user"}}'
---
Work on {{ issue.identifier }}: {{ issue.title }}
"#;

#[test]
fn a_todo_issue_is_run_once_and_moved_to_human_review_by_the_agent() {
    let fake = FakeGithub::start(CANARY);
    let (number, _) = fake.create_issue(
        REPO,
        NewIssue::new("Add a greeting", &["symphony:todo", "Docs"]),
    );
    fake.create_issue(REPO, NewIssue::new("Not for Symphony", &["bug"]));
    // Transient trouble on the way: a candidate poll that fails for good (four 502s), a
    // secondary rate limit, and a refresh that returns garbage.
    fake.inject("/repos/acme/widgets/issues", Fault::Status(502), 4);
    fake.inject(
        "/repos/acme/widgets/issues",
        Fault::SecondaryRateLimit { retry_after_s: 1 },
        1,
    );
    fake.inject("/graphql", Fault::MalformedJson, 1);

    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    std::fs::write(
        dir.join("WORKFLOW.md"),
        WORKFLOW.replace("API_URL", &fake.url()),
    )
    .unwrap();
    let child = run_with(
        dir,
        "symphony.log",
        "debug",
        &[
            ("SYMPHONY_E2E_GITHUB_TOKEN", CANARY),
            ("GITHUB_TOKEN", CANARY),
        ],
    );

    wait_until("the agent to move the issue to human review", LIMIT, || {
        let labels = fake.issue(REPO, number).labels;
        labels.iter().any(|l| l == "symphony:human-review")
            && !labels.iter().any(|l| l == "symphony:todo")
    });
    // Several more polls: the issue is no longer a candidate, so nothing runs again.
    let requests = fake.request_count();
    wait_until("a few more polls", LIMIT, || {
        fake.request_count() > requests + 6
    });
    child.stop(LIMIT);

    let ran = std::fs::read_to_string(dir.join("ran.log")).unwrap();
    assert_eq!(
        ran.lines().collect::<Vec<_>>(),
        [format!("widgets#{number}")],
        "run exactly once"
    );
    let issue = fake.issue(REPO, number);
    assert_eq!(issue.comments.len(), 1, "one comment, not retried");
    assert_eq!(issue.comments[0].body, "Done: see the branch.");
    assert!(
        issue.labels.contains(&"Docs".to_owned()),
        "other labels untouched"
    );

    let log = std::fs::read_to_string(dir.join("symphony.log")).unwrap();
    assert!(
        log.contains("tracker_status"),
        "the failed poll was logged:\n{log}"
    );
    assert!(
        fake.exchanges().iter().all(|e| e.path != "/user"),
        "the /user call was refused before any request"
    );

    // The canary is nowhere: not in the agent's environment, logs, workspace or state.
    let env = std::fs::read_to_string(dir.join("agent-env.txt")).unwrap();
    assert!(
        !env.contains("SYMPHONY_E2E_GITHUB_TOKEN") && !env.contains("GITHUB_TOKEN="),
        "{env}"
    );
    let mut files = Vec::new();
    all_files(dir, &mut files);
    assert!(files
        .iter()
        .any(|(p, _)| p.ends_with("state.db") || p.contains(".symphony")));
    assert!(
        files
            .iter()
            .any(|(_, bytes)| contains(bytes, b"outside the repository")),
        "the refusal reached the agent's recorded events"
    );
    for (path, bytes) in files {
        assert!(
            !contains(&bytes, CANARY.as_bytes()),
            "the token leaked into {path}"
        );
    }
}

#[test]
fn check_shows_the_github_defaults_with_the_token_masked() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("WORKFLOW.md"),
        "---\ntracker:\n  kind: github\n  provider:\n    repo: acme/widgets\n---\nWork on {{ issue.identifier }}\n",
    )
    .unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_symphony"))
        .arg("check")
        .current_dir(dir.path())
        .env("GITHUB_TOKEN", CANARY)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "{text}");
    assert!(!text.contains(CANARY), "{text}");
    assert!(
        text.contains("********"),
        "the token is shown masked: {text}"
    );
    for default in ["in-progress", "closed"] {
        assert!(
            text.contains(default),
            "default {default:?} missing: {text}"
        );
    }
    // Without a token the load fails and says how to provide one.
    let output = Command::new(env!("CARGO_BIN_EXE_symphony"))
        .arg("check")
        .current_dir(dir.path())
        .env_remove("GITHUB_TOKEN")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(text.contains("GITHUB_TOKEN"), "{text}");
}
