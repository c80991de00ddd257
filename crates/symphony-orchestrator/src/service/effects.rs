//! The scheduler's effects, performed: tracker reads with a time limit, workers (claimed in
//! the store first), stops with a grace period, timers, workspace removal, log lines.

use std::sync::Arc;
use std::time::Duration;

use symphony_agent::StopSignal;
use symphony_scheduler::{
    CandidateAnswer, Effect, Event, ExitReason, FetchPurpose, LogLevel, Timer,
};
use symphony_store::{wall_clock_ms, ClaimOutcome, RunStart};
use symphony_tracker::{Tracker, TrackerError};
use symphony_workspace::WorkspaceManager;

use super::metered;
use super::shell::{Shell, WorkerHandle};
use super::worker::{run_worker, WorkerContext};
use crate::metrics::ServiceMetrics;

/// How old a read of an issue a retry refresh may share: the continuation delay and a second.
const SHARED_RETRY_READ: Duration =
    Duration::from_millis(symphony_scheduler::CONTINUATION_DELAY_MS + 1_000);

impl Shell {
    /// Performs one effect; `true` when it is the last (shutdown complete).
    pub fn perform(&mut self, effect: Effect) -> bool {
        match effect {
            Effect::FetchByStates {
                purpose: FetchPurpose::Candidates,
                states,
                since,
            } => self.fetch_candidates(states, since),
            // Nothing to clean: no need to ask which issues are terminal.
            Effect::FetchByStates {
                purpose: FetchPurpose::StartupCleanup,
                ..
            } if !WorkspaceManager::from_config(&self.workflow.config).may_hold_workspaces() => {
                let tx = self.tx.clone();
                tokio::spawn(async move {
                    let purpose = FetchPurpose::StartupCleanup;
                    let _ = tx
                        .send(Event::Fetched {
                            purpose,
                            result: Ok(Vec::new()),
                        })
                        .await;
                });
            }
            Effect::FetchByStates {
                purpose, states, ..
            } => self.fetch(purpose, FetchKind::States(states)),
            Effect::FetchByIds { purpose, ids } => self.fetch(purpose, FetchKind::Ids(ids)),
            Effect::SpawnWorker { issue, attempt } => {
                self.metrics.dispatched();
                self.spawn_worker(*issue, attempt)
            }
            Effect::StopWorker { issue_id, .. } => self.stop_worker(&issue_id),
            Effect::RemoveWorkspace {
                issue_id,
                identifier,
            } => self.remove_workspace(issue_id, identifier),
            Effect::Record(decision) => {
                crate::metrics::record_decision(&self.metrics, &decision);
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
            } => log(level, issue_id, identifier, &message),
            Effect::HandToPerson {
                issue,
                state,
                comment,
            } => self.hand_to_person(*issue, state, comment),
            Effect::Notify => self.snapshot.set(self.snapshot_now()),
            Effect::Stopped => return true,
        }
        false
    }

