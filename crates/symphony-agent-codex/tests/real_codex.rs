//! The runner against the real Codex CLI (pinned 0.169.0, installed by `.ci/run`) and a mock
//! model on loopback. Under CI (`CI` set) a missing `codex` fails these tests; elsewhere they are
//! reported ignored, with the reason (`symphony_testkit::requires`).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};
use symphony_testkit::requires::{block_on, run, trial, Tool};

use serde_json::json;
use symphony_agent::{
    AgentBackend, AgentError, AgentEvent, AgentEventKind, AgentSession, SessionSpec, StopSignal,
};
use symphony_agent_codex::{ApprovalAnswer, CodexBackend, CodexOptions, UserInputAnswer};
use symphony_orchestrator::TrackerTools;
use symphony_testkit::{codex, MockModel, Step};
use symphony_tracker::Tracker;
use symphony_tracker_local::LocalTracker;
use tokio::sync::mpsc;

struct Rig {
    root: tempfile::TempDir,
    workspace: PathBuf,
    events: mpsc::Receiver<AgentEvent>,
    _stop: tokio::sync::watch::Sender<bool>,
}

fn issue() -> symphony_core::Issue {
    serde_json::from_value(json!({
        "id": "REAL-1", "identifier": "REAL-1", "title": "Real codex", "state": "todo"
    }))
    .unwrap()
}

/// A workspace, an isolated CODEX_HOME config for `model`, and options to run `codex`.
fn rig(
    bin: &Path,
    model_url: &str,
    approval: &str,
    sandbox: &str,
) -> (Rig, CodexOptions, SessionSpec) {
    let root = tempfile::tempdir_in(
        std::env::var_os("CARGO_TARGET_TMPDIR").map_or_else(std::env::temp_dir, PathBuf::from),
    )
    .unwrap();
    let workspace = root.path().join("REAL-1");
    std::fs::create_dir(&workspace).unwrap();
    let config =
        codex::write_config(&root.path().join("config"), model_url, approval, sandbox).unwrap();
    let options = CodexOptions {
        command: format!("{} app-server", bin.display()),
        approval_policy: Some(json!(approval)),
        thread_sandbox: Some(json!(sandbox)),
        turn_sandbox_policy: None,
        approvals: ApprovalAnswer::Workspace,
        user_input: UserInputAnswer::Fail,
        isolated_home: true,
        home_config: Some(config),
    };
    let (events, rx) = mpsc::channel(10_000);
    let (stop, signal) = StopSignal::new();
    let mut spec = SessionSpec::new(workspace.clone(), issue(), events, signal);
    spec.remove_env = vec!["OPENAI_API_KEY".into()];
    spec.turn_timeout = Duration::from_secs(60);
    spec.read_timeout = Duration::from_secs(30);
    (
        Rig {
            root,
            workspace,
            events: rx,
            _stop: stop,
        },
        options,
        spec,
    )
}

fn drain(rig: &mut Rig) -> Vec<AgentEvent> {
    let mut all = Vec::new();
    while let Ok(event) = rig.events.try_recv() {
        all.push(event);
    }
    all
}

fn last_total(events: &[AgentEvent]) -> Option<u64> {
    events.iter().rev().find_map(|e| match e.kind {
        AgentEventKind::TokenUsage(usage) => Some(usage.total_tokens),
        _ => None,
    })
}

async fn start(options: CodexOptions, spec: SessionSpec) -> Box<dyn AgentSession> {
    CodexBackend::new(options).start(spec).await.unwrap()
}

