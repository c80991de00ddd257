//! The service's life: start-up (durable state recovered, the first workflow wired), then one
//! event at a time from the scheduler's queue, status requests, refresh requests, tracker
//! notifications, reloads and shutdown, until every worker has stopped.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

use symphony_scheduler::{Event, Scheduler, Snapshot};
use symphony_store::{Redactor, Store};
use symphony_workflow::{ProcessEnvironment, WorkflowSource};
use tokio::sync::mpsc;

use super::batched_reads::BatchedReads;
use super::handles::{ControlHandle, SnapshotHandle};
use super::metered;
use super::options::ServiceOptions;
use super::persist::Persistence;
use super::review_watch::ReviewWatcher;
use super::reviewer::ReviewerBackends;
use super::shell::Shell;
use super::start_error::StartError;
use super::tick_trace::TickTrace;
use super::wiring::Wiring;
use super::{recovery, run_log};
use crate::metrics::ServiceMetrics;
use crate::sections::RunPlan;

/// Events the scheduler's queue holds before senders wait (workers' agent updates, tracker
/// reads, timers, exits). The shell never waits on it: it only receives.
const SCHEDULER_QUEUE: usize = 1024;
/// The service's parts once its request queues are taken out.
pub(crate) struct Parts {
    pub source: Arc<WorkflowSource>,
    pub wiring: Arc<dyn Wiring>,
    pub options: ServiceOptions,
    pub store: Option<Arc<dyn Store>>,
    pub snapshot: SnapshotHandle,
    pub control: ControlHandle,
    pub metrics: Arc<ServiceMetrics>,
}

impl Parts {
    pub async fn run(
        self,
        snapshot_requests: &mut mpsc::Receiver<tokio::sync::oneshot::Sender<Snapshot>>,
        refresh_requests: &mut mpsc::Receiver<()>,
        hint_requests: &mut mpsc::Receiver<()>,
        shutdown: impl Future<Output = ()>,
    ) -> Result<(), StartError> {
        let refresh_pending = Arc::clone(&self.control.pending);
        let pending_hints = Arc::clone(&self.control.pending_hints);
        let workflow = self.source.current();
        let plan = Arc::new(RunPlan::from_workflow(
            &workflow,
            &self.wiring.gates(),
            &self.wiring.code_hosts(),
            &ProcessEnvironment,
        )?);
        let tracker = BatchedReads::new(
            metered::MeteredTracker::wrap(
                self.wiring.tracker(&workflow.config)?,
                Arc::clone(&self.metrics),
            ),
            workflow.config.polling.read_batch(),
        );
        plan.check_tracker(tracker.as_ref())?;
        plan.check_store(self.store.is_some())?;
        // No child (hook, agent, gate, git) ever sees the tracker's or the code host's secrets.
        symphony_process::hide_from_children(plan.secret_environment_names(tracker.as_ref()));
        let backend = self.wiring.backend(&workflow.config)?;
        let reviewers = Arc::new(ReviewerBackends::build(
            self.wiring.as_ref(),
            &workflow,
            plan.gate_checks(),
        )?);
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
                &plan.secret_environment_names(tracker.as_ref()),
            ));
            recovered = Some(recovery::at_start(store.as_ref(), persistence).await?);
        }
        let mut shell = Shell {
            scheduler: Scheduler::new(crate::scheduling::scheduler_config(&workflow.config)),
            source: self.source,
            wiring: self.wiring,
            options: self.options,
            snapshot: self.snapshot,
            started: Instant::now(),
            tracker,
            backend,
            reviewers,
            workflow,
            plan,
            config_error: None,
            empty_attempts: HashMap::new(),
            persistence,
            store: self.store.clone(),
            tx,
            timers: HashMap::new(),
            workers: HashMap::new(),
            metrics: self.metrics,
            trace: TickTrace::default(),
            review_watch: None,
        };
        if let (Some(store), Some(persistence)) = (&self.store, &shell.persistence) {
            let (watcher, handle) =
                ReviewWatcher::new(Arc::clone(store), persistence.clone(), self.control.clone());
            shell.review_watch = Some((handle, tokio::spawn(watcher.run())));
            shell.review_setup(shell.scheduler.config().clone());
        }
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
                    let _ = reply.send(shell.snapshot_asked());
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
