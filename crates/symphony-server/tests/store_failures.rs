//! A state store that cannot write, through the real service and its HTTP surface: new
//! dispatch stops, `/readyz` answers 503 with the reason, the dashboard shows a banner,
//! `/metrics` counts the failed writes, and when the store writes again everything decided
//! meanwhile is in it. Three ways a store stops writing: a database another process holds
//! locked (a real SQLite lock), a full disk and a read-only file (injected errors of the
//! shapes SQLite gives).

mod client;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use client::request;
use symphony_agent::{AgentBackend, CommandBackend};
use symphony_orchestrator::{Service, ServiceOptions, Wiring};
use symphony_server::{Server, ServerConfig, ServiceHandles};
use symphony_store::{
    AuditEntry, AuditVerdict, ClaimOutcome, ClaimRecord, EventRecord, Instance, Recovery,
    RetryRecord, ReviewWatch, RunFilter, RunRecord, RunStart, SqliteStore, Store, StoreError,
    StoreOptions, Totals,
};
use symphony_tracker::Tracker;
use symphony_tracker_local::{LocalProfile, LocalTracker};
use symphony_workflow::{ConfigRegistry, ProcessEnvironment, ServiceConfig, WorkflowSource};

const LIMIT: Duration = Duration::from_secs(90);

struct LocalWiring;

impl Wiring for LocalWiring {
    fn tracker(
        &self,
        config: &ServiceConfig,
    ) -> Result<Arc<dyn Tracker>, symphony_tracker::TrackerError> {
        Ok(Arc::new(LocalTracker::from_config(&config.tracker)?))
    }
    fn backend(
        &self,
        config: &ServiceConfig,
    ) -> Result<Arc<dyn AgentBackend>, symphony_agent::BackendBuildError> {
        Ok(Arc::new(CommandBackend::new(
            config.agent.command.clone().ok_or_else(|| {
                symphony_agent::BackendBuildError::Invalid("agent.command is required".into())
            })?,
        )))
    }

    fn code_hosts(&self) -> symphony_code_host::CodeHostRegistry {
        symphony_code_host::CodeHostRegistry::new().with(std::sync::Arc::new(
            symphony_tracker_local::LocalCodeHostFactory,
        ))
    }
}

/// A real SQLite store whose writes can be made to fail with a given error.
struct FaultyStore {
    inner: SqliteStore,
    fault: Mutex<Option<fn() -> StoreError>>,
}

impl FaultyStore {
    fn check(&self) -> Result<(), StoreError> {
        match &*self.fault.lock().unwrap() {
            Some(error) => Err(error()),
            None => Ok(()),
        }
    }
}

#[async_trait]
impl Store for FaultyStore {
    fn instance(&self) -> &Instance {
        self.inner.instance()
    }
    fn lease_ms(&self) -> u64 {
        self.inner.lease_ms()
    }
    async fn recover(&self, now_ms: u64) -> Result<Recovery, StoreError> {
        self.inner.recover(now_ms).await
    }
    async fn heartbeat(&self, now_ms: u64) -> Result<Recovery, StoreError> {
        self.check()?;
        self.inner.heartbeat(now_ms).await
    }
    async fn claim_and_start(&self, start: RunStart) -> Result<ClaimOutcome, StoreError> {
        self.check()?;
        self.inner.claim_and_start(start).await
    }
    async fn apply(&self, changes: Vec<symphony_store::Change>) -> Result<(), StoreError> {
        self.check()?;
        self.inner.apply(changes).await
    }
    async fn detach(&self, now_ms: u64) -> Result<(), StoreError> {
        self.inner.detach(now_ms).await
    }
    async fn runs(&self, filter: RunFilter) -> Result<Vec<RunRecord>, StoreError> {
        self.inner.runs(filter).await
    }
    async fn run_events(&self, run_id: i64) -> Result<Vec<EventRecord>, StoreError> {
        self.inner.run_events(run_id).await
    }
    async fn retry_queue(&self) -> Result<Vec<RetryRecord>, StoreError> {
        self.inner.retry_queue().await
    }
    async fn claims(&self) -> Result<Vec<ClaimRecord>, StoreError> {
        self.inner.claims().await
    }
    async fn review_watches(&self) -> Result<Vec<ReviewWatch>, StoreError> {
        self.check()?;
        self.inner.review_watches().await
    }
    async fn review_watch(&self, issue_id: &str) -> Result<Option<ReviewWatch>, StoreError> {
        self.check()?;
        self.inner.review_watch(issue_id).await
    }
    async fn totals(&self) -> Result<Totals, StoreError> {
        self.inner.totals().await
    }
    async fn issue_spend(
        &self,
        issue_id: &str,
        except: Option<i64>,
    ) -> Result<symphony_store::Spend, StoreError> {
        self.check()?;
        self.inner.issue_spend(issue_id, except).await
    }
    async fn day_usage(&self, day: u64) -> Result<symphony_store::Usage, StoreError> {
        self.check()?;
        self.inner.day_usage(day).await
    }
    async fn audit_tail(&self, limit: usize) -> Result<Vec<AuditEntry>, StoreError> {
        self.inner.audit_tail(limit).await
    }
    async fn audit_verify(&self) -> Result<AuditVerdict, StoreError> {
        self.inner.audit_verify().await
    }
}

/// How the store is made to stop writing, and to write again.
enum Outage {
    /// Another connection holds an exclusive lock on the database file.
    Locked,
    /// Writes fail with this error.
    Injected(fn() -> StoreError),
}

const AGENT: &str = "echo \"$SYMPHONY_ISSUE_IDENTIFIER\" >> ../../ran.log; echo '::symphony-tool {\"name\": \"local_issue_set_state\", \"arguments\": {\"state\": \"done\"}}'";

