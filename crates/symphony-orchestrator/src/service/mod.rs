//! The async shell around the pure scheduler: it performs effects (tracker reads, workers,
//! timers, workspace removal) and feeds their results back as events, one at a time, so the
//! scheduler stays the only authority over scheduling state.

mod agent_queue;
pub(crate) mod gates;
mod handles;
mod handoff;
mod metered;
mod persist;
mod recovery;
pub(crate) mod run_log;
mod standing;
mod store_health;
mod tools;
mod worker;

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use symphony_agent::{AgentBackend, StopSignal};
use symphony_store::{wall_clock_ms, ClaimOutcome, Redactor, RunStart, Store};
use symphony_tracker::Tracker;
use symphony_workflow::{ReloadOutcome, ServiceConfig, WorkflowSource};
use symphony_workspace::WorkspaceManager;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use crate::config::SchedulerConfig;
use crate::metrics::ServiceMetrics;
use crate::scheduler::{Effect, Event, ExitReason, FetchPurpose, LogLevel, Scheduler, Timer};
use crate::sections::RunPlan;
use crate::snapshot::Snapshot;
pub use handles::{ControlHandle, RefreshQueued, SnapshotError, SnapshotHandle};
pub use persist::{Persistence, StoreHealth};
pub use worker::TrackerTools;
use worker::{run_worker, WorkerContext};

/// Events the scheduler's queue holds before senders wait (workers' agent updates, tracker
/// reads, timers, exits). The shell never waits on it: it only receives.
const SCHEDULER_QUEUE: usize = 1024;
/// Snapshot requests waiting for the service; past them, callers are told it is busy.
const SNAPSHOT_REQUESTS: usize = 64;

/// Builds the tracker and agent backend a configuration names. The binary implements it with
/// the adapters it ships; tests and embedders bring their own.
pub trait Wiring: Send + Sync + 'static {
    /// The tracker for `config.tracker`.
    fn tracker(&self, config: &ServiceConfig) -> Result<Arc<dyn Tracker>, String>;
    /// The agent backend for `config.agent` / `config.codex`.
    fn backend(&self, config: &ServiceConfig) -> Result<Arc<dyn AgentBackend>, String>;
    /// The gate kinds `gates.checks` may name: the built-in ones unless a program adds its own.
    fn gates(&self) -> symphony_gates::GateRegistry {
        symphony_gates::GateRegistry::builtin()
    }
}

/// Limits of the shell itself.
#[derive(Debug, Clone)]
pub struct ServiceOptions {
    /// A tracker read that takes longer fails (the scheduler retries next tick).
    pub fetch_timeout: Duration,
    /// How long a worker asked to stop has before its task is aborted (its processes killed).
    pub stop_grace: Duration,
    /// Where each run's full agent log is written (`<dir>/<run id>.log`; runs have ids only
    /// with a state store). `None`: no run logs.
    pub run_logs: Option<std::path::PathBuf>,
}

impl Default for ServiceOptions {
    fn default() -> Self {
        Self {
            fetch_timeout: Duration::from_secs(30),
            stop_grace: Duration::from_secs(15),
            run_logs: None,
        }
    }
}

struct WorkerHandle {
    stop: watch::Sender<bool>,
    abort: tokio::task::AbortHandle,
}

/// The orchestrator service.
pub struct Service {
    source: Arc<WorkflowSource>,
    wiring: Arc<dyn Wiring>,
    options: ServiceOptions,
    store: Option<Arc<dyn Store>>,
    snapshot: SnapshotHandle,
    snapshot_requests: mpsc::Receiver<tokio::sync::oneshot::Sender<Snapshot>>,
    control: ControlHandle,
    refresh_requests: mpsc::Receiver<()>,
    hint_requests: mpsc::Receiver<()>,
    metrics: Arc<ServiceMetrics>,
}