    fn remove_workspace(&self, issue_id: String, identifier: String) {
        let manager = WorkspaceManager::from_config(&self.workflow.config).for_issue(&issue_id);
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

    /// Moves a stopped issue to a person with the scheduler's comment (a budget's stop). A
    /// tracker that refuses leaves the issue where it is: its spent budget keeps it from
    /// running again, and the next stop tries again.
    fn hand_to_person(&self, issue: symphony_core::Issue, state: String, comment: String) {
        let tracker = Arc::clone(&self.tracker);
        let persistence = self.persistence.clone();
        tokio::spawn(async move {
            let tracker: &dyn Tracker = tracker.as_ref();
            let result =
                symphony_tracker::hand_off(tracker, &issue, Some(&state), Some(&comment)).await;
            match &result {
                Ok(()) => tracing::warn!(
                    issue_id = %issue.id,
                    issue_identifier = %issue.identifier,
                    state,
                    "budget exceeded; the issue went to a person"
                ),
                Err(e) => tracing::error!(
                    issue_id = %issue.id,
                    issue_identifier = %issue.identifier,
                    state,
                    "budget exceeded, and the issue could not be moved to a person: {e}"
                ),
            }
            if let Some(persistence) = persistence {
                persistence.audit(
                    "handed_to_human",
                    Some(&issue.identifier),
                    serde_json::json!({
                        "state": state,
                        "reason": "budget exceeded",
                        "error": result.err().map(|e| e.to_string()),
                    }),
                );
            }
        });
    }

    /// The poll's candidate read: incremental when the tracker can answer from `since`.
    fn fetch_candidates(&self, states: Vec<String>, since: Option<String>) {
        let tracker = Arc::clone(&self.tracker);
        let (tx, limit, metrics) = (
            self.tx.clone(),
            self.options.fetch_timeout,
            Arc::clone(&self.metrics),
        );
        let span = self.trace.span_for(&FetchPurpose::Candidates);
        let read = async move {
            let read = tracker.fetch_candidates(&states, since.as_deref());
            let result = within(limit, &metrics, "fetch_candidates", read)
                .await
                .map(|read| CandidateAnswer {
                    issues: read.issues,
                    complete: read.complete,
                    mark: read.mark,
                });
            let _ = tx.send(Event::CandidatesRead { result }).await;
        };
        tokio::spawn(tracing::Instrument::instrument(read, span));
    }

    fn fetch(&self, purpose: FetchPurpose, kind: FetchKind) {
        let tracker = Arc::clone(&self.tracker);
        let (tx, limit, metrics) = (
            self.tx.clone(),
            self.options.fetch_timeout,
            Arc::clone(&self.metrics),
        );
        let span = self.trace.span_for(&purpose);
        let read = async move {
            let result = match &kind {
                FetchKind::States(states) => {
                    let read = tracker.fetch_issues_by_states(states);
                    within(limit, &metrics, "fetch_issues_by_states", read).await
                }
                FetchKind::Ids(ids) => {
                    let read = async {
                        match &purpose {
                            // The tick's refresh never waits for a batch; other reads may.
                            FetchPurpose::Reconcile => tracker.fetch_now(ids).await,
                            // A continuation check a second after the run shares the worker's
                            // own refresh after its last turn (a failure retry comes far later).
                            FetchPurpose::Retry(_) => {
                                tracker.fetch_shared(ids, SHARED_RETRY_READ).await
                            }
                            _ => tracker.fetch_issues_by_ids(ids).await,
                        }
                    };
                    within(limit, &metrics, "fetch_issues_by_ids", read).await
                }
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
            reviewers: Arc::clone(&self.reviewers),
            updates: self.tx.clone(),
            plan: Arc::clone(&self.plan),
            persistence: self.persistence.clone(),
            run_id: None,
            metrics: Arc::clone(&self.metrics),
            run_logs: self.options.run_logs.clone(),
            empty_before: self.empty_attempts.get(&issue.id).copied().unwrap_or(0),
            store: self.store.clone(),
            review: None,
            prior_spend: None,
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
            Timer::HoldLapse => Event::HoldsLapsed,
        };
        let handle = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(delay_ms)).await;
            let _ = tx.send(event).await;
        });
        self.timers.insert(timer, handle);
    }
}

/// A tracker read within `limit`; an error or a timeout (metered as `operation`'s) becomes
/// the message the scheduler records.
async fn within<T>(
    limit: Duration,
    metrics: &ServiceMetrics,
    operation: &'static str,
    read: impl std::future::Future<Output = Result<T, TrackerError>>,
) -> Result<T, String> {
    match tokio::time::timeout(limit, read).await {
        Ok(result) => result.map_err(|e| e.to_string()),
        Err(_) => {
            metered::MeteredTracker::record_timeout(metrics, operation, limit);
            Err(format!(
                "tracker did not answer within {} s",
                limit.as_secs()
            ))
        }
    }
}

/// The scheduler's log line, with the issue's fields (SPEC §13.1).
fn log(level: LogLevel, issue_id: Option<String>, identifier: Option<String>, message: &str) {
    let issue_id = issue_id.unwrap_or_default();
    let identifier = identifier.unwrap_or_default();
    match level {
        LogLevel::Info => tracing::info!(issue_id, issue_identifier = identifier, "{message}"),
        LogLevel::Warn => tracing::warn!(issue_id, issue_identifier = identifier, "{message}"),
        LogLevel::Error => tracing::error!(issue_id, issue_identifier = identifier, "{message}"),
    }
}

enum FetchKind {
    States(Vec<String>),
    Ids(Vec<String>),
}
