//! The `symphony` binary as a user runs it: stdout, stderr and exit codes are snapshots,
//! because they are the interface.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn symphony(cwd: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_symphony"))
        .args(args)
        .current_dir(cwd)
        .env_remove("SYMPHONY_LOG")
        .output()
        .expect("the symphony binary runs")
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// `exit: N`, stdout and stderr, with machine-specific paths replaced.
fn shown(output: &Output, dirs: &[&Path]) -> String {
    let mut text = format!(
        "exit: {}\n--- stdout\n{}--- stderr\n{}",
        output
            .status
            .code()
            .map_or("signal".to_owned(), |c| c.to_string()),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    for dir in dirs {
        text = text.replace(&dir.display().to_string(), "[DIR]");
    }
    text.replace(&repo_root().display().to_string(), "[REPO]")
        .replace(&std::env::temp_dir().display().to_string(), "[TMP]")
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

const VALID: &str = "---\ntracker:\n  kind: local\n  provider:\n    path: ./issues\n---\nFix {{ issue.identifier }}.\n";

#[test]
fn check_prints_the_effective_configuration_of_the_bundled_example() {
    let out = symphony(&repo_root(), &["check", "examples/demo/WORKFLOW.md"]);
    assert!(out.status.success());
    insta::assert_snapshot!(shown(&out, &[]));
}

#[test]
fn check_uses_workflow_md_in_the_current_directory_when_no_path_is_given() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "WORKFLOW.md", VALID);
    let out = symphony(dir.path(), &["check"]);
    insta::assert_snapshot!(shown(&out, &[dir.path()]));
}

#[test]
fn check_errors_on_a_nonexistent_explicit_path() {
    let dir = tempfile::tempdir().unwrap();
    let out = symphony(dir.path(), &["check", "nope/WORKFLOW.md"]);
    assert_eq!(out.status.code(), Some(1));
    insta::assert_snapshot!(shown(&out, &[dir.path()]));
}

#[test]
fn check_errors_on_a_missing_default_workflow_md() {
    let dir = tempfile::tempdir().unwrap();
    let out = symphony(dir.path(), &["check"]);
    assert_eq!(out.status.code(), Some(1));
    insta::assert_snapshot!(shown(&out, &[dir.path()]));
}

#[test]
fn check_reports_invalid_yaml_with_its_position() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "WORKFLOW.md",
        "---\ntracker:\n  kind: local\n    provider: x\n---\n",
    );
    let out = symphony(dir.path(), &["check"]);
    assert_eq!(out.status.code(), Some(1));
    insta::assert_snapshot!(shown(&out, &[dir.path()]));
}

#[test]
fn check_reports_an_unsupported_tracker_kind() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "WORKFLOW.md",
        "---\ntracker:\n  kind: jira\n---\n",
    );
    let out = symphony(dir.path(), &["check"]);
    assert_eq!(out.status.code(), Some(1));
    insta::assert_snapshot!(shown(&out, &[dir.path()]));
}

#[test]
fn check_reports_a_provider_the_adapter_rejects() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "WORKFLOW.md",
        "---\ntracker:\n  kind: local\n---\n",
    );
    let out = symphony(dir.path(), &["check"]);
    insta::assert_snapshot!(shown(&out, &[dir.path()]));
}

#[test]
fn check_reports_a_template_with_an_unknown_filter() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "WORKFLOW.md",
        &VALID.replace("{{ issue.identifier }}", "{{ issue.identifier | shout }}"),
    );
    let out = symphony(dir.path(), &["check"]);
    assert_eq!(out.status.code(), Some(1));
    let text = shown(&out, &[dir.path()]);
    // Liquid lists all filters it knows; the snapshot keeps what identifies the error.
    insta::assert_snapshot!(text.lines().take(6).collect::<Vec<_>>().join("\n"));
}

