//! Extension sections are validated when a workflow becomes current, not when a run starts: a
//! bad `gates:` on reload holds dispatch with a config error the snapshot shows, the last good
//! configuration stays in force, and fixing the file resumes dispatch. Before, every run
//! failed on the section and was retried forever.

mod support;

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;
use support::LocalWiring;
use symphony_orchestrator::{Service, ServiceOptions, SnapshotHandle};
use symphony_workflow::{
    ConfigRegistry, ConfigSection, ProcessEnvironment, SectionContext, WorkflowSource,
};

const LIMIT: Duration = Duration::from_secs(60);

/// Records the issue it ran for, then closes the issue.
const AGENT: &str = "echo \"$SYMPHONY_ISSUE_IDENTIFIER\" >> ../../ran.log; echo '::symphony-tool {\"name\": \"local_issue_set_state\", \"arguments\": {\"state\": \"done\"}}'";

fn write_workflow(dir: &Path, extra: &str) {
    let text = format!(
        "---\ntracker:\n  kind: local\n  provider:\n    path: ./issues\nworkspace:\n  root: ./ws\npolling:\n  interval_ms: 100\nagent:\n  backend: command\n  command: {AGENT:?}\n{extra}---\nWork on {{{{ issue.identifier }}}}\n"
    );
    std::fs::write(dir.join("WORKFLOW.md"), text).unwrap();
}

fn issue(dir: &Path, id: &str) {
    std::fs::create_dir_all(dir.join("issues")).unwrap();
    std::fs::write(
        dir.join(format!("issues/{id}.md")),
        "---\ntitle: t\nstate: todo\n---\n",
    )
    .unwrap();
}

fn ran(dir: &Path) -> Vec<String> {
    std::fs::read_to_string(dir.join("ran.log"))
        .unwrap_or_default()
        .lines()
        .map(str::to_owned)
        .collect()
}

async fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < LIMIT, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn config_error(snapshot: &SnapshotHandle) -> Option<String> {
    snapshot
        .get(Duration::from_secs(5))
        .await
        .ok()
        .and_then(|s| s.config_error)
}

