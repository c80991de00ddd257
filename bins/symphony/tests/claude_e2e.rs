//! The whole loop with the real Claude Code CLI (pinned, installed by `.ci/run`) against the
//! scripted Messages mock, on the local tracker: the agent writes a file with a fake AWS key,
//! the secrets gate fails, the feedback turn (on the same session) carries the failure, the
//! agent removes the key, the gates pass, and Symphony hands the change off: committed on the
//! issue's branch, proposed into the issue file, the issue in `human review`, the run's tokens
//! recorded — and no request left the machine for anything but the mock.

mod support;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::json;
use support::{git, issue_state, json_lines, runs, wait_until, Served};
use symphony_testkit::requires::{run, trial, Tool};
use symphony_testkit::{claude, MockMessages, RefusingProxy, Reply};

const LIMIT: Duration = Duration::from_secs(180);
const KEY: &str = "AKIAQ3EGRT5YK2PJZW4X";

/// A project on the local tracker with issue `CL-1` (`body`) and the `checks` (YAML list
/// items, indented as under `gates.checks`), the real CLI as the agent.
fn project(dir: &Path, mock: &MockMessages, body: &str, checks: &str) {
    let origin = dir.join("origin");
    std::fs::create_dir_all(&origin).unwrap();
    git(&origin, &["init", "-q", "-b", "main"]);
    std::fs::write(origin.join("README.md"), "# widgets\n").unwrap();
    git(&origin, &["add", "-A"]);
    git(&origin, &["commit", "-q", "-m", "initial"]);
    std::fs::create_dir(dir.join("issues")).unwrap();
    std::fs::write(
        dir.join("issues/CL-1.md"),
        format!("---\ntitle: Add region settings\nstate: todo\n---\n{body}\n"),
    )
    .unwrap();
    let workflow = format!(
        r#"---
tracker:
  kind: local
  provider:
    path: ./issues
workspace:
  root: ./ws
  repo: ./origin
polling:
  interval_ms: 300
agent:
  backend: claude
  max_turns: 1
  max_retry_backoff_ms: 1000
claude:
  command: "{bin}"
  api_key: $SYMPHONY_E2E_ANTHROPIC_KEY
  base_url: {base_url}
  max_retries: 0
  api_timeout_ms: 30000
  stream_idle_timeout_ms: 10000
codex:
  read_timeout_ms: 30000
gates:
  max_rounds: 2
  needs_human_state: needs human
  checks:
{checks}
handoff:
  state: human review
---
Work on {{{{ issue.identifier }}}}: {{{{ issue.title }}}}.
"#,
        bin = claude::location().display(),
        base_url = mock.base_url(),
    );
    std::fs::write(dir.join("WORKFLOW.md"), workflow).unwrap();
}

/// `symphony run` in `dir` behind `proxy` until `CL-1` is in `state`; the service's log.
fn serve_until(dir: &Path, proxy: &RefusingProxy, state: &str) -> String {
    let service = Served::new(
        Command::new(env!("CARGO_BIN_EXE_symphony"))
            .arg("run")
            .current_dir(dir)
            .env("SYMPHONY_LOG", "info")
            .env("SYMPHONY_E2E_ANTHROPIC_KEY", "sk-ant-offline-e2e")
            .env("HTTPS_PROXY", proxy.url())
            .env("HTTP_PROXY", proxy.url())
            .env("NO_PROXY", "127.0.0.1,localhost")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.join("symphony.log")).unwrap())
            .spawn()
            .unwrap(),
    );
    wait_until(state, LIMIT, || issue_state(dir, "CL-1") == state);
    service.stop(LIMIT);
    std::fs::read_to_string(dir.join("symphony.log")).unwrap()
}

/// A project whose issue was handed off: the mock the CLI talked to, the proxy that must have
/// seen nothing, the project's folder and the service's log.
struct Finished {
    mock: MockMessages,
    proxy: RefusingProxy,
    dir: tempfile::TempDir,
    log: String,
}

/// Runs a project (issue `body`, gate `checks`) with `script` as the model until `CL-1` is
/// handed off.
fn handed_off(script: Vec<Reply>, body: &str, checks: &str) -> Finished {
    let mock = MockMessages::start(script).unwrap();
    let proxy = RefusingProxy::start().unwrap();
    let dir = tempfile::tempdir().unwrap();
    project(dir.path(), &mock, body, checks);
    let log = serve_until(dir.path(), &proxy, "human review");
    Finished {
        mock,
        proxy,
        dir,
        log,
    }
}

/// `symphony audit tail --json` in `dir`.
fn audit(dir: &Path) -> Vec<serde_json::Value> {
    json_lines(
        dir,
        &["audit", "tail", "-n", "1000", "--json"],
        &[("SYMPHONY_E2E_ANTHROPIC_KEY", "sk-ant-offline-e2e")],
    )
}