#[test]
fn check_shows_warnings_for_ignored_settings() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "WORKFLOW.md",
        &VALID.replace("---\nFix", "hooks:\n  timout_ms: 5\n---\nFix"),
    );
    let out = symphony(dir.path(), &["check"]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    insta::assert_snapshot!(text[text.find("# Prompt").unwrap()..].to_owned());
}

#[test]
fn prompt_renders_the_bundled_example_for_a_first_run_and_a_retry() {
    let root = repo_root();
    let first = symphony(
        &root,
        &[
            "prompt",
            "examples/demo/WORKFLOW.md",
            "--issue",
            "examples/demo/issue.json",
        ],
    );
    let retry = symphony(
        &root,
        &[
            "prompt",
            "examples/demo/WORKFLOW.md",
            "--issue",
            "examples/demo/issue.json",
            "--attempt",
            "2",
        ],
    );
    insta::assert_snapshot!("prompt_first_run", shown(&first, &[]));
    insta::assert_snapshot!("prompt_retry", shown(&retry, &[]));
}

#[test]
fn prompt_reports_an_unknown_variable() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "WORKFLOW.md", "Fix {{ issue.assignee }}");
    let issue = write(
        dir.path(),
        "issue.json",
        r#"{"id":"1","identifier":"A-1","title":"t","state":"todo"}"#,
    );
    let out = symphony(dir.path(), &["prompt", "--issue", issue.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    insta::assert_snapshot!(shown(&out, &[dir.path()]));
}

#[test]
fn prompt_reports_an_issue_file_that_is_not_a_normalized_issue() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "WORKFLOW.md", "Fix {{ issue.title }}");
    let issue = write(dir.path(), "issue.json", "{\"id\": \"1\",\n \"title\": 3}");
    let out = symphony(dir.path(), &["prompt", "--issue", issue.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    insta::assert_snapshot!(shown(&out, &[dir.path()]));
}

#[test]
fn schema_prints_the_committed_schema() {
    let out = symphony(&repo_root(), &["schema"]);
    assert!(out.status.success());
    let printed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let committed: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(repo_root().join("docs/workflow.schema.json")).unwrap(),
    )
    .unwrap();
    assert!(
        printed == committed,
        "docs/workflow.schema.json is stale: run `cargo xtask schema` and commit the result"
    );
}

#[test]
fn init_writes_a_starter_that_check_accepts_and_never_overwrites_silently() {
    let dir = tempfile::tempdir().unwrap();
    let out = symphony(dir.path(), &["init"]);
    insta::assert_snapshot!("init_writes", shown(&out, &[dir.path()]));
    let check = symphony(dir.path(), &["check"]);
    assert!(check.status.success(), "{}", shown(&check, &[dir.path()]));

    std::fs::write(dir.path().join("WORKFLOW.md"), "mine").unwrap();
    let again = symphony(dir.path(), &["init"]);
    assert_eq!(again.status.code(), Some(1));
    insta::assert_snapshot!("init_refuses", shown(&again, &[dir.path()]));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("WORKFLOW.md")).unwrap(),
        "mine"
    );
    assert!(symphony(dir.path(), &["init", "--force"]).status.success());
    assert_ne!(
        std::fs::read_to_string(dir.path().join("WORKFLOW.md")).unwrap(),
        "mine"
    );
}

#[test]
fn init_writes_a_claude_starter_that_check_accepts_and_explains() {
    let dir = tempfile::tempdir().unwrap();
    let out = symphony(dir.path(), &["init", "--agent", "claude"]);
    assert!(out.status.success(), "{}", shown(&out, &[dir.path()]));
    let text = std::fs::read_to_string(dir.path().join("WORKFLOW.md")).unwrap();
    assert!(
        text.contains("backend: claude") && text.contains("api_key: $ANTHROPIC_API_KEY"),
        "{text}"
    );
    assert!(
        !text.contains("approvals: workspace"),
        "no Codex posture: {text}"
    );
    let check = symphony(dir.path(), &["check"]);
    assert!(check.status.success(), "{}", shown(&check, &[dir.path()]));
    let said = String::from_utf8_lossy(&check.stdout);
    assert!(
        said.contains("# Agent: Claude Code `claude` over stream-json")
            && said.contains("writes in the workspace only, network tools off"),
        "{said}"
    );
}

