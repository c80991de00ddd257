//! The replay backend ships with the whole CLI through `symphony::main_with`:
//! `symphony-replay run` works a local issue with no model at all — the transcript's tool call
//! moves the issue to `done` — and `check` refuses an agent backend no one registered.

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_symphony-replay");

fn cli(dir: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .current_dir(dir)
        .output()
        .expect("the binary runs")
}

fn workflow(dir: &Path, backend: &str) {
    let transcript = dir.join("session.jsonl");
    std::fs::write(
        &transcript,
        "{\"say\": \"Looking at the issue.\"}\n{\"tokens\": {\"input\": 12, \"output\": 3}}\n{\"tool\": \"local_issue_set_state\", \"arguments\": {\"state\": \"done\"}}\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("WORKFLOW.md"),
        format!(
            "---\ntracker:\n  kind: local\n  provider:\n    path: ./issues\nworkspace:\n  root: ./ws\npolling:\n  interval_ms: 200\nagent:\n  backend: {backend}\n  max_turns: 1\nreplay:\n  transcript: {}\n---\nWork on {{{{ issue.identifier }}}}\n",
            transcript.display()
        ),
    )
    .unwrap();
}

fn state_of(dir: &Path, id: &str) -> String {
    std::fs::read_to_string(dir.join(format!("issues/{id}.md")))
        .unwrap_or_default()
        .lines()
        .find_map(|l| {
            l.strip_prefix("state:")
                .map(|s| s.trim().trim_matches('"').to_owned())
        })
        .unwrap_or_default()
}

#[test]
fn a_replayed_session_works_an_issue_through_the_plugin_binary() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    std::fs::create_dir_all(dir.join("issues")).unwrap();
    std::fs::write(
        dir.join("issues/R-1.md"),
        "---\ntitle: Replay me\nstate: todo\n---\nA task.\n",
    )
    .unwrap();
    workflow(dir, symphony_example_replay_agent::KIND);
    let check = cli(dir, &["check"]);
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );

    let mut child = Command::new(BIN)
        .args(["run"])
        .current_dir(dir)
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while state_of(dir, "R-1") != "done" && start.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let status = child.wait().unwrap();
    assert_eq!(
        state_of(dir, "R-1"),
        "done",
        "the replayed tool call moved the issue"
    );
    assert!(
        status.success(),
        "symphony-replay run exits 0 after SIGTERM: {status}"
    );

    // The run is recorded like any other, with the replayed usage.
    let runs = cli(dir, &["runs", "--json"]);
    let text = String::from_utf8_lossy(&runs.stdout);
    assert!(
        runs.status.success(),
        "{}",
        String::from_utf8_lossy(&runs.stderr)
    );
    assert!(text.contains("R-1"), "{text}");
}

#[test]
fn an_agent_backend_no_one_registered_is_refused_at_load() {
    let dir = tempfile::tempdir().unwrap();
    workflow(dir.path(), "nobody");
    let refused = cli(dir.path(), &["check"]);
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("\"nobody\" is not an agent backend"),
        "{stderr}"
    );
    assert!(
        stderr.contains("replay"),
        "the known kinds include the plugin's: {stderr}"
    );
}
