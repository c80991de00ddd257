//! The service end to end with the local tracker and the `command` backend: real files, real
//! subprocesses, real timers.

mod support;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::{until, LocalWiring};

use symphony_orchestrator::{Service, ServiceOptions};
use symphony_workflow::{ProcessEnvironment, WorkflowSource};

fn workflow(command: &str, extra: &str) -> String {
    format!(
        "---\ntracker:\n  kind: local\n  provider:\n    path: ./issues\nworkspace:\n  root: ./ws\npolling:\n  interval_ms: 200\nagent:\n  backend: command\n  command: {command:?}\n  max_turns: 3\n{extra}---\nWork on {{{{ issue.identifier }}}}: {{{{ issue.title }}}}\n"
    )
}

fn setup(command: &str, extra: &str, issues: &[(&str, &str)]) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("issues")).unwrap();
    for (id, state) in issues {
        std::fs::write(
            dir.path().join(format!("issues/{id}.md")),
            format!("---\ntitle: Issue {id}\nstate: {state}\n---\nDo it.\n"),
        )
        .unwrap();
    }
    let path = dir.path().join("WORKFLOW.md");
    std::fs::write(&path, workflow(command, extra)).unwrap();
    (dir, path)
}

fn source(path: &Path) -> Arc<WorkflowSource> {
    let registry = support::registry();
    Arc::new(WorkflowSource::open(path, registry, Arc::new(ProcessEnvironment)).unwrap())
}

