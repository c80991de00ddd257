//! The `ai_review` gate end to end (ADR 0019) with the real Codex CLI (mock model) as both the
//! coding agent and its reviewer, the fake GitHub and a local bare `origin`: the change builds
//! SQL from input; the reviewer — a session of its own, read-only — finds the injection on its
//! line (high) and the gate blocks; the coding agent's feedback turn fixes it; the reviewer
//! passes it with one remark that does not block, which the pull request carries on its line.
//! A reviewer answering in prose is the other half: an `error`, never a pass.

mod support;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};
use support::github_origin::{audit, count, origin, relay, start};
use support::wait_until;
use symphony_testkit::github::{FakeGithub, NewIssue};
use symphony_testkit::requires::{run, trial, Tool};
use symphony_testkit::{codex, MockModel, Step};

const LIMIT: Duration = Duration::from_secs(180);
const TOKEN: &str = "ghp_AiReviewE2e0123456789abcdefABCDEF66666";
const REPO: &str = "acme/widgets";

const INJECTABLE: &str = "mkdir -p app && cat > app/db.py <<'EOF'\nimport sqlite3\n\n\ndef find(db, name):\n    return db.execute(f\"SELECT * FROM users WHERE name = '{name}'\")\nEOF";
const FIXED: &str = "cat > app/db.py <<'EOF'\nimport sqlite3\n\n\ndef find(db, name):\n    return db.execute(\"SELECT * FROM users WHERE name = ?\", (name,))\nEOF";

fn docstring_remark() -> Value {
    json!({"file": "app/db.py", "start_line": 4, "end_line": 4, "severity": "low",
           "category": "docs", "message": "`find` has no docstring"})
}

/// The service on the fake GitHub with `ai_review` as its gate; runs until `done` holds.
fn serve(
    bin: &std::path::Path,
    model: &MockModel,
    fake: &Arc<FakeGithub>,
    done: impl Fn(&std::path::Path) -> bool,
) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let (origin, pushes) = origin(dir);
    let finished = Arc::new(AtomicBool::new(false));
    let relayed = relay(Arc::clone(fake), REPO, pushes, Arc::clone(&finished));
    codex::write_config(
        &dir.join("codex"),
        &model.base_url(),
        "never",
        "danger-full-access",
    )
    .unwrap();
    let workflow = format!(
        r#"---
tracker:
  kind: github
  provider:
    repo: {REPO}
    api_url: {api}
    token: $SYMPHONY_E2E_GITHUB_TOKEN
workspace:
  root: ./ws
  repo: {origin}
polling:
  interval_ms: 300
agent:
  max_turns: 1
codex:
  command: "{codex} app-server"
  approval_policy: never
  thread_sandbox: danger-full-access
  turn_sandbox_policy:
    type: dangerFullAccess
  home: isolated
  home_config: ./codex/config.toml
  read_timeout_ms: 30000
gates:
  max_rounds: 1
  needs_human_state: needs-human
  checks:
    - kind: ai_review
      timeout_ms: 120000
handoff:
  state: human-review
---
Work on {{{{ issue.identifier }}}}: {{{{ issue.title }}}}.
"#,
        api = fake.url(),
        origin = origin.display(),
        codex = bin.display(),
    );
    std::fs::write(dir.join("WORKFLOW.md"), workflow).unwrap();
    let service = start(dir, TOKEN);
    wait_until("the run's end", LIMIT, || done(dir));
    service.stop(LIMIT);
    finished.store(true, Ordering::Relaxed);
    relayed.join().unwrap();
    tmp
}

