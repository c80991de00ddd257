//! SPEC §17.7 "CLI and Host Lifecycle": one test per bullet, named after it, driving the real
//! `symphony run` process.

use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

const WORKFLOW: &str = "---\ntracker:\n  kind: local\n  provider:\n    path: ./issues\nworkspace:\n  root: ./ws\npolling:\n  interval_ms: 200\nagent:\n  backend: command\n  command: \"echo $$ >> ../../agent.pids; echo $SYMPHONY_ISSUE_IDENTIFIER >> ../../ran.log; exec sleep 600\"\n---\nWork on {{ issue.identifier }}\n";

fn project(dir: &Path, workflow_name: &str) {
    std::fs::create_dir_all(dir.join("issues")).unwrap();
    std::fs::write(
        dir.join("issues/L-1.md"),
        "---\ntitle: t\nstate: todo\n---\n",
    )
    .unwrap();
    std::fs::write(dir.join(workflow_name), WORKFLOW).unwrap();
}

fn run(dir: &Path, args: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_symphony"))
        .arg("run")
        .args(args)
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Waits until the agent has started on L-1, so the service is demonstrably up.
fn wait_for_agent(dir: &Path) -> bool {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(60) {
        if std::fs::read_to_string(dir.join("ran.log")).is_ok_and(|t| t.contains("L-1")) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    false
}

/// Sends `sig` to `symphony run` and waits for it to exit.
fn stop(mut child: Child, sig: &str) -> ExitStatus {
    let _ = Command::new("kill")
        .args([format!("-{sig}"), child.id().to_string()])
        .status();
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        // The agent is mid-turn (sleep 600): a graceful stop must not wait for it.
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "symphony run did not stop within 60 s"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Kills agent process groups a SIGKILLed service could not stop (they lead their own groups).
fn kill_orphaned_agents(dir: &Path) {
    for pid in std::fs::read_to_string(dir.join("agent.pids"))
        .unwrap_or_default()
        .lines()
    {
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", pid.trim())])
            .status();
    }
}

#[test]
fn cli_accepts_a_positional_workflow_path_argument() {
    let dir = tempfile::tempdir().unwrap();
    project(dir.path(), "flows.md");
    let child = run(dir.path(), &["flows.md"]);
    assert!(
        wait_for_agent(dir.path()),
        "the service did not start from flows.md"
    );
    assert!(stop(child, "TERM").success());
}

#[test]
fn cli_uses_workflow_md_in_the_current_directory_when_no_path_is_given() {
    let dir = tempfile::tempdir().unwrap();
    project(dir.path(), "WORKFLOW.md");
    let child = run(dir.path(), &[]);
    assert!(
        wait_for_agent(dir.path()),
        "the service did not start from ./WORKFLOW.md"
    );
    assert!(stop(child, "INT").success());
}

#[test]
fn cli_errors_on_a_nonexistent_explicit_path_or_a_missing_default_workflow_md() {
    let dir = tempfile::tempdir().unwrap();
    for args in [&["nope.md"][..], &[][..]] {
        let out = run(dir.path(), args).wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(1));
        assert!(String::from_utf8_lossy(&out.stderr).contains("error[missing_workflow_file]"));
    }
}

#[test]
fn cli_surfaces_startup_failure_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    project(dir.path(), "WORKFLOW.md");
    // A valid workflow whose state directory cannot be created: start-up fails cleanly.
    std::fs::write(dir.path().join("blocker"), "").unwrap();
    std::fs::write(
        dir.path().join("WORKFLOW.md"),
        WORKFLOW.replacen("---\n", "---\nstate:\n  dir: ./blocker/state\n", 1),
    )
    .unwrap();
    let out = run(dir.path(), &[]).wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr.contains("error[store_open_failed]") && !stderr.contains("panicked"),
        "{stderr}"
    );
}

#[test]
fn cli_exits_with_success_when_the_application_starts_and_shuts_down_normally() {
    let dir = tempfile::tempdir().unwrap();
    project(dir.path(), "WORKFLOW.md");
    let child = run(dir.path(), &[]);
    assert!(wait_for_agent(dir.path()));
    let status = stop(child, "TERM");
    assert_eq!(status.code(), Some(0));
}

#[test]
fn cli_exits_nonzero_when_startup_fails_or_the_host_process_exits_abnormally() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("WORKFLOW.md"),
        "---\ntracker: [broken\n---\n",
    )
    .unwrap();
    assert_eq!(run(dir.path(), &[]).wait().unwrap().code(), Some(1));
    project(dir.path(), "WORKFLOW.md");
    let child = run(dir.path(), &[]);
    assert!(wait_for_agent(dir.path()));
    let status = stop(child, "KILL");
    kill_orphaned_agents(dir.path());
    assert!(!status.success());
}
