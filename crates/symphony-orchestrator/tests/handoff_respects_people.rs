//! A person's move outranks Symphony's hand-off. When the issue leaves the run's reach while
//! the agent works or while the gates run — cancelled, moved back to the backlog, deleted,
//! stripped of a required label — nothing is committed, proposed or moved to review. Before,
//! the turn loop ended "normally" on any of these and the gates and hand-off ran anyway,
//! moving a cancelled issue to review with a pull request.

mod support;

use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use support::LocalWiring;
use symphony_orchestrator::{Service, ServiceOptions};
use symphony_store::{AuditEntry, SqliteStore, Store, StoreOptions};
use symphony_workflow::{ProcessEnvironment, WorkflowSource};

const LIMIT: Duration = Duration::from_secs(90);

/// A project whose agent writes a change and then runs `person` (a shell snippet acting on the
/// issue file as a person would, not through the agent's tools). `extra` adds sections.
fn project(dir: &Path, person: &str, extra: &str) -> Arc<WorkflowSource> {
    project_with_agent(
        dir,
        &format!("cat > /dev/null\necho notes >> notes.txt\n{person}\n"),
        extra,
    )
}

/// A project whose agent runs `command` each turn.
fn project_with_agent(dir: &Path, command: &str, extra: &str) -> Arc<WorkflowSource> {
    let origin = support::origin(dir);
    std::fs::create_dir(dir.join("issues")).unwrap();
    std::fs::write(
        dir.join("issues/H-1.md"),
        "---\ntitle: Add notes\nstate: todo\nlabels: [symphony]\n---\n",
    )
    .unwrap();
    let workflow = format!(
        "---\ntracker:\n  kind: local\n  provider:\n    path: ./issues\n  required_labels: [symphony]\nworkspace:\n  root: ./ws\n  repo: {origin}\npolling:\n  interval_ms: 100\nagent:\n  backend: command\n  max_turns: 2\n  max_retry_backoff_ms: 300\n  command: {command:?}\nhandoff:\n  state: human review\n  needs_human_state: needs human\n{extra}---\nWrite notes for {{{{ issue.identifier }}}}\n",
        origin = origin.display(),
    );
    std::fs::write(dir.join("WORKFLOW.md"), workflow).unwrap();
    Arc::new(
        WorkflowSource::open(
            &dir.join("WORKFLOW.md"),
            support::registry(),
            Arc::new(ProcessEnvironment),
        )
        .unwrap(),
    )
}

fn store(dir: &Path) -> SqliteStore {
    SqliteStore::open(&dir.join(".symphony"), StoreOptions::default()).unwrap()
}

