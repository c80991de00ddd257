//! The async shell around the pure scheduler: it performs effects (tracker reads, workers,
//! timers, workspace removal) and feeds their results back as events, one at a time, so the
//! scheduler stays the only authority over scheduling state.

mod after_turns;
mod agent_events;
mod agent_queue;
mod batched_reads;
mod checks;
mod effects;
mod event_loop;
pub(crate) mod gates;
mod handles;
mod handoff;
mod handoff_comment;
mod ledger;
mod metered;
mod options;
mod persist;
mod planning;
mod recent_reads;
mod recovery;
mod remarks;
mod review_actions;
mod review_catch_up;
mod review_handoff;
mod review_round;
mod review_setup;
mod review_watch;
mod reviewer;
pub(crate) mod run_log;
mod shell;
mod standing;
mod start_error;
mod store_health;
mod tick_trace;
mod token_tally;
mod tools;
mod tracker_tools;
mod wiring;
mod worker;
mod worker_context;

use std::future::Future;
use std::sync::Arc;

use symphony_scheduler::Snapshot;
use symphony_store::Store;
use symphony_workflow::WorkflowSource;
use tokio::sync::mpsc;

use crate::metrics::ServiceMetrics;
pub use handles::{ControlHandle, RefreshQueued, SnapshotError, SnapshotHandle};
pub use options::ServiceOptions;
pub use persist::{Persistence, StoreHealth};
pub use reviewer::ReviewerBackends;
pub use start_error::StartError;
pub use tracker_tools::TrackerTools;
pub use wiring::Wiring;

/// Snapshot requests waiting for the service; past them, callers are told it is busy.
const SNAPSHOT_REQUESTS: usize = 64;

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
                review_wake: Arc::default(),
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
    pub async fn run(self, shutdown: impl Future<Output = ()>) -> Result<(), StartError> {
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
        let this = event_loop::Parts {
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
