//! Every CLI command against every built-in tracker kind: `local` on a folder, `github` on
//! the fake GitHub and `linear` on the fake Linear. A command/tracker pair that panics, hangs or fails where it should work
//! cannot go unnoticed (it did: `symphony issues` with `tracker.kind: github` built octocrab
//! before the Tokio runtime existed and panicked).

mod support;

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use support::{start_serving_with, wait_until};
use symphony_testkit::github::{FakeGithub, NewIssue};
use symphony_testkit::linear::FakeLinear;

const LIMIT: Duration = Duration::from_secs(60);
const TOKEN: &str = "ghp_MatrixToken0123456789abcdefABCDEF0000";
const LINEAR_KEY: &str = "lin_api_MatrixKey0123456789abcdef";

const AGENT: &str = r#"
agent:
  backend: command
  command: echo working
polling:
  interval_ms: 200
workspace:
  root: ./ws
"#;

/// Where `symphony review` leaves a review.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Reviews {
    /// In the local code host's files.
    Here,
    /// On the pull request (GitHub keeps its own reviews; the command says so).
    OnTheHost,
    /// Nowhere: the tracker has no code host of its own and none is configured.
    NoCodeHost,
}

/// A fake provider kept alive for the test.
#[allow(dead_code)]
enum Fake {
    Github(FakeGithub),
    Linear(FakeLinear),
}

/// A tracker kind set up in `dir` with one issue a fresh service would dispatch.
struct Kind {
    name: &'static str,
    _fake: Option<Fake>,
    /// The identifier `symphony issues` and `runs` show.
    identifier: String,
    reviews: Reviews,
}

fn local(dir: &Path) -> Kind {
    std::fs::create_dir_all(dir.join("issues")).unwrap();
    std::fs::write(
        dir.join("issues/M-1.md"),
        "---\ntitle: Matrix issue\nstate: todo\n---\nBody.\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("WORKFLOW.md"),
        format!("---\ntracker:\n  kind: local\n  provider:\n    path: ./issues\n{AGENT}---\nWork on {{{{ issue.identifier }}}}.\n"),
    )
    .unwrap();
    Kind {
        name: "local",
        _fake: None,
        identifier: "M-1".to_owned(),
        reviews: Reviews::Here,
    }
}

fn github(dir: &Path) -> Kind {
    let fake = FakeGithub::start(TOKEN);
    let (number, _) = fake.create_issue(
        "acme/widgets",
        NewIssue::new("Matrix issue", &["symphony:todo"]),
    );
    std::fs::write(
        dir.join("WORKFLOW.md"),
        format!(
            "---\ntracker:\n  kind: github\n  provider:\n    repo: acme/widgets\n    api_url: {}\n    token: $MATRIX_GITHUB_TOKEN\n    max_rate_limit_wait_ms: 2000\n{AGENT}---\nWork on {{{{ issue.identifier }}}}.\n",
            fake.url()
        ),
    )
    .unwrap();
    Kind {
        name: "github",
        _fake: Some(Fake::Github(fake)),
        identifier: format!("widgets#{number}"),
        reviews: Reviews::OnTheHost,
    }
}

fn linear(dir: &Path) -> Kind {
    let fake = FakeLinear::start(LINEAR_KEY);
    let (_, identifier) = fake.create_issue("ENG", "Matrix issue", "Todo", &[]);
    std::fs::write(
        dir.join("WORKFLOW.md"),
        format!(
            "---\ntracker:\n  kind: linear\n  provider:\n    team: ENG\n    endpoint: {}\n    api_key: $MATRIX_LINEAR_KEY\n    max_rate_limit_wait_ms: 2000\n{AGENT}---\nWork on {{{{ issue.identifier }}}}.\n",
            fake.endpoint()
        ),
    )
    .unwrap();
    Kind {
        name: "linear",
        _fake: Some(Fake::Linear(fake)),
        identifier,
        reviews: Reviews::NoCodeHost,
    }
}

fn symphony(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_symphony"))
        .args(args)
        .current_dir(dir)
        .env("MATRIX_GITHUB_TOKEN", TOKEN)
        .env("MATRIX_LINEAR_KEY", LINEAR_KEY)
        .env_remove("SYMPHONY_LOG")
        .stdin(Stdio::null())
        .output()
        .expect("the symphony binary runs")
}