#[test]
fn init_writes_a_starter_for_each_tracker_that_check_accepts() {
    for (tracker, kind, variable) in [
        ("github", "kind: github", "GITHUB_TOKEN"),
        ("linear", "kind: linear", "LINEAR_API_KEY"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let out = symphony(dir.path(), &["init", "--tracker", tracker]);
        assert!(out.status.success(), "{}", shown(&out, &[dir.path()]));
        let text = std::fs::read_to_string(dir.path().join("WORKFLOW.md")).unwrap();
        assert!(
            text.contains(kind) && !text.contains("kind: local"),
            "{text}"
        );
        let check = Command::new(env!("CARGO_BIN_EXE_symphony"))
            .arg("check")
            .current_dir(dir.path())
            .env_remove("SYMPHONY_LOG")
            .env(variable, "starter-secret-value")
            .output()
            .unwrap();
        assert!(
            check.status.success(),
            "{tracker}: {}",
            shown(&check, &[dir.path()])
        );
        let said = String::from_utf8_lossy(&check.stdout);
        assert!(said.contains(&format!("kind: {tracker}")), "{said}");
        assert!(
            !said.contains("starter-secret-value"),
            "the secret is masked: {said}"
        );
    }
}

#[test]
fn help_documents_the_exit_codes() {
    let out = symphony(&repo_root(), &["--help"]);
    assert!(out.status.success());
    insta::assert_snapshot!(shown(&out, &[]));
}

#[test]
fn usage_errors_exit_with_code_2() {
    let out = symphony(&repo_root(), &["prompt"]);
    assert_eq!(out.status.code(), Some(2));
    let out = symphony(
        &repo_root(),
        &["prompt", "--issue", "x.json", "--attempt", "0"],
    );
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn demo_catches_the_leaked_key_and_hands_off_the_fixed_changes() {
    let dir = tempfile::tempdir().unwrap();
    let demo = dir.path().join("demo");
    let out = symphony(dir.path(), &["demo", "--dir", demo.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", shown(&out, &[dir.path()]));
    // The printed summary tells the story: caught, sent back, fixed, handed off.
    assert!(stdout.contains("DEMO-1  human review"), "{stdout}");
    assert!(
        stdout.contains("gates    secrets fail, diff_budget pass, docs pass, ai_review pass"),
        "{stdout}"
    );
    assert!(
        stdout.contains("aws-access-key-id in config/deploy.env:2 -> sent back to the agent"),
        "{stdout}"
    );
    assert!(stdout.contains("round 1  secrets pass"), "{stdout}");
    assert!(
        stdout.contains("handoff  branch symphony/DEMO-1 at "),
        "{stdout}"
    );
    // DEMO-2 is reviewed: a request for changes becomes a round, then a merge ends it.
    assert!(stdout.contains("DEMO-2  done"), "{stdout}");
    assert!(
        stdout.contains("review   round 1: 2 item(s) of feedback -> sent back to the agent"),
        "{stdout}"
    );
    assert!(stdout.contains("review   ended: merged"), "{stdout}");
    assert!(
        stdout.contains("DEMO-3  todo: Link the greeting from the changelog (waits for DEMO-1)"),
        "a change under review does not unblock its dependants: {stdout}"
    );
    // DEMO-4 is planned before it is coded: the plan waits for the demo's approval, then the
    // coding run gets it, and the record ships with the change.
    assert!(stdout.contains("DEMO-4  human review"), "{stdout}");
    assert!(
        stdout
            .contains("plan     round 1: docs/adr/0001-add-a-contributing-guide.md -> plan review")
            && stdout.contains("plan     round 1 approved -> coded with the plan in the prompt"),
        "{stdout}"
    );
    let planned = std::fs::read_to_string(demo.join("issues/DEMO-4.md")).unwrap();
    assert!(
        planned.contains("**Plan for review** (round 1 of at most 3)")
            && planned.contains("- [docs/adr/0001-add-a-contributing-guide.md]"),
        "the plan was posted, and the proposal lists its record: {planned}"
    );
    let log = std::fs::read_to_string(demo.join("agent.log")).unwrap();
    let plan_at = log.find("DEMO-4 turn 1: wrote the plan").expect("planned");
    let code_at = log
        .find("DEMO-4 turn 1: implemented the approved plan")
        .expect("coded");
    assert!(plan_at < code_at, "the plan came first: {log}");
    for (id, state) in [
        ("DEMO-1", "state: \"human review\""),
        ("DEMO-2", "state: \"done\""),
        ("DEMO-4", "state: \"human review\""),
    ] {
        let issue = std::fs::read_to_string(demo.join(format!("issues/{id}.md"))).unwrap();
        assert!(issue.contains(state), "{issue}");
        assert!(
            issue.contains(&format!("## Proposed change: {id}: ")),
            "{issue}"
        );
        assert!(issue.contains("| secrets | pass |"), "{issue}");
    }
    // The branch never carries the key: the agent rewrote its commit after the feedback.
    let ws = demo.join("workspaces/DEMO-1");
    let history = Command::new("git")
        .args(["log", "-p", "origin/main..HEAD"])
        .current_dir(&ws)
        .output()
        .unwrap();
    let history = String::from_utf8_lossy(&history.stdout);
    assert!(history.contains("config/deploy.env"), "{history}");
    assert!(!history.contains("AKIA"), "{history}");
    assert!(history.contains("changelog.d/DEMO-1.md"), "{history}");
    let reviewed = std::fs::read_to_string(demo.join("issues/DEMO-2.md")).unwrap();
    assert!(
        reviewed.contains("verdict=changes-requested")
            && reviewed.contains("Review round 1 of at most 3")
            && reviewed.contains("addressed review round 1")
            && reviewed.contains("verdict=merged")
            && reviewed.contains("was merged")
            && reviewed.contains("- DEMO-2: Document how to run the tests (review round 1)"),
        "{reviewed}"
    );
    // The reviewer's remark (low: it does not block) is in the issue, on its line.
    assert!(
        reviewed.contains("## Reviewer remarks")
            && reviewed.contains("`README.md:14`: **Symphony's reviewer** (ai_review/docs)"),
        "{reviewed}"
    );
    assert!(
        !demo.join("workspaces/DEMO-2").exists(),
        "the merged issue's workspace is removed"
    );
    let log = std::fs::read_to_string(demo.join("agent.log")).unwrap();
    assert!(
        log.contains("DEMO-2 turn 1: addressed the review"),
        "the round's run answered the review: {log}"
    );
    assert!(
        log.contains("DEMO-1 turn 2: removed the credential"),
        "the second turn was the gate feedback: {log}"
    );
}

#[test]
fn run_surfaces_startup_failure_cleanly_and_exits_nonzero() {
    let dir = tempfile::tempdir().unwrap();
    // The state directory cannot be created (a file is in the way): a clean startup failure.
    write(dir.path(), "blocker", "");
    write(
        dir.path(),
        "WORKFLOW.md",
        &VALID.replacen("---\n", "---\nstate:\n  dir: ./blocker/state\n", 1),
    );
    std::fs::create_dir(dir.path().join("issues")).unwrap();
    let out = symphony(dir.path(), &["run"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("error[store_open_failed]") && stderr.contains("blocker/state"),
        "{stderr}"
    );
    // A missing explicit path and a missing default are errors before anything starts.
    let out = symphony(dir.path(), &["run", "nope.md"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("error[missing_workflow_file]"));
    let empty = tempfile::tempdir().unwrap();
    assert_eq!(symphony(empty.path(), &["run"]).status.code(), Some(1));
}

#[test]
fn issues_explains_why_each_issue_is_or_is_not_dispatched() {
    let dir = tempfile::tempdir().unwrap();
    let issues = dir.path().join("issues");
    std::fs::create_dir(&issues).unwrap();
    for (id, front) in [
        ("A-1", "state: todo\npriority: 1\nlabels: [agent]"),
        ("A-2", "state: todo\npriority: 2\nlabels: [agent]"),
        ("A-3", "state: todo\npriority: 3\nlabels: [agent]"),
        ("A-4", "state: In Progress\nlabels: []"),
        ("A-5", "state: todo\nlabels: [agent]\nblocked_by: [A-9]"),
        ("A-6", "state: Done\nlabels: [agent]"),
    ] {
        std::fs::write(
            issues.join(format!("{id}.md")),
            format!("---\ntitle: t\n{front}\n---\n"),
        )
        .unwrap();
    }
    write(
        dir.path(),
        "WORKFLOW.md",
        "---\ntracker:\n  kind: local\n  provider:\n    path: ./issues\n  required_labels: [agent]\nagent:\n  max_concurrent_agents: 2\n---\nx\n",
    );
    let out = symphony(dir.path(), &["issues"]);
    assert!(out.status.success());
    insta::assert_snapshot!(shown(&out, &[dir.path()]));
}

#[test]
fn logs_also_go_to_a_rotating_file_as_json_lines() {
    let dir = tempfile::tempdir().unwrap();
    let demo = dir.path().join("demo");
    let out = symphony(
        dir.path(),
        &[
            "--log-format",
            "json",
            "--log-file",
            "logs/symphony.log",
            "demo",
            "--dir",
            demo.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", shown(&out, &[dir.path()]));
    // Daily rotation: the file carries the date it was opened on.
    let files: Vec<_> = std::fs::read_dir(dir.path().join("logs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    let name = files[0].file_name().unwrap().to_str().unwrap().to_owned();
    let date = name.strip_prefix("symphony.log.").unwrap_or_default();
    assert!(
        date.len() == 10 && chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d").is_ok(),
        "{name}"
    );
    let text = std::fs::read_to_string(&files[0]).unwrap();
    assert!(!text.contains('\u{1b}'), "no colour codes in the file");
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert!(
        lines.iter().any(|l| l["level"] == "INFO"),
        "the demo narrates at info: {text}"
    );
    // The same lines went to stderr.
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.lines().count(), lines.len(), "{stderr}");

    // A log file that cannot be written is no reason to stop (SPEC 13.2): stderr says why.
    write(dir.path(), "WORKFLOW.md", VALID);
    let out = symphony(dir.path(), &["--log-file", "logs/", "check"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("logging to stderr only") && stderr.contains("is a folder"),
        "{stderr}"
    );
}

/// `gate:` for `gates:` used to be kept as an unknown extension: every gate silently off.
#[test]
fn check_refuses_a_misspelt_section_and_says_which_one_was_meant() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "WORKFLOW.md",
        &VALID.replace(
            "---\nFix",
            "gate:\n  checks:\n    - kind: secrets\n---\nFix",
        ),
    );
    let out = symphony(dir.path(), &["check"]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(
        text.contains("error[unknown_config_section]") && text.contains("did you mean `gates`?"),
        "{text}"
    );
}

#[test]
fn check_says_which_section_each_key_belongs_to() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "WORKFLOW.md",
        &VALID.replace("---\nFix", "server:\n  port: 0\ndocs: {}\n---\nFix"),
    );
    let out = symphony(dir.path(), &["check"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    for line in [
        "- tracker: core",
        "- server: extension: HTTP dashboard, API, metrics and webhooks",
        "- docs: extension: decision records and changelog fragments",
    ] {
        assert!(text.contains(line), "{line:?} missing:\n{text}");
    }
}

/// What the store has recorded for issue `id` (one run of `tokens` tokens, reported now) and
/// for the day: the explainer reads both.
fn record_usage(state_dir: &Path, id: &str, tokens: u64) {
    use symphony_store::{Change, ClaimOutcome, RunOutcome, RunStart, Store as _, Usage};
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(async {
            let store = symphony_store::SqliteStore::open(
                state_dir,
                symphony_store::StoreOptions::default(),
            )
            .unwrap();
            let now = symphony_store::wall_clock_ms();
            store.recover(now).await.unwrap();
            let ClaimOutcome::Started { run_id } = store
                .claim_and_start(RunStart {
                    issue_id: id.into(),
                    identifier: id.into(),
                    attempt: None,
                    workspace: None,
                    at_ms: now,
                })
                .await
                .unwrap()
            else {
                panic!("claimed elsewhere");
            };
            store
                .apply(vec![
                    Change::Tokens {
                        run_id,
                        at_ms: now,
                        usage: Usage::tokens(tokens, 0, tokens),
                    },
                    Change::RunEnded {
                        run_id,
                        at_ms: now,
                        outcome: RunOutcome::BudgetExceeded,
                        error: None,
                    },
                    Change::Released {
                        issue_id: id.into(),
                    },
                ])
                .await
                .unwrap();
            store.detach(now).await.unwrap();
        });
}

#[test]
fn issues_explains_a_spent_issue_budget_and_a_day_that_holds_dispatch() {
    let dir = tempfile::tempdir().unwrap();
    let issues = dir.path().join("issues");
    std::fs::create_dir(&issues).unwrap();
    for id in ["B-1", "B-2"] {
        std::fs::write(
            issues.join(format!("{id}.md")),
            "---\ntitle: t\nstate: todo\n---\n",
        )
        .unwrap();
    }
    write(
        dir.path(),
        "WORKFLOW.md",
        "---\ntracker:\n  kind: local\n  provider:\n    path: ./issues\nstate:\n  dir: ./state\nbudgets:\n  per_issue:\n    tokens: 100\n  per_day:\n    tokens: 1000\n  needs_human_state: needs human\n---\nx\n",
    );
    std::fs::create_dir(dir.path().join("state")).unwrap();
    record_usage(&dir.path().join("state"), "B-1", 150);
    let out = symphony(dir.path(), &["issues"]);
    let text = shown(&out, &[dir.path()]);
    assert!(out.status.success(), "{text}");
    let line = |id: &str| {
        text.lines()
            .find(|l| l.starts_with(id))
            .unwrap_or_default()
            .to_owned()
    };
    assert!(
        line("B-1").contains(
            "no: its tokens budget: used 150 tokens of a limit of 100 tokens \
             (budgets.per_issue.tokens)"
        ),
        "{text}"
    );
    assert!(line("B-2").ends_with("yes"), "{text}");
    // One issue's runs end with what it used against the budget.
    let out = symphony(dir.path(), &["runs", "--issue", "B-1"]);
    let text = shown(&out, &[dir.path()]);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("budget_exceeded"), "{text}");
    assert!(
        text.contains("B-1 used over 1 run(s): 150 tokens, 0 turn(s), 0 round(s)"),
        "{text}"
    );
    assert!(
        text.contains("tokens: 150 tokens of 100 tokens (150%)"),
        "{text}"
    );
    // Another run spends the day's tokens: nothing new starts before tomorrow.
    record_usage(&dir.path().join("state"), "B-3", 900);
    let out = symphony(dir.path(), &["issues"]);
    let text = shown(&out, &[dir.path()]);
    assert!(
        text.lines().any(|l| l.starts_with("B-2")
            && l.contains(
                "no: waiting for the next UTC day: daily_tokens budget: used 1050 tokens"
            )),
        "{text}"
    );
}
