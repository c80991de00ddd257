//! The service's path to durable state: one task applies everything in the order the
//! scheduler decided it, batching what queued up meanwhile into one transaction, so the
//! scheduler loop never waits for the disk. Only a claim waits, and only the worker that
//! needs it.
//!
//! A write that fails is not dropped: the batch stays queued, in order, and is retried with
//! backoff while [`StoreHealth`] says why the store cannot write (the service holds dispatch,
//! `/readyz` answers 503). Claims and lease renewals wait behind it and fail while it stands,
//! so nothing new starts on state that is not recorded.

use std::sync::Arc;
use std::time::Duration;

use symphony_store::{
    wall_clock_ms, AuditRecord, Change, ClaimOutcome, Recovery, Redactor, RunStart, Store,
    StoreError,
};
use tokio::sync::{mpsc, oneshot};

use super::agent_queue::{AgentQueue, AgentQueueState};
use super::ledger::Ledger;
pub use super::store_health::StoreHealth;
use crate::metrics::ServiceMetrics;
use symphony_scheduler::{AgentUpdate, Decision};

/// Changes applied in one transaction at most; bounds how long a batch holds the write lock.
const MAX_BATCH: usize = 2_000;
/// First and longest wait between retries of a failed write.
const RETRY_FIRST: Duration = Duration::from_millis(100);
const RETRY_MAX: Duration = Duration::from_secs(5);
/// Agent events kept queued while the store cannot write; beyond it the oldest events (never
/// decisions, run ends or audit entries) are dropped and counted.
const MAX_QUEUED_EVENTS: usize = 50_000;
/// How long a shutdown keeps retrying a failing store before it gives up on the queue.
const DETACH_PATIENCE: Duration = Duration::from_secs(5);

fn task_stopped() -> StoreError {
    StoreError::Database {
        path: "state store".into(),
        message: "the persistence task has stopped".to_owned(),
    }
}

enum Command {
    Claim {
        start: RunStart,
        reply: oneshot::Sender<Result<ClaimOutcome, StoreError>>,
    },
    Decision(Decision),
    Audit(AuditRecord),
    Apply {
        changes: Vec<Change>,
        reply: oneshot::Sender<Result<(), StoreError>>,
    },
    Secrets(Redactor),
    Heartbeat(oneshot::Sender<Result<Recovery, StoreError>>),
    Detach(oneshot::Sender<()>),
}

/// A handle to the persistence task; cheap to clone. The service uses one; an embedder that
/// drives the [`crate::Scheduler`] with its own shell can too.
///
/// Decisions, claims and audit entries go through an unbounded queue on purpose: none may be
/// lost, the scheduler cannot wait, and their number is bounded by the scheduler's own work
/// (a few per dispatch, exit and retry), which stops growing when a failing store holds
/// dispatch. Agent events, which an agent can produce without end, go through the bounded
/// [`AgentQueue`].
#[derive(Clone)]
pub struct Persistence {
    commands: mpsc::UnboundedSender<Command>,
    agents: Arc<AgentQueue>,
    health: Arc<StoreHealth>,
}

impl Persistence {
    /// Starts the task that owns the writes to `store` (on the current tokio runtime);
    /// `metrics` counts its failed writes.
    pub fn spawn(store: Arc<dyn Store>, metrics: Arc<ServiceMetrics>) -> Self {
        let (commands, rx) = mpsc::unbounded_channel();
        let health = Arc::new(StoreHealth::default());
        let agents = Arc::new(AgentQueue::default());
        let task = tokio::spawn(
            Pipeline {
                agents: Arc::clone(&agents),
                store,
                ledger: Ledger::default(),
                health: Arc::clone(&health),
                metrics,
                dropped_events: 0,
            }
            .run(rx),
        );
        // However the task ends (a panic included), the service hears it is gone.
        let watched = Arc::clone(&health);
        tokio::spawn(async move {
            if let Err(e) = task.await {
                tracing::error!("the persistence task failed: {e}; nothing more is recorded");
            }
            watched.set_stopped();
        });
        Self {
            commands,
            agents,
            health,
        }
    }

    /// Whether durable state is being written.
    pub fn health(&self) -> &StoreHealth {
        &self.health
    }

    fn send(&self, command: Command) {
        // The task outlives every sender but the last; a send fails only once it is gone,
        // which the health already says.
        if self.commands.send(command).is_err() {
            self.health.set_stopped();
        }
    }