async fn a_turn_that_runs_a_shell_command_writes_a_file_in_the_workspace() {
    let Some(bin) = codex::binary("a_turn_that_runs_a_shell_command") else {
        return;
    };
    let model = MockModel::start(vec![
        Step::Shell("echo hello > out.txt".into()),
        Step::Message("Done: created out.txt".into()),
    ])
    .unwrap();
    let (mut rig, options, spec) = rig(&bin, &model.base_url(), "never", "danger-full-access");
    let mut session = start(options, spec).await;
    session
        .run_turn("Create out.txt containing hello")
        .await
        .unwrap();
    session.stop().await;
    assert_eq!(
        std::fs::read_to_string(rig.workspace.join("out.txt")).unwrap(),
        "hello\n"
    );
    let events = drain(&mut rig);
    assert_eq!(last_total(&events), Some(model.usage_served().total()));
    assert_eq!(
        model.usage_served().total(),
        30,
        "two responses of 15 tokens"
    );
    let session_id = &events.last().unwrap().session_id;
    assert!(
        session_id.len() > 40 && session_id.contains('-'),
        "{session_id}"
    );
    // The prompt reached the model, and the isolated home kept nothing behind.
    let first = model.requests()[0].to_string();
    assert!(first.contains("Create out.txt containing hello"));
    assert!(!rig
        .root
        .path()
        .join(".symphony/codex-homes")
        .read_dir()
        .unwrap()
        .any(|_| true));
}

async fn three_turns_run_on_one_thread() {
    let Some(bin) = codex::binary("three_turns_run_on_one_thread") else {
        return;
    };
    let mut script = Vec::new();
    for n in 1..=3 {
        script.push(Step::Shell(format!("echo {n} >> turns.txt")));
        script.push(Step::Message(format!("turn {n} done")));
    }
    let model = MockModel::start(script).unwrap();
    let (mut rig, options, spec) = rig(&bin, &model.base_url(), "never", "danger-full-access");
    let mut session = start(options, spec).await;
    let mut ids = Vec::new();
    for n in 1..=3 {
        let outcome = session.run_turn(&format!("turn {n}")).await.unwrap();
        assert_eq!(outcome.turn, n);
        ids.push(session.session_id());
    }
    session.stop().await;
    assert_eq!(
        std::fs::read_to_string(rig.workspace.join("turns.txt")).unwrap(),
        "1\n2\n3\n"
    );
    let thread = &ids[0][..36];
    assert!(ids.iter().all(|id| id.starts_with(thread)), "{ids:?}");
    assert!(ids[0] != ids[1] && ids[1] != ids[2]);
    assert_eq!(
        last_total(&drain(&mut rig)),
        Some(model.usage_served().total())
    );
}

async fn a_command_approval_under_on_request_and_read_only_is_answered_by_policy() {
    let Some(bin) = codex::binary("a_command_approval") else {
        return;
    };
    let model = MockModel::start(vec![
        Step::EscalatedShell {
            command: "echo hello > out.txt".into(),
            justification: "Allow writing out.txt?".into(),
        },
        Step::Message("Done after approval".into()),
    ])
    .unwrap();
    let (mut rig, mut options, spec) = rig(&bin, &model.base_url(), "on-request", "read-only");
    options.turn_sandbox_policy = Some(json!({"type": "readOnly"}));
    let mut session = start(options, spec).await;
    session.run_turn("Create out.txt").await.unwrap();
    session.stop().await;
    assert!(
        rig.workspace.join("out.txt").exists(),
        "approved command ran"
    );
    assert!(drain(&mut rig).iter().any(|e| matches!(
        &e.kind,
        AgentEventKind::Notification { message } if message.starts_with("approval_auto_approved")
    )));
}