async fn held_then_resumed(registry: ConfigRegistry, bad: &str, says: &str) {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    issue(dir, "A-1");
    write_workflow(dir, "");
    let source = Arc::new(
        WorkflowSource::open(
            &dir.join("WORKFLOW.md"),
            registry,
            Arc::new(ProcessEnvironment),
        )
        .unwrap(),
    );
    let service = Service::new(source, Arc::new(LocalWiring), ServiceOptions::default());
    let snapshot = service.snapshot();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(service.run(async {
        let _ = stopped.await;
    }));
    wait_for("A-1 to run", || ran(dir) == ["A-1"]).await;

    // A bad section arrives: nothing new is dispatched, and the reason is visible.
    write_workflow(dir, bad);
    let start = Instant::now();
    let error = loop {
        if let Some(error) = config_error(&snapshot).await {
            break error;
        }
        assert!(start.elapsed() < LIMIT, "no config error was reported");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(error.contains(says), "{error}");
    // Filed once the refusal stands (before, a poll could still see the good workflow).
    issue(dir, "B-1");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        ran(dir),
        ["A-1"],
        "B-1 was dispatched under a refused workflow"
    );
    assert!(config_error(&snapshot).await.is_some(), "the error stands");

    // Fixed: dispatch resumes and the error clears.
    write_workflow(dir, "");
    wait_for("B-1 to run after the fix", || ran(dir).len() == 2).await;
    assert_eq!(config_error(&snapshot).await, None);
    let _ = stop.send(());
    task.await.unwrap().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_gates_section_on_reload_holds_dispatch_until_it_is_fixed() {
    held_then_resumed(
        support::registry(),
        "gates:\n  checks:\n    - kind: lint\n",
        "invalid_gate_config",
    )
    .await;
}

/// A section a registry lets through with a lax validator is still refused by the service
/// itself when it cannot run it: the orchestrator does not depend on the loader's diligence.
struct Lax(&'static str);

impl ConfigSection for Lax {
    fn key(&self) -> &str {
        self.0
    }
    fn owner(&self) -> &str {
        "anything goes"
    }
    fn schema(&self) -> Value {
        Value::Bool(true)
    }
    fn validate(
        &self,
        _: &Value,
        _: &SectionContext<'_>,
    ) -> Result<(), symphony_workflow::SectionError> {
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_service_refuses_a_section_it_cannot_run_even_if_the_loader_accepted_it() {
    let registry = ConfigRegistry::new()
        .with(Arc::new(symphony_tracker_local::LocalProfile))
        .with_section(Arc::new(Lax("gates")));
    held_then_resumed(
        registry,
        "gates:\n  checks:\n    - kind: secrets\n",
        "needs workspace.repo",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gates_or_hand_off_without_a_repository_are_refused_at_load() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    issue(dir, "A-1");
    for (section, says) in [
        (
            "gates:\n  checks:\n    - kind: secrets\n",
            "gates.checks needs workspace.repo",
        ),
        (
            "handoff:\n  state: review\n",
            "handoff needs workspace.repo",
        ),
    ] {
        write_workflow(dir, section);
        let error = WorkflowSource::open(
            &dir.join("WORKFLOW.md"),
            support::registry(),
            Arc::new(ProcessEnvironment),
        )
        .err()
        .expect("refused");
        assert!(error.to_string().contains(says), "{error}");
        // The service refuses to start on it too, whatever the loader let through.
        let lax = ConfigRegistry::new()
            .with(Arc::new(symphony_tracker_local::LocalProfile))
            .with_section(Arc::new(Lax("gates")))
            .with_section(Arc::new(Lax("handoff")));
        let source = Arc::new(
            WorkflowSource::open(&dir.join("WORKFLOW.md"), lax, Arc::new(ProcessEnvironment))
                .unwrap(),
        );
        let outcome = Service::new(source, Arc::new(LocalWiring), ServiceOptions::default())
            .run(std::future::pending())
            .await;
        assert!(outcome.unwrap_err().to_string().contains(says));
    }
    assert!(ran(dir).is_empty());
}

/// A hand-off with nowhere to propose the change is refused at load, not on the first run: a
/// build whose code hosts serve no issue of this tracker kind, with no `code_host:` section.
#[test]
fn a_hand_off_without_a_code_host_is_refused_at_load() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    issue(dir, "A-1");
    write_workflow(
        dir,
        "workspace:\n  root: ./ws\n  repo: ./repo\nhandoff:\n  state: review\n  needs_human_state: blocked\n",
    );
    let text = std::fs::read_to_string(dir.join("WORKFLOW.md")).unwrap();
    // One `workspace:` key: the extra settings replace the template's.
    let text = text.replacen("workspace:\n  root: ./ws\n", "", 1);
    std::fs::write(dir.join("WORKFLOW.md"), text).unwrap();
    let load = |code_hosts: symphony_code_host::CodeHostRegistry| {
        let mut registry =
            ConfigRegistry::new().with(Arc::new(symphony_tracker_local::LocalProfile));
        for section in symphony_orchestrator::config_sections(
            symphony_gates::GateRegistry::builtin(),
            code_hosts,
        ) {
            registry.register_section(section);
        }
        symphony_workflow::Workflow::load(&dir.join("WORKFLOW.md"), &registry, &ProcessEnvironment)
    };
    let Err(refused) = load(symphony_code_host::CodeHostRegistry::new()) else {
        panic!("a hand-off with no code host was loaded");
    };
    let refused = refused.to_string();
    assert!(refused.contains("handoff needs a code host"), "{refused}");
    assert!(refused.contains("code_host"), "says what to set: {refused}");
    let with_local = symphony_code_host::CodeHostRegistry::new()
        .with(Arc::new(symphony_tracker_local::LocalCodeHostFactory));
    load(with_local).expect("the local tracker's own code host serves it");
}

/// Reads local issues but cannot move them: a tracker without the hand-off capability.
struct ReadOnly(symphony_tracker_local::LocalTracker);

#[async_trait::async_trait]
impl symphony_tracker::Tracker for ReadOnly {
    fn kind(&self) -> &str {
        self.0.kind()
    }
    async fn fetch_issues_by_states(
        &self,
        states: &[String],
    ) -> Result<Vec<symphony_core::Issue>, symphony_tracker::TrackerError> {
        self.0.fetch_issues_by_states(states).await
    }
    async fn fetch_issues_by_ids(
        &self,
        ids: &[String],
    ) -> Result<Vec<symphony_core::Issue>, symphony_tracker::TrackerError> {
        self.0.fetch_issues_by_ids(ids).await
    }
    fn secret_environment_names(&self) -> Vec<String> {
        self.0.secret_environment_names()
    }
}

struct ReadOnlyWiring;

impl symphony_orchestrator::Wiring for ReadOnlyWiring {
    fn tracker(
        &self,
        config: &symphony_workflow::ServiceConfig,
    ) -> Result<Arc<dyn symphony_tracker::Tracker>, symphony_tracker::TrackerError> {
        Ok(Arc::new(ReadOnly(
            symphony_tracker_local::LocalTracker::from_config(&config.tracker)?,
        )))
    }
    fn backend(
        &self,
        config: &symphony_workflow::ServiceConfig,
    ) -> Result<Arc<dyn symphony_agent::AgentBackend>, symphony_agent::BackendBuildError> {
        support::command_backend(config)
    }
    fn code_hosts(&self) -> symphony_code_host::CodeHostRegistry {
        LocalWiring.code_hosts()
    }
}

/// A hand-off, gates that send an issue to a person, or per-issue budgets (a stopped issue goes
/// to a person) need a tracker that can move issues.
/// One that cannot is refused when the service starts, not after an agent's work is done.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hand_off_on_a_tracker_that_cannot_move_issues_is_refused_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    issue(dir, "A-1");
    let origin = support::origin(dir);
    for section in [
        "handoff:\n  state: review\n  needs_human_state: needs human\n",
        "gates:\n  needs_human_state: needs human\n  checks:\n    - kind: secrets\n",
        "budgets:\n  per_issue:\n    turns: 3\n  needs_human_state: needs human\n",
    ] {
        let text = format!(
            "---\ntracker:\n  kind: local\n  provider:\n    path: ./issues\nworkspace:\n  root: ./ws\n  repo: {origin}\npolling:\n  interval_ms: 100\nagent:\n  backend: command\n  command: {AGENT:?}\n{section}---\nWork on it\n",
            origin = origin.display()
        );
        std::fs::write(dir.join("WORKFLOW.md"), text).unwrap();
        let source = Arc::new(
            WorkflowSource::open(
                &dir.join("WORKFLOW.md"),
                support::registry(),
                Arc::new(ProcessEnvironment),
            )
            .expect("the workflow itself is fine"),
        );
        let error = Service::new(source, Arc::new(ReadOnlyWiring), ServiceOptions::default())
            .run(std::future::pending())
            .await
            .expect_err("refused at start");
        assert_eq!(error.category(), "invalid_handoff_config", "{error}");
        assert!(error.to_string().contains("cannot move issues"), "{error}");
    }
    assert!(ran(dir).is_empty());
}
