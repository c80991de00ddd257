//! `symphony run` with the Linear adapter against the fake Linear and the `command` backend:
//! an issue in Todo is run once, and the agent's `linear_graphql` calls comment on it and
//! move it to In Review, while a call about another team's issue is refused — through a list
//! that changes between pages, a candidate poll that fails for good (502s), a rate limit and
//! a malformed answer. Every document sent is valid on Linear's schema. A canary key never
//! reaches the agent's environment, the logs or the state files.

mod support;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use support::{all_files, contains, run_with, wait_until};
use symphony_testkit::linear::{FakeLinear, Fault};

const LIMIT: Duration = Duration::from_secs(120);
const CANARY: &str = "lin_api_CanaryE2e0123456789abcdefABCDEF";

const WORKFLOW: &str = r#"---
tracker:
  kind: linear
  provider:
    team: ENG
    endpoint: ENDPOINT
    api_key: $SYMPHONY_E2E_LINEAR_KEY
    page_size: 1
    max_rate_limit_wait_ms: 5000
workspace:
  root: ./ws
polling:
  interval_ms: 200
agent:
  backend: command
  command: |
    echo "$SYMPHONY_ISSUE_IDENTIFIER" >> ../../ran.log
    env > ../../agent-env.txt
    echo '::symphony-tool {"name": "linear_graphql", "arguments": {"query": "mutation($id: String!, $body: String!) { commentCreate(input: { issueId: $id, body: $body }) { success } }", "variables": {"id": "'"$SYMPHONY_ISSUE_IDENTIFIER"'", "body": "Done: see the branch."}}}'
    echo '::symphony-tool {"name": "linear_graphql", "arguments": {"query": "mutation($id: String!) { commentCreate(input: { issueId: $id, body: \"hello\" }) { success } }", "variables": {"id": "OPS-1"}}}'
    echo '::symphony-tool {"name": "linear_graphql", "arguments": {"query": "mutation($id: String!, $stateId: String!) { issueUpdate(id: $id, input: { stateId: $stateId }) { success issue { state { name } } } }", "variables": {"id": "'"$SYMPHONY_ISSUE_IDENTIFIER"'", "stateId": "state-eng-in-review"}}}'
---
Work on {{ issue.identifier }}: {{ issue.title }}
"#;

#[test]
fn a_todo_issue_is_run_once_and_moved_to_review_by_the_agent() {
    let fake = FakeLinear::start(CANARY);
    fake.add_team("OPS");
    let (_, identifier) = fake.create_issue("ENG", "Add a greeting", "Todo", &["Docs"]);
    fake.create_issue("ENG", "Moved away while listed", "Todo", &[]);
    fake.create_issue("OPS", "Another team's", "Todo", &[]);
    // In request order: the first page is answered and then ENG-2 leaves Todo (a list that
    // changes between pages); a poll that fails for good (four 502s); a rate limit that
    // resets in 800 ms; a malformed answer.
    fake.arm(Fault::MoveAfter {
        identifier: "ENG-2".into(),
        state: "Backlog".into(),
    });
    for _ in 0..4 {
        fake.arm(Fault::Status(502));
    }
    fake.arm(Fault::RateLimited { reset_in_ms: 800 });
    fake.arm(Fault::MalformedJson);

    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    std::fs::write(
        dir.join("WORKFLOW.md"),
        WORKFLOW.replace("ENDPOINT", &fake.endpoint()),
    )
    .unwrap();
    let child = run_with(
        dir,
        "symphony.log",
        "debug",
        &[
            ("SYMPHONY_E2E_LINEAR_KEY", CANARY),
            ("LINEAR_API_KEY", CANARY),
        ],
    );

    wait_until("the agent to move the issue to In Review", LIMIT, || {
        fake.state_of(&identifier) == "In Review"
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
        [identifier.as_str()],
        "run exactly once, and only the issue still in Todo"
    );
    let issue = fake.issue(&identifier);
    assert_eq!(
        issue.comments,
        ["Done: see the branch."],
        "one comment, not retried"
    );
    assert_eq!(issue.labels, ["Docs"], "labels untouched");
    assert!(
        fake.issue("OPS-1").comments.is_empty(),
        "another team's issue untouched"
    );
    fake.assert_all_valid();
    assert_eq!(fake.armed(), 0, "every fault was served");

    let log = std::fs::read_to_string(dir.join("symphony.log")).unwrap();
    assert!(
        log.contains("tracker_status"),
        "the failed poll was logged:\n{log}"
    );

    // The canary is nowhere: not in the agent's environment, logs, workspace or state.
    let env = std::fs::read_to_string(dir.join("agent-env.txt")).unwrap();
    assert!(
        !env.contains("SYMPHONY_E2E_LINEAR_KEY") && !env.contains("LINEAR_API_KEY="),
        "{env}"
    );
    let mut files = Vec::new();
    all_files(dir, &mut files);
    assert!(
        files
            .iter()
            .any(|(_, bytes)| contains(bytes, b"not in the configured scope")),
        "the refusal reached the agent's recorded events"
    );
    for (path, bytes) in files {
        assert!(
            !contains(&bytes, CANARY.as_bytes()),
            "the key leaked into {path}"
        );
    }
}

/// `symphony check` in `dir` with `LINEAR_API_KEY` set to `key` (unset when `None`): whether
/// it passed, and what it printed.
fn check(dir: &Path, key: Option<&str>) -> (bool, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_symphony"));
    command.arg("check").current_dir(dir);
    match key {
        Some(key) => command.env("LINEAR_API_KEY", key),
        None => command.env_remove("LINEAR_API_KEY"),
    };
    let output = command.output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        output.status.code() == Some(0) || output.status.code() == Some(1),
        "{text}"
    );
    (output.status.success(), text)
}