struct Shell {
    source: Arc<WorkflowSource>,
    wiring: Arc<dyn Wiring>,
    options: ServiceOptions,
    snapshot: SnapshotHandle,
    started: Instant,
    scheduler: Scheduler,
    tracker: Arc<dyn Tracker>,
    backend: Arc<dyn AgentBackend>,
    workflow: Arc<symphony_workflow::Workflow>,
    /// What runs of `workflow` do after the agent's turns.
    plan: Arc<RunPlan>,
    /// Why the latest reloaded workflow was refused (dispatch is held while it stands).
    config_error: Option<String>,
    /// Consecutive runs per issue that left nothing to hand off (in memory: a restart grants
    /// each issue its attempts again, which keeps the loop bounded).
    empty_attempts: HashMap<String, u32>,
    persistence: Option<Persistence>,
    tx: mpsc::Sender<Event>,
    timers: HashMap<Timer, JoinHandle<()>>,
    workers: HashMap<String, WorkerHandle>,
    metrics: Arc<ServiceMetrics>,
    /// When the Tick event being handled came off the queue.
    tick_received: Option<Instant>,
    /// When the current poll cycle began (a tick that started tracker reads).
    tick_started: Option<Instant>,
    /// The trace span of that cycle; its tracker reads are its children.
    tick_span: Option<tracing::Span>,
}

impl Service {
    /// A service over a loaded workflow.
    pub fn new(
        source: Arc<WorkflowSource>,
        wiring: Arc<dyn Wiring>,
        options: ServiceOptions,
    ) -> Self {
        let (requests, snapshot_requests) = mpsc::channel(SNAPSHOT_REQUESTS);
        let (refresh, refresh_requests) = mpsc::channel(1);
        let (hinted, hint_requests) = mpsc::channel(1);
        Self {
            source,
            wiring,
            options,
            store: None,
            snapshot: SnapshotHandle {
                latest: Arc::default(),
                requests,
            },
            snapshot_requests,
            control: ControlHandle {
                refresh,
                pending: Arc::default(),
                hinted,
                pending_hints: Arc::default(),
            },
            refresh_requests,
            hint_requests,
            metrics: Arc::default(),
        }
    }

    /// Keeps runs, the retry queue, claims and the audit log in `store`, so a restart resumes
    /// where this process stopped and several instances can share one backlog.
    pub fn with_store(mut self, store: Arc<dyn Store>) -> Self {
        self.store = Some(store);
        self
    }

    /// The handle status surfaces read.
    pub fn snapshot(&self) -> SnapshotHandle {
        self.snapshot.clone()
    }

    /// The service's counters and histograms, for `/metrics`.
    pub fn metrics(&self) -> Arc<ServiceMetrics> {
        Arc::clone(&self.metrics)
    }

    /// The handle control surfaces trigger refreshes with.
    pub fn control(&self) -> ControlHandle {
        self.control.clone()
    }

    /// Runs until `shutdown` resolves and every worker has stopped. Fails only at start-up
    /// (no tracker or agent backend for the configuration, or durable state that cannot be
    /// read).
    pub async fn run(self, shutdown: impl Future<Output = ()>) -> Result<(), String> {
        let Self {
            source,
            wiring,
            options,
            store,
            snapshot,
            mut snapshot_requests,
            control,
            mut refresh_requests,
            mut hint_requests,
            metrics,
        } = self;
        let this = Parts {
            source,
            wiring,
            options,
            store,
            snapshot,
            control,
            metrics,
        };
        this.run(
            &mut snapshot_requests,
            &mut refresh_requests,
            &mut hint_requests,
            shutdown,
        )
        .await
    }
}

/// The service's parts once its request queues are taken out.
struct Parts {
    source: Arc<WorkflowSource>,
    wiring: Arc<dyn Wiring>,
    options: ServiceOptions,
    store: Option<Arc<dyn Store>>,
    snapshot: SnapshotHandle,
    control: ControlHandle,
    metrics: Arc<ServiceMetrics>,
}

