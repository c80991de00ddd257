//! The dashboard in a real browser: `symphony run` with the local tracker and a slow `command`
//! agent; headless Chromium loads `/` once and, without reloading, the page shows the running
//! issue and then, after the agent is killed, its row in the retry queue. The screenshot is
//! kept as `target/dashboard.png` (a CI artifact). And the dashboard as a picture of the
//! service: budgets, the backlog and why each issue waits, charts, an issue's own page.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;
use symphony_testkit::requires::{run, trial, trial_with, Tool};
use symphony_testkit::{MockModel, Step, Usage};

use support::codex_project::codex_project;
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

/// Three issues: S-1 runs (a slow agent, one slot), S-2 is blocked by an issue not done, S-3
/// waits for the slot; a daily token budget and a per-issue turn budget are set.
fn budgeted_project(dir: &Path) {
    std::fs::create_dir_all(dir.join("issues")).unwrap();
    for (id, front) in [
        ("S-1", "priority: 1"),
        ("S-2", "priority: 2\nblocked_by: [S-9]"),
        ("S-3", "priority: 3"),
        ("S-9", "priority: 4\nstate: backlog"),
    ] {
        let state = if id == "S-9" { "" } else { "state: todo\n" };
        std::fs::write(
            dir.join(format!("issues/{id}.md")),
            format!("---\ntitle: Issue {id}\n{state}{front}\n---\n"),
        )
        .unwrap();
    }
    std::fs::write(
        dir.join("WORKFLOW.md"),
        "---\ntracker:\n  kind: local\n  provider:\n    path: ./issues\nworkspace:\n  root: ./ws\n\
         polling:\n  interval_ms: 500\nagent:\n  backend: command\n  max_concurrent_agents: 1\n  \
         command: \"cat > /dev/null; echo working; exec sleep 600\"\nbudgets:\n  per_issue:\n    \
         turns: 5\n  per_day:\n    tokens: {soft: 500, hard: 1000}\n  needs_human_state: needs human\n---\n\
         Work on {{ issue.identifier }}\n",
    )
    .unwrap();
}

/// The dashboard as a picture of the service: the day's budget as a meter, the backlog with
/// why each issue waits, the charts drawn by the server, and an issue's own page; screenshots
/// are kept as `target/dashboard-budgets.png`, `dashboard-charts.png` and `dashboard-issue.png`.
fn the_dashboard_draws_budgets_the_backlog_charts_and_issue_pages() {
    let Some(browser) = Browser::start("dashboard_browser_budgets") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    budgeted_project(dir);
    let (child, port) = start_serving(dir, "info", LIMIT);
    browser.goto(&format!("http://127.0.0.1:{port}/"));
    browser.wait_for("S-1 running", LIMIT, &has_row("running", "S-1"));
    let waiting = |id: &str, why: &str| {
        format!(
            "const r = document.querySelector('#backlog tr[data-issue=\"{id}\"]'); \
             return r !== null && r.dataset.waiting === '{why}';"
        )
    };
    browser.wait_for(
        "S-2 blocked in the backlog",
        LIMIT,
        &waiting("S-2", "blocked"),
    );
    browser.wait_for("S-3 waiting for a slot", LIMIT, &waiting("S-3", "no_slot"));
    browser.wait_for("S-1 shown as running", LIMIT, &waiting("S-1", "running"));
    let why = browser
        .execute("return document.querySelector('#backlog tr[data-issue=\"S-2\"]').innerText;");
    assert!(
        why.as_str().unwrap_or_default().contains("blocked by S-9"),
        "the backlog says why: {why}"
    );
    let meter = browser.execute(
        "const m = document.querySelector('.meter[data-budget=\"daily tokens\"]'); \
         return m === null ? null : m.innerText;",
    );
    assert!(
        meter
            .as_str()
            .unwrap_or_default()
            .contains("0 of 1000 (0%)"),
        "the day's budget is a meter: {meter}"
    );
    for chart in [
        "chart-spend-days",
        "chart-spend-hours",
        "chart-runs",
        "chart-gates",
    ] {
        assert_eq!(
            browser.execute(&format!(
                "return document.querySelector('#{chart}') !== null;"
            )),
            serde_json::Value::Bool(true),
            "{chart} is drawn"
        );
    }
    let drawn = browser.execute(
        "const s = document.querySelector('#chart-spend-days svg').getBoundingClientRect(); \
         return s.width > 100 && s.height > 30;",
    );
    assert_eq!(
        drawn,
        serde_json::Value::Bool(true),
        "the SVG has a size on the page"
    );
    let shots = screenshot_path().with_file_name("dashboard-budgets.png");
    browser.screenshot(&shots);
    assert!(std::fs::metadata(&shots).unwrap().len() > 1_000);
    browser.execute("document.querySelector('.charts').scrollIntoView(); return true;");
    let charts = screenshot_path().with_file_name("dashboard-charts.png");
    browser.screenshot(&charts);
    assert!(std::fs::metadata(&charts).unwrap().len() > 1_000);
    browser.execute("window.scrollTo(0, 0); return true;");

    // From the running table to the issue's own page.
    browser.execute("document.querySelector('#running a').click(); return true;");
    browser.wait_for(
        "the issue page",
        LIMIT,
        "return location.pathname === '/issues/S-1' && document.querySelector('#standing') !== null;",
    );
    let standing = browser.execute("return document.querySelector('#standing').innerText;");
    assert!(
        standing
            .as_str()
            .unwrap_or_default()
            .starts_with("Running: agent"),
        "{standing}"
    );
    let budget = browser.execute(
        "const r = document.querySelector('#issue-budget tr[data-budget=\"turns\"]'); \
         return r === null ? null : r.innerText;",
    );
    assert!(
        budget.as_str().unwrap_or_default().contains('5'),
        "the issue's turn budget: {budget}"
    );
    let run_rows =
        browser.execute("return document.querySelectorAll('#issue-runs tr[data-run]').length;");
    assert_eq!(run_rows, serde_json::json!(1), "its run is listed");
    let page = screenshot_path().with_file_name("dashboard-issue.png");
    browser.screenshot(&page);
    assert!(std::fs::metadata(&page).unwrap().len() > 1_000);
    child.stop(LIMIT);
}

