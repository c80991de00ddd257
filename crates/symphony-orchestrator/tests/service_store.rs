//! The service with durable state, in process: secrets never reach the audit log or the
//! event history, and a graceful stop leaves the retry queue for the next start.

mod support;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde_json::Value;
use support::{command_backend, until};
use symphony_agent::AgentBackend;
use symphony_core::Issue;
use symphony_orchestrator::{Service, ServiceOptions, Wiring};
use symphony_store::{RunFilter, RunOutcome, SqliteStore, Store, StoreOptions};
use symphony_tracker::{ToolContext, ToolResult, ToolSpec, Tracker, TrackerError};
use symphony_tracker_local::LocalTracker;
use symphony_workflow::{ProcessEnvironment, ServiceConfig, WorkflowSource};

const SECRET_VAR: &str = "SYMPHONY_STORE_TEST_TOKEN";
const SECRET: &str = "tok_9f8e7d6c5b4a-very-secret";

/// The local tracker, declaring a credential in the environment as GitHub's adapter does.
struct SecretiveTracker(LocalTracker);

#[async_trait]
impl Tracker for SecretiveTracker {
    fn kind(&self) -> &str {
        self.0.kind()
    }
    async fn fetch_issues_by_states(&self, states: &[String]) -> Result<Vec<Issue>, TrackerError> {
        self.0.fetch_issues_by_states(states).await
    }
    async fn fetch_issues_by_ids(&self, ids: &[String]) -> Result<Vec<Issue>, TrackerError> {
        self.0.fetch_issues_by_ids(ids).await
    }
    fn agent_tool_specs(&self) -> Vec<ToolSpec> {
        self.0.agent_tool_specs()
    }
    fn issue_hand_off(&self) -> Option<&dyn symphony_tracker::IssueHandOff> {
        self.0.issue_hand_off()
    }
    async fn execute_agent_tool(
        &self,
        name: &str,
        arguments: Value,
        context: &ToolContext,
    ) -> ToolResult {
        self.0.execute_agent_tool(name, arguments, context).await
    }
    fn secret_environment_names(&self) -> Vec<String> {
        vec![SECRET_VAR.to_owned()]
    }
}

struct SecretiveWiring;

impl Wiring for SecretiveWiring {
    fn tracker(
        &self,
        config: &ServiceConfig,
    ) -> Result<Arc<dyn Tracker>, symphony_tracker::TrackerError> {
        let local = LocalTracker::from_config(&config.tracker)?;
        Ok(Arc::new(SecretiveTracker(local)))
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

fn project(dir: &Path, command: &str) -> Arc<WorkflowSource> {
    std::fs::create_dir(dir.join("issues")).unwrap();
    std::fs::write(
        dir.join("issues/S-1.md"),
        "---\ntitle: Leaky\nstate: todo\n---\n",
    )
    .unwrap();
    let workflow = format!(
        "---\ntracker:\n  kind: local\n  provider:\n    path: ./issues\nworkspace:\n  root: ./ws\npolling:\n  interval_ms: 100\nagent:\n  backend: command\n  command: {command:?}\n---\nGo\n"
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_never_reach_the_audit_log_or_the_event_history() {
    std::env::set_var(SECRET_VAR, SECRET);
    let dir = tempfile::tempdir().unwrap();
    // The agent cannot read the secret (it is stripped from its environment), so it leaks the
    // value the hard way: printed and in its failure, as a confused agent might echo a token.
    let command = format!("echo 'using token {SECRET}'; echo 'bad token {SECRET}' >&2; exit 3");
    let source = project(dir.path(), &command);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let service = Service::new(source, Arc::new(SecretiveWiring), ServiceOptions::default())
        .with_store(Arc::new(store(dir.path())));
    let task = tokio::spawn(service.run(async {
        let _ = stopped.await;
    }));
    let reader = store(dir.path());
    until(Duration::from_secs(60), || {
        std::fs::read_dir(dir.path().join("ws")).is_ok_and(|mut d| d.next().is_some())
    })
    .await;
    for _ in 0..600 {
        let queued = reader.retry_queue().await.unwrap();
        if queued.iter().any(|r| r.error.is_some()) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let _ = stop.send(());
    task.await.unwrap().unwrap();

    let queue = reader.retry_queue().await.unwrap();
    assert_eq!(queue.len(), 1, "the stop kept the queued retry: {queue:?}");
    assert_eq!(
        (queue[0].identifier.as_str(), queue[0].owner.as_deref()),
        ("S-1", None),
        "unowned, for whichever instance starts next"
    );
    assert!(reader
        .claims()
        .await
        .unwrap()
        .iter()
        .all(|c| c.owner.is_none()));
    let runs = reader.runs(RunFilter::default()).await.unwrap();
    assert_eq!(runs[0].outcome, Some(RunOutcome::Failed));
    let mut everything = String::new();
    for run in &runs {
        everything.push_str(&format!("{run:?}\n"));
        for event in reader.run_events(run.id).await.unwrap() {
            everything.push_str(&format!("{event:?}\n"));
        }
    }
    for entry in reader.audit_tail(10_000).await.unwrap() {
        everything.push_str(&format!("{entry:?}\n"));
    }
    for retry in reader.retry_queue().await.unwrap() {
        everything.push_str(&format!("{retry:?}\n"));
    }
    assert!(
        everything.contains("[redacted]"),
        "the leak was recorded, redacted:\n{everything}"
    );
    assert!(
        !everything.contains(SECRET),
        "a secret was stored:\n{everything}"
    );
    // The raw file too: nothing unredacted in any table or page.
    drop(reader);
    let bytes = std::fs::read(dir.path().join(".symphony/state.db")).unwrap();
    let wal = std::fs::read(dir.path().join(".symphony/state.db-wal")).unwrap_or_default();
    for file in [bytes, wal] {
        assert!(
            !file.windows(SECRET.len()).any(|w| w == SECRET.as_bytes()),
            "the secret is in the database file"
        );
    }
}
