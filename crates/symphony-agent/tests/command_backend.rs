//! The `command` backend with real `bash` subprocesses.

use std::path::Path;
use std::time::Duration;

use symphony_agent::{
    AgentBackend, AgentError, AgentEvent, AgentEventKind, AgentSession, CommandBackend,
    SessionSpec, StopSignal,
};
use symphony_core::Issue;
use tokio::sync::{mpsc, watch};

fn issue() -> Issue {
    serde_json::from_value(
        serde_json::json!({"id": "id-7", "identifier": "ABC-7", "title": "t", "state": "todo"}),
    )
    .unwrap()
}

struct Started {
    session: Box<dyn AgentSession>,
    events: mpsc::Receiver<AgentEvent>,
    stop: watch::Sender<bool>,
}

async fn start(
    command: &str,
    workspace: &Path,
    turn_timeout: Duration,
    capacity: usize,
    remove_env: &[&str],
) -> Started {
    let (tx, events) = mpsc::channel(capacity);
    let (stop, signal) = StopSignal::new();
    let mut spec = SessionSpec::new(workspace.to_path_buf(), issue(), tx, signal);
    spec.remove_env = remove_env.iter().map(|s| (*s).to_owned()).collect();
    spec.turn_timeout = turn_timeout;
    spec.read_timeout = Duration::from_secs(5);
    let session = CommandBackend::new(command).start(spec).await.unwrap();
    Started {
        session,
        events,
        stop,
    }
}

fn drain(events: &mut mpsc::Receiver<AgentEvent>) -> Vec<AgentEventKind> {
    let mut kinds = Vec::new();
    while let Ok(e) = events.try_recv() {
        kinds.push(e.kind);
    }
    kinds
}

const LONG: Duration = Duration::from_secs(60);

#[tokio::test]
async fn a_turn_gets_the_prompt_on_stdin_in_the_workspace_and_reports_its_output() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = start("cat > prompt.txt; pwd > cwd.txt; echo \"turn $SYMPHONY_TURN of $SYMPHONY_ISSUE_IDENTIFIER\"", dir.path(), LONG, 64, &[]).await;
    let outcome = s.session.run_turn("Fix ABC-7 please").await.unwrap();
    assert_eq!(outcome.turn, 1);
    assert_eq!(
        std::fs::read_to_string(dir.path().join("prompt.txt")).unwrap(),
        "Fix ABC-7 please"
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("cwd.txt"))
            .unwrap()
            .trim(),
        dir.path().canonicalize().unwrap().display().to_string()
    );
    let kinds = drain(&mut s.events);
    assert_eq!(kinds.first(), Some(&AgentEventKind::SessionStarted));
    assert!(kinds.contains(&AgentEventKind::TurnStarted { turn: 1 }));
    assert!(kinds.contains(&AgentEventKind::Notification {
        message: "turn 1 of ABC-7".into()
    }));
    assert_eq!(
        kinds.last(),
        Some(&AgentEventKind::TurnCompleted { turn: 1 })
    );
    assert!(s.session.session_id().ends_with("-1"));
    s.session.run_turn("again").await.unwrap();
    assert!(s.session.session_id().ends_with("-2"));
}

#[tokio::test]
async fn a_failing_command_fails_the_turn_with_its_output() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = start(
        "echo 'cannot compile: missing semicolon' >&2; exit 3",
        dir.path(),
        LONG,
        64,
        &[],
    )
    .await;
    let err = s.session.run_turn("p").await.unwrap_err();
    assert_eq!(err.category(), "turn_failed");
    assert!(
        err.to_string().contains("exit code 3") && err.to_string().contains("missing semicolon"),
        "{err}"
    );
    assert!(
        matches!(drain(&mut s.events).last(), Some(AgentEventKind::TurnFailed { category, .. }) if category == "turn_failed")
    );
}