/// While the real Codex spends tokens (a mock model reporting 15 per response, a command of
/// two seconds between responses), the page changes without a reload: the charts (redrawn by
/// the server every few seconds) grow a bar for today's tokens, and the backlog shows the
/// waiting issue held by the day's budget once the run passes it.
fn the_charts_and_the_backlog_change_while_a_run_spends_tokens() {
    let Some(bin) = symphony_testkit::codex::binary("the_charts_and_the_backlog_change") else {
        return;
    };
    let Some(browser) = Browser::start("dashboard_browser_spend") else {
        return;
    };
    let mut script: Vec<Step> = (1..=8)
        .map(|n| Step::Shell(format!("sleep 2; echo {n} >> spent.txt")))
        .collect();
    script.push(Step::Message("Spent enough.".into()));
    let model = MockModel::with_usage(
        script,
        Usage {
            input: 10,
            output: 5,
        },
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    codex_project(
        dir,
        &bin,
        &model,
        "T-1",
        "polling:\n  interval_ms: 500\nagent:\n  max_turns: 1\n  max_concurrent_agents: 1\nbudgets:\n  per_day:\n    tokens: { soft: 15, hard: 40 }",
        "",
    );
    for (id, priority) in [("T-1", 1), ("T-2", 2)] {
        std::fs::write(
            dir.join(format!("issues/{id}.md")),
            format!("---\ntitle: Spend {id}\nstate: todo\npriority: {priority}\n---\nSpend.\n"),
        )
        .unwrap();
    }
    let (child, port) = start_serving(dir, "info", LIMIT);
    browser.goto(&format!("http://127.0.0.1:{port}/"));
    browser.execute("window.symphonyLoadedOnce = true; return true;");
    let waiting = |id: &str, why: &str| {
        format!(
            "const r = document.querySelector('#backlog tr[data-issue=\"{id}\"]'); \
             return r !== null && r.dataset.waiting === '{why}';"
        )
    };
    browser.wait_for(
        "T-2 waiting for the slot",
        LIMIT,
        &waiting("T-2", "no_slot"),
    );
    // Today's bar as the chart draws it now (none before the first report), then redrawn
    // with more: the run keeps spending for about 16 s, the charts are redrawn every 5 s.
    let today = "(() => { const t = document.querySelector('#chart-spend-days rect[data-part=\"tokens\"] title'); \
                 return t === null ? '' : t.textContent; })()";
    let before = browser.execute(&format!("return {today};"));
    browser.wait_for(
        "today's bar redrawn with more tokens",
        LIMIT,
        &format!("const now = {today}; return now !== '' && now !== {before};"),
    );
    browser.wait_for(
        "T-2 held by the day's budget",
        LIMIT,
        &waiting("T-2", "daily_budget"),
    );
    browser.wait_for(
        "the budget banner",
        LIMIT,
        "return document.querySelector('#budget-held') !== null;",
    );
    assert_eq!(
        browser.execute("return window.symphonyLoadedOnce === true;"),
        serde_json::Value::Bool(true),
        "the page changed in place, not by a reload"
    );
    let shot = screenshot_path().with_file_name("dashboard-spend.png");
    browser.screenshot(&shot);
    assert!(std::fs::metadata(&shot).unwrap().len() > 1_000);
    child.stop(LIMIT);
}

/// A test target of its own harness: each test needs Chromium, and says so (ignored, with
/// the reason) where it is not installed, instead of passing without running.
fn main() -> std::process::ExitCode {
    run(vec![
        trial(
            "the_dashboard_shows_the_running_issue_and_then_its_retry_live",
            Tool::Browser,
            the_dashboard_shows_the_running_issue_and_then_its_retry_live,
        ),
        trial(
            "the_dashboard_draws_budgets_the_backlog_charts_and_issue_pages",
            Tool::Browser,
            the_dashboard_draws_budgets_the_backlog_charts_and_issue_pages,
        ),
        trial_with(
            "the_charts_and_the_backlog_change_while_a_run_spends_tokens",
            &[Tool::Browser, Tool::Codex],
            the_charts_and_the_backlog_change_while_a_run_spends_tokens,
        ),
    ])
}
