//! The dashboard in a real browser: `symphony run` with the local tracker and a slow `command`
//! agent; headless Chromium loads `/` once and, without reloading, the page shows the running
//! issue and then, after the agent is killed, its row in the retry queue. The screenshot is
//! kept as `target/dashboard.png` (a CI artifact).

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;
use symphony_testkit::requires::{run, trial, Tool};

use support::{start_serving, wait_until};
use symphony_testkit::browser::Browser;

const LIMIT: Duration = Duration::from_secs(90);

fn project(dir: &Path, pid_file: &Path) {
    std::fs::create_dir_all(dir.join("issues")).unwrap();
    std::fs::write(
        dir.join("issues/S-1.md"),
        "---\ntitle: A slow one <b>with markup</b>\nstate: todo\n---\n",
    )
    .unwrap();
    // The agent records its pid so the test can kill it, then sleeps as a long turn would.
    std::fs::write(
        dir.join("WORKFLOW.md"),
        format!(
            "---\ntracker:\n  kind: local\n  provider:\n    path: ./issues\nworkspace:\n  root: ./ws\n\
             polling:\n  interval_ms: 500\nagent:\n  backend: command\n  \
             command: \"cat > /dev/null; echo $$ > '{}'; echo working; exec sleep 600\"\n---\n\
             Work on {{{{ issue.identifier }}}}\n",
            pid_file.display()
        ),
    )
    .unwrap();
}

/// `target/dashboard.png`, beside the other build outputs.
fn screenshot_path() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("target/tmp has a parent")
        .join("dashboard.png")
}

/// The expression for table `table`'s row of `issue` (`null` when there is none).
fn row(table: &str, issue: &str) -> String {
    format!("document.querySelector('#{table} tr[data-issue=\"{issue}\"]')")
}

fn has_row(table: &str, issue: &str) -> String {
    format!("return {} !== null;", row(table, issue))
}

fn the_dashboard_shows_the_running_issue_and_then_its_retry_live() {
    let Some(browser) = Browser::start("dashboard_browser") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let pid_file = dir.join("agent.pid");
    project(dir, &pid_file);
    let (child, port) = start_serving(dir, "info", LIMIT);
    wait_until("the agent to start", LIMIT, || {
        std::fs::read_to_string(&pid_file).is_ok_and(|p| p.trim().parse::<u32>().is_ok())
    });

    browser.goto(&format!("http://127.0.0.1:{port}/"));
    browser.wait_for(
        "S-1 in the running table",
        LIMIT,
        &has_row("running", "S-1"),
    );
    // The page keeps itself current: mark it, and check later that it was never reloaded.
    browser.execute("window.symphonyLoadedOnce = true; return true;");
    let running_text = browser.execute("return document.querySelector('#running').innerText;");
    assert!(
        running_text.as_str().unwrap_or_default().contains("agent"),
        "the stage column says the agent is working: {running_text}"
    );

    let pid = std::fs::read_to_string(&pid_file).unwrap();
    let killed = Command::new("kill")
        .args(["-KILL", pid.trim()])
        .status()
        .unwrap();
    assert!(killed.success(), "the agent (pid {pid}) was killed");

    browser.wait_for(
        "S-1 in the retry queue, updated in place",
        LIMIT,
        &has_row("retrying", "S-1"),
    );
    assert_eq!(
        browser.execute("return window.symphonyLoadedOnce === true;"),
        serde_json::Value::Bool(true),
        "the page was updated in place, not reloaded"
    );
    assert_eq!(
        browser.execute(&format!("return {} === null;", row("running", "S-1"))),
        serde_json::Value::Bool(true),
        "S-1 left the running table"
    );
    let retry_text = browser.execute(&format!("return {}.innerText;", row("retrying", "S-1")));
    assert!(
        retry_text.as_str().unwrap_or_default().contains('1'),
        "the retry row shows its attempt: {retry_text}"
    );
    browser.screenshot(&screenshot_path());
    assert!(std::fs::metadata(screenshot_path()).unwrap().len() > 1_000);
    child.stop(LIMIT);
}

/// A test target of its own harness: each test needs Chromium, and says so (ignored, with
/// the reason) where it is not installed, instead of passing without running.
fn main() -> std::process::ExitCode {
    run(vec![trial(
        "the_dashboard_shows_the_running_issue_and_then_its_retry_live",
        Tool::Browser,
        the_dashboard_shows_the_running_issue_and_then_its_retry_live,
    )])
}
