//! The gate stage in the service, with real git workspaces, the local tracker and a scripted
//! `command` agent: a committed-in-passing credential fails the secrets gate, the failure is
//! the agent's next turn, the fix passes; when the rounds run out the issue goes to a person.
//! Every verdict is in the audit log.

mod support;

use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use support::{until, LocalWiring};
use symphony_orchestrator::{Service, ServiceOptions};
use symphony_store::{AuditEntry, SqliteStore, Store, StoreOptions};
use symphony_workflow::{ProcessEnvironment, WorkflowSource};

const LIMIT: Duration = Duration::from_secs(90);

/// The agent: records each prompt; writes a leaked key unless the prompt is gate feedback
/// (or `stubborn` is set), always touches a real file, and moves the issue to review. It
/// lingers after the move, so polls (every 100 ms) see the review state while its turn is
/// still running: that is the agent's own hand-off, not a reason to stop it.
fn agent(stubborn: bool) -> String {
    let fix = if stubborn {
        "echo still-leaking"
    } else {
        "rm -f leak.env"
    };
    format!(
        r#"prompt="$(cat)"
mkdir -p ../../prompts
printf '%s' "$prompt" > "../../prompts/turn-$SYMPHONY_TURN.txt"
echo "turn $SYMPHONY_TURN" >> notes.txt
case "$prompt" in
  *"quality gates"*) {fix} ;;
  *) echo "AWS_ACCESS_KEY_ID=AKIAQ3EGRT5YK2PJZW4X" > leak.env ;;
esac
echo '::symphony-tool {{"name": "local_issue_set_state", "arguments": {{"state": "human review"}}}}'
sleep 0.5
"#
    )
}

fn project(dir: &Path, gates: &str, stubborn: bool) -> Arc<WorkflowSource> {
    project_with(dir, gates, &agent(stubborn))
}

fn project_with(dir: &Path, gates: &str, command: &str) -> Arc<WorkflowSource> {
    let origin = support::origin(dir);
    std::fs::create_dir(dir.join("issues")).unwrap();
    std::fs::write(
        dir.join("issues/G-1.md"),
        "---\ntitle: Add notes\nstate: todo\n---\n",
    )
    .unwrap();
    let workflow = format!(
        "---\ntracker:\n  kind: local\n  provider:\n    path: ./issues\nworkspace:\n  root: ./ws\n  repo: {origin}\npolling:\n  interval_ms: 100\nagent:\n  backend: command\n  max_turns: 3\n  command: {command:?}\n{gates}---\nWrite notes for {{{{ issue.identifier }}}}\n",
        origin = origin.display(),
    );
    std::fs::write(dir.join("WORKFLOW.md"), workflow).unwrap();
    let registry = support::registry();
    Arc::new(
        WorkflowSource::open(
            &dir.join("WORKFLOW.md"),
            registry,
            Arc::new(ProcessEnvironment),
        )
        .unwrap(),
    )
}

fn store(dir: &Path) -> SqliteStore {
    SqliteStore::open(&dir.join(".symphony"), StoreOptions::default()).unwrap()
}