    /// Sends the command `make` builds around a reply channel and waits for the answer. A task
    /// gone before it answers fails the request and marks the health stopped there and then:
    /// the watcher that also does so may not have run yet, and no caller may see a failure
    /// the health denies.
    async fn ask<T>(
        &self,
        make: impl FnOnce(oneshot::Sender<Result<T, StoreError>>) -> Command,
    ) -> Result<T, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.send(make(reply));
        answer.await.unwrap_or_else(|_| {
            self.health.set_stopped();
            Err(task_stopped())
        })
    }

    /// Claims the issue and records its run; waits for the answer. Fails while earlier
    /// changes cannot be written.
    pub async fn claim(&self, start: RunStart) -> Result<ClaimOutcome, StoreError> {
        self.ask(|reply| Command::Claim { start, reply }).await
    }

    /// Records a scheduler decision (an [`crate::Effect::Record`]).
    pub fn decision(&self, decision: Decision) {
        self.send(Command::Decision(decision));
    }

    /// Records an agent update of the issue's current run.
    pub fn agent(&self, issue_id: &str, update: &AgentUpdate) {
        self.agents.push(issue_id, update.clone());
    }

    /// Records `changes` after everything queued before them and waits until they are
    /// written: for a step that must be durable before the next one is taken (a review
    /// round's feedback before the issue moves). A failing store fails the call, and the
    /// changes stay queued and are retried like every other write.
    pub async fn apply_now(&self, changes: Vec<Change>) -> Result<(), StoreError> {
        self.ask(|reply| Command::Apply { changes, reply }).await
    }

    /// Appends a decision the shell made itself (workspace removed, orphan stopped).
    pub fn audit(&self, kind: &str, identifier: Option<&str>, detail: serde_json::Value) {
        self.send(Command::Audit(AuditRecord {
            at_ms: wall_clock_ms(),
            kind: kind.to_owned(),
            issue_id: None,
            identifier: identifier.map(str::to_owned),
            detail,
        }));
    }

    /// Secret values to keep out of everything written from now on.
    pub fn set_secrets(&self, redactor: Redactor) {
        self.send(Command::Secrets(redactor));
    }

    /// Renews leases and takes over work of instances that are gone, after what is queued.
    /// Fails when the queue cannot be written or the task is gone: a renewal nobody made is
    /// never reported as made.
    pub async fn heartbeat(&self) -> Result<Recovery, StoreError> {
        self.ask(Command::Heartbeat).await
    }

    /// Writes what is queued, then leaves the deployment cleanly.
    pub async fn detach(&self) {
        let (reply, answer) = oneshot::channel();
        self.send(Command::Detach(reply));
        let _ = answer.await;
    }
}

struct Pipeline {
    agents: Arc<AgentQueue>,
    store: Arc<dyn Store>,
    /// What the decisions and events become in the store, not yet written.
    ledger: Ledger,
    health: Arc<StoreHealth>,
    metrics: Arc<ServiceMetrics>,
    /// Agent events dropped while the store could not write (the queue is bounded).
    dropped_events: u64,
}

impl Pipeline {
    async fn run(mut self, mut rx: mpsc::UnboundedReceiver<Command>) {
        let mut batch = Vec::new();
        // After a failed write: when to try again, and how long the wait after that is.
        let mut retry_at: Option<tokio::time::Instant> = None;
        let mut backoff = RETRY_FIRST;
        loop {
            let retry = async {
                match retry_at {
                    Some(at) => tokio::time::sleep_until(at).await,
                    None => std::future::pending().await,
                }
            };
            let received = tokio::select! {
                received = rx.recv_many(&mut batch, MAX_BATCH) => received,
                () = self.agents.ready.notified() => usize::MAX,
                () = retry => usize::MAX,
            };
            // Agent events first: they were queued before whatever command woke the task.
            self.drain_agents();
            if received == 0 {
                // Every sender is gone without a detach: write what can be written.
                let _ = self.flush().await;
                return;
            }
            for command in batch.drain(..) {
                match command {
                    Command::Decision(decision) => self.ledger.decision(decision),
                    Command::Audit(record) => self.ledger.push_audit(record),
                    Command::Secrets(redactor) => self.ledger.redactor = redactor,
                    Command::Apply { changes, reply } => {
                        self.ledger.pending.extend(changes);
                        let _ = reply.send(self.flush().await);
                    }
                    Command::Claim { start, reply } => {
                        // Nothing is claimed ahead of changes that could not be written.
                        if let Err(e) = self.flush().await {
                            let _ = reply.send(Err(e));
                            continue;
                        }
                        let issue_id = start.issue_id.clone();
                        let outcome = self.store.claim_and_start(start).await;
                        if let Ok(ClaimOutcome::Started { run_id }) = &outcome {
                            self.ledger.open_runs.insert(issue_id, *run_id);
                        }
                        let _ = reply.send(outcome);
                    }
                    Command::Heartbeat(reply) => {
                        let outcome = match self.flush().await {
                            Ok(()) => self.store.heartbeat(wall_clock_ms()).await,
                            Err(e) => Err(e),
                        };
                        // Claims this instance cannot renew may lapse: take no new ones.
                        self.metrics.store_lease(outcome.is_ok());
                        self.health.set_lease_error(
                            outcome
                                .as_ref()
                                .err()
                                .map(|e| format!("lease renewal failed: {}: {e}", e.category())),
                        );
                        let _ = reply.send(outcome);
                    }
                    Command::Detach(reply) => {
                        self.detach().await;
                        let _ = reply.send(());
                        return;
                    }
                }
            }
            // A failing store is retried on the backoff clock, not on every arriving event.
            if retry_at.is_some_and(|at| tokio::time::Instant::now() < at) {
                continue;
            }
            match self.flush().await {
                Ok(()) => {
                    retry_at = None;
                    backoff = RETRY_FIRST;
                }
                Err(_) => {
                    retry_at = Some(tokio::time::Instant::now() + backoff);
                    backoff = (backoff * 2).min(RETRY_MAX);
                }
            }
        }
    }