#[test]
fn check_shows_the_linear_defaults_with_the_key_masked() {
    let dir = tempfile::tempdir().unwrap();
    let workflow = dir.path().join("WORKFLOW.md");
    std::fs::write(
        &workflow,
        "---\ntracker:\n  kind: linear\n  provider:\n    team: ENG\n---\nWork on {{ issue.identifier }}\n",
    )
    .unwrap();
    let (passed, text) = check(dir.path(), Some(CANARY));
    assert!(passed, "{text}");
    assert!(!text.contains(CANARY), "{text}");
    assert!(text.contains("********"), "the key is shown masked: {text}");
    for default in ["In Progress", "Canceled"] {
        assert!(
            text.contains(default),
            "default {default:?} missing: {text}"
        );
    }
    // Without a key the load fails and says how to provide one; a misspelt key is named.
    let (passed, text) = check(dir.path(), None);
    assert!(!passed && text.contains("LINEAR_API_KEY"), "{text}");
    std::fs::write(
        &workflow,
        "---\ntracker:\n  kind: linear\n  provider:\n    teem: ENG\n---\nWork\n",
    )
    .unwrap();
    let (passed, text) = check(dir.path(), Some(CANARY));
    assert!(!passed && text.contains("did you mean `team`"), "{text}");
}

/// The tracker section of the reference implementation's own Linear workflow
/// (openai/symphony `elixir/WORKFLOW.md` at 2f2bd3f), as written there: its flat
/// `project_slug` and its state names load unchanged, and `check` says where the key belongs.
#[test]
fn the_reference_implementations_linear_tracker_section_loads_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("WORKFLOW.md"),
        r#"---
tracker:
  kind: linear
  project_slug: "yansen-symphony-b1cf2e8198aa"
  active_states:
    - Todo
    - In Progress
    - Merging
    - Rework
  terminal_states:
    - Closed
    - Cancelled
    - Canceled
    - Duplicate
    - Done
polling:
  interval_ms: 5000
---
You are working on a Linear ticket `{{ issue.identifier }}`
"#,
    )
    .unwrap();
    let (passed, text) = check(dir.path(), Some(CANARY));
    assert!(passed, "{text}");
    assert!(
        text.contains("tracker.project_slug is read as tracker.provider.project_slug"),
        "check says where the key belongs: {text}"
    );
    assert!(
        text.contains("Merging") && text.contains("Rework"),
        "{text}"
    );
    assert!(!text.contains(CANARY), "{text}");
}
