//! The service under hostile conditions: a tracker that fails or hangs, garbage issue files,
//! agents that exit at once or flood their output. The service stays up and never runs an
//! issue twice at the same time.

mod support;

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use support::{command_backend, until, LocalWiring};

use async_trait::async_trait;
use symphony_agent::AgentBackend;
use symphony_core::Issue;
use symphony_orchestrator::{Service, ServiceOptions, Wiring};
use symphony_tracker::{MemoryTracker, Tracker, TrackerError, TrackerErrorCategory};
use symphony_workflow::{ProcessEnvironment, ServiceConfig, WorkflowSource};

fn workflow(dir: &Path, command: &str, max_turns: u32) -> Arc<WorkflowSource> {
    std::fs::create_dir_all(dir.join("issues")).unwrap();
    let text = format!(
        "---\ntracker:\n  kind: local\n  provider:\n    path: ./issues\nworkspace:\n  root: ./ws\npolling:\n  interval_ms: 100\nagent:\n  backend: command\n  command: {command:?}\n  max_turns: {max_turns}\n---\nWork on {{{{ issue.identifier }}}}\n"
    );
    let path = dir.join("WORKFLOW.md");
    std::fs::write(&path, text).unwrap();
    let registry = support::registry();
    Arc::new(WorkflowSource::open(&path, registry, Arc::new(ProcessEnvironment)).unwrap())
}

/// A tracker that fails or hangs on a schedule, over an in-memory store.
struct Flaky {
    inner: MemoryTracker,
    calls: AtomicU64,
    id_calls: AtomicU64,
}

#[async_trait]
impl Tracker for Flaky {
    fn secret_environment_names(&self) -> Vec<String> {
        self.inner.secret_environment_names()
    }

    fn kind(&self) -> &str {
        "flaky"
    }
    async fn fetch_issues_by_states(&self, states: &[String]) -> Result<Vec<Issue>, TrackerError> {
        match self.calls.fetch_add(1, Ordering::SeqCst) % 4 {
            0 => Err(TrackerError::new(TrackerErrorCategory::Status, "HTTP 502")),
            1 => std::future::pending().await,
            _ => self.inner.fetch_issues_by_states(states).await,
        }
    }
    async fn fetch_issues_by_ids(&self, ids: &[String]) -> Result<Vec<Issue>, TrackerError> {
        // The first refresh gets garbage: that attempt fails and is retried with backoff.
        if self.id_calls.fetch_add(1, Ordering::SeqCst) == 0 {
            return Err(TrackerError::new(
                TrackerErrorCategory::Response,
                "garbage payload",
            ));
        }
        self.inner.fetch_issues_by_ids(ids).await
    }
}

struct FlakyWiring(Arc<Flaky>);

impl Wiring for FlakyWiring {
    fn tracker(
        &self,
        _: &ServiceConfig,
    ) -> Result<Arc<dyn Tracker>, symphony_tracker::TrackerError> {
        Ok(self.0.clone())
    }
    fn backend(
        &self,
        config: &ServiceConfig,
    ) -> Result<Arc<dyn AgentBackend>, symphony_agent::BackendBuildError> {
        command_backend(config)
    }

    fn code_hosts(&self) -> symphony_code_host::CodeHostRegistry {
        symphony_code_host::CodeHostRegistry::new().with(std::sync::Arc::new(
            symphony_tracker_local::LocalCodeHostFactory,
        ))
    }
}

/// An agent command that notices if another run of the same issue overlaps with it.
const EXCLUSIVE: &str = "mkdir ../../lock-$SYMPHONY_ISSUE_ID 2>/dev/null || echo $SYMPHONY_ISSUE_ID >> ../../overlap.log; echo run >> ../../runs-$SYMPHONY_ISSUE_ID.log; sleep 0.1; rmdir ../../lock-$SYMPHONY_ISSUE_ID";

