//! The service's path to durable state: one task applies everything in the order the
//! scheduler decided it, batching what queued up meanwhile into one transaction, so the
//! scheduler loop never waits for the disk. Only a claim waits, and only the worker that
//! needs it.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::json;
use symphony_process::ProcessIdentity;
use symphony_store::{
    wall_clock_ms, AuditRecord, Change, ClaimOutcome, Recovery, Redactor, RunOutcome, RunStart,
    Store, StoreError,
};
use tokio::sync::{mpsc, oneshot};

use crate::scheduler::{AgentUpdate, Decision, RunEnd};

/// Changes applied in one transaction at most; bounds how long a batch holds the write lock.
const MAX_BATCH: usize = 2_000;

enum Command {
    Claim {
        start: RunStart,
        reply: oneshot::Sender<Result<ClaimOutcome, StoreError>>,
    },
    Decision(Decision),
    Agent {
        issue_id: String,
        update: AgentUpdate,
    },
    Audit(AuditRecord),
    Secrets(Redactor),
    Heartbeat(oneshot::Sender<Result<Recovery, StoreError>>),
    Detach(oneshot::Sender<()>),
}

/// A handle to the persistence task; cheap to clone. The service uses one; an embedder that
/// drives the [`crate::Scheduler`] with its own shell can too.
#[derive(Clone)]
pub struct Persistence {
    commands: mpsc::UnboundedSender<Command>,
}

impl Persistence {
    /// Starts the task that owns the writes to `store` (on the current tokio runtime).
    pub fn spawn(store: Arc<dyn Store>) -> Self {
        let (commands, rx) = mpsc::unbounded_channel();
        tokio::spawn(
            Pipeline {
                store,
                open_runs: HashMap::new(),
                pids: HashMap::new(),
                redactor: Redactor::default(),
                pending: Vec::new(),
            }
            .run(rx),
        );
        Self { commands }
    }

    fn send(&self, command: Command) {
        // The task outlives every sender but the last; a send fails only after shutdown.
        let _ = self.commands.send(command);
    }

    /// Claims the issue and records its run; waits for the answer.
    pub async fn claim(&self, start: RunStart) -> Result<ClaimOutcome, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.send(Command::Claim { start, reply });
        answer.await.unwrap_or_else(|_| {
            Err(StoreError::Database {
                path: "state store".into(),
                message: "the persistence task has stopped".to_owned(),
            })
        })
    }

    /// Records a scheduler decision (an [`crate::Effect::Record`]).
    pub fn decision(&self, decision: Decision) {
        self.send(Command::Decision(decision));
    }

    /// Records an agent update of the issue's current run.
    pub fn agent(&self, issue_id: &str, update: &AgentUpdate) {
        self.send(Command::Agent {
            issue_id: issue_id.to_owned(),
            update: update.clone(),
        });
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
    pub async fn heartbeat(&self) -> Result<Recovery, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.send(Command::Heartbeat(reply));
        answer.await.unwrap_or_else(|_| Ok(Recovery::default()))
    }

    /// Writes what is queued, then leaves the deployment cleanly.
    pub async fn detach(&self) {
        let (reply, answer) = oneshot::channel();
        self.send(Command::Detach(reply));
        let _ = answer.await;
    }
}

struct Pipeline {
    store: Arc<dyn Store>,
    /// Run id of each issue's current run.
    open_runs: HashMap<String, i64>,
    /// Agent pid recorded per run.
    pids: HashMap<i64, u32>,
    redactor: Redactor,
    pending: Vec<Change>,
}

impl Pipeline {
    async fn run(mut self, mut rx: mpsc::UnboundedReceiver<Command>) {
        let mut batch = Vec::new();
        while rx.recv_many(&mut batch, MAX_BATCH).await > 0 {
            for command in batch.drain(..) {
                match command {
                    Command::Decision(decision) => self.decision(decision),
                    Command::Agent { issue_id, update } => self.agent(&issue_id, update),
                    Command::Audit(record) => self.push_audit(record),
                    Command::Secrets(redactor) => self.redactor = redactor,
                    Command::Claim { start, reply } => {
                        self.flush().await;
                        let issue_id = start.issue_id.clone();
                        let outcome = self.store.claim_and_start(start).await;
                        if let Ok(ClaimOutcome::Started { run_id }) = &outcome {
                            self.open_runs.insert(issue_id, *run_id);
                        }
                        let _ = reply.send(outcome);
                    }
                    Command::Heartbeat(reply) => {
                        self.flush().await;
                        let _ = reply.send(self.store.heartbeat(wall_clock_ms()).await);
                    }
                    Command::Detach(reply) => {
                        self.flush().await;
                        if let Err(e) = self.store.detach(wall_clock_ms()).await {
                            tracing::error!(category = e.category(), "state store: {e}");
                        }
                        let _ = reply.send(());
                        return;
                    }
                }
            }
            self.flush().await;
        }
    }