#[tokio::test]
async fn a_silent_turn_times_out_and_output_restarts_the_clock() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = start("sleep 30", dir.path(), Duration::from_millis(1500), 64, &[]).await;
    let err = s.session.run_turn("p").await.unwrap_err();
    assert!(
        matches!(err, AgentError::TurnTimeout { turn: 1, .. }),
        "{err}"
    );

    // Talks every 0.5 s for 3 s: never silent for 1.5 s, so it completes.
    let mut chatty = start(
        "for i in 1 2 3 4 5 6; do echo tick $i; sleep 0.5; done",
        dir.path(),
        Duration::from_millis(1500),
        64,
        &[],
    )
    .await;
    chatty.session.run_turn("p").await.unwrap();
}

#[tokio::test]
async fn a_stop_request_cancels_the_turn_and_its_whole_process_group() {
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("survived");
    let script = format!("(sleep 3; touch {}) & sleep 60", marker.display());
    let mut s = start(&script, dir.path(), LONG, 64, &[]).await;
    let stop = s.stop.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let _ = stop.send(true);
    });
    let err = s.session.run_turn("p").await.unwrap_err();
    assert_eq!(err.category(), "turn_cancelled");
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert!(!marker.exists(), "a process of the cancelled turn survived");
    // A stopped session runs no more turns.
    assert_eq!(
        s.session.run_turn("p").await.unwrap_err().category(),
        "turn_cancelled"
    );
}