fn a_leaked_key_is_caught_fixed_and_handed_off_with_claude_code() {
    let Finished {
        mock,
        proxy,
        dir,
        log,
    } = handed_off(
        vec![
            // The task, done carelessly.
            Reply::Bash(format!(
                "printf 'region = eu-west-1\\naws_access_key_id = {KEY}\\n' > settings.ini"
            )),
            Reply::Text("Added settings.ini.".into()),
            // The gates' feedback turn: the key goes.
            Reply::Bash("printf 'region = eu-west-1\\n' > settings.ini".into()),
            Reply::Text("Removed the credential.".into()),
        ],
        "Write settings.ini.",
        "    - kind: secrets",
    );
    let dir = dir.path();
    let ws = dir.join("ws/CL-1");
    assert_eq!(
        std::fs::read_to_string(ws.join("settings.ini")).unwrap(),
        "region = eu-west-1\n"
    );
    let history = git(&ws, &["log", "-p", "origin/main..HEAD"]);
    assert!(history.contains("settings.ini"), "{history}");
    assert!(
        !history.contains(KEY),
        "the key never reaches the branch: {history}"
    );
    let issue = std::fs::read_to_string(dir.join("issues/CL-1.md")).unwrap();
    assert!(issue.contains("## Proposed change: CL-1"), "{issue}");
    assert!(issue.contains("| secrets | pass |"), "{issue}");
    // The feedback turn went to the same session: its request carries the first turn.
    let requests = mock.messages();
    assert_eq!(requests.len(), 4, "{log}");
    let feedback = requests[2].body["messages"].to_string();
    assert!(
        feedback.contains("settings.ini") && feedback.contains("secrets"),
        "the feedback turn carries the failure and the history: {feedback}"
    );
    let runs = runs(dir);
    let run = runs.first().expect("a run");
    assert_eq!(run["outcome"], "succeeded", "{run}");
    let served = mock.usage_completed();
    let usage = &run["usage"];
    assert_eq!(
        (
            usage["total_tokens"].as_u64(),
            usage["cache_read_tokens"].as_u64(),
            usage["cache_write_tokens"].as_u64(),
        ),
        (
            Some(served.input + served.cache_creation + served.cache_read + served.output),
            Some(served.cache_read),
            Some(served.cache_creation),
        ),
        "the store has the session's counts, the cache's share included: {run}"
    );
    let cost = usage["cost_micros"].as_u64().filter(|c| *c > 0);
    assert!(cost.is_some(), "the CLI's price is recorded: {run}");
    let priced = format!("{}, over", symphony_core::dollars(cost.unwrap()));
    assert!(
        issue.contains(&priced) && issue.contains("from the prompt cache"),
        "the hand-off's cost section carries the price and the cache: {issue}"
    );
    assert!(mock.others().is_empty(), "{:?}", mock.others());
    assert!(
        proxy.attempts().is_empty(),
        "nothing left for the network: {:?}",
        proxy.attempts()
    );
}

/// An overloaded API (HTTP 529, the CLI's retries off) fails the first attempt with its typed
/// category; the scheduler retries after its backoff, and the second attempt does the work
/// and hands it off.
fn an_overloaded_api_fails_one_attempt_and_the_retry_hands_off() {
    let Finished {
        mock,
        proxy,
        dir,
        log,
    } = handed_off(
        vec![
            Reply::Status(529),
            Reply::Bash("printf 'region = eu-west-1\\n' > settings.ini".into()),
            Reply::Text("Added settings.ini.".into()),
        ],
        "Write settings.ini.",
        "    - kind: secrets",
    );
    let dir = dir.path();
    let runs = runs(dir);
    let outcomes: Vec<(&str, bool)> = runs
        .iter()
        .rev()
        .map(|r| {
            (
                r["outcome"].as_str().unwrap_or(""),
                r["error"]
                    .as_str()
                    .unwrap_or("")
                    .contains("model_api_error"),
            )
        })
        .collect();
    assert_eq!(
        outcomes,
        [("failed", true), ("succeeded", false)],
        "one failed attempt with its category, then one retried attempt: {runs:?}\n{log}"
    );
    assert_eq!(runs[0]["attempt"], 1, "the retry is attempt 1: {}", runs[0]);
    assert_eq!(
        mock.messages().len(),
        3,
        "one overloaded request, no retry inside the CLI, then the retried attempt's two"
    );
    assert!(
        proxy.attempts().is_empty(),
        "nothing left for the network: {:?}",
        proxy.attempts()
    );
}

const INJECTABLE: &str = "mkdir -p app && printf 'def find(db, name):\\n    return db.execute(f\"SELECT * FROM users WHERE name = {name}\")\\n' > app/db.py";
const FIXED: &str = "printf 'def find(db, name):\\n    return db.execute(\"SELECT * FROM users WHERE name = ?\", (name,))\\n' > app/db.py";