    async fn flush(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        let changes = std::mem::take(&mut self.pending);
        let count = changes.len();
        if let Err(e) = self.store.apply(changes).await {
            // The scheduler goes on from memory; what was committed before stays committed.
            tracing::error!(
                category = e.category(),
                lost_changes = count,
                "state store write failed: {e}"
            );
        }
    }

    fn text(&self, text: Option<String>) -> Option<String> {
        text.map(|t| self.redactor.text(&t))
    }

    /// Queues an audit entry, its detail redacted.
    fn push_audit(&mut self, mut record: AuditRecord) {
        record.detail = self.redactor.json(&record.detail);
        self.pending.push(Change::Audit(record));
    }

    fn audit(&mut self, kind: &str, issue: (&str, &str), detail: serde_json::Value) {
        self.push_audit(AuditRecord {
            at_ms: wall_clock_ms(),
            kind: kind.to_owned(),
            issue_id: Some(issue.0.to_owned()),
            identifier: Some(issue.1.to_owned()),
            detail,
        });
    }

    fn decision(&mut self, decision: Decision) {
        let now = wall_clock_ms();
        match decision {
            Decision::StopRequested {
                issue_id,
                identifier,
                reason,
            } => self.audit("stop", (&issue_id, &identifier), json!({"reason": reason})),
            Decision::RunEnded {
                issue_id,
                identifier,
                outcome,
                error,
                runtime_ms,
            } => {
                let error = self.text(error);
                let run_id = self.open_runs.remove(&issue_id);
                if let Some(run_id) = run_id {
                    self.pids.remove(&run_id);
                    let (stored, error) = match outcome {
                        RunEnd::Succeeded => (RunOutcome::Succeeded, error),
                        RunEnd::Failed => (RunOutcome::Failed, error),
                        RunEnd::Stalled => (RunOutcome::Stalled, error),
                        RunEnd::Interrupted => (RunOutcome::Interrupted, error),
                        RunEnd::Skipped => (RunOutcome::Skipped, error),
                        RunEnd::Stopped(reason) => (
                            RunOutcome::Stopped,
                            Some(format!("stopped: {}", json!(reason).as_str().unwrap_or(""))),
                        ),
                    };
                    self.pending.push(Change::RunEnded {
                        run_id,
                        at_ms: now,
                        outcome: stored,
                        error,
                    });
                }
                self.audit(
                    "run_ended",
                    (&issue_id, &identifier),
                    json!({"run_id": run_id, "outcome": outcome, "runtime_ms": runtime_ms}),
                );
            }
            Decision::RetryScheduled {
                issue_id,
                identifier,
                attempt,
                delay_ms,
                error,
                reason,
            } => {
                let error = self.text(error);
                let due_at_ms = now.saturating_add(delay_ms);
                self.audit(
                    "retry_scheduled",
                    (&issue_id, &identifier),
                    json!({"attempt": attempt, "due_at_ms": due_at_ms, "error": error, "reason": reason}),
                );
                self.pending.push(Change::RetryQueued {
                    issue_id,
                    identifier,
                    attempt,
                    due_at_ms,
                    error,
                });
            }
            Decision::Released {
                issue_id,
                identifier,
                reason,
            } => {
                self.audit(
                    "released",
                    (&issue_id, &identifier),
                    json!({"reason": reason}),
                );
                self.pending.push(Change::Released { issue_id });
            }
            Decision::HeldElsewhere {
                issue_id,
                identifier,
                holder,
                held_for_ms,
            } => self.audit(
                "claim_held_elsewhere",
                (&issue_id, &identifier),
                json!({"holder": holder, "held_for_ms": held_for_ms}),
            ),
            Decision::ConfigReloaded => self.push_audit(AuditRecord {
                at_ms: now,
                kind: "config_reloaded".to_owned(),
                issue_id: None,
                identifier: None,
                detail: json!({}),
            }),
        }
    }

    fn agent(&mut self, issue_id: &str, update: AgentUpdate) {
        let Some(&run_id) = self.open_runs.get(issue_id) else {
            return;
        };
        if let Some(pid) = update.pid {
            if self.pids.get(&run_id) != Some(&pid) {
                self.pids.insert(run_id, pid);
                self.pending.push(Change::RunProcess {
                    run_id,
                    pid,
                    pid_start: ProcessIdentity::of(pid).map(|p| p.start_ticks),
                });
            }
        }
        if let Some((input, output, total)) = update.tokens {
            self.pending.push(Change::Tokens {
                run_id,
                input,
                output,
                total,
            });
        }
        let message = self.text(update.message);
        self.pending.push(Change::Event {
            run_id,
            at_ms: wall_clock_ms(),
            kind: update.event,
            message,
        });
    }
}
