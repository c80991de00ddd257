//! Budgets (ADR 0023) with `symphony run`, the local tracker and the real Codex CLI against a
//! mock model that reports usage with every response:
//! - a per-issue token budget stops the agent in the middle of its turn, within one usage
//!   report of the limit; the run ends `budget_exceeded`, the issue goes to the needs-human
//!   state with a comment saying which budget, how much and what to change, the workspace is
//!   kept; a restart with the issue moved back does not reset what it used: no model request
//!   is made, and it goes back to a person;
//! - a daily cost budget (Codex reports no price: the workflow's price table prices it) holds
//!   new dispatch, `/readyz` and the API say so, and the waiting issue runs once the UTC day
//!   changes: Symphony runs on a wall clock shifted to just before midnight (libfaketime).

mod support;

use std::time::Duration;

use serde_json::{json, Value};
use support::codex_project::codex_project;
use support::{http, issue_state, move_issue, runs, wait_until};
use symphony_testkit::requires::{run, trial, trial_with, Tool};
use symphony_testkit::{codex, MockModel, Step, Usage};

const LIMIT: Duration = Duration::from_secs(120);
/// Each response of the mock reports 10 input and 5 output tokens.
const PER_RESPONSE: Usage = Usage {
    input: 10,
    output: 5,
};

fn a_token_budget_stops_the_real_codex_mid_turn_and_a_restart_keeps_the_usage() {
    let Some(bin) = codex::binary("a_token_budget_stops_the_real_codex_mid_turn") else {
        return;
    };
    // One turn of eight commands: 15 tokens per response, a hard limit of 40.
    let mut script: Vec<Step> = (1..=8)
        .map(|n| Step::Shell(format!("echo step {n} >> steps.txt")))
        .collect();
    script.push(Step::Message("All eight steps done.".into()));
    let model = MockModel::with_usage(script, PER_RESPONSE).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    codex_project(
        dir,
        &bin,
        &model,
        "B-1",
        "polling:\n  interval_ms: 1000\nagent:\n  max_turns: 1\nbudgets:\n  per_issue:\n    tokens: { soft: 20, hard: 40 }\n  needs_human_state: needs human",
        "",
    );
    let child = support::run_logging(dir, "first.log");
    wait_until("the issue to go to a person", LIMIT, || {
        issue_state(dir, "B-1") == "needs human"
    });
    let log = support::stop_logging(dir, "first.log", child);
    let first = runs(dir).last().cloned().unwrap();
    assert_eq!(first["outcome"], "budget_exceeded", "{first}\n{log}");
    let used = first["usage"]["total_tokens"].as_u64().unwrap();
    assert!(
        used > 40 && used <= 40 + PER_RESPONSE.total(),
        "stopped within one report of the limit: {used}\n{log}"
    );
    let requests = model.requests().len();
    assert!(
        requests < 9,
        "the turn was stopped before the script ended ({requests} requests)\n{log}"
    );
    assert!(
        first["error"]
            .as_str()
            .unwrap_or("")
            .contains("tokens budget"),
        "{first}"
    );
    let issue = std::fs::read_to_string(dir.join("issues/B-1.md")).unwrap();
    assert!(
        issue.contains("tokens budget: used")
            && issue.contains("of a limit of 40 tokens")
            && issue.contains("`budgets.per_issue.tokens`"),
        "the comment says which budget, how much and what to change:\n{issue}"
    );
    let steps = std::fs::read_to_string(dir.join("ws/B-1/steps.txt")).unwrap();
    assert!(
        steps.starts_with("step 1\n"),
        "the workspace is kept: {steps}"
    );
    assert!(log.contains("tokens budget"), "{log}");

    // A person moves it back without raising the budget; Symphony restarts.
    move_issue(dir, "B-1", "todo");
    let child = support::run_logging(dir, "second.log");
    wait_until("the issue to go to a person again", LIMIT, || {
        issue_state(dir, "B-1") == "needs human"
            && runs(dir).len() >= 2
            && !runs(dir)[0]["outcome"].is_null()
    });
    let log = support::stop_logging(dir, "second.log", child);
    let again = runs(dir)[0].clone();
    assert_eq!(again["outcome"], "budget_exceeded", "{again}\n{log}");
    assert_eq!(
        model.requests().len(),
        requests,
        "the restart did not reset the issue's usage: no model request was made\n{log}"
    );
    assert!(log.contains("not started: tokens budget"), "{log}");
}

/// Seconds from now to `before` seconds ahead of the next UTC midnight.
fn offset_to_before_midnight(before: u64) -> i64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let midnight = (now / 86_400 + 1) * 86_400;
    (midnight - before) as i64 - now as i64
}

