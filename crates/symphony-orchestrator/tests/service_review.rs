//! The review loop (ADR 0018) on the embedded default, the local tracker and its code host:
//! a review written into the issue file becomes the agent's next round, on the same branch,
//! with the feedback in the prompt; a merge ends the issue and removes its workspace; the
//! round bound hands the issue to a person. (A restart in the middle of a round, with a real
//! SIGKILL, is `bins/symphony/tests/review_e2e.rs`.)

mod support;

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use support::LocalWiring;
use symphony_orchestrator::{Service, ServiceOptions};
use symphony_store::{AuditEntry, SqliteStore, Store, StoreOptions};
use symphony_tracker_local::{review_block, Verdict};
use symphony_workflow::{ProcessEnvironment, WorkflowSource};

const LIMIT: Duration = Duration::from_secs(90);

/// The agent: saves each prompt beside the project (outside the workspace, so it is not part
/// of the change), then adds a line to `notes.txt`.
const AGENT: &str = "mkdir -p ../../prompts\ncat > ../../prompts/$(date +%s%N).txt\n\
                     echo \"notes $(ls ../../prompts | wc -l)\" >> notes.txt\n";

fn project(dir: &Path, review: &str, agent: &str) -> Arc<WorkflowSource> {
    if !dir.join("origin").exists() {
        support::origin(dir);
        std::fs::create_dir(dir.join("issues")).unwrap();
        std::fs::write(
            dir.join("issues/R-1.md"),
            "---\ntitle: Add notes\nstate: todo\n---\nWrite some notes.\n",
        )
        .unwrap();
    }
    let workflow = format!(
        "---\ntracker:\n  kind: local\n  provider:\n    path: ./issues\nworkspace:\n  root: ./ws\n  repo: {origin}\npolling:\n  interval_ms: 100\nagent:\n  backend: command\n  max_turns: 1\n  max_retry_backoff_ms: 300\n  command: {agent:?}\nhandoff:\n  state: human review\n  needs_human_state: needs human\nreview:\n  poll_interval_ms: 200\n{review}---\nWrite notes for {{{{ issue.identifier }}}}.\n",
        origin = dir.join("origin").display(),
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

/// A running service and a way to stop it (or lose it, as a killed process would be).
struct Running {
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<Result<(), symphony_orchestrator::StartError>>,
}

fn start(dir: &Path, source: Arc<WorkflowSource>) -> Running {
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let service = Service::new(source, Arc::new(LocalWiring), ServiceOptions::default())
        .with_store(Arc::new(store(dir)));
    let task = tokio::spawn(service.run(async {
        let _ = stopped.await;
    }));
    Running { stop, task }
}

impl Running {
    async fn stop(self) {
        let _ = self.stop.send(());
        self.task.await.unwrap().unwrap();
    }
}

/// The audit log once `count` entries of `kind` are in it.
async fn audited(dir: &Path, kind: &str, count: usize) -> Vec<AuditEntry> {
    let reader = store(dir);
    let start = Instant::now();
    loop {
        let entries = reader.audit_tail(1_000).await.unwrap();
        if entries.iter().filter(|e| e.kind == kind).count() >= count {
            return entries;
        }
        assert!(
            start.elapsed() < LIMIT,
            "no {count} × {kind}: {:#?}",
            entries
                .iter()
                .map(|e| (&e.kind, &e.detail))
                .collect::<Vec<_>>()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn review(dir: &Path, id: u64, verdict: Verdict, body: &str) {
    let path = dir.join("issues/R-1.md");
    let mut text = std::fs::read_to_string(&path).unwrap();
    text.push_str(&format!("\n{}", review_block(id, "ada", verdict, body)));
    std::fs::write(path, text).unwrap();
}

fn issue(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("issues/R-1.md")).unwrap()
}

/// The prompts the agent was given, oldest first.
fn prompts(dir: &Path) -> Vec<String> {
    let mut names: Vec<_> = std::fs::read_dir(dir.join("prompts"))
        .map(|d| d.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default();
    names.sort();
    names
        .iter()
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect()
}

/// The issue's state, as its file says.
fn state(dir: &Path) -> String {
    issue(dir)
        .lines()
        .find_map(|l| l.strip_prefix("state:"))
        .unwrap_or("")
        .trim()
        .trim_matches('"')
        .to_owned()
}

/// The reason of the first ended watch, once one ended.
async fn ended_because(dir: &Path) -> serde_json::Value {
    let entries = audited(dir, "review_watch_ended", 1).await;
    let ended = entries.iter().find(|e| e.kind == "review_watch_ended");
    ended.unwrap().detail["reason"].clone()
}

fn kinds(entries: &[AuditEntry], kind: &str) -> usize {
    entries.iter().filter(|e| e.kind == kind).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_requested_change_becomes_the_next_round_and_a_merge_ends_the_issue() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let service = start(dir, project(dir, "", AGENT));
    // The watch is recorded before the issue moves to review (a hand-off is never unwatched).
    let entries = audited(dir, "handed_off", 1).await;
    assert_eq!(kinds(&entries, "review_watched"), 1);
    assert_eq!(state(dir), "human review");
    assert_eq!(prompts(dir).len(), 1);
    assert!(!prompts(dir)[0].contains("Review round"));

    review(
        dir,
        1,
        Verdict::ChangesRequested,
        "Please greet the reader.\n- notes.txt:1: start with a greeting",
    );
    let entries = audited(dir, "handed_off", 2).await;
    assert_eq!(kinds(&entries, "review_round_addressed"), 1);
    let prompts = prompts(dir);
    assert_eq!(prompts.len(), 2, "one more run, for the round");
    let round = &prompts[1];
    assert!(round.starts_with("Write notes for R-1."), "{round}");
    assert!(round.contains("## Review round 1"), "{round}");
    assert!(
        round.contains("ada on `notes.txt:1`: start with a greeting"),
        "{round}"
    );
    assert!(round.contains("Please greet the reader."), "{round}");
    assert_eq!(kinds(&entries, "review_feedback_taken"), 1);
    let started = entries
        .iter()
        .find(|e| e.kind == "review_round_started")
        .unwrap();
    assert_eq!(started.detail["state"], "todo");
    // The round's change went onto the same branch, after the first one.
    let ws = dir.join("ws/R-1");
    let log = std::process::Command::new("git")
        .args(["log", "--format=%s", "origin/main..HEAD"])
        .current_dir(&ws)
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&log.stdout);
    assert_eq!(log.lines().count(), 2, "{log}");
    assert_eq!(state(dir), "human review");
    let text = issue(dir);
    assert!(
        text.contains("Review round 1 of at most 3") && text.contains("addressed review round 1"),
        "{text}"
    );

    review(dir, 2, Verdict::Merged, "");
    assert_eq!(ended_because(dir).await, "merged");
    assert_eq!(state(dir), "done");
    support::until(LIMIT, || !ws.exists()).await;
    assert!(!ws.exists(), "the merged issue's workspace is removed");
    assert!(store(dir).review_watches().await.unwrap().is_empty());
    service.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reviewer_who_keeps_asking_ends_with_a_person_after_max_rounds() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let service = start(dir, project(dir, "  max_rounds: 1\n", AGENT));
    audited(dir, "handed_off", 1).await;
    review(dir, 1, Verdict::ChangesRequested, "Not yet.");
    audited(dir, "handed_off", 2).await;
    review(dir, 2, Verdict::ChangesRequested, "Still not.");
    assert_eq!(ended_because(dir).await, "rounds spent");
    assert_eq!(state(dir), "needs human");
    let text = issue(dir);
    assert!(
        text.contains("Still open:\n- ada requested changes: Still not."),
        "{text}"
    );
    assert_eq!(prompts(dir).len(), 2, "no third run");
    service.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_change_is_queued_again_with_what_was_said_and_proposed_anew() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let service = start(dir, project(dir, "  on_closed: requeue\n", AGENT));
    audited(dir, "handed_off", 1).await;
    review(
        dir,
        1,
        Verdict::Closed,
        "Not like this: keep the notes short.",
    );
    let entries = audited(dir, "handed_off", 2).await;
    let prompts = prompts(dir);
    assert_eq!(prompts.len(), 2, "one more run, for the requeue");
    let round = &prompts[1];
    assert!(
        round.contains("was closed without a merge")
            && round.contains("ada: Not like this: keep the notes short."),
        "{round}"
    );
    assert_eq!(kinds(&entries, "review_feedback_taken"), 1);
    assert_eq!(kinds(&entries, "review_watch_ended"), 0, "still watched");
    let text = issue(dir);
    assert!(
        text.contains("was closed without a merge. Symphony queues this issue again"),
        "{text}"
    );
    assert_eq!(state(dir), "human review", "proposed anew, in review");

    // The change proposed anew is open (the close was acted on), and its merge ends it.
    review(dir, 2, Verdict::Merged, "");
    assert_eq!(ended_because(dir).await, "merged");
    assert_eq!(state(dir), "done");
    service.stop().await;
}
