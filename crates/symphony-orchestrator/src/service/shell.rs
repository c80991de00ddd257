//! The shell's state between events and how one event is handled: the scheduler decides, the
//! effects are performed (`effects.rs`), the shell's own bookkeeping is kept here.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use symphony_agent::AgentBackend;
use symphony_scheduler::{Event, ExitReason, Scheduler, Snapshot, Timer};
use symphony_store::Redactor;
use symphony_workflow::{ProcessEnvironment, ReloadOutcome, WorkflowSource};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use super::batched_reads::BatchedReads;
use super::handles::SnapshotHandle;
use super::metered;
use super::options::ServiceOptions;
use super::persist::Persistence;
use super::review_watch::{ReviewSetup, ReviewWatchHandle};
use super::reviewer::ReviewerBackends;
use super::start_error::StartError;
use super::tick_trace::TickTrace;
use super::wiring::Wiring;
use crate::metrics::ServiceMetrics;
use crate::sections::RunPlan;

/// How the shell reaches a running worker.
pub(crate) struct WorkerHandle {
    pub stop: watch::Sender<bool>,
    pub abort: tokio::task::AbortHandle,
}

pub(crate) struct Shell {
    pub source: Arc<WorkflowSource>,
    pub wiring: Arc<dyn Wiring>,
    pub options: ServiceOptions,
    pub snapshot: SnapshotHandle,
    pub started: Instant,
    pub scheduler: Scheduler,
    /// The tracker every part of the service reads and writes through, its reads by id
    /// batched (`fetch_now` for the reads that must not wait).
    pub tracker: Arc<BatchedReads>,
    pub backend: Arc<dyn AgentBackend>,
    /// The reviewers the current workflow's `ai_review` checks name.
    pub reviewers: Arc<ReviewerBackends>,
    pub workflow: Arc<symphony_workflow::Workflow>,
    /// What runs of `workflow` do after the agent's turns.
    pub plan: Arc<RunPlan>,
    /// Why the latest reloaded workflow was refused (dispatch is held while it stands).
    pub config_error: Option<String>,
    /// Consecutive runs per issue that left nothing to hand off (in memory: a restart grants
    /// each issue its attempts again, which keeps the loop bounded).
    pub empty_attempts: HashMap<String, u32>,
    pub persistence: Option<Persistence>,
    /// The state store, for what workers read there.
    pub store: Option<Arc<dyn symphony_store::Store>>,
    pub tx: mpsc::Sender<Event>,
    pub timers: HashMap<Timer, JoinHandle<()>>,
    pub workers: HashMap<String, WorkerHandle>,
    pub metrics: Arc<ServiceMetrics>,
    /// The poll cycle in progress: its span and start.
    pub trace: TickTrace,
    /// The review watch's handle and task (with a state store only).
    pub review_watch: Option<(ReviewWatchHandle, JoinHandle<()>)>,
}

/// Backlog rows a snapshot carries at most.
pub const BACKLOG_ROWS: usize = 200;

impl Shell {
    /// The tick to handle now: the workflow re-read defensively first (SPEC §6.2, §6.3), and
    /// why dispatch is held, if it is.
    pub async fn tick(&mut self) -> Event {
        self.trace.received();
        let source = Arc::clone(&self.source);
        let outcome = tokio::task::spawn_blocking(move || source.refresh()).await;
        if let Ok(ReloadOutcome::Reloaded(latest)) = outcome {
            if let Some(event) = self.apply_workflow(latest) {
                self.handle(event);
            }
        }
        let day_error = self.report_day().await;
        let preflight_error = self
            .source
            .last_error()
            .map(|e| format!("{}: {e}", e.category()))
            .or_else(|| self.config_error.clone())
            .or(day_error)
            .or_else(|| {
                self.store_error()
                    .map(|e| format!("state store cannot write ({e})"))
            });
        Event::Tick { preflight_error }
    }

    /// Tells the scheduler the UTC day and what every run of the state directory used in it
    /// (ADR 0023), on every tick: a new day lifts a daily hold at the first tick after
    /// midnight. A store that cannot answer while a daily budget is set holds dispatch (the
    /// error returned): a day's use that cannot be read is not a day with room.
    async fn report_day(&mut self) -> Option<String> {
        let day = symphony_store::utc_day(symphony_store::wall_clock_ms());
        let usage = match &self.store {
            Some(store) => match store.day_usage(day).await {
                Ok(usage) => usage,
                Err(e) if !self.scheduler.config().budgets.per_day.is_unset() => {
                    return Some(format!(
                        "state store cannot read the day's usage for the daily budget ({}: {e})",
                        e.category()
                    ));
                }
                Err(_) => symphony_store::Usage::default(),
            },
            None => symphony_store::Usage::default(),
        };
        self.handle(Event::DayUsage { day, usage });
        None
    }