fn a_daily_cost_budget_holds_dispatch_until_the_next_utc_day() {
    let Some(bin) = codex::binary("a_daily_cost_budget_holds_dispatch") else {
        return;
    };
    // D-1 runs first (priority) and moves itself to done: $0.20 a response by the price table,
    // so the day's $0.30 is spent at its second report. D-2 waits for the next day, then does
    // the same. (An issue that stayed active would compete with D-2 on the next day, by
    // priority first: the hold lets waiting work go, it does not queue it.)
    let done = || Step::Call {
        name: "local_issue_set_state".into(),
        arguments: json!({"state": "done"}),
    };
    let model = MockModel::with_usage(
        vec![
            Step::Shell("echo one > one.txt".into()),
            done(),
            Step::Message("Done with D-1.".into()),
            done(),
            Step::Message("Done with D-2.".into()),
        ],
        PER_RESPONSE,
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    codex_project(
        dir,
        &bin,
        &model,
        "D-1",
        "polling:\n  interval_ms: 500\nagent:\n  max_turns: 1\n  max_concurrent_agents: 1\nbudgets:\n  per_day:\n    cost_usd: { soft: 0.1, hard: 0.3 }\n  prices:\n    version: test\n    model: mock\n    models:\n      mock: { input: 10000, output: 20000 }",
        "",
    );
    std::fs::write(
        dir.join("issues/D-1.md"),
        "---\ntitle: First\nstate: todo\npriority: 1\n---\nFirst.\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("issues/D-2.md"),
        "---\ntitle: Second\nstate: todo\npriority: 2\n---\nSecond.\n",
    )
    .unwrap();
    // The service's wall clock starts 40 s before UTC midnight and runs on from there
    // (timers keep the real monotonic clock).
    let offset = offset_to_before_midnight(40);
    let offset = format!("{offset:+}");
    let (child, port) = support::start_serving_under(
        dir,
        "info",
        LIMIT,
        &[("FAKETIME_DONT_FAKE_MONOTONIC", "1")],
        &["faketime", "-f", &offset],
    );
    let state = || -> Value {
        let (status, body) = http(port, "GET", "/api/v1/state");
        assert_eq!(status, 200, "{body}");
        serde_json::from_str(&body).unwrap()
    };
    wait_until("the day's budget to hold dispatch", LIMIT, || {
        !state()["budget"]["dispatch_held"].is_null()
    });
    let held = state();
    let held_day = held["budget"]["utc_day"].as_str().unwrap().to_owned();
    assert_eq!(held["budget"]["dispatch_held"]["budget"], "daily_cost");
    let (status, ready) = http(port, "GET", "/readyz");
    assert_eq!(status, 200, "{ready}");
    let ready: Value = serde_json::from_str(&ready).unwrap();
    assert_eq!(ready["dispatch"]["held"], true, "{ready}");
    assert!(
        ready["dispatch"]["reason"]
            .as_str()
            .unwrap()
            .contains("daily_cost budget"),
        "{ready}"
    );
    wait_until("D-2 to run on the next day", LIMIT, || {
        issue_state(dir, "D-2") == "done"
    });
    let after = state();
    assert_ne!(after["budget"]["utc_day"].as_str().unwrap(), held_day);
    child.stop(Duration::from_secs(30));
    let all = runs(dir);
    let day_of = |identifier: &str| {
        all.iter()
            .filter(|r| r["identifier"] == identifier)
            .map(|r| r["started_at_ms"].as_u64().unwrap() / 86_400_000)
            .collect::<Vec<_>>()
    };
    let (d1, d2) = (day_of("D-1"), day_of("D-2"));
    assert_eq!(d2.len(), 1, "D-2 ran once: {all:?}");
    assert!(
        !d1.is_empty() && d1.iter().all(|day| *day < d2[0]),
        "D-2 waited for the next UTC day, and D-1 ran only before it: {d1:?} {d2:?}"
    );
    assert_eq!(issue_state(dir, "D-1"), "done");
}

fn main() -> std::process::ExitCode {
    run(vec![
        trial(
            "a_token_budget_stops_the_real_codex_mid_turn_and_a_restart_keeps_the_usage",
            Tool::Codex,
            a_token_budget_stops_the_real_codex_mid_turn_and_a_restart_keeps_the_usage,
        ),
        trial_with(
            "a_daily_cost_budget_holds_dispatch_until_the_next_utc_day",
            &[Tool::Codex, Tool::Faketime],
            a_daily_cost_budget_holds_dispatch_until_the_next_utc_day,
        ),
    ])
}
