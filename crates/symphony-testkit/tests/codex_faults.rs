//! The Codex runner against a scripted fake app-server: every fault ends the attempt with its
//! category within its time limit, and nothing stalls.

use std::path::Path;
use std::time::{Duration, Instant};

use symphony_agent::{
    AgentBackend, AgentError, AgentEvent, AgentEventKind, SessionSpec, StopSignal,
};
use symphony_agent_codex::{ApprovalAnswer, CodexBackend, CodexOptions, UserInputAnswer};
use tokio::sync::mpsc;

const FAKE: &str = env!("CARGO_BIN_EXE_symphony-fake-codex");
/// Limits for the faults that must trip them.
const SHORT: Duration = Duration::from_millis(1_500);
/// Limits for everything else: a login shell on a busy 2-core CI machine can take seconds.
const ROOMY: Duration = Duration::from_secs(20);

fn options(command: String) -> CodexOptions {
    CodexOptions {
        command,
        approval_policy: None,
        thread_sandbox: None,
        turn_sandbox_policy: None,
        approvals: ApprovalAnswer::Workspace,
        user_input: UserInputAnswer::Fail,
        isolated_home: false,
        home_config: None,
    }
}

fn issue() -> symphony_core::Issue {
    serde_json::from_value(serde_json::json!({
        "id": "1", "identifier": "FAKE-1", "title": "Faults", "state": "todo"
    }))
    .unwrap()
}

struct Rig {
    _root: tempfile::TempDir,
    workspace: std::path::PathBuf,
    events: mpsc::Receiver<AgentEvent>,
    stop: tokio::sync::watch::Sender<bool>,
}

fn spec(
    workspace: &Path,
) -> (
    SessionSpec,
    mpsc::Receiver<AgentEvent>,
    tokio::sync::watch::Sender<bool>,
) {
    let (events, rx) = mpsc::channel(10_000);
    let (stop, signal) = StopSignal::new();
    (
        {
            let mut session_spec = SessionSpec::new(workspace.to_owned(), issue(), events, signal);
            session_spec.remove_env = Vec::new();
            session_spec.turn_timeout = ROOMY;
            session_spec.read_timeout = ROOMY;
            session_spec
        },
        rx,
        stop,
    )
}

fn rig() -> (Rig, SessionSpec) {
    let root = tempfile::tempdir().unwrap();
    let workspace = root.path().join("FAKE-1");
    std::fs::create_dir(&workspace).unwrap();
    let (spec, events, stop) = spec(&workspace);
    (
        Rig {
            _root: root,
            workspace,
            events,
            stop,
        },
        spec,
    )
}

fn backend(mode: &str) -> CodexBackend {
    CodexBackend::new(options(format!("{FAKE} {mode}")))
}

fn notes(rig: &mut Rig) -> Vec<String> {
    let mut notes = Vec::new();
    while let Ok(event) = rig.events.try_recv() {
        if let AgentEventKind::Notification { message } = event.kind {
            notes.push(message);
        }
    }
    notes
}

/// One turn in `mode`: its result and how long it took.
async fn one_turn(mode: &str) -> (Rig, Result<(), AgentError>, Duration) {
    one_turn_with(mode, |_| {}).await
}

/// One turn in `mode` with `adjust`ed limits.
async fn one_turn_with(
    mode: &str,
    adjust: impl FnOnce(&mut SessionSpec),
) -> (Rig, Result<(), AgentError>, Duration) {
    let (rig, mut spec) = rig();
    adjust(&mut spec);
    let started = Instant::now();
    let mut session = match backend(mode).start(spec).await {
        Ok(session) => session,
        Err(e) => return (rig, Err(e), started.elapsed()),
    };
    let result = session.run_turn("do it").await.map(|_| ());
    let elapsed = started.elapsed();
    session.stop().await;
    (rig, result, elapsed)
}

fn assert_category(result: &Result<(), AgentError>, category: &str) {
    match result {
        Err(e) => assert_eq!(e.category(), category, "{e}"),
        Ok(()) => panic!("expected {category}, the turn succeeded"),
    }
}

/// Ended by its own limit, not by a roomy one: well before `ROOMY`.
fn assert_prompt(elapsed: Duration) {
    assert!(elapsed < ROOMY, "took {elapsed:?}");
}

#[tokio::test]
async fn no_answer_to_initialize_is_a_response_timeout() {
    let (_rig, result, elapsed) =
        one_turn_with("silent-initialize", |s| s.read_timeout = SHORT).await;
    assert_category(&result, "response_timeout");
    assert!(result.unwrap_err().to_string().contains("initialize"));
    assert_prompt(elapsed);
}

#[tokio::test]
async fn an_error_answer_to_thread_start_is_a_response_error() {
    let (_rig, result, elapsed) = one_turn("refuse-thread").await;
    assert_category(&result, "response_error");
    let message = result.unwrap_err().to_string();
    assert!(
        message.contains("thread/start") && message.contains("sandbox mode not allowed"),
        "{message}"
    );
    assert_prompt(elapsed);
}

#[tokio::test]
async fn a_turn_that_goes_silent_is_a_turn_timeout() {
    let (_rig, result, elapsed) = one_turn_with("silent-turn", |s| s.turn_timeout = SHORT).await;
    assert_category(&result, "turn_timeout");
    assert_prompt(elapsed);
}