fn runs(dir: &Path, id: &str) -> usize {
    std::fs::read_to_string(dir.join(format!("runs-{id}.log"))).map_or(0, |t| t.lines().count())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tracker_that_errors_and_hangs_never_stops_the_service_or_doubles_a_run() {
    let dir = tempfile::tempdir().unwrap();
    let source = workflow(dir.path(), EXCLUSIVE, 2);
    let issue: Issue = serde_json::from_value(
        serde_json::json!({"id": "F-1", "identifier": "F-1", "title": "t", "state": "todo"}),
    )
    .unwrap();
    let flaky = Arc::new(Flaky {
        inner: MemoryTracker::with_issues([issue]),
        calls: AtomicU64::new(0),
        id_calls: AtomicU64::new(0),
    });
    let options = ServiceOptions {
        fetch_timeout: Duration::from_millis(300),
        ..ServiceOptions::default()
    };
    let service = Service::new(source, Arc::new(FlakyWiring(flaky.clone())), options);
    let root = dir.path().to_path_buf();
    service
        .run(until(Duration::from_secs(60), move || {
            runs(&root, "F-1") >= 3
        }))
        .await
        .unwrap();
    assert!(
        runs(dir.path(), "F-1") >= 3,
        "the issue kept being worked on despite the tracker"
    );
    assert!(
        !dir.path().join("overlap.log").exists(),
        "two runs of one issue overlapped"
    );
    assert!(
        flaky.calls.load(Ordering::SeqCst) > 4,
        "the failing and hanging polls happened"
    );
    assert!(
        flaky.id_calls.load(Ordering::SeqCst) > 1,
        "the garbage refresh happened"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_issue_files_are_skipped_and_agents_that_exit_at_once_never_overlap() {
    let dir = tempfile::tempdir().unwrap();
    let source = workflow(dir.path(), EXCLUSIVE, 3);
    let issues = dir.path().join("issues");
    let garbage: Vec<u8> = (0..4096u32).map(|i| (i * 7919 % 253) as u8).collect();
    std::fs::write(issues.join("JUNK.md"), garbage).unwrap();
    std::fs::write(issues.join("NOFRONT.md"), "just text").unwrap();
    std::fs::write(
        issues.join("OK-1.md"),
        "---\ntitle: fine\nstate: todo\n---\n",
    )
    .unwrap();
    let service = Service::new(source, Arc::new(LocalWiring), ServiceOptions::default());
    let root = dir.path().to_path_buf();
    service
        .run(until(Duration::from_secs(60), move || {
            runs(&root, "OK-1") >= 5
        }))
        .await
        .unwrap();
    assert!(runs(dir.path(), "OK-1") >= 5);
    assert!(
        !dir.path().join("overlap.log").exists(),
        "two runs of one issue overlapped"
    );
    assert_eq!(runs(dir.path(), "JUNK"), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_that_floods_its_output_does_not_take_the_service_down() {
    let dir = tempfile::tempdir().unwrap();
    let flood = "yes 'flood line flood line flood line' | head -n 1000000; echo done >> ../../flood.log; echo '::symphony-tool {\"name\": \"local_issue_set_state\", \"arguments\": {\"state\": \"done\"}}'";
    let source = workflow(dir.path(), flood, 1);
    std::fs::write(
        dir.path().join("issues/FLOOD-1.md"),
        "---\ntitle: loud\nstate: todo\n---\n",
    )
    .unwrap();
    let service = as_run_would(dir.path(), source, Arc::new(LocalWiring));
    let root = dir.path().to_path_buf();
    let memory = PeakMemory::start();
    // The tool call comes after the flood: the service runs until it has been carried out
    // (stopping at flood.log raced the call, which is queued behind the flood's last lines).
    service
        .run(until(Duration::from_secs(60), move || {
            std::fs::read_to_string(root.join("issues/FLOOD-1.md"))
                .is_ok_and(|t| t.contains("state: \"done\""))
        }))
        .await
        .unwrap();
    let (baseline, growth_mib) = memory.stop();
    // A million lines (36 MB of output) pass through queues that hold a few thousand events:
    // what the process holds stays small. Unbounded, the scheduler's and the store's queues
    // held the flood.
    eprintln!("flood: resident memory grew by {growth_mib} MiB over {baseline} KiB");
    assert!(
        growth_mib < 64,
        "resident memory grew by {growth_mib} MiB during the flood"
    );
    assert!(
        dir.path().join("flood.log").exists(),
        "the flood ran to its end"
    );
    let issue = std::fs::read_to_string(dir.path().join("issues/FLOOD-1.md")).unwrap();
    assert!(
        issue.contains("state: \"done\""),
        "the tool call after the flood still ran: {issue}"
    );
}

/// A service over `source` with a state store and run logs in `dir`, as `symphony run` has
/// them: every stage an agent's events pass.
fn as_run_would(dir: &Path, source: Arc<WorkflowSource>, wiring: Arc<dyn Wiring>) -> Service {
    let store = symphony_store::SqliteStore::open(
        &dir.join(".symphony"),
        symphony_store::StoreOptions::default(),
    )
    .unwrap();
    let options = ServiceOptions {
        run_logs: Some(dir.join(".symphony/runs")),
        ..ServiceOptions::default()
    };
    Service::new(source, wiring, options).with_store(Arc::new(store))
}

/// The peak of this process's resident memory while something runs, sampled every 10 ms.
struct PeakMemory {
    baseline_kib: u64,
    sampling: Arc<std::sync::atomic::AtomicBool>,
    sampler: std::thread::JoinHandle<u64>,
}

impl PeakMemory {
    fn start() -> Self {
        let sampling = Arc::new(std::sync::atomic::AtomicBool::new(true));
        let running = Arc::clone(&sampling);
        Self {
            baseline_kib: resident_kib(),
            sampling,
            sampler: std::thread::spawn(move || {
                let mut peak = 0;
                while running.load(Ordering::Relaxed) {
                    peak = peak.max(resident_kib());
                    std::thread::sleep(Duration::from_millis(10));
                }
                peak
            }),
        }
    }

    /// `(baseline in KiB, growth of the peak over it in MiB)`.
    fn stop(self) -> (u64, u64) {
        self.sampling.store(false, Ordering::Relaxed);
        let peak = self.sampler.join().unwrap();
        (
            self.baseline_kib,
            peak.saturating_sub(self.baseline_kib) / 1024,
        )
    }
}

/// This process's resident memory, in KiB (Linux).
fn resident_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

/// An agent that reports events as fast as it can and waits for each to be taken (as the
/// Codex runner does), never dropping one itself.
struct Chatty {
    events: u64,
}

struct ChattySession {
    events: u64,
    spec: symphony_agent::SessionSpec,
}

#[async_trait]
impl AgentBackend for Chatty {
    fn name(&self) -> &str {
        "chatty"
    }
    async fn start(
        &self,
        spec: symphony_agent::SessionSpec,
    ) -> Result<Box<dyn symphony_agent::AgentSession>, symphony_agent::AgentError> {
        Ok(Box::new(ChattySession {
            events: self.events,
            spec,
        }))
    }
}

#[async_trait]
impl symphony_agent::AgentSession for ChattySession {
    fn session_id(&self) -> String {
        "chatty-1".to_owned()
    }
    async fn run_turn(
        &mut self,
        _prompt: &str,
    ) -> Result<symphony_agent::TurnOutcome, symphony_agent::AgentError> {
        let padding = "x".repeat(400);
        for n in 0..self.events {
            let event = symphony_agent::AgentEvent::new(
                "chatty-1".to_owned(),
                None,
                symphony_agent::AgentEventKind::Notification {
                    message: format!("event {n} {padding}"),
                },
            );
            if self.spec.events.send(event).await.is_err() {
                break;
            }
        }
        let _ = std::fs::write(
            self.spec.workspace.join("../../chatty.done"),
            self.events.to_string(),
        );
        Ok(symphony_agent::TurnOutcome::new(1))
    }
    async fn stop(&mut self) {}
}

struct ChattyWiring;

impl Wiring for ChattyWiring {
    fn tracker(
        &self,
        config: &ServiceConfig,
    ) -> Result<Arc<dyn Tracker>, symphony_tracker::TrackerError> {
        LocalWiring.tracker(config)
    }
    fn backend(
        &self,
        _: &ServiceConfig,
    ) -> Result<Arc<dyn AgentBackend>, symphony_agent::BackendBuildError> {
        Ok(Arc::new(Chatty { events: 400_000 }))
    }

    fn code_hosts(&self) -> symphony_code_host::CodeHostRegistry {
        symphony_code_host::CodeHostRegistry::new().with(std::sync::Arc::new(
            symphony_tracker_local::LocalCodeHostFactory,
        ))
    }
}

/// 400,000 events of 400 bytes (160 MB) from an agent that never drops one: every queue
/// between it and the disk is bounded, so the agent waits (or, past the store, the oldest
/// events are dropped with a count) and the service's memory stays flat. With unbounded
/// queues the scheduler's and the store's queues held the flood.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_that_floods_events_keeps_the_services_memory_flat() {
    let dir = tempfile::tempdir().unwrap();
    let source = workflow(dir.path(), "unused", 1);
    std::fs::write(
        dir.path().join("issues/CHATTY-1.md"),
        "---\ntitle: chatty\nstate: todo\n---\n",
    )
    .unwrap();
    let service = as_run_would(dir.path(), source, Arc::new(ChattyWiring));
    let root = dir.path().to_path_buf();
    let memory = PeakMemory::start();
    service
        .run(until(Duration::from_secs(120), move || {
            root.join("chatty.done").exists()
        }))
        .await
        .unwrap();
    let (baseline, growth_mib) = memory.stop();
    eprintln!("chatty agent: resident memory grew by {growth_mib} MiB over {baseline} KiB");
    assert!(
        dir.path().join("chatty.done").exists(),
        "every event was sent"
    );
    assert!(
        growth_mib < 64,
        "resident memory grew by {growth_mib} MiB while 160 MB of events passed"
    );
}