#[tokio::test]
async fn tracker_secrets_are_removed_from_the_agent_environment() {
    let dir = tempfile::tempdir().unwrap();
    // cargo sets both in the test process; one is declared secret.
    assert!(std::env::var("CARGO_MANIFEST_DIR").is_ok() && std::env::var("CARGO_PKG_NAME").is_ok());
    let mut s = start(
        "echo \"secret=[${CARGO_MANIFEST_DIR:-}] other=[$CARGO_PKG_NAME]\"",
        dir.path(),
        LONG,
        64,
        &["CARGO_MANIFEST_DIR"],
    )
    .await;
    s.session.run_turn("p").await.unwrap();
    let kinds = drain(&mut s.events);
    assert!(
        kinds.contains(&AgentEventKind::Notification {
            message: "secret=[] other=[symphony-agent]".into()
        }),
        "{kinds:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_output_is_bounded_and_every_line_is_delivered_or_counted() {
    let dir = tempfile::tempdir().unwrap();
    let script = "yes 'flood line' | head -n 200000; head -c 300000 /dev/zero | tr '\\0' x; echo";
    let Started {
        mut session,
        mut events,
        stop: _stop,
    } = start(script, dir.path(), LONG, 32, &[]).await;
    // A consumer slower than the agent, as an orchestrator under load would be.
    let consumer = tokio::spawn(async move {
        let mut kinds = Vec::new();
        while let Some(event) = events.recv().await {
            kinds.push(event.kind);
            if kinds.len() % 64 == 0 {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        }
        kinds
    });
    session.run_turn("p").await.unwrap();
    drop(session);
    let kinds = consumer.await.unwrap();
    let mut delivered = 0u64;
    let mut dropped = 0u64;
    for kind in &kinds {
        match kind {
            AgentEventKind::Notification { message } => {
                delivered += 1;
                assert!(
                    message.len() <= symphony_agent::MAX_EVENT_LINE + 4,
                    "lines are clipped"
                );
            }
            AgentEventKind::OutputDropped { lines } => dropped += lines,
            _ => {}
        }
    }
    assert!(dropped > 0, "the slow consumer must have caused drops");
    assert_eq!(
        delivered + dropped,
        200_001,
        "every line is either delivered or counted"
    );
    assert_eq!(
        kinds.last(),
        Some(&AgentEventKind::TurnCompleted { turn: 1 })
    );
}

#[tokio::test]
async fn binary_garbage_output_is_carried_as_lossy_text() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = start(
        "head -c 20000 /dev/urandom; printf '\\n\\xff\\xfeend\\n'",
        dir.path(),
        LONG,
        100_000,
        &[],
    )
    .await;
    s.session.run_turn("p").await.unwrap();
    let kinds = drain(&mut s.events);
    assert!(
        kinds.contains(&AgentEventKind::Notification {
            message: "\u{fffd}\u{fffd}end".into()
        }),
        "{:?}",
        kinds.last()
    );
}

#[tokio::test]
async fn a_missing_workspace_is_refused_before_anything_runs() {
    let dir = tempfile::tempdir().unwrap();
    let (tx, _rx) = mpsc::channel(4);
    let (_stop, signal) = StopSignal::new();
    let mut spec = SessionSpec::new(dir.path().join("gone"), issue(), tx, signal);
    spec.remove_env = vec![];
    spec.turn_timeout = LONG;
    spec.read_timeout = LONG;
    let err = CommandBackend::new("true").start(spec).await.err().unwrap();
    assert_eq!(err.category(), "invalid_workspace_cwd");
}

struct Recorder(std::sync::Mutex<Vec<(String, serde_json::Value)>>);

#[async_trait::async_trait]
impl symphony_agent::ToolHandler for Recorder {
    async fn call(&self, name: &str, arguments: serde_json::Value) -> (bool, serde_json::Value) {
        self.0.lock().unwrap().push((name.to_owned(), arguments));
        (
            name == "set_state",
            serde_json::json!({"ok": name == "set_state"}),
        )
    }
}

#[tokio::test]
async fn tool_directives_are_executed_host_side_and_reported() {
    let dir = tempfile::tempdir().unwrap();
    let (tx, mut events) = mpsc::channel(64);
    let (_stop, signal) = StopSignal::new();
    let recorder = std::sync::Arc::new(Recorder(Default::default()));
    let mut spec = SessionSpec::new(dir.path().to_path_buf(), issue(), tx, signal);
    spec.remove_env = vec![];
    spec.turn_timeout = LONG;
    spec.read_timeout = LONG;
    spec.tools = Some(recorder.clone());
    let script = r#"echo '::symphony-tool {"name": "set_state", "arguments": {"state": "done"}}'; echo '::symphony-tool {"name": "nope"}'; echo '::symphony-tool not json'"#;
    let mut session = CommandBackend::new(script).start(spec).await.unwrap();
    session.run_turn("p").await.unwrap();
    let calls = recorder.0.lock().unwrap().clone();
    assert_eq!(calls.len(), 2);
    assert_eq!(
        calls[0],
        ("set_state".to_owned(), serde_json::json!({"state": "done"}))
    );
    let notes: Vec<String> = drain(&mut events)
        .into_iter()
        .filter_map(|k| match k {
            AgentEventKind::Notification { message } if !message.starts_with("::") => Some(message),
            _ => None,
        })
        .collect();
    assert!(
        notes
            .iter()
            .any(|n| n.starts_with("tool set_state succeeded")),
        "{notes:?}"
    );
    assert!(
        notes.iter().any(|n| n.starts_with("tool nope failed")),
        "{notes:?}"
    );
    assert!(
        notes.iter().any(|n| n.starts_with("malformed tool call")),
        "{notes:?}"
    );
}

/// Output is read through the shared capped line reader: an enormous line is shown clipped
/// (its head), the lines after it still arrive, and output without a newline is still
/// activity that keeps the turn alive (a progress bar is not silence).
#[tokio::test]
async fn an_enormous_line_is_clipped_and_output_mid_line_is_activity() {
    let dir = tempfile::tempdir().unwrap();
    let command = "head -c 300000 /dev/zero | tr '\\0' x; echo; echo after; \
                   for i in 1 2 3 4 5 6; do printf .; sleep 0.3; done; echo done";
    let mut s = start(command, dir.path(), Duration::from_secs(1), 64, &[]).await;
    s.session
        .run_turn("go")
        .await
        .expect("1.8 s of dots under a 1 s silence limit is not silence");
    let lines: Vec<String> = drain(&mut s.events)
        .into_iter()
        .filter_map(|kind| match kind {
            AgentEventKind::Notification { message } => Some(message),
            _ => None,
        })
        .collect();
    let big = lines
        .iter()
        .find(|l| l.starts_with("xxx"))
        .expect("clipped");
    assert!(
        big.len() <= symphony_agent::MAX_EVENT_LINE + '…'.len_utf8(),
        "{}",
        big.len()
    );
    assert!(big.ends_with('…'));
    assert!(lines.contains(&"after".to_owned()), "{lines:?}");
    assert!(lines.contains(&"......done".to_owned()), "{lines:?}");
}