/// Asserts `output` succeeded without a panic and returns its stdout.
fn ok(kind: &str, command: &str, output: &Output) -> String {
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !stderr.contains("panicked"),
        "`symphony {command}` panicked with tracker {kind}:\n{stderr}"
    );
    assert!(
        output.status.success(),
        "`symphony {command}` failed with tracker {kind} ({:?}):\n{stdout}\n{stderr}",
        output.status.code()
    );
    stdout
}

fn every_command_works_with(kind: Kind, dir: &Path) {
    let name = kind.name;
    let out = ok(name, "check", &symphony(dir, &["check"]));
    assert!(out.contains(&format!("kind: {name}")), "{out}");
    let out = ok(name, "issues", &symphony(dir, &["issues"]));
    assert!(
        out.contains(&kind.identifier) && out.contains("yes"),
        "{name}: the issue is listed as dispatchable:\n{out}"
    );
    let issue = serde_json::json!({
        "id": "1", "identifier": kind.identifier, "title": "Matrix issue", "state": "todo",
    });
    std::fs::write(dir.join("issue.json"), issue.to_string()).unwrap();
    let out = ok(
        name,
        "prompt",
        &symphony(dir, &["prompt", "--issue", "issue.json"]),
    );
    assert!(
        out.contains(&format!("Work on {}.", kind.identifier)),
        "{out}"
    );

    // `run` for a few seconds, with `status` asking it over HTTP while it runs.
    let (mut child, port) = start_serving_with(
        dir,
        "info",
        LIMIT,
        &[
            ("MATRIX_GITHUB_TOKEN", TOKEN),
            ("MATRIX_LINEAR_KEY", LINEAR_KEY),
        ],
    );
    let log = dir.join("symphony.log");
    wait_until("a run to be recorded", LIMIT, || {
        std::fs::read_to_string(&log).is_ok_and(|t| t.contains("agent session started"))
    });
    let url = format!("http://127.0.0.1:{port}");
    let out = ok(
        name,
        "status",
        &symphony(dir, &["status", "--url", &url, "--once"]),
    );
    assert!(!out.is_empty(), "{name}: status printed nothing");
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let status = wait_for_exit(&mut child);
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(!text.contains("panicked"), "{name}: run panicked:\n{text}");
    assert!(
        status.success(),
        "{name}: run did not stop cleanly ({status:?}):\n{text}"
    );

    let out = ok(name, "runs", &symphony(dir, &["runs"]));
    assert!(out.contains(&kind.identifier), "{name}: runs:\n{out}");
    let out = ok(name, "audit verify", &symphony(dir, &["audit", "verify"]));
    assert!(!out.is_empty());
    let out = ok(name, "audit tail", &symphony(dir, &["audit", "tail"]));
    assert!(out.contains(&kind.identifier), "{name}: audit tail:\n{out}");

    let review = symphony(
        dir,
        &["review", &kind.identifier, "--comment", "Looks odd."],
    );
    if kind.reviews == Reviews::Here {
        let out = ok(name, "review", &review);
        assert!(out.contains("review 1 of"), "{out}");
        let file = std::fs::read_to_string(dir.join("issues/M-1.md")).unwrap();
        assert!(
            file.contains("verdict=comment -->\nLooks odd."),
            "{name}: the review is in the issue file:\n{file}"
        );
    } else {
        let stderr = String::from_utf8_lossy(&review.stderr);
        assert!(
            !stderr.contains("panicked"),
            "{name}: review panicked:\n{stderr}"
        );
        assert_eq!(review.status.code(), Some(1), "{name}: review:\n{stderr}");
        let says = if kind.reviews == Reviews::OnTheHost {
            "review the pull request there"
        } else {
            "has no code host"
        };
        assert!(
            stderr.contains(says),
            "{name}: review says where to review:\n{stderr}"
        );
    }
}

fn wait_for_exit(child: &mut std::process::Child) -> std::process::ExitStatus {
    let mut status = None;
    wait_until("symphony run to exit", LIMIT, || {
        status = child.try_wait().unwrap();
        status.is_some()
    });
    status.unwrap()
}

#[test]
fn every_command_works_with_the_local_tracker() {
    let dir = tempfile::tempdir().unwrap();
    every_command_works_with(local(dir.path()), dir.path());
}

#[test]
fn every_command_works_with_the_github_tracker() {
    let dir = tempfile::tempdir().unwrap();
    every_command_works_with(github(dir.path()), dir.path());
}

#[test]
fn every_command_works_with_the_linear_tracker() {
    let dir = tempfile::tempdir().unwrap();
    every_command_works_with(linear(dir.path()), dir.path());
}