impl Parts {
    async fn run(
        self,
        snapshot_requests: &mut mpsc::Receiver<tokio::sync::oneshot::Sender<Snapshot>>,
        refresh_requests: &mut mpsc::Receiver<()>,
        hint_requests: &mut mpsc::Receiver<()>,
        shutdown: impl Future<Output = ()>,
    ) -> Result<(), String> {
        let refresh_pending = Arc::clone(&self.control.pending);
        let pending_hints = Arc::clone(&self.control.pending_hints);
        let workflow = self.source.current();
        let plan = Arc::new(
            RunPlan::from_workflow(&workflow, &self.wiring.gates()).map_err(|e| e.to_string())?,
        );
        let tracker = metered::MeteredTracker::wrap(
            self.wiring.tracker(&workflow.config)?,
            Arc::clone(&self.metrics),
        );
        // No child (hook, agent, gate, git) ever sees the tracker's secrets.
        symphony_process::hide_from_children(tracker.secret_environment_names());
        let backend = self.wiring.backend(&workflow.config)?;
        // Bounded: a flood of agent events waits (the agent's own channel then drops its
        // output lines, counted) instead of growing the scheduler's queue without end.
        let (tx, mut rx) = mpsc::channel(SCHEDULER_QUEUE);
        let persistence = self
            .store
            .clone()
            .map(|store| Persistence::spawn(store, Arc::clone(&self.metrics)));
        if let Some(dir) = self.options.run_logs.clone() {
            let _ =
                tokio::task::spawn_blocking(move || run_log::prune(&dir, run_log::KEPT_RUN_LOGS))
                    .await;
        }
        let mut recovered = None;
        if let (Some(store), Some(persistence)) = (&self.store, &persistence) {
            persistence.set_secrets(Redactor::from_env_names(
                &tracker.secret_environment_names(),
            ));
            recovered = Some(recovery::at_start(store.as_ref(), persistence).await?);
        }
        let mut shell = Shell {
            scheduler: Scheduler::new(SchedulerConfig::from_service(&workflow.config)),
            source: self.source,
            wiring: self.wiring,
            options: self.options,
            snapshot: self.snapshot,
            started: Instant::now(),
            tracker,
            backend,
            workflow,
            plan,
            config_error: None,
            empty_attempts: HashMap::new(),
            persistence,
            tx,
            timers: HashMap::new(),
            workers: HashMap::new(),
            metrics: self.metrics,
            tick_received: None,
            tick_started: None,
            tick_span: None,
        };
        let mut reloads = shell.source.subscribe();
        tokio::pin!(shutdown);
        let mut stopping = false;
        let heartbeat = match (&self.store, &shell.persistence) {
            (Some(store), Some(persistence)) => Some(recovery::spawn_heartbeat(
                store.lease_ms(),
                persistence.clone(),
                shell.tx.clone(),
            )),
            _ => None,
        };
        if let Some(retries) = recovered {
            shell.handle(Event::Restore(retries));
        }
        if shell.handle(Event::Start) {
            shell.finish(heartbeat).await;
            return Ok(());
        }
        loop {
            let event = tokio::select! {
                Some(reply) = snapshot_requests.recv() => {
                    let _ = reply.send(shell.snapshot_now());
                    continue;
                }
                Some(()) = refresh_requests.recv() => {
                    // A tick now (it re-arms the poll timer); one already in flight absorbs it.
                    refresh_pending.store(false, std::sync::atomic::Ordering::Release);
                    tracing::info!("refresh requested: polling now");
                    shell.tick().await
                }
                Some(()) = hint_requests.recv() => {
                    let issue_ids: Vec<String> = std::mem::take(
                        &mut *pending_hints.lock().unwrap_or_else(|p| p.into_inner()),
                    )
                    .into_iter()
                    .collect();
                    if issue_ids.is_empty() { continue; }
                    tracing::info!(issues = issue_ids.len(), "tracker notification: refreshing the named issues");
                    Event::Hint { issue_ids }
                }
                () = &mut shutdown, if !stopping => {
                    stopping = true;
                    tracing::info!("shutting down: no new work; stopping running agents");
                    Event::Stop
                }
                changed = reloads.changed() => {
                    if changed.is_err() { continue; }
                    let latest = reloads.borrow_and_update().clone();
                    match shell.apply_workflow(latest) { Some(event) => event, None => continue }
                }
                received = rx.recv() => match received {
                    Some(Event::Tick { .. }) => shell.tick().await,
                    Some(event) => event,
                    None => continue,
                },
            };
            if shell.handle(event) {
                break;
            }
        }
        shell.finish(heartbeat).await;
        Ok(())
    }
}

impl Shell {
    /// The tick to handle now: the workflow re-read defensively first (SPEC §6.2, §6.3), and
    /// why dispatch is held, if it is.
    async fn tick(&mut self) -> Event {
        self.tick_received = Some(Instant::now());
        let source = Arc::clone(&self.source);
        let outcome = tokio::task::spawn_blocking(move || source.refresh()).await;
        if let Ok(ReloadOutcome::Reloaded(latest)) = outcome {
            if let Some(event) = self.apply_workflow(latest) {
                self.handle(event);
            }
        }
        let preflight_error = self
            .source
            .last_error()
            .map(|e| format!("{}: {e}", e.category()))
            .or_else(|| self.config_error.clone())
            .or_else(|| {
                self.store_error()
                    .map(|e| format!("state store cannot write ({e})"))
            });
        Event::Tick { preflight_error }
    }

