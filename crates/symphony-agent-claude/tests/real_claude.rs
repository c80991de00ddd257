//! The backend against the real Claude Code CLI (pinned 2.1.332, installed by `.ci/run`) and a
//! scripted mock of the Messages API on loopback. Under CI (`CI` set) a missing `claude` fails
//! these tests; elsewhere they are reported ignored, with the reason.

use std::path::PathBuf;
use std::time::Duration;

use serde_json::{json, Value};
use std::sync::Arc;

use symphony_agent::{AgentBackend, AgentEvent, AgentEventKind, SessionSpec, StopSignal};
use symphony_agent_claude::{ClaudeBackend, ClaudeOptions};
use symphony_orchestrator::TrackerTools;
use symphony_testkit::requires::{block_on, run, trial, Tool};
use symphony_testkit::{claude, MockMessages, RefusingProxy, Reply};
use symphony_tracker::Tracker;
use symphony_tracker_local::LocalTracker;
use tokio::sync::mpsc;

/// A tracker secret in the test's environment: sessions are told to keep it from the agent.
const TRACKER_VAR: &str = "SYMPHONY_TEST_TRACKER_TOKEN";

/// The variable the tests' sessions read their (dummy) API key from.
const KEY_VAR: &str = "SYMPHONY_TEST_ANTHROPIC_KEY";
const KEY: &str = "sk-ant-offline-test-key";

struct Rig {
    /// Every proxied request the session's CLI tried: an offline run tries none.
    proxy: RefusingProxy,
    _root: tempfile::TempDir,
    workspace: PathBuf,
    events: mpsc::Receiver<AgentEvent>,
    _stop: tokio::sync::watch::Sender<bool>,
}

fn issue() -> symphony_core::Issue {
    symphony_core::Issue::new("REAL-1", "REAL-1", "Real claude", "todo")
}

/// A workspace and a backend talking to `mock`, with `extra` settings in its `claude` section.
/// The CLI's proxy is a refusing one of the rig's own, so any call it makes elsewhere is seen.
fn rig(mock: &MockMessages, extra: Value) -> (Rig, ClaudeBackend, SessionSpec) {
    rig_with(mock, extra, "")
}