fn verdicts(dir: &std::path::Path) -> Vec<(u64, String)> {
    audit(dir, TOKEN)
        .iter()
        .filter(|e| e["kind"] == "gate_verdict")
        .map(|e| {
            (
                e["detail"]["round"].as_u64().unwrap_or(99),
                e["detail"]["status"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect()
}

fn an_injection_found_by_the_reviewer_is_fixed_before_the_pull_request() {
    let Some(bin) =
        codex::binary("an_injection_found_by_the_reviewer_is_fixed_before_the_pull_request")
    else {
        return;
    };
    let model = MockModel::start(vec![
        // The coding agent's task.
        Step::Shell(INJECTABLE.into()),
        Step::Message("Added the lookup by name.".into()),
        // The reviewer, round 0: the injection (high, line 5) and a remark (low, line 4).
        Step::Call {
            name: "submit_review".into(),
            arguments: json!({"findings": [
                {"file": "app/db.py", "start_line": 5, "end_line": 5, "severity": "high",
                 "category": "security", "message": "SQL injection: `name` is formatted into the query",
                 "suggested_fix": "pass `name` as a parameter with a `?` placeholder"},
                docstring_remark(),
            ], "summary": "The query is injectable."}),
        },
        Step::Message("Review submitted.".into()),
        // The coding agent's feedback turn: the fix.
        Step::Shell(FIXED.into()),
        Step::Message("Used a placeholder.".into()),
        // The reviewer, round 1: only the remark is left.
        Step::Call {
            name: "submit_review".into(),
            arguments: json!({"findings": [docstring_remark()], "summary": "The query is safe now."}),
        },
        Step::Message("Review submitted.".into()),
    ])
    .unwrap();
    let fake = Arc::new(FakeGithub::start(TOKEN));
    fake.create_issue(REPO, NewIssue::new("Look users up", &["symphony:todo"]));
    let tmp = serve(&bin, &model, &fake, |dir| {
        count(dir, TOKEN, "handed_off") == 1
    });
    let dir = tmp.path();

    assert_eq!(
        verdicts(dir),
        [(0, "fail".to_owned()), (1, "pass".to_owned())]
    );
    let entries = audit(dir, TOKEN);
    let first = entries
        .iter()
        .find(|e| e["kind"] == "gate_verdict")
        .unwrap();
    let findings = first["detail"]["findings"].as_array().unwrap();
    assert_eq!(findings[0]["line"], 5);
    assert_eq!(
        findings[0]["in_change"], true,
        "high, on an added line: blocks"
    );
    assert_eq!(findings[1]["in_change"], false, "low: does not block");
    assert!(
        first["detail"]["agent_tokens"]["total_tokens"]
            .as_u64()
            .unwrap_or(0)
            > 0,
        "{first}"
    );
    // The reviewer's sessions were read-only and offered only the answer tool.
    let requests: Vec<String> = model.requests().iter().map(Value::to_string).collect();
    let review = requests
        .iter()
        .find(|r| r.contains("You are reviewing a change"))
        .expect("a review request");
    assert!(
        review.contains("submit_review") && !review.contains("github_graphql"),
        "only the answer tool"
    );
    assert!(
        review.contains("+def find(db, name):"),
        "the diff is in the prompt"
    );
    let feedback = requests
        .iter()
        .find(|r| r.contains("quality gates checked your change"))
        .expect("the feedback turn");
    assert!(
        feedback.contains("SQL injection") && feedback.contains("placeholder"),
        "{feedback}"
    );

    // The pull request: the fixed code, and the remark on its line.
    let pulls = fake.pulls(REPO);
    assert_eq!(pulls.len(), 1);
    let pull = pulls[0].pull.clone().unwrap();
    let remarks: Vec<(&str, Option<u32>, bool)> = pull
        .review_comments
        .iter()
        .map(|c| (c.path.as_str(), c.line, c.body.contains("no docstring")))
        .collect();
    assert_eq!(
        remarks,
        [("app/db.py", Some(4), true)],
        "{:?}",
        pull.review_comments
    );
    assert!(entries.iter().any(|e| e["kind"] == "remarks_posted"));
}

fn a_reviewer_answering_in_prose_never_passes() {
    let Some(bin) = codex::binary("a_reviewer_answering_in_prose_never_passes") else {
        return;
    };
    let model = MockModel::start(vec![
        Step::Shell(INJECTABLE.into()),
        Step::Message("Added the lookup by name.".into()),
        // The reviewer answers in prose, and again after the reminder.
        Step::Message("Looks good to me, ship it!".into()),
        Step::Message("I said it looks good.".into()),
        // The feedback turn (the gate's error), then the same reviewer again.
        Step::Message("Nothing to change.".into()),
        Step::Message("LGTM".into()),
        Step::Message("LGTM!".into()),
    ])
    .unwrap();
    let fake = Arc::new(FakeGithub::start(TOKEN));
    fake.create_issue(REPO, NewIssue::new("Look users up", &["symphony:todo"]));
    let tmp = serve(&bin, &model, &fake, |dir| {
        count(dir, TOKEN, "handed_to_human") == 1
    });
    let dir = tmp.path();
    assert_eq!(
        verdicts(dir),
        [(0, "error".to_owned()), (1, "error".to_owned())]
    );
    assert!(fake.pulls(REPO).is_empty(), "nothing was proposed");
}

/// A test target of its own harness: the tests need the Codex CLI, and say so (ignored, with
/// the reason) where it is not installed, instead of passing without running.
fn main() -> std::process::ExitCode {
    run(vec![
        trial(
            "an_injection_found_by_the_reviewer_is_fixed_before_the_pull_request",
            Tool::Codex,
            an_injection_found_by_the_reviewer_is_fixed_before_the_pull_request,
        ),
        trial(
            "a_reviewer_answering_in_prose_never_passes",
            Tool::Codex,
            a_reviewer_answering_in_prose_never_passes,
        ),
    ])
}