/// Runs the service until the first run has ended (and a second more), then stops it.
async fn first_run(dir: &Path, source: Arc<WorkflowSource>) -> Vec<AuditEntry> {
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let service = Service::new(source, Arc::new(LocalWiring), ServiceOptions::default())
        .with_store(Arc::new(store(dir)));
    let task = tokio::spawn(service.run(async {
        let _ = stopped.await;
    }));
    let reader = store(dir);
    let start = std::time::Instant::now();
    loop {
        let entries = reader.audit_tail(500).await.unwrap();
        if entries.iter().any(|e| e.kind == "run_ended") {
            break;
        }
        assert!(start.elapsed() < LIMIT, "no run ended: {entries:#?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let _ = stop.send(());
    task.await.unwrap().unwrap();
    reader.audit_tail(500).await.unwrap()
}

/// Nothing was handed off, and the issue is as the person left it.
fn nothing_handed_off(dir: &Path, entries: &[AuditEntry], state: Option<&str>) {
    let kinds: Vec<&str> = entries.iter().map(|e| e.kind.as_str()).collect();
    for kind in ["change_proposed", "handed_off", "gates_passed"] {
        assert!(!kinds.contains(&kind), "{kind} happened: {kinds:?}");
    }
    let ended = entries.iter().find(|e| e.kind == "run_ended").unwrap();
    assert_ne!(ended.detail["outcome"], "succeeded", "{ended:?}");
    match state {
        Some(state) => {
            let issue = std::fs::read_to_string(dir.join("issues/H-1.md")).unwrap();
            assert!(issue.contains(&format!("state: {state}")), "{issue}");
            assert!(!issue.contains("Proposed change"), "{issue}");
            assert!(!issue.contains("human review"), "{issue}");
        }
        None => assert!(!dir.join("issues/H-1.md").exists()),
    }
    // No commit by Symphony on the issue's branch (the workspace may be gone: ask the mirror).
    let mirrors = dir.join("ws/.symphony/mirrors");
    if let Some(mirror) = std::fs::read_dir(&mirrors)
        .ok()
        .and_then(|mut d| d.next())
        .and_then(Result::ok)
    {
        let out = Command::new("git")
            .args([
                "rev-list",
                "--count",
                "refs/remotes/origin/main..refs/heads/symphony/H-1",
            ])
            .current_dir(mirror.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let count = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        assert_eq!(count, "0", "Symphony committed on the issue's branch");
    }
}

const MOVE: &str = "sed -i 's/^state: .*/state: STATE/' ../../issues/H-1.md";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_issue_cancelled_during_the_turn_is_not_handed_off() {
    let dir = tempfile::tempdir().unwrap();
    let source = project(dir.path(), &MOVE.replace("STATE", "cancelled"), "");
    let entries = first_run(dir.path(), source).await;
    nothing_handed_off(dir.path(), &entries, Some("cancelled"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_issue_moved_back_to_the_backlog_during_the_turn_is_not_handed_off() {
    let dir = tempfile::tempdir().unwrap();
    let source = project(dir.path(), &MOVE.replace("STATE", "backlog"), "");
    let entries = first_run(dir.path(), source).await;
    nothing_handed_off(dir.path(), &entries, Some("backlog"));
    let ended = entries.iter().find(|e| e.kind == "run_ended").unwrap();
    assert_eq!(ended.detail["outcome"]["stopped"], "inactive", "{ended:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_issue_deleted_during_the_turn_is_not_handed_off() {
    let dir = tempfile::tempdir().unwrap();
    let source = project(dir.path(), "rm ../../issues/H-1.md", "");
    let entries = first_run(dir.path(), source).await;
    nothing_handed_off(dir.path(), &entries, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_issue_that_lost_a_required_label_during_the_turn_is_not_handed_off() {
    let dir = tempfile::tempdir().unwrap();
    let source = project(
        dir.path(),
        "sed -i 's/^labels: .*/labels: []/' ../../issues/H-1.md",
        "",
    );
    let entries = first_run(dir.path(), source).await;
    nothing_handed_off(dir.path(), &entries, Some("todo"));
    let ended = entries.iter().find(|e| e.kind == "run_ended").unwrap();
    assert_eq!(
        ended.detail["outcome"]["stopped"], "unroutable",
        "{ended:?}"
    );
}

/// The gates run with the issue active; a person moves it while they run. The scheduler does
/// not stop a gating worker for a non-active state (its own hand-off would look the same), so
/// only the worker's re-read before the hand-off can notice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_issue_moved_while_the_gates_run_is_not_handed_off() {
    let dir = tempfile::tempdir().unwrap();
    let gate = format!(
        "gates:\n  checks:\n    - kind: command\n      name: person\n      run: {:?}\n",
        MOVE.replace("STATE", "backlog")
    );
    let source = project(dir.path(), "true", &gate);
    let entries = first_run(dir.path(), source).await;
    let kinds: Vec<&str> = entries.iter().map(|e| e.kind.as_str()).collect();
    assert!(kinds.contains(&"gate_verdict"), "the gates ran: {kinds:?}");
    let withheld = entries
        .iter()
        .find(|e| e.kind == "handoff_withheld")
        .unwrap_or_else(|| panic!("no handoff_withheld: {kinds:?}"));
    assert_eq!(withheld.detail["reason"], "inactive");
    assert_eq!(withheld.detail["state"], "backlog");
    for kind in ["change_proposed", "handed_off"] {
        assert!(!kinds.contains(&kind), "{kind} happened: {kinds:?}");
    }
    let issue = std::fs::read_to_string(dir.path().join("issues/H-1.md")).unwrap();
    assert!(issue.contains("state: backlog"), "{issue}");
}

/// The agent's own move (through its tool) is its hand-off: Symphony's stages go on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_agents_own_move_is_still_handed_off() {
    let dir = tempfile::tempdir().unwrap();
    let source = project(
        dir.path(),
        r#"echo '::symphony-tool {"name": "local_issue_set_state", "arguments": {"state": "ready"}}'"#,
        "",
    );
    let entries = first_run(dir.path(), source).await;
    let kinds: Vec<&str> = entries.iter().map(|e| e.kind.as_str()).collect();
    assert!(kinds.contains(&"handed_off"), "{kinds:?}");
    let issue = std::fs::read_to_string(dir.path().join("issues/H-1.md")).unwrap();
    assert!(issue.contains("state: \"human review\""), "{issue}");
}

/// A tool call that changed no state exempts nothing: a person who moves the issue while the
/// agent's turn goes on is heard at the next reconciliation, not when the turn ends. (Any
/// mutating call used to count as the agent moving its own issue.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_s_move_after_an_agent_s_comment_stops_the_turn() {
    let dir = tempfile::tempdir().unwrap();
    let agent = r#"echo '::symphony-tool {"name": "local_issue_comment", "arguments": {"body": "On it."}}'
sleep 1
sed -i 's/^state: .*/state: backlog/' ../../issues/H-1.md
sleep 30
touch ../../turn-finished"#;
    let source = project(dir.path(), agent, "");
    let entries = first_run(dir.path(), source).await;
    let ended = entries.iter().find(|e| e.kind == "run_ended").unwrap();
    assert_eq!(ended.detail["outcome"]["stopped"], "inactive", "{ended:?}");
    assert!(
        !dir.path().join("turn-finished").exists(),
        "the turn ran to its end although a person had moved the issue"
    );
    let issue = std::fs::read_to_string(dir.path().join("issues/H-1.md")).unwrap();
    assert!(issue.contains("On it."), "the comment was made: {issue}");
}

/// An agent that changes nothing used to be re-dispatched every few seconds forever, silently.
/// Each empty run is now logged and audited, and after `max_empty_attempts` the issue goes to
/// a person with a comment saying why.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_that_changes_nothing_hands_the_issue_to_a_person() {
    let dir = tempfile::tempdir().unwrap();
    let source = project_with_agent(
        dir.path(),
        "cat > /dev/null\necho run >> ../../runs.log",
        "  max_empty_attempts: 2\n",
    );
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let service = Service::new(source, Arc::new(LocalWiring), ServiceOptions::default())
        .with_store(Arc::new(store(dir.path())));
    let task = tokio::spawn(service.run(async {
        let _ = stopped.await;
    }));
    let reader = store(dir.path());
    let start = std::time::Instant::now();
    let entries = loop {
        let entries = reader.audit_tail(500).await.unwrap();
        if entries.iter().any(|e| e.kind == "handed_to_human") {
            break entries;
        }
        assert!(
            start.elapsed() < LIMIT,
            "never handed to a person: {entries:#?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    // Several polls later nothing has run again.
    let runs = std::fs::read_to_string(dir.path().join("runs.log")).unwrap();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let _ = stop.send(());
    task.await.unwrap().unwrap();
    assert_eq!(
        std::fs::read_to_string(dir.path().join("runs.log")).unwrap(),
        runs,
        "dispatched again after going to a person"
    );
    let empty: Vec<u64> = entries
        .iter()
        .filter(|e| e.kind == "no_change_to_hand_off")
        .map(|e| e.detail["attempt"].as_u64().unwrap())
        .collect();
    assert_eq!(empty, [1, 2], "{entries:#?}");
    let human = entries
        .iter()
        .find(|e| e.kind == "handed_to_human")
        .unwrap();
    assert_eq!(human.detail["state"], "needs human");
    assert!(!entries.iter().any(|e| e.kind == "handed_off"));
    let issue = std::fs::read_to_string(dir.path().join("issues/H-1.md")).unwrap();
    assert!(issue.contains("state: \"needs human\""), "{issue}");
    assert!(
        issue.contains("none of the runs changed anything"),
        "{issue}"
    );
}