    /// After the last worker stopped: timers off, durable state handed over cleanly.
    pub async fn finish(&mut self, heartbeat: Option<JoinHandle<()>>) {
        for (_, timer) in self.timers.drain() {
            timer.abort();
        }
        if let Some(heartbeat) = heartbeat {
            heartbeat.abort();
        }
        if let Some((_, task)) = self.review_watch.take() {
            task.abort();
        }
        if let Some(persistence) = &self.persistence {
            persistence.detach().await;
        }
    }

    /// Why durable state is not being written, if it is not.
    pub fn store_error(&self) -> Option<String> {
        self.persistence.as_ref().and_then(|p| p.health().error())
    }

    /// The scheduler's snapshot with the shell's own health.
    pub fn snapshot_now(&self) -> Snapshot {
        let mut snapshot = self.scheduler.snapshot(self.now_ms());
        snapshot.store_error = self.store_error();
        snapshot
    }

    /// [`Self::snapshot_now`] with the backlog and why each issue waits (the first
    /// [`BACKLOG_ROWS`]): for a caller who asked, not for every state change.
    pub fn snapshot_asked(&self) -> Snapshot {
        let mut snapshot = self.snapshot_now();
        snapshot.backlog = self.scheduler.backlog(BACKLOG_ROWS);
        snapshot
    }

    pub fn now_ms(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// Makes a reloaded workflow current for everything that starts from now on. A workflow
    /// this build cannot run (no adapter for it, a section its owner refuses) changes nothing:
    /// the last good one stays in force and dispatch is held until a good one arrives.
    pub fn apply_workflow(&mut self, latest: Arc<symphony_workflow::Workflow>) -> Option<Event> {
        if Arc::ptr_eq(&latest, &self.workflow) {
            return None;
        }
        let wired = (|| -> Result<_, StartError> {
            let tracker = self.wiring.tracker(&latest.config)?;
            let backend = self.wiring.backend(&latest.config)?;
            let plan = RunPlan::from_workflow(
                &latest,
                &self.wiring.gates(),
                &self.wiring.code_hosts(),
                &ProcessEnvironment,
            )?;
            plan.check_tracker(tracker.as_ref())?;
            plan.check_store(self.store.is_some())?;
            let reviewers =
                ReviewerBackends::build(self.wiring.as_ref(), &latest, plan.gate_checks())?;
            Ok((tracker, backend, plan, reviewers))
        })();
        let (tracker, backend, plan, reviewers) = match wired {
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
        let tracker = BatchedReads::new(
            metered::MeteredTracker::wrap(tracker, Arc::clone(&self.metrics)),
            latest.config.polling.read_batch(),
        );
        symphony_process::hide_from_children(plan.secret_environment_names(tracker.as_ref()));
        if let Some(persistence) = &self.persistence {
            persistence.set_secrets(Redactor::from_env_names(
                &plan.secret_environment_names(tracker.as_ref()),
            ));
        }
        self.tracker = tracker;
        self.backend = backend;
        self.reviewers = Arc::new(reviewers);
        self.plan = Arc::new(plan);
        self.config_error = None;
        self.workflow = Arc::clone(&latest);
        let scheduling = crate::scheduling::scheduler_config(&latest.config);
        self.review_setup(scheduling.clone());
        Some(Event::ConfigReloaded(scheduling))
    }

    /// Gives the review watch the current workflow's setup.
    pub fn review_setup(&self, scheduling: symphony_scheduler::SchedulerConfig) {
        if let Some((handle, _)) = &self.review_watch {
            handle.set(ReviewSetup {
                workflow: Arc::clone(&self.workflow),
                plan: Arc::clone(&self.plan),
                tracker: Arc::clone(&self.tracker),
                scheduling,
            });
        }
    }

    /// Handles one event and performs its effects; `true` once shutdown is complete.
    pub fn handle(&mut self, event: Event) -> bool {
        self.note(&event);
        let (is_tick, ends_cycle) = TickTrace::classify(&event);
        let now = self.now_ms();
        let effects = self.scheduler.handle(event, now);
        self.trace.handled(
            is_tick,
            &effects,
            self.scheduler.running().len(),
            self.scheduler.retries().len(),
        );
        let mut done = false;
        for effect in effects {
            done |= self.perform(effect);
        }
        self.trace.performed(ends_cycle, &self.metrics);
        done
    }

    /// The shell's own bookkeeping of an event before the scheduler sees it: worker handles,
    /// empty-run counts, durable agent events.
    fn note(&mut self, event: &Event) {
        match event {
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
    }
}