async fn audit_until(dir: &Path, kind: &str) -> Vec<AuditEntry> {
    let reader = store(dir);
    let start = std::time::Instant::now();
    loop {
        let entries = reader.audit_tail(500).await.unwrap();
        if entries.iter().any(|e| e.kind == kind) || start.elapsed() > LIMIT {
            return entries;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Runs the service until the audit log has a `kind` entry (then `linger` more), and stops it.
async fn run_until(
    dir: &Path,
    source: Arc<WorkflowSource>,
    kind: &str,
    linger: Duration,
) -> Vec<AuditEntry> {
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let service = Service::new(source, Arc::new(LocalWiring), ServiceOptions::default())
        .with_store(Arc::new(store(dir)));
    let task = tokio::spawn(service.run(async {
        let _ = stopped.await;
    }));
    audit_until(dir, kind).await;
    until(linger, || false).await;
    let _ = stop.send(());
    task.await.unwrap().unwrap();
    store(dir).audit_tail(500).await.unwrap()
}

fn verdicts(entries: &[AuditEntry]) -> Vec<(u64, String, String)> {
    entries
        .iter()
        .filter(|e| e.kind == "gate_verdict")
        .map(|e| {
            (
                e.detail["round"].as_u64().unwrap_or(99),
                e.detail["gate"].as_str().unwrap_or("").to_owned(),
                e.detail["status"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_gate_becomes_the_next_turn_and_the_fix_passes() {
    let dir = tempfile::tempdir().unwrap();
    let gates = "gates:\n  max_rounds: 2\n  checks:\n    - kind: secrets\n    - kind: diff_budget\n      max_files: 10\n";
    let source = project(dir.path(), gates, false);
    let entries = run_until(dir.path(), source, "gates_passed", Duration::ZERO).await;

    assert_eq!(
        verdicts(&entries),
        [
            (0, "secrets".to_owned(), "fail".to_owned()),
            (0, "diff_budget".to_owned(), "pass".to_owned()),
            (1, "secrets".to_owned(), "pass".to_owned()),
            (1, "diff_budget".to_owned(), "pass".to_owned()),
        ],
        "{entries:#?}"
    );
    let failing = entries.iter().find(|e| e.kind == "gate_verdict").unwrap();
    assert_eq!(failing.detail["findings"][0]["rule"], "aws-access-key-id");
    assert_eq!(failing.detail["findings"][0]["file"], "leak.env");
    let feedback = std::fs::read_to_string(dir.path().join("prompts/turn-2.txt")).unwrap();
    assert!(
        feedback.contains("round 1 of 2") && feedback.contains("aws-access-key-id in leak.env:1"),
        "{feedback}"
    );
    let everything = format!("{entries:?}{feedback}");
    assert!(
        !everything.contains("AKIAQ3EGRT5YK2PJZW4X"),
        "the key itself is never repeated"
    );
    assert!(
        !dir.path().join("ws/G-1/leak.env").exists(),
        "the agent removed it"
    );
    assert!(matches!(
        store(dir.path()).audit_verify().await.unwrap(),
        symphony_store::AuditVerdict::Intact { .. }
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn when_the_rounds_run_out_the_issue_goes_to_a_person_with_the_reports() {
    let dir = tempfile::tempdir().unwrap();
    let gates = "gates:\n  max_rounds: 1\n  needs_human_state: needs human\n  checks:\n    - kind: secrets\n";
    let source = project(dir.path(), gates, true);
    // Then a few more ticks: the issue is no longer active, so nothing runs again.
    let entries = run_until(
        dir.path(),
        source,
        "handed_to_human",
        Duration::from_secs(2),
    )
    .await;

    let statuses: Vec<String> = verdicts(&entries)
        .into_iter()
        .map(|(r, _, s)| format!("{r}:{s}"))
        .collect();
    assert_eq!(statuses, ["0:fail", "1:fail"], "{entries:#?}");
    assert!(entries.iter().any(|e| e.kind == "gates_exhausted"));
    let issue = std::fs::read_to_string(dir.path().join("issues/G-1.md")).unwrap();
    assert!(issue.contains("state: \"needs human\""), "{issue}");
    assert!(
        issue.contains("needs a person") && issue.contains("aws-access-key-id"),
        "{issue}"
    );
    assert!(!issue.contains("AKIAQ3EGRT5YK2PJZW4X"), "{issue}");
    let turns = std::fs::read_dir(dir.path().join("prompts"))
        .unwrap()
        .count();
    assert_eq!(turns, 2, "one feedback round, then no more runs");
}

/// The coding agent for the review tests: an injectable query first, placeholders once the
/// gates' feedback asks for a fix.
const SQL_AGENT: &str = r#"prompt="$(cat)"
mkdir -p app ../../prompts
printf '%s' "$prompt" > "../../prompts/turn-$SYMPHONY_TURN.txt"
case "$prompt" in
  *"quality gates"*) printf 'def find(db, name):\n    return db.execute("SELECT * FROM users WHERE name = ?", (name,))\n' > app/db.py ;;
  *) printf 'def find(db, name):\n    return db.execute(f"SELECT * FROM users WHERE name = {name}")\n' > app/db.py ;;
esac
echo '::symphony-tool {"name": "local_issue_set_state", "arguments": {"state": "human review"}}'
"#;

/// A reviewer (the `command` backend, a process of its own): the injectable query is a high
/// finding on its line, and a trailing remark is a low one.
const SQL_REVIEWER: &str = r#"cat > ../../review-prompt.txt
line=$(grep -n 'execute(f"' app/db.py | cut -d: -f1)
if [ -n "$line" ]; then
  echo '::symphony-tool {"name": "submit_review", "arguments": {"findings": [{"file": "app/db.py", "start_line": '"$line"', "end_line": '"$line"', "severity": "high", "category": "security", "message": "SQL injection: name is formatted into the query", "suggested_fix": "use a placeholder"}], "summary": "Injectable query."}}'
else
  echo '::symphony-tool {"name": "submit_review", "arguments": {"findings": [{"file": "app/db.py", "start_line": 1, "end_line": 1, "severity": "low", "category": "docs", "message": "find has no docstring"}], "summary": "Fine now."}}'
fi
"#;

fn ai_review_gates(reviewer: &str) -> String {
    format!(
        "gates:\n  max_rounds: 1\n  needs_human_state: needs human\n  checks:\n    - kind: ai_review\n      command: {reviewer:?}\n"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reviewers_serious_finding_is_the_next_turn_and_the_fix_passes_the_review() {
    let dir = tempfile::tempdir().unwrap();
    let source = project_with(dir.path(), &ai_review_gates(SQL_REVIEWER), SQL_AGENT);
    let entries = run_until(dir.path(), source, "gates_passed", Duration::ZERO).await;
    assert_eq!(
        verdicts(&entries),
        [
            (0, "ai_review".to_owned(), "fail".to_owned()),
            (1, "ai_review".to_owned(), "pass".to_owned()),
        ],
        "{entries:#?}"
    );
    let first = entries.iter().find(|e| e.kind == "gate_verdict").unwrap();
    assert_eq!(first.detail["findings"][0]["rule"], "ai_review/security");
    assert_eq!(first.detail["findings"][0]["line"], 2);
    assert_eq!(first.detail["findings"][0]["in_change"], true);
    // The reviewer is a session of its own, shown the change; the fix came from the feedback.
    let review_prompt = std::fs::read_to_string(dir.path().join("review-prompt.txt")).unwrap();
    assert!(
        review_prompt.contains("call the `submit_review` tool"),
        "{review_prompt}"
    );
    let feedback = std::fs::read_to_string(dir.path().join("prompts/turn-2.txt")).unwrap();
    assert!(
        feedback.contains("ai_review/security in app/db.py:2")
            && feedback.contains("use a placeholder"),
        "{feedback}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reviewer_answering_in_prose_is_an_error_and_never_a_pass() {
    let dir = tempfile::tempdir().unwrap();
    let reviewer = "cat > /dev/null; echo 'Looks good to me, ship it!'";
    let source = project_with(dir.path(), &ai_review_gates(reviewer), SQL_AGENT);
    let entries = run_until(dir.path(), source, "handed_to_human", Duration::ZERO).await;
    let statuses: Vec<String> = verdicts(&entries)
        .into_iter()
        .map(|(r, g, s)| format!("{r}:{g}:{s}"))
        .collect();
    assert_eq!(
        statuses,
        ["0:ai_review:error", "1:ai_review:error"],
        "{entries:#?}"
    );
    assert!(!entries.iter().any(|e| e.kind == "gates_passed"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recorded_decision_becomes_an_adr_that_satisfies_the_docs_gate() {
    let dir = tempfile::tempdir().unwrap();
    let command = r#"cat > /dev/null
echo "notes" > notes.txt
echo '::symphony-tool {"name": "record_decision", "arguments": {"title": "Keep notes in plain text", "context": "Notes must diff well.", "options": ["Markdown", "SQLite"], "chosen": "Markdown", "rationale": "it diffs and reads well."}}'
echo '::symphony-tool {"name": "local_issue_set_state", "arguments": {"state": "human review"}}'
"#;
    let gates =
        "docs: {}\ngates:\n  max_rounds: 0\n  checks:\n    - kind: docs\n      require: [adr]\n";
    let source = project_with(dir.path(), gates, command);
    let entries = run_until(dir.path(), source, "gates_passed", Duration::ZERO).await;
    let statuses: Vec<String> = verdicts(&entries)
        .into_iter()
        .map(|(_, g, s)| format!("{g}:{s}"))
        .collect();
    assert_eq!(statuses, ["docs:pass"], "{entries:#?}");
    let adr = std::fs::read_to_string(
        dir.path()
            .join("ws/G-1/docs/adr/0001-keep-notes-in-plain-text.md"),
    )
    .unwrap();
    assert!(
        adr.contains("decision-makers: Symphony agent for G-1"),
        "{adr}"
    );
    assert!(
        adr.contains("Chosen option: \"Markdown\", because it diffs and reads well."),
        "{adr}"
    );
}

fn git_out(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "git {args:?}");
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_passing_change_is_committed_proposed_in_the_issue_and_handed_off() {
    let dir = tempfile::tempdir().unwrap();
    // The agent leaks, fixes after feedback, never commits and never moves the issue.
    let command = r#"prompt="$(cat)"
echo "turn $SYMPHONY_TURN" >> notes.txt
case "$prompt" in
  *"quality gates"*) rm -f leak.env ;;
  *) echo "AWS_ACCESS_KEY_ID=AKIAQ3EGRT5YK2PJZW4X" > leak.env ;;
esac
"#;
    let sections = "docs: {}\nhandoff:\n  state: human review\n  needs_human_state: needs human\n  author: {name: Symphony Test, email: symphony@example.com}\ngates:\n  max_rounds: 2\n  checks:\n    - kind: secrets\n    - kind: docs\n      require: [changelog]\n";
    let source = project_with(dir.path(), sections, command);
    // max_turns 3, but the issue stays active: the loop ends after 3 turns, then gates.
    let entries = run_until(dir.path(), source, "handed_off", Duration::from_secs(1)).await;
    let kinds: Vec<&str> = entries.iter().map(|e| e.kind.as_str()).collect();
    for kind in [
        "changelog_generated",
        "gates_passed",
        "change_proposed",
        "handed_off",
    ] {
        assert!(kinds.contains(&kind), "{kind} missing: {kinds:?}");
    }
    assert_eq!(
        kinds.iter().filter(|k| **k == "handed_off").count(),
        1,
        "handed off once: the issue left the active states"
    );
    let statuses: Vec<String> = verdicts(&entries)
        .into_iter()
        .map(|(r, g, s)| format!("{r}:{g}:{s}"))
        .collect();
    assert_eq!(
        statuses,
        [
            "0:secrets:fail",
            "0:docs:pass",
            "1:secrets:pass",
            "1:docs:pass"
        ],
        "the generated fragment satisfies the docs gate: {entries:#?}"
    );

    // The workspace branch holds one commit by Symphony with everything, and is clean.
    let ws = dir.path().join("ws/G-1");
    assert_eq!(git_out(&ws, &["status", "--porcelain"]), "");
    assert_eq!(
        git_out(&ws, &["rev-list", "--count", "origin/main..HEAD"]),
        "1"
    );
    let message = git_out(&ws, &["log", "-1", "--format=%an <%ae>%n%B"]);
    assert!(
        message.starts_with("Symphony Test <symphony@example.com>\nG-1: Add notes\n"),
        "{message}"
    );
    assert!(
        message.contains("Symphony-Issue: G-1\nSymphony-Run: run-"),
        "{message}"
    );
    let files = git_out(&ws, &["show", "--name-only", "--format=", "HEAD"]);
    assert_eq!(
        files, "changelog.d/G-1.md\nnotes.txt",
        "the leak never reached a commit"
    );
    let fragment = std::fs::read_to_string(ws.join("changelog.d/G-1.md")).unwrap();
    assert_eq!(fragment, "### Changed\n\n- Add notes (G-1)\n");
    // Local tracker: the branch stays local.
    let origin = dir.path().join("origin");
    assert!(git_out(&origin, &["branch", "--list", "symphony/*"]).is_empty());

    // The proposal is in the issue file, and the issue moved with a summary comment.
    let issue = std::fs::read_to_string(dir.path().join("issues/G-1.md")).unwrap();
    assert!(issue.contains("state: \"human review\""), "{issue}");
    assert!(
        issue.contains("## Proposed change: G-1: Add notes"),
        "{issue}"
    );
    assert!(issue.contains("Resolves G-1: Add notes"), "{issue}");
    assert!(issue.contains("| secrets | pass |"), "{issue}");
    assert!(
        issue.contains("`notes.txt` (added, +4 −0)"),
        "three turns and one round of feedback: {issue}"
    );
    assert!(issue.contains("## Comment from Symphony"), "{issue}");
    assert!(issue.contains("Symphony-Run: run-"), "{issue}");
    assert!(issue.contains("handed it off for review"), "{issue}");
    assert!(!issue.contains("AKIAQ3EGRT5YK2PJZW4X"), "{issue}");
    let proposed = entries
        .iter()
        .find(|e| e.kind == "change_proposed")
        .unwrap();
    assert_eq!(proposed.detail["pushed"], false);
    assert_eq!(proposed.detail["created"], true);
    assert_eq!(proposed.detail["branch"], "symphony/G-1");
}

/// The gates and the hand-off read "what changed" once: the commit holds the tree the gates
/// judged. A file that appears after judging (here written by a passing gate command, as a
/// formatter or a build would) was never judged, so it is not handed off.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_hand_off_commits_exactly_the_change_the_gates_judged() {
    let dir = tempfile::tempdir().unwrap();
    let command = "echo \"turn $SYMPHONY_TURN\" >> notes.txt\n";
    let sections = "handoff:\n  state: human review\n  needs_human_state: needs human\ngates:\n  checks:\n    - kind: command\n      name: generator\n      run: \"echo unjudged > generated.txt\"\n";
    let source = project_with(dir.path(), sections, command);
    let entries = run_until(dir.path(), source, "handed_off", Duration::from_secs(1)).await;
    let kinds: Vec<&str> = entries.iter().map(|e| e.kind.as_str()).collect();
    assert!(kinds.contains(&"handed_off"), "{kinds:?}");
    let ws = dir.path().join("ws/G-1");
    assert!(ws.join("generated.txt").is_file(), "the gate ran");
    let files = git_out(&ws, &["show", "--name-only", "--format=", "HEAD"]);
    assert_eq!(
        files, "notes.txt",
        "only what the gates judged is committed"
    );
    assert_eq!(
        git_out(&ws, &["status", "--porcelain"]),
        "?? generated.txt",
        "what came after judging stays in the workspace, uncommitted"
    );
    let issue = std::fs::read_to_string(dir.path().join("issues/G-1.md")).unwrap();
    assert!(issue.contains("`notes.txt` (added"), "{issue}");
    assert!(
        !issue.contains("`generated.txt` ("),
        "not among the files: {issue}"
    );
}