fn state_of(dir: &Path, id: &str) -> String {
    let text = std::fs::read_to_string(dir.join(format!("issues/{id}.md"))).unwrap_or_default();
    text.lines()
        .find_map(|l| l.strip_prefix("state:"))
        .unwrap_or("")
        .trim()
        .trim_matches('"')
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_issue_goes_from_todo_to_done_through_real_subprocesses() {
    // The agent: records its prompt and where it ran, edits a file, then moves its issue.
    let agent = r#"cat > .prompt; pwd >> ../../agent.log; echo greeting >> README.md; echo '::symphony-tool {"name": "local_issue_set_state", "arguments": {"state": "done"}}'"#;
    let (dir, path) = setup(agent, "", &[("DEMO-1", "todo")]);
    let root = dir.path().to_path_buf();
    let service = Service::new(
        source(&path),
        Arc::new(LocalWiring),
        ServiceOptions::default(),
    );
    let workspace = root.join("ws/DEMO-1");
    let check = root.clone();
    let ws = workspace.clone();
    service
        .run(until(Duration::from_secs(60), move || {
            state_of(&check, "DEMO-1") == "done" && !ws.exists()
        }))
        .await
        .unwrap();
    assert_eq!(state_of(&root, "DEMO-1"), "done");
    let log = std::fs::read_to_string(root.join("agent.log")).unwrap();
    assert_eq!(
        log.lines().count(),
        1,
        "one turn: the issue left the active states after it"
    );
    assert!(log.trim_end().ends_with("/ws/DEMO-1"), "{log}");
    assert!(
        !workspace.exists(),
        "the terminal issue's workspace is removed"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn moving_the_issue_to_a_terminal_state_stops_the_run_and_removes_the_workspace() {
    let (dir, path) = setup("touch started; sleep 600", "", &[("LONG-1", "todo")]);
    let root = dir.path().to_path_buf();
    let service = Service::new(
        source(&path),
        Arc::new(LocalWiring),
        ServiceOptions::default(),
    );
    let started = root.join("ws/LONG-1/started");
    let check = root.clone();
    let moved = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = Arc::clone(&moved);
    let mover = tokio::spawn(async move {
        until(Duration::from_secs(30), || started.exists()).await;
        let file = check.join("issues/LONG-1.md");
        let text = std::fs::read_to_string(&file)
            .unwrap()
            .replace("state: todo", "state: cancelled");
        std::fs::write(file, text).unwrap();
        flag.store(true, std::sync::atomic::Ordering::SeqCst);
    });
    let ws = root.join("ws/LONG-1");
    let t0 = Instant::now();
    let flag = Arc::clone(&moved);
    service
        .run(until(Duration::from_secs(60), move || {
            flag.load(std::sync::atomic::Ordering::SeqCst) && !ws.exists()
        }))
        .await
        .unwrap();
    mover.await.unwrap();
    assert!(
        moved.load(std::sync::atomic::Ordering::SeqCst),
        "the agent never started"
    );
    assert!(!root.join("ws/LONG-1").exists());
    assert!(
        t0.elapsed() < Duration::from_secs(59),
        "stopped by reconciliation, not by the test's limit"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hung_command_is_killed_by_stall_detection_and_retried_with_backoff() {
    // The stall limit leaves room for the login shell's start-up (`bash -lc` runs the machine's
    // profile, which may wait for a lock): a run killed before its first line never started.
    let (dir, path) = setup(
        "echo started >> ../../starts.log; exec sleep 600",
        "codex:\n  stall_timeout_ms: 4000\n",
        &[("HUNG-1", "todo")],
    );
    let root = dir.path().to_path_buf();
    let service = Service::new(
        source(&path),
        Arc::new(LocalWiring),
        ServiceOptions::default(),
    );
    let probe = service.snapshot();
    // The snapshot at the moment the retry is queued (shutdown clears the queue afterwards).
    let seen = Arc::new(std::sync::Mutex::new(None));
    let keep = Arc::clone(&seen);
    service
        .run(until(Duration::from_secs(60), move || {
            match probe.latest() {
                Some(s)
                    if s.running.is_empty()
                        && s.retrying.iter().any(|r| r.identifier == "HUNG-1") =>
                {
                    *keep.lock().unwrap() = Some(s);
                    true
                }
                _ => false,
            }
        }))
        .await
        .unwrap();
    let snap = seen
        .lock()
        .unwrap()
        .clone()
        .expect("the stalled run was stopped and queued for retry");
    let retry = snap
        .retrying
        .iter()
        .find(|r| r.identifier == "HUNG-1")
        .expect("a retry is queued");
    assert_eq!(retry.attempt, 1);
    assert!(
        retry.error.as_deref().unwrap_or("").starts_with("stalled"),
        "{retry:?}"
    );
    assert!(
        retry.due_in_ms > 5_000 && retry.due_in_ms <= 10_000,
        "failure backoff of 10 s: {retry:?}"
    );
    assert_eq!(
        std::fs::read_to_string(root.join("starts.log"))
            .unwrap()
            .lines()
            .count(),
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_workflow_edit_mid_run_keeps_the_service_on_the_last_good_config() {
    let (dir, path) = setup("echo ran >> ../../ran.log", "", &[]);
    let root = dir.path().to_path_buf();
    let service = Service::new(
        source(&path),
        Arc::new(LocalWiring),
        ServiceOptions::default(),
    );
    let good = std::fs::read_to_string(&path).unwrap();
    let script = tokio::spawn({
        let root = root.clone();
        let path = path.clone();
        async move {
            tokio::time::sleep(Duration::from_millis(500)).await;
            std::fs::write(&path, "---\ntracker: [broken\n---\n").unwrap();
            tokio::time::sleep(Duration::from_millis(700)).await;
            // A new issue arrives while the file is broken: it must wait.
            std::fs::write(
                root.join("issues/NEW-1.md"),
                "---\ntitle: n\nstate: todo\n---\n",
            )
            .unwrap();
            tokio::time::sleep(Duration::from_millis(1_500)).await;
            let ran_while_broken = root.join("ran.log").exists();
            std::fs::write(&path, good).unwrap();
            ran_while_broken
        }
    });
    let log = root.join("ran.log");
    service
        .run(until(Duration::from_secs(60), move || log.exists()))
        .await
        .unwrap();
    assert!(
        !script.await.unwrap(),
        "nothing is dispatched while the workflow is broken"
    );
    assert!(
        root.join("ran.log").exists(),
        "dispatch resumes once the file is fixed"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snapshot_timeout_and_unavailable_cases_are_surfaced() {
    let (dir, path) = setup("true", "", &[("S-1", "todo")]);
    let service = Service::new(
        source(&path),
        Arc::new(LocalWiring),
        ServiceOptions::default(),
    );
    let handle = service.snapshot();
    // Created but not running: nobody answers.
    assert_eq!(
        handle.get(Duration::from_millis(200)).await,
        Err(symphony_orchestrator::SnapshotError::Timeout)
    );
    let asker = handle.clone();
    let answered = Arc::new(std::sync::Mutex::new(None));
    let keep = Arc::clone(&answered);
    service
        .run(async move {
            tokio::time::sleep(Duration::from_millis(300)).await;
            *keep.lock().unwrap() = Some(asker.get(Duration::from_secs(10)).await);
        })
        .await
        .unwrap();
    let live = answered
        .lock()
        .unwrap()
        .take()
        .unwrap()
        .expect("a running service answers");
    assert!(live.running.len() + live.retrying.len() <= 1);
    // Stopped: the service is gone.
    assert_eq!(
        handle.get(Duration::from_secs(1)).await,
        Err(symphony_orchestrator::SnapshotError::Unavailable)
    );
    drop(dir);
}

/// A service over an empty local tracker that polls every ten minutes, whose agent marks each
/// issue it ran (`ran-<identifier>` in the project folder) and moves it to done: only a
/// refresh can make an issue filed after start run soon.
fn rarely_polling_service() -> (tempfile::TempDir, Service) {
    let agent = r#"cat > /dev/null; touch "../../ran-$SYMPHONY_ISSUE_IDENTIFIER"; echo '::symphony-tool {"name": "local_issue_set_state", "arguments": {"state": "done"}}'"#;
    let (dir, path) = setup(agent, "", &[]);
    std::fs::write(
        &path,
        std::fs::read_to_string(&path)
            .unwrap()
            .replace("interval_ms: 200", "interval_ms: 600000"),
    )
    .unwrap();
    let service = Service::new(
        source(&path),
        Arc::new(LocalWiring),
        ServiceOptions::default(),
    );
    (dir, service)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refresh_polls_now_and_requests_coalesce_until_it_does() {
    // A ten-minute poll interval: only a refresh can make the issue filed later run soon.
    let (dir, service) = rarely_polling_service();
    let control = service.control();
    // Not running yet: the first request waits, the next ones join it.
    assert!(!control.request_refresh().unwrap().coalesced);
    assert!(control.request_refresh().unwrap().coalesced);
    let root = dir.path().to_path_buf();
    let asker = control.clone();
    let ran = root.join("ran-R-1");
    let seen = ran.clone();
    let fresh = Arc::new(std::sync::Mutex::new(None));
    let keep = Arc::clone(&fresh);
    service
        .run(async move {
            // Let the start-up poll and the queued refresh happen.
            tokio::time::sleep(Duration::from_millis(500)).await;
            std::fs::write(
                root.join("issues/R-1.md"),
                "---\ntitle: Filed after start\nstate: todo\n---\n",
            )
            .unwrap();
            *keep.lock().unwrap() = Some(asker.request_refresh().unwrap().coalesced);
            until(Duration::from_secs(20), || seen.exists()).await;
        })
        .await
        .unwrap();
    assert_eq!(
        *fresh.lock().unwrap(),
        Some(false),
        "the earlier request was taken, so this one is new"
    );
    assert!(
        ran.exists(),
        "the refresh polled the tracker long before the interval"
    );
    assert_eq!(
        control.request_refresh(),
        Err(symphony_orchestrator::SnapshotError::Unavailable),
        "a stopped service takes no requests"
    );
    drop(dir);
}

#[tokio::test]
async fn named_issues_are_read_and_dispatched_without_a_poll() {
    // A ten-minute poll interval and a tracker notification naming the new issue.
    let (dir, service) = rarely_polling_service();
    let control = service.control();
    let metrics = service.metrics();
    let root = dir.path().to_path_buf();
    let ran = root.join("ran-H-1");
    let seen = ran.clone();
    let polls_before = Arc::new(std::sync::Mutex::new(0.0));
    let keep = Arc::clone(&polls_before);
    let reads = |metrics: &symphony_orchestrator::ServiceMetrics, operation: &'static str| {
        metrics.tracker_calls(operation) as f64
    };
    let watched = Arc::clone(&metrics);
    service
        .run(async move {
            tokio::time::sleep(Duration::from_millis(500)).await;
            std::fs::write(
                root.join("issues/H-1.md"),
                "---\ntitle: Named by a webhook\nstate: todo\n---\n",
            )
            .unwrap();
            *keep.lock().unwrap() = reads(&watched, "fetch_issues_by_states");
            assert!(
                !control
                    .refresh_issues(vec!["H-1".into()])
                    .unwrap()
                    .coalesced
            );
            until(Duration::from_secs(20), || seen.exists()).await;
        })
        .await
        .unwrap();
    assert!(
        ran.exists(),
        "the named issue ran long before the next poll"
    );
    assert_eq!(
        reads(&metrics, "fetch_issues_by_states"),
        *polls_before.lock().unwrap(),
        "no candidate poll was needed"
    );
    drop(dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_finished_run_hands_its_slot_to_the_next_issue_without_waiting_for_the_poll() {
    // One slot, three issues, a poll every ten minutes: only the first issue can start on a
    // tick; the others start because the slot is refilled as each run ends.
    let agent = r#"echo done >> ../../agent.log; echo '::symphony-tool {"name": "local_issue_set_state", "arguments": {"state": "done"}}'"#;
    let (dir, path) = setup(
        agent,
        "",
        &[("DEMO-1", "todo"), ("DEMO-2", "todo"), ("DEMO-3", "todo")],
    );
    let text = std::fs::read_to_string(&path).unwrap().replace(
        "polling:\n  interval_ms: 200\nagent:\n",
        "polling:\n  interval_ms: 600000\nagent:\n  max_concurrent_agents: 1\n",
    );
    std::fs::write(&path, text).unwrap();
    let root = dir.path().to_path_buf();
    let service = Service::new(
        source(&path),
        Arc::new(LocalWiring),
        ServiceOptions::default(),
    );
    let check = root.clone();
    let all_done = move || {
        ["DEMO-1", "DEMO-2", "DEMO-3"]
            .iter()
            .all(|id| state_of(&check, id) == "done")
    };
    let started = Instant::now();
    service
        .run(until(Duration::from_secs(60), all_done.clone()))
        .await
        .unwrap();
    assert!(
        all_done(),
        "not all done after {:?}: {:?}",
        started.elapsed(),
        ["DEMO-1", "DEMO-2", "DEMO-3"].map(|id| state_of(&root, id))
    );
    let log = std::fs::read_to_string(root.join("agent.log")).unwrap();
    assert_eq!(log.lines().count(), 3, "one turn each");
}

/// SPEC §8.6's start-up cleanup removes the workspaces of terminal issues. With no workspace
/// under the root there is nothing it could remove, so it does not ask the tracker.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn start_up_cleanup_asks_for_terminal_issues_only_when_a_workspace_exists() {
    for leftover in [false, true] {
        let (dir, path) = setup("touch ran", "", &[("OLD-1", "done"), ("NEW-1", "todo")]);
        let root = dir.path().to_path_buf();
        let old = root.join("ws/OLD-1");
        if leftover {
            std::fs::create_dir_all(&old).unwrap();
        }
        let service = Service::new(
            source(&path),
            Arc::new(LocalWiring),
            ServiceOptions::default(),
        );
        let metrics = service.metrics();
        // The run of NEW-1 comes after the start-up cleanup was asked for.
        let (ran, gone) = (root.join("ws/NEW-1/ran"), old.clone());
        service
            .run(until(Duration::from_secs(30), move || {
                ran.exists() && !gone.exists()
            }))
            .await
            .unwrap();
        assert!(!old.exists(), "the terminal issue's workspace is removed");
        assert_eq!(
            metrics.tracker_calls("fetch_issues_by_states"),
            u64::from(leftover),
            "terminal issues are read only when a workspace could be theirs"
        );
    }
}