/// Like [`rig`], with `env_args` (`env(1)` arguments) before the CLI in its command.
fn rig_with(
    mock: &MockMessages,
    extra: Value,
    env_args: &str,
) -> (Rig, ClaudeBackend, SessionSpec) {
    let proxy = RefusingProxy::start().unwrap();
    let root = tempfile::tempdir_in(
        std::env::var_os("CARGO_TARGET_TMPDIR").map_or_else(std::env::temp_dir, PathBuf::from),
    )
    .unwrap();
    let workspace = root.path().join("REAL-1");
    std::fs::create_dir(&workspace).unwrap();
    let mut section = json!({
        "command": format!(
            "env {env_args} HTTPS_PROXY={url} HTTP_PROXY={url} NO_PROXY=127.0.0.1,localhost {}",
            claude::location().display(),
            url = proxy.url(),
        ),
        "api_key": format!("${KEY_VAR}"),
        "base_url": mock.base_url(),
        "max_retries": 0,
        "api_timeout_ms": 30000,
        "stream_idle_timeout_ms": 10000,
    });
    if let (Some(section), Some(extra)) = (section.as_object_mut(), extra.as_object()) {
        section.extend(extra.clone());
    }
    let options = ClaudeOptions::from_section(Some(&section)).unwrap();
    let (events, rx) = mpsc::channel(10_000);
    let (stop, signal) = StopSignal::new();
    let mut spec = SessionSpec::new(workspace.clone(), issue(), events, signal);
    spec.turn_timeout = Duration::from_secs(60);
    spec.read_timeout = Duration::from_secs(30);
    (
        Rig {
            proxy,
            _root: root,
            workspace,
            events: rx,
            _stop: stop,
        },
        ClaudeBackend::new(options),
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

/// The text of every message of a request the CLI sent, joined.
fn transcript(request: &Value) -> String {
    request["messages"].to_string()
}

fn a_turn_runs_a_command_and_edits_a_file_and_the_next_turn_continues_the_session() {
    block_on(async {
        let mock = MockMessages::start(vec![
            Reply::Bash("echo hello > out.txt".into()),
            Reply::Tool {
                name: "Write".into(),
                input: json!({"file_path": "notes.md", "content": "# Notes\n"}),
            },
            Reply::Text("Created out.txt and notes.md.".into()),
            Reply::Text("Still here.".into()),
        ])
        .unwrap();
        let (mut rig, backend, spec) = rig(&mock, json!({}));
        let mut session = backend.start(spec).await.unwrap();
        let first = session.run_turn("Create out.txt and notes.md").await;
        assert!(first.is_ok(), "{first:?}");
        assert_eq!(
            std::fs::read_to_string(rig.workspace.join("out.txt")).unwrap(),
            "hello\n"
        );
        assert_eq!(
            std::fs::read_to_string(rig.workspace.join("notes.md")).unwrap(),
            "# Notes\n"
        );
        let second = session.run_turn("Say you are still here").await;
        assert!(second.is_ok(), "{second:?}");
        let requests = mock.messages();
        assert_eq!(requests.len(), 4, "three requests in turn 1, one in turn 2");
        let history = transcript(&requests[3].body);
        assert!(
            history.contains("Create out.txt and notes.md")
                && history.contains("toolu_mock_1")
                && history.contains("Say you are still here"),
            "the continuation carries the session's history: {history}"
        );
        let key = requests[0]
            .headers
            .iter()
            .find(|(name, _)| name == "x-api-key")
            .map(|(_, v)| v.as_str());
        assert_eq!(key, Some(KEY), "the configured key, from its variable");
        assert!(
            mock.others().is_empty(),
            "nothing else was asked: {:?}",
            mock.others()
        );
        assert!(
            rig.proxy.attempts().is_empty(),
            "no request left for anywhere else: {:?}",
            rig.proxy.attempts()
        );
        let events = drain(&mut rig);
        let usage = events
            .iter()
            .rev()
            .find_map(|e| match &e.kind {
                AgentEventKind::TokenUsage(usage) => Some(*usage),
                _ => None,
            })
            .expect("usage reported");
        let served = mock.usage_completed();
        let input = served.input + served.cache_creation + served.cache_read;
        assert_eq!(
            (
                usage.input_tokens,
                usage.cache_read_tokens,
                usage.cache_write_tokens,
                usage.output_tokens,
                usage.total_tokens
            ),
            (
                input,
                served.cache_read,
                served.cache_creation,
                served.output,
                input + served.output
            ),
            "the session's counts are the mock's, the cache's share included"
        );
        assert!(
            usage.cost_micros.is_some_and(|c| c > 0),
            "the CLI's own price of the session is reported: {usage:?}"
        );
        assert!(events
            .iter()
            .any(|e| e.kind == AgentEventKind::SessionStarted));
        assert!(events
            .iter()
            .any(|e| matches!(&e.kind, AgentEventKind::Notification { message } if message == "Still here.")));
        session.stop().await;
    });
}

fn a_write_outside_the_workspace_fails_the_attempt_and_writes_nothing() {
    block_on(async {
        let outside = tempfile::tempdir().unwrap();
        let target = outside.path().join("escaped.txt");
        let mock = MockMessages::start(vec![
            Reply::Tool {
                name: "Write".into(),
                input: json!({"file_path": target.display().to_string(), "content": "x"}),
            },
            Reply::Text("Wrote it.".into()),
        ])
        .unwrap();
        let (_rig, backend, spec) = rig(&mock, json!({}));
        let mut session = backend.start(spec).await.unwrap();
        let error = session.run_turn("Write outside").await.unwrap_err();
        assert_eq!(error.category(), "approval_refused", "{error}");
        assert!(
            error.to_string().contains("outside the workspace"),
            "{error}"
        );
        assert!(!target.exists(), "nothing was written outside");
        session.stop().await;
    });
}

fn symphony_tools_reach_the_local_tracker_over_mcp() {
    block_on(async {
        let mock = MockMessages::start(vec![
            Reply::Tool {
                name: "mcp__symphony__local_issue_comment".into(),
                input: json!({"body": "Working on it from Claude."}),
            },
            Reply::Tool {
                name: "mcp__symphony__local_issue_set_state".into(),
                input: json!({"state": "done"}),
            },
            Reply::Text("Commented and moved it.".into()),
        ])
        .unwrap();
        let (rig, backend, mut spec) = rig(&mock, json!({}));
        let issues = rig._root.path().join("issues");
        std::fs::create_dir(&issues).unwrap();
        std::fs::write(
            issues.join("REAL-1.md"),
            "---\ntitle: Real claude\nstate: todo\n---\n",
        )
        .unwrap();
        let tracker: Arc<dyn Tracker> = Arc::new(LocalTracker::new(&issues, vec!["done".into()]));
        spec.tools = Some(Arc::new(TrackerTools::new(tracker, issue())));
        let mut session = backend.start(spec).await.unwrap();
        let turn = session.run_turn("Comment, then finish").await;
        assert!(turn.is_ok(), "{turn:?}");
        session.stop().await;
        let text = std::fs::read_to_string(issues.join("REAL-1.md")).unwrap();
        assert!(text.contains("Working on it from Claude."), "{text}");
        assert!(
            text.contains("state: \"done\"") || text.contains("state: done"),
            "{text}"
        );
        // The tools were offered inline, and each result went back to the model.
        let requests = mock.messages();
        let offered = requests[0].body["tools"].to_string();
        assert!(
            offered.contains("mcp__symphony__local_issue_comment"),
            "{offered}"
        );
        let after_call = transcript(&requests[1].body);
        assert!(
            after_call.contains("tool_result") && after_call.contains("toolu_mock_1"),
            "{after_call}"
        );
    });
}

fn an_overloaded_api_is_retried_within_the_turn_when_allowed() {
    block_on(async {
        let mock = MockMessages::start(vec![Reply::Status(529), Reply::Text("Recovered.".into())])
            .unwrap();
        let (_rig, backend, spec) = rig(&mock, json!({"max_retries": 1}));
        let mut session = backend.start(spec).await.unwrap();
        let turn = session.run_turn("Try").await;
        assert!(turn.is_ok(), "{turn:?}");
        assert_eq!(mock.messages().len(), 2, "one failure, one retry");
        session.stop().await;

        let mock =
            MockMessages::start(vec![Reply::Status(529), Reply::Text("late".into())]).unwrap();
        let (_rig, backend, spec) = rig(&mock, json!({"max_retries": 0}));
        let mut session = backend.start(spec).await.unwrap();
        let error = session.run_turn("Try").await.unwrap_err();
        assert_eq!(error.category(), "model_api_error");
        assert!(error.to_string().contains("HTTP 529"), "{error}");
        session.stop().await;
    });
}

/// The operator's own Claude configuration (`~/.claude`: memory and settings) stays out of an
/// isolated session. The same session with `home: inherit` reads both: the control that shows
/// the check can fail. In both, the tracker's secret never reaches the agent's commands, while
/// an ordinary variable does (its control).
fn the_operators_claude_configuration_and_tracker_secrets_stay_out() {
    block_on(async {
        let operator = tempfile::tempdir().unwrap();
        let dot = operator.path().join(".claude");
        std::fs::create_dir(&dot).unwrap();
        std::fs::write(
            dot.join("CLAUDE.md"),
            "Operator memory: PLANTED-MEMORY-7731\n",
        )
        .unwrap();
        std::fs::write(
            dot.join("settings.json"),
            r#"{"env": {"SYMPHONY_PLANTED": "from-operator-settings"}}"#,
        )
        .unwrap();
        for (home, reads_it) in [("isolated", false), ("inherit", true)] {
            let mock = MockMessages::start(vec![
                Reply::Bash(format!(
                    "echo \"[$SYMPHONY_PLANTED][${TRACKER_VAR}][$SYMPHONY_TEST_VISIBLE]\" > planted.txt"
                )),
                Reply::Text("Done.".into()),
            ])
            .unwrap();
            let (rig, backend, mut spec) = rig_with(
                &mock,
                json!({"home": home}),
                &format!("HOME={}", operator.path().display()),
            );
            spec.remove_env = vec![TRACKER_VAR.to_owned()];
            let mut session = backend.start(spec).await.unwrap();
            let turn = session.run_turn("Show the planted variable").await;
            assert!(turn.is_ok(), "{home}: {turn:?}");
            session.stop().await;
            let sent = mock.messages()[0].body.to_string();
            assert_eq!(
                sent.contains("PLANTED-MEMORY-7731"),
                reads_it,
                "home: {home}: the operator's memory in the request: {sent}"
            );
            let planted = std::fs::read_to_string(rig.workspace.join("planted.txt")).unwrap();
            assert_eq!(
                planted.trim(),
                if reads_it {
                    "[from-operator-settings][][visible]"
                } else {
                    "[][][visible]"
                },
                "home: {home}: the operator's settings applied to the session's commands \
                 (and the tracker's secret never)"
            );
        }
    });
}

/// The Messages API failing: a server error, a stream that stops mid-answer and a stream that
/// is not JSON are each the turn's typed error (`model_api_error`), in bounded time, never a
/// success.
fn a_failing_or_hanging_api_is_a_typed_error() {
    block_on(async {
        let mock = MockMessages::start(vec![Reply::Status(500)]).unwrap();
        let (_rig, backend, spec) = rig(&mock, json!({"max_retries": 0}));
        let mut session = backend.start(spec).await.unwrap();
        let error = session.run_turn("Try").await.unwrap_err();
        assert_eq!(error.category(), "model_api_error", "{error}");
        assert!(error.to_string().contains("500"), "{error}");
        session.stop().await;

        let mock = MockMessages::start(vec![Reply::Hang]).unwrap();
        let (_rig, backend, spec) = rig(
            &mock,
            json!({"max_retries": 0, "stream_idle_timeout_ms": 10000}),
        );
        let mut session = backend.start(spec).await.unwrap();
        let error = session.run_turn("Try").await.unwrap_err();
        assert_eq!(error.category(), "model_api_error", "{error}");
        session.stop().await;

        let mock = MockMessages::start(vec![Reply::Malformed]).unwrap();
        let (_rig, backend, spec) = rig(&mock, json!({"max_retries": 0}));
        let mut session = backend.start(spec).await.unwrap();
        let error = session.run_turn("Try").await.unwrap_err();
        assert_eq!(error.category(), "model_api_error", "{error}");
        session.stop().await;
    });
}

/// `claude.max_round_trips` bounds the model's round trips inside one turn: a turn that would
/// go on past it stops at the limit and fails as `turn_max_turns`.
fn a_turn_past_its_round_trips_stops_as_max_turns() {
    block_on(async {
        let mock = MockMessages::start(vec![
            Reply::Bash("echo one > one.txt".into()),
            Reply::Bash("echo two > two.txt".into()),
            Reply::Text("Never reached.".into()),
        ])
        .unwrap();
        let (rig, backend, spec) = rig(&mock, json!({"max_round_trips": 1}));
        let mut session = backend.start(spec).await.unwrap();
        let error = session.run_turn("Keep going").await.unwrap_err();
        assert_eq!(error.category(), "turn_max_turns", "{error}");
        assert!(
            rig.workspace.join("one.txt").exists(),
            "the first round trip ran"
        );
        assert!(
            !rig.workspace.join("two.txt").exists(),
            "the second did not"
        );
        session.stop().await;
    });
}

/// A CLI that dies between turns (killed while the gates ran, say) is started again on the
/// same session: the next turn resumes it with `--resume`, and the model sees the history.
fn a_cli_killed_between_turns_resumes_the_session() {
    block_on(async {
        let mock = MockMessages::start(vec![
            Reply::Text("First answer.".into()),
            Reply::Text("Back again.".into()),
        ])
        .unwrap();
        let (mut rig, backend, spec) = rig(&mock, json!({}));
        let mut session = backend.start(spec).await.unwrap();
        let first = session.run_turn("Remember the word heliotrope").await;
        assert!(first.is_ok(), "{first:?}");
        let pid = drain(&mut rig)
            .iter()
            .find_map(|e| e.pid)
            .expect("the CLI's pid");
        // The whole group, as an OOM kill or an operator's `kill` would end it.
        let killed = std::process::Command::new("kill")
            .args(["-KILL", "--", &format!("-{pid}")])
            .status()
            .unwrap();
        assert!(killed.success());
        tokio::time::sleep(Duration::from_millis(300)).await;
        let second = session.run_turn("Which word?").await;
        assert!(second.is_ok(), "{second:?}");
        let events = drain(&mut rig);
        assert!(
            events.iter().any(
                |e| matches!(&e.kind, AgentEventKind::Notification { message }
                if message.contains("ended between turns"))
            ),
            "the restart is reported"
        );
        assert!(
            events.iter().filter_map(|e| e.pid).all(|p| p != pid),
            "a new process ran the second turn"
        );
        let requests = mock.messages();
        assert_eq!(requests.len(), 2);
        let history = transcript(&requests[1].body);
        assert!(
            history.contains("heliotrope") && history.contains("First answer."),
            "the resumed session carries the first turn: {history}"
        );
        session.stop().await;
    });
}

/// The proxy guard is not a blind spot: the same CLI with the non-essential traffic switch
/// unset calls home, and the guard sees it. (The backend always sets it.)
fn the_egress_guard_sees_a_cli_that_calls_home() {
    block_on(async {
        let mock = MockMessages::start(vec![Reply::Text("Hi.".into())]).unwrap();
        let (rig, backend, spec) = rig_with(
            &mock,
            json!({}),
            "-u CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC",
        );
        let mut session = backend.start(spec).await.unwrap();
        let _ = session.run_turn("Hello").await;
        session.stop().await;
        let attempts = rig.proxy.attempts();
        assert!(
            attempts.iter().any(|a| a.starts_with("CONNECT ")),
            "the guard saw the CLI's calls home: {attempts:?}"
        );
    });
}

fn main() -> std::process::ExitCode {
    // Before any thread: the sessions read their key from this variable.
    std::env::set_var(KEY_VAR, KEY);
    std::env::set_var(TRACKER_VAR, "ghp_tracker_secret_never_for_the_agent");
    std::env::set_var("SYMPHONY_TEST_VISIBLE", "visible");
    let trials: [(&str, fn()); 9] = [
        (
            "the_egress_guard_sees_a_cli_that_calls_home",
            the_egress_guard_sees_a_cli_that_calls_home,
        ),
        (
            "a_turn_runs_a_command_and_edits_a_file_and_the_next_turn_continues_the_session",
            a_turn_runs_a_command_and_edits_a_file_and_the_next_turn_continues_the_session,
        ),
        (
            "a_write_outside_the_workspace_fails_the_attempt_and_writes_nothing",
            a_write_outside_the_workspace_fails_the_attempt_and_writes_nothing,
        ),
        (
            "symphony_tools_reach_the_local_tracker_over_mcp",
            symphony_tools_reach_the_local_tracker_over_mcp,
        ),
        (
            "an_overloaded_api_is_retried_within_the_turn_when_allowed",
            an_overloaded_api_is_retried_within_the_turn_when_allowed,
        ),
        (
            "the_operators_claude_configuration_and_tracker_secrets_stay_out",
            the_operators_claude_configuration_and_tracker_secrets_stay_out,
        ),
        (
            "a_failing_or_hanging_api_is_a_typed_error",
            a_failing_or_hanging_api_is_a_typed_error,
        ),
        (
            "a_cli_killed_between_turns_resumes_the_session",
            a_cli_killed_between_turns_resumes_the_session,
        ),
        (
            "a_turn_past_its_round_trips_stops_as_max_turns",
            a_turn_past_its_round_trips_stops_as_max_turns,
        ),
    ];
    run(trials
        .into_iter()
        .map(|(name, test)| trial(name, Tool::Claude, test))
        .collect())
}