    /// After the last worker stopped: timers off, durable state handed over cleanly.
    async fn finish(&mut self, heartbeat: Option<JoinHandle<()>>) {
        for (_, timer) in self.timers.drain() {
            timer.abort();
        }
        if let Some(heartbeat) = heartbeat {
            heartbeat.abort();
        }
        if let Some(persistence) = &self.persistence {
            persistence.detach().await;
        }
    }

    /// Why durable state is not being written, if it is not.
    fn store_error(&self) -> Option<String> {
        self.persistence.as_ref().and_then(|p| p.health().error())
    }

    /// The scheduler's snapshot with the shell's own health.
    fn snapshot_now(&self) -> Snapshot {
        let mut snapshot = self.scheduler.snapshot(self.now_ms());
        snapshot.store_error = self.store_error();
        snapshot
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// Makes a reloaded workflow current for everything that starts from now on. A workflow
    /// this build cannot run (no adapter for it, a section its owner refuses) changes nothing:
    /// the last good one stays in force and dispatch is held until a good one arrives.
    fn apply_workflow(&mut self, latest: Arc<symphony_workflow::Workflow>) -> Option<Event> {
        if Arc::ptr_eq(&latest, &self.workflow) {
            return None;
        }
        let wired = self
            .wiring
            .tracker(&latest.config)
            .and_then(|tracker| Ok((tracker, self.wiring.backend(&latest.config)?)))
            .and_then(|(tracker, backend)| {
                let plan = RunPlan::from_workflow(&latest, &self.wiring.gates())
                    .map_err(|e| e.to_string())?;
                Ok((tracker, backend, plan))
            });
        let (tracker, backend, plan) = match wired {
            Ok(wired) => wired,
            Err(e) => {
                tracing::error!(
                    "reloaded workflow refused ({e}); the last good configuration stays in force \
                     and no new work is dispatched until the workflow is fixed"
                );
                self.config_error = Some(format!("reloaded workflow refused: {e}"));
                return None;
            }
        };
        let tracker = metered::MeteredTracker::wrap(tracker, Arc::clone(&self.metrics));
        symphony_process::hide_from_children(tracker.secret_environment_names());
        if let Some(persistence) = &self.persistence {
            persistence.set_secrets(Redactor::from_env_names(
                &tracker.secret_environment_names(),
            ));
        }
        self.tracker = tracker;
        self.backend = backend;
        self.plan = Arc::new(plan);
        self.config_error = None;
        self.workflow = Arc::clone(&latest);
        Some(Event::ConfigReloaded(SchedulerConfig::from_service(
            &latest.config,
        )))
    }

    /// Handles one event and performs its effects; `true` once shutdown is complete.
    fn handle(&mut self, event: Event) -> bool {
        match &event {
            Event::WorkerExited { issue_id, reason } => {
                self.workers.remove(issue_id);
                if *reason == ExitReason::NoChange {
                    *self.empty_attempts.entry(issue_id.clone()).or_default() += 1;
                } else {
                    self.empty_attempts.remove(issue_id);
                }
            }
            Event::ClaimDenied { issue_id, .. } => {
                self.workers.remove(issue_id);
            }
            Event::AgentUpdate { issue_id, update } if !update.activity => {
                if let Some(persistence) = &self.persistence {
                    persistence.agent(issue_id, update);
                }
            }
            _ => {}
        }
        let (is_tick, ends_tick) = match &event {
            Event::Tick { .. } => (true, false),
            Event::Fetched {
                purpose: FetchPurpose::Candidates,
                ..
            } => (false, true),
            _ => (false, false),
        };
        let now = self.now_ms();
        let effects = self.scheduler.handle(event, now);
        if is_tick {
            let received = self.tick_received.take();
            let starts_cycle = effects.iter().any(|e| {
                matches!(
                    e,
                    Effect::FetchByIds {
                        purpose: FetchPurpose::Reconcile,
                        ..
                    } | Effect::FetchByStates {
                        purpose: FetchPurpose::Candidates,
                        ..
                    }
                )
            });
            if starts_cycle {
                self.tick_started = Some(received.unwrap_or_else(Instant::now));
                self.tick_span = Some(tracing::debug_span!(
                    "tick",
                    running = self.scheduler.running().len(),
                    retrying = self.scheduler.retries().len(),
                ));
            }
        }
        let mut done = false;
        for effect in effects {
            match effect {
                Effect::FetchByStates { purpose, states } => {
                    self.fetch(purpose, FetchKind::States(states))
                }
                Effect::FetchByIds { purpose, ids } => self.fetch(purpose, FetchKind::Ids(ids)),
                Effect::SpawnWorker { issue, attempt } => {
                    self.metrics.dispatched();
                    self.spawn_worker(*issue, attempt)
                }
                Effect::StopWorker { issue_id, .. } => self.stop_worker(&issue_id),
                Effect::RemoveWorkspace {
                    issue_id,
                    identifier,
                } => {
                    let manager =
                        WorkspaceManager::from_config(&self.workflow.config).for_issue(&issue_id);
                    let persistence = self.persistence.clone();
                    tokio::spawn(async move {
                        let result = manager.remove(&identifier).await;
                        if let Err(e) = &result {
                            tracing::warn!(issue_id, issue_identifier = %identifier, "workspace removal failed: {e}");
                        }
                        if let Some(persistence) = persistence {
                            persistence.audit(
                                "workspace_removed",
                                Some(&identifier),
                                serde_json::json!({"error": result.err().map(|e| e.to_string())}),
                            );
                        }
                    });
                }
                Effect::Record(decision) => {
                    self.metrics.decision(&decision);
                    if let Some(persistence) = &self.persistence {
                        persistence.decision(decision);
                    }
                }
                Effect::ArmTimer { timer, delay_ms } => self.arm(timer, delay_ms),
                Effect::CancelTimer { timer } => {
                    if let Some(handle) = self.timers.remove(&timer) {
                        handle.abort();
                    }
                }
                Effect::Log {
                    level,
                    issue_id,
                    identifier,
                    message,
                } => {
                    let issue_id = issue_id.unwrap_or_default();
                    let identifier = identifier.unwrap_or_default();
                    match level {
                        LogLevel::Info => {
                            tracing::info!(issue_id, issue_identifier = identifier, "{message}")
                        }
                        LogLevel::Warn => {
                            tracing::warn!(issue_id, issue_identifier = identifier, "{message}")
                        }
                        LogLevel::Error => {
                            tracing::error!(issue_id, issue_identifier = identifier, "{message}")
                        }
                    }
                }
                Effect::Notify => self.snapshot.set(self.snapshot_now()),
                Effect::Stopped => done = true,
            }
        }
        if ends_tick {
            if let Some(started) = self.tick_started.take() {
                self.metrics.tick(started.elapsed());
            }
            // Dropping the span ends it.
            self.tick_span = None;
        }
        done
    }

    fn fetch(&self, purpose: FetchPurpose, kind: FetchKind) {
        let tracker = Arc::clone(&self.tracker);
        let tx = self.tx.clone();
        let limit = self.options.fetch_timeout;
        let metrics = Arc::clone(&self.metrics);
        let span = match purpose {
            FetchPurpose::Reconcile | FetchPurpose::Candidates => {
                self.tick_span.clone().unwrap_or_else(tracing::Span::none)
            }
            _ => tracing::Span::none(),
        };
        let read = async move {
            let read = async {
                match &kind {
                    FetchKind::States(states) => tracker.fetch_issues_by_states(states).await,
                    FetchKind::Ids(ids) => tracker.fetch_issues_by_ids(ids).await,
                }
            };
            let result = match tokio::time::timeout(limit, read).await {
                Ok(Ok(issues)) => Ok(issues),
                Ok(Err(e)) => Err(e.to_string()),
                Err(_) => Err({
                    let operation = match &kind {
                        FetchKind::States(_) => "fetch_issues_by_states",
                        FetchKind::Ids(_) => "fetch_issues_by_ids",
                    };
                    metered::MeteredTracker::record_timeout(&metrics, operation, limit);
                    format!("tracker did not answer within {} s", limit.as_secs())
                }),
            };
            let _ = tx.send(Event::Fetched { purpose, result }).await;
        };
        tokio::spawn(tracing::Instrument::instrument(read, span));
    }

    fn spawn_worker(&mut self, issue: symphony_core::Issue, attempt: Option<u32>) {
        let (stop, signal) = StopSignal::new();
        let ctx = WorkerContext {
            workflow: Arc::clone(&self.workflow),
            scheduling: self.scheduler.config().clone(),
            tracker: Arc::clone(&self.tracker),
            backend: Arc::clone(&self.backend),
            updates: self.tx.clone(),
            plan: Arc::clone(&self.plan),
            persistence: self.persistence.clone(),
            run_id: None,
            metrics: Arc::clone(&self.metrics),
            run_logs: self.options.run_logs.clone(),
            empty_before: self.empty_attempts.get(&issue.id).copied().unwrap_or(0),
        };
        let issue_id = issue.id.clone();
        let persistence = self.persistence.clone();
        let span = tracing::debug_span!(
            "run",
            issue_id = %issue.id,
            issue_identifier = %issue.identifier,
            attempt = attempt.unwrap_or(0),
            run_id = tracing::field::Empty,
        );
        let task = tokio::spawn(tracing::Instrument::instrument(
            async move {
                let mut ctx = ctx;
                if let Some(persistence) = persistence {
                    let workspace = WorkspaceManager::from_config(&ctx.workflow.config)
                        .path_for(&issue.identifier)
                        .ok()
                        .map(|p| p.display().to_string());
                    let start = RunStart {
                        issue_id: issue.id.clone(),
                        identifier: issue.identifier.clone(),
                        attempt,
                        workspace,
                        at_ms: wall_clock_ms(),
                    };
                    match persistence.claim(start).await {
                        Ok(ClaimOutcome::Started { run_id }) => {
                            tracing::Span::current().record("run_id", run_id);
                            ctx.run_id = Some(run_id);
                        }
                        Ok(ClaimOutcome::Held {
                            owner,
                            expires_at_ms,
                        }) => {
                            return Err((owner, expires_at_ms.saturating_sub(wall_clock_ms())));
                        }
                        Err(e) => {
                            return Ok(ExitReason::Failed(format!(
                                "state store error [{}]: {e}",
                                e.category()
                            )))
                        }
                    }
                }
                Ok(run_worker(ctx, issue, attempt, signal).await)
            },
            span,
        ));
        let abort = task.abort_handle();
        let tx = self.tx.clone();
        let id = issue_id.clone();
        // Reports the exit whether the worker ended, failed, panicked or was aborted.
        tokio::spawn(async move {
            let event = match task.await {
                Ok(Ok(reason)) => Event::WorkerExited {
                    issue_id: id,
                    reason,
                },
                Ok(Err((holder, held_for_ms))) => Event::ClaimDenied {
                    issue_id: id,
                    holder,
                    held_for_ms,
                },
                Err(e) => Event::WorkerExited {
                    issue_id: id,
                    reason: if e.is_cancelled() {
                        ExitReason::Failed("worker aborted after the stop grace".to_owned())
                    } else {
                        ExitReason::Failed(format!("worker panicked: {e}"))
                    },
                },
            };
            let _ = tx.send(event).await;
        });
        self.workers.insert(issue_id, WorkerHandle { stop, abort });
    }

    fn stop_worker(&mut self, issue_id: &str) {
        let Some(handle) = self.workers.remove(issue_id) else {
            return;
        };
        let _ = handle.stop.send(true);
        let grace = self.options.stop_grace;
        tokio::spawn(async move {
            tokio::time::sleep(grace).await;
            // Dropping the worker's future kills its agent's process group.
            handle.abort.abort();
        });
    }

    fn arm(&mut self, timer: Timer, delay_ms: u64) {
        if let Some(previous) = self.timers.remove(&timer) {
            previous.abort();
        }
        let tx = self.tx.clone();
        let event = match &timer {
            Timer::Tick => Event::Tick {
                preflight_error: None,
            },
            Timer::Retry(issue_id) => Event::RetryDue {
                issue_id: issue_id.clone(),
            },
        };
        let handle = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(delay_ms)).await;
            let _ = tx.send(event).await;
        });
        self.timers.insert(timer, handle);
    }
}

enum FetchKind {
    States(Vec<String>),
    Ids(Vec<String>),
}