fn issue(dir: &Path, id: &str) {
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

async fn wait_for<F: std::future::Future<Output = bool>>(what: &str, mut done: impl FnMut() -> F) {
    let start = Instant::now();
    while !done().await {
        assert!(start.elapsed() < LIMIT, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn metric(text: &str, name: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("{name} missing from /metrics:\n{text}"))
}

async fn survives(outage: Outage, says: &str) {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    std::fs::create_dir_all(dir.join("issues")).unwrap();
    issue(dir, "A-1");
    std::fs::write(
        dir.join("WORKFLOW.md"),
        format!("---\ntracker:\n  kind: local\n  provider:\n    path: ./issues\nworkspace:\n  root: ./ws\npolling:\n  interval_ms: 100\nagent:\n  backend: command\n  command: {AGENT:?}\n---\nWork\n"),
    )
    .unwrap();
    let state = dir.join(".symphony");
    let sqlite = SqliteStore::open(
        &state,
        StoreOptions {
            lease: Duration::from_millis(1_500),
            busy_timeout: Duration::from_millis(200),
            ..StoreOptions::default()
        },
    )
    .unwrap();
    let store = Arc::new(FaultyStore {
        inner: sqlite,
        fault: Mutex::new(None),
    });
    let source = Arc::new(
        WorkflowSource::open(
            &dir.join("WORKFLOW.md"),
            ConfigRegistry::new().with(Arc::new(LocalProfile)),
            Arc::new(ProcessEnvironment),
        )
        .unwrap(),
    );
    let service = Service::new(source, Arc::new(LocalWiring), ServiceOptions::default())
        .with_store(Arc::clone(&store) as Arc<dyn Store>);
    let handles = ServiceHandles {
        snapshot: service.snapshot(),
        control: service.control(),
        metrics: service.metrics(),
        store: Some(Arc::clone(&store) as Arc<dyn Store>),
        run_logs: None,
    };
    let config = ServerConfig::from_section(None, Some(0), |_| None)
        .unwrap()
        .unwrap();
    let server = Server::bind(&config, Arc::new(handles), Default::default())
        .await
        .unwrap();
    let addr: SocketAddr = server.local_addr();
    tokio::spawn(server.serve(std::future::pending()));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let service = tokio::spawn(service.run(async {
        let _ = stopped.await;
    }));
    let ready = |addr| async move { request(addr, "GET", "/readyz", None).await.status };

    wait_for("A-1 to run", || async { ran(dir) == ["A-1"] }).await;
    assert_eq!(ready(addr).await, 200);

    // The store stops writing.
    let lock = match &outage {
        Outage::Locked => {
            let conn = rusqlite::Connection::open(state.join("state.db")).unwrap();
            conn.execute_batch("BEGIN EXCLUSIVE").unwrap();
            Some(conn)
        }
        Outage::Injected(error) => {
            *store.fault.lock().unwrap() = Some(*error);
            None
        }
    };
    issue(dir, "B-1");
    wait_for("/readyz to answer 503", || async {
        ready(addr).await == 503
    })
    .await;
    let readyz = request(addr, "GET", "/readyz", None).await;
    assert!(readyz.body.contains(says), "{}", readyz.body);
    let state_json = request(addr, "GET", "/api/v1/state", None).await;
    let state_value: serde_json::Value = serde_json::from_str(&state_json.body).unwrap();
    assert!(
        state_value["health"]["store_error"]
            .as_str()
            .is_some_and(|e| e.contains(says)),
        "{state_value}"
    );
    let page = request(addr, "GET", "/", None).await;
    assert!(page.body.contains("id=\"store-error\""), "no banner");
    // A failed lease renewal can be what turned /readyz first: the write failure that follows
    // is counted moments later.
    wait_for("a failed write to be counted", || async {
        let metrics = request(addr, "GET", "/metrics", None).await.body;
        metric(&metrics, "symphony_store_write_failures_total") >= 1.0
    })
    .await;
    let metrics = request(addr, "GET", "/metrics", None).await.body;
    assert_eq!(metric(&metrics, "symphony_store_healthy"), 0.0);
    // Several ticks later nothing new has started.
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    assert_eq!(
        ran(dir),
        ["A-1"],
        "B-1 was dispatched while the store could not write"
    );

    // It writes again: ready, B-1 runs, and what was decided meanwhile was written.
    drop(lock);
    *store.fault.lock().unwrap() = None;
    wait_for("/readyz to answer 200 again", || async {
        ready(addr).await == 200
    })
    .await;
    wait_for("B-1 to run", || async {
        ran(dir).contains(&"B-1".to_owned())
    })
    .await;
    let _ = stop.send(());
    service.await.unwrap().unwrap();
    let audit = store.audit_tail(500).await.unwrap();
    let during: Vec<&AuditEntry> = audit
        .iter()
        .filter(|e| e.identifier.as_deref() == Some("B-1") && e.kind == "retry_scheduled")
        .collect();
    assert!(
        during
            .iter()
            .any(|e| e.detail.to_string().contains("state store")),
        "the retry decided during the outage was lost: {audit:#?}"
    );
    assert!(matches!(
        store.audit_verify().await.unwrap(),
        AuditVerdict::Intact { .. }
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_locked_database_holds_dispatch_until_it_writes_again() {
    survives(Outage::Locked, "store_locked").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_holds_dispatch_until_it_writes_again() {
    survives(
        Outage::Injected(|| StoreError::Full {
            path: "state.db".into(),
            message: "database or disk is full".into(),
        }),
        "store_full",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_only_database_holds_dispatch_until_it_writes_again() {
    survives(
        Outage::Injected(|| StoreError::Database {
            path: "state.db".into(),
            message: "attempt to write a readonly database".into(),
        }),
        "readonly database",
    )
    .await;
}