#[tokio::test]
async fn garbage_lines_are_reported_and_the_turn_still_completes() {
    let (mut rig, result, _) = one_turn("garbage").await;
    assert_eq!(result, Ok(()));
    let malformed = notes(&mut rig)
        .into_iter()
        .filter(|n| n.starts_with("malformed"))
        .count();
    assert!(malformed >= 4, "{malformed} malformed lines reported");
}

#[tokio::test]
async fn a_20_mb_line_is_dropped_and_the_turn_still_completes() {
    let (mut rig, result, _) = one_turn("huge-line").await;
    assert_eq!(result, Ok(()));
    assert!(notes(&mut rig)
        .iter()
        .any(|n| n.contains("exceeded the 10 MB cap")));
}

#[tokio::test]
async fn a_crash_mid_turn_is_a_port_exit_with_its_stderr() {
    let (rig, result, elapsed) = one_turn("crash").await;
    assert_category(&result, "port_exit");
    let message = result.unwrap_err().to_string();
    assert!(message.contains("simulated crash"), "{message}");
    assert!(message.contains("exit code 3"), "{message}");
    assert_prompt(elapsed);
    // The stderr log is kept beside the workspaces, not in them.
    let logs = rig.workspace.parent().unwrap().join(".symphony/logs");
    assert_eq!(std::fs::read_dir(logs).unwrap().count(), 1);
}

#[tokio::test]
async fn an_unknown_server_request_is_answered_with_an_error() {
    let (mut rig, result, _) = one_turn("unknown-request").await;
    assert_eq!(result, Ok(()));
    assert!(notes(&mut rig)
        .iter()
        .any(|n| n == "unknown request answered with an error: true"));
}

#[tokio::test]
async fn a_user_input_request_fails_the_attempt_at_once() {
    let (_rig, result, elapsed) = one_turn("user-input").await;
    assert_category(&result, "turn_input_required");
    assert!(result
        .unwrap_err()
        .to_string()
        .contains("Deploy to production?"));
    assert_prompt(elapsed);
}

#[tokio::test]
async fn tracker_secrets_are_not_in_the_agents_environment() {
    const NAME: &str = "SYMPHONY_FAKE_CODEX_CANARY";
    std::env::set_var(NAME, "canary-secret-value");
    let (mut rig, mut spec) = rig();
    spec.remove_env = vec![NAME.to_owned()];
    let mut session = backend(&format!("env {NAME}")).start(spec).await.unwrap();
    session.run_turn("show me").await.unwrap();
    session.stop().await;
    let notes = notes(&mut rig);
    assert!(
        notes.iter().any(|n| n == &format!("{NAME} is unset")),
        "{notes:?}"
    );
    // Control: without the removal the agent would have seen it.
    let (mut rig, spec) = self::rig();
    let mut session = backend(&format!("env {NAME}")).start(spec).await.unwrap();
    session.run_turn("show me").await.unwrap();
    session.stop().await;
    assert!(notes_of(&mut rig)
        .iter()
        .any(|n| n.contains("canary-secret-value")));
}

fn notes_of(rig: &mut Rig) -> Vec<String> {
    notes(rig)
}

#[tokio::test]
async fn a_missing_codex_is_codex_not_found() {
    let (_rig, spec) = rig();
    let backend = CodexBackend::new(options("symphony-no-such-codex app-server".into()));
    let result = backend.start(spec).await.map(|_| ());
    assert_category(&result, "codex_not_found");
}

#[tokio::test]
async fn a_workspace_that_is_not_a_directory_is_refused_before_launch() {
    let (rig, mut spec) = rig();
    spec.workspace = rig.workspace.join("missing");
    let result = backend("complete").start(spec).await.map(|_| ());
    assert_category(&result, "invalid_workspace_cwd");
}

#[tokio::test]
async fn a_stop_cancels_the_turn_in_progress() {
    let (rig, mut spec) = rig();
    spec.turn_timeout = Duration::from_secs(600);
    let mut session = backend("silent-turn").start(spec).await.unwrap();
    let stop = rig.stop.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let _ = stop.send(true);
    });
    let started = Instant::now();
    let result = session.run_turn("wait").await.map(|_| ());
    session.stop().await;
    assert_category(&result, "turn_cancelled");
    assert_prompt(started.elapsed());
}

#[tokio::test]
async fn token_totals_are_the_latest_thread_totals() {
    let (mut rig, spec) = rig();
    let mut session = backend("complete").start(spec).await.unwrap();
    for _ in 0..2 {
        session.run_turn("go").await.unwrap();
    }
    session.stop().await;
    let mut totals = Vec::new();
    let mut sessions = Vec::new();
    while let Ok(event) = rig.events.try_recv() {
        if let AgentEventKind::TokenUsage(usage) = event.kind {
            totals.push(usage.total_tokens);
        }
        if let AgentEventKind::TurnCompleted { .. } = event.kind {
            sessions.push(event.session_id);
        }
    }
    assert_eq!(totals, vec![10, 20]);
    assert_eq!(sessions, vec!["thread-1-turn-1", "thread-1-turn-2"]);
}