/// The `ai_review` gate with Claude Code as the reviewer too (the agent's backend by
/// default): a read-only session of its own, offered nothing but the answer tool over MCP,
/// finds the injection and blocks; the coding session's feedback turn fixes it; the second
/// review passes, and the change is handed off. The reviewers' usage, priced by the CLI, is in
/// their verdicts.
fn a_claude_reviewer_blocks_an_injection_until_it_is_fixed() {
    let high = json!({"findings": [{"file": "app/db.py", "start_line": 2, "end_line": 2,
        "severity": "high", "category": "security",
        "message": "SQL injection: `name` is formatted into the query",
        "suggested_fix": "pass `name` as a parameter"}], "summary": "Injectable."});
    let Finished {
        mock,
        proxy,
        dir,
        log,
    } = handed_off(
        vec![
            Reply::Bash(INJECTABLE.into()),
            Reply::Text("Added the lookup.".into()),
            Reply::Tool {
                name: "mcp__symphony__submit_review".into(),
                input: high,
            },
            Reply::Text("Review submitted.".into()),
            Reply::Bash(FIXED.into()),
            Reply::Text("Used a placeholder.".into()),
            Reply::Tool {
                name: "mcp__symphony__submit_review".into(),
                input: json!({"findings": [], "summary": "Safe now."}),
            },
            Reply::Text("Review submitted.".into()),
        ],
        "Look users up by name in app/db.py.",
        "    - kind: ai_review\n      timeout_ms: 120000",
    );
    let dir = dir.path();
    let verdicts: Vec<(u64, String, u64)> = audit(dir)
        .iter()
        .filter(|e| e["kind"] == "gate_verdict")
        .map(|e| {
            let detail = &e["detail"];
            (
                detail["round"].as_u64().unwrap_or(99),
                detail["status"].as_str().unwrap_or("").to_owned(),
                detail["agent_tokens"]["cost_micros"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    assert_eq!(
        verdicts
            .iter()
            .map(|(round, status, _)| (*round, status.as_str()))
            .collect::<Vec<_>>(),
        [(0, "fail"), (1, "pass")],
        "{log}"
    );
    assert!(
        verdicts.iter().all(|(_, _, cost)| *cost > 0),
        "each reviewer's price is in its verdict: {verdicts:?}"
    );
    // The run's usage is everything the model served it: the coding session's and both
    // reviewers' (all of them priced by the CLI).
    let runs = runs(dir);
    let usage = &runs.first().expect("a run")["usage"];
    let served = mock.usage_completed();
    assert_eq!(
        usage["total_tokens"].as_u64(),
        Some(served.input + served.cache_creation + served.cache_read + served.output),
        "the run counts its reviewers' tokens: {usage}"
    );
    let reviewers: u64 = verdicts.iter().map(|(_, _, cost)| cost).sum();
    assert!(
        usage["cost_micros"].as_u64().unwrap_or(0) > reviewers,
        "the run's price is the agent's and the reviewers': {usage} vs {reviewers}"
    );
    let requests = mock.messages();
    let review = requests
        .iter()
        .find(|r| r.body.to_string().contains("You are reviewing a change"))
        .expect("a review request");
    let mut offered: Vec<&str> = review.body["tools"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    offered.sort_unstable();
    assert!(
        offered.contains(&"mcp__symphony__submit_review")
            && offered.iter().all(|t| matches!(
                *t,
                "mcp__symphony__submit_review" | "Read" | "Glob" | "Grep" | "LS"
            )),
        "the reviewer may read and answer, nothing else: {offered:?}"
    );
    let feedback = requests
        .iter()
        .map(|r| r.body["messages"].to_string())
        .find(|m| m.contains("quality gates checked your change"))
        .expect("the feedback turn");
    assert!(feedback.contains("SQL injection"), "{feedback}");
    let ws = dir.join("ws/CL-1");
    assert!(
        std::fs::read_to_string(ws.join("app/db.py"))
            .unwrap()
            .contains("name = ?"),
        "the fix was handed off"
    );
    assert!(
        proxy.attempts().is_empty(),
        "nothing left for the network: {:?}",
        proxy.attempts()
    );
}

fn main() -> std::process::ExitCode {
    run(vec![
        trial(
            "a_leaked_key_is_caught_fixed_and_handed_off_with_claude_code",
            Tool::Claude,
            a_leaked_key_is_caught_fixed_and_handed_off_with_claude_code,
        ),
        trial(
            "an_overloaded_api_fails_one_attempt_and_the_retry_hands_off",
            Tool::Claude,
            an_overloaded_api_fails_one_attempt_and_the_retry_hands_off,
        ),
        trial(
            "a_claude_reviewer_blocks_an_injection_until_it_is_fixed",
            Tool::Claude,
            a_claude_reviewer_blocks_an_injection_until_it_is_fixed,
        ),
    ])
}