    /// Takes the queued agent events, noting the gap where some were dropped.
    fn drain_agents(&mut self) {
        let AgentQueueState { events, dropped } = self.agents.take();
        for (issue_id, count) in dropped {
            self.ledger.agent(
                &issue_id,
                AgentUpdate {
                    event: "events_dropped".to_owned(),
                    message: Some(format!(
                        "{count} agent event(s) dropped: the state store fell behind"
                    )),
                    ..AgentUpdate::default()
                },
            );
        }
        for (issue_id, update) in events {
            self.ledger.agent(&issue_id, update);
        }
    }

    /// Writes what is queued; on failure everything stays queued, in order, for the retry.
    async fn flush(&mut self) -> Result<(), StoreError> {
        if self.ledger.pending.is_empty() {
            return Ok(());
        }
        if self.health.writes_failing() {
            self.bound_queue();
        }
        let changes: Vec<Change> = self.ledger.pending.iter().cloned().collect();
        let count = changes.len();
        match self.store.apply(changes).await {
            Ok(()) => {
                self.ledger.pending.clear();
                if self.health.writes_failing() {
                    tracing::info!(
                        written = count,
                        "state store writes again; queued changes written"
                    );
                }
                self.health.set_write_error(None);
                self.metrics.store_write(true, 0);
                Ok(())
            }
            Err(e) => {
                let first = !self.health.writes_failing();
                let message = format!("{}: {e}", e.category());
                if first {
                    tracing::error!(
                        category = e.category(),
                        queued_changes = count,
                        "state store write failed; changes stay queued and are retried, and no \
                         new work is dispatched until they are written: {e}"
                    );
                }
                self.health.set_write_error(Some(message));
                self.metrics.store_write(false, count);
                Err(e)
            }
        }
    }

    /// Keeps the queue of a store that cannot write from growing without bound: the oldest
    /// agent events go first (they are detail; the run's outcome and the audit log are not).
    fn bound_queue(&mut self) {
        let events = self
            .ledger
            .pending
            .iter()
            .filter(|c| matches!(c, Change::Event { .. }))
            .count();
        let mut excess = events.saturating_sub(MAX_QUEUED_EVENTS);
        if excess == 0 {
            return;
        }
        self.dropped_events += excess as u64;
        self.ledger.pending.retain(|c| {
            if excess > 0 && matches!(c, Change::Event { .. }) {
                excess -= 1;
                false
            } else {
                true
            }
        });
        tracing::warn!(
            dropped_events = self.dropped_events,
            "state store still cannot write: oldest queued agent events dropped"
        );
    }

    /// Writes what is queued (retrying a failing store for a while), then leaves the
    /// deployment cleanly.
    async fn detach(&mut self) {
        self.drain_agents();
        let deadline = tokio::time::Instant::now() + DETACH_PATIENCE;
        let mut backoff = RETRY_FIRST;
        while let Err(e) = self.flush().await {
            if tokio::time::Instant::now() + backoff > deadline {
                tracing::error!(
                    category = e.category(),
                    unwritten_changes = self.ledger.pending.len(),
                    "state store still cannot write at shutdown; these changes are lost: {e}"
                );
                break;
            }
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(RETRY_MAX);
        }
        if let Err(e) = self.store.detach(wall_clock_ms()).await {
            tracing::error!(category = e.category(), "state store: {e}");
        }
    }
}