async fn a_dynamic_tool_call_is_answered_by_the_local_trackers_tool() {
    let Some(bin) = codex::binary("a_dynamic_tool_call") else {
        return;
    };
    let model = MockModel::start(vec![
        Step::Call {
            name: "local_issue_set_state".into(),
            arguments: json!({"state": "done"}),
        },
        Step::Message("moved to done".into()),
    ])
    .unwrap();
    let (rig, options, mut spec) = rig(&bin, &model.base_url(), "never", "danger-full-access");
    let issues = rig.root.path().join("issues");
    std::fs::create_dir(&issues).unwrap();
    std::fs::write(
        issues.join("REAL-1.md"),
        "---\ntitle: Real codex\nstate: todo\n---\n",
    )
    .unwrap();
    // Bound the way the orchestrator's worker binds them.
    let tracker: Arc<dyn Tracker> = Arc::new(LocalTracker::new(&issues, vec!["done".into()]));
    spec.tools = Some(Arc::new(TrackerTools::new(tracker, issue())));
    let mut session = start(options, spec).await;
    session.run_turn("Finish the issue").await.unwrap();
    session.stop().await;
    let text = std::fs::read_to_string(issues.join("REAL-1.md")).unwrap();
    assert!(
        text.contains("state: \"done\"") || text.contains("state: done"),
        "{text}"
    );
    // The tool's structured result went back to the model as the call's output.
    let second = model.requests()[1].to_string();
    assert!(
        second.contains("function_call_output") && second.contains("REAL-1"),
        "{second}"
    );
    // The tool was advertised to the model.
    assert!(model.requests()[0]
        .to_string()
        .contains("local_issue_set_state"));
}

async fn an_unreachable_model_fails_fast_as_turn_failed() {
    let Some(bin) = codex::binary("an_unreachable_model") else {
        return;
    };
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/v1", closed.local_addr().unwrap());
    drop(closed);
    let (_rig, options, spec) = rig(&bin, &url, "never", "danger-full-access");
    let mut session = start(options, spec).await;
    let started = Instant::now();
    let result = session.run_turn("anything").await;
    session.stop().await;
    match result {
        Err(e @ AgentError::TurnFailed { .. }) => {
            assert_eq!(e.category(), "turn_failed");
            assert!(e.to_string().to_lowercase().contains("connection"), "{e}");
        }
        other => panic!("{other:?}"),
    }
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
}

async fn a_failed_response_is_turn_failed() {
    let Some(bin) = codex::binary("a_failed_response") else {
        return;
    };
    let model = MockModel::start(vec![Step::Failed("the model is overloaded".into())]).unwrap();
    let (_rig, options, spec) = rig(&bin, &model.base_url(), "never", "danger-full-access");
    let mut session = start(options, spec).await;
    let result = session.run_turn("anything").await;
    session.stop().await;
    match result {
        Err(e @ AgentError::TurnFailed { .. }) => {
            assert!(e.to_string().contains("the model is overloaded"), "{e}")
        }
        other => panic!("{other:?}"),
    }
}

/// A test target of its own harness: each test needs the Codex CLI, and says so (ignored, with
/// the reason) where it is not installed, instead of passing without running.
fn main() -> std::process::ExitCode {
    run(vec![
        trial(
            "a_turn_that_runs_a_shell_command_writes_a_file_in_the_workspace",
            Tool::Codex,
            || block_on(a_turn_that_runs_a_shell_command_writes_a_file_in_the_workspace()),
        ),
        trial("three_turns_run_on_one_thread", Tool::Codex, || {
            block_on(three_turns_run_on_one_thread())
        }),
        trial(
            "a_command_approval_under_on_request_and_read_only_is_answered_by_policy",
            Tool::Codex,
            || block_on(a_command_approval_under_on_request_and_read_only_is_answered_by_policy()),
        ),
        trial(
            "a_dynamic_tool_call_is_answered_by_the_local_trackers_tool",
            Tool::Codex,
            || block_on(a_dynamic_tool_call_is_answered_by_the_local_trackers_tool()),
        ),
        trial(
            "an_unreachable_model_fails_fast_as_turn_failed",
            Tool::Codex,
            || block_on(an_unreachable_model_fails_fast_as_turn_failed()),
        ),
        trial("a_failed_response_is_turn_failed", Tool::Codex, || {
            block_on(a_failed_response_is_turn_failed())
        }),
    ])
}
