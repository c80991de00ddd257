//! What the server needs from the orchestrator.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use symphony_orchestrator::{
    ControlHandle, RefreshQueued, ServiceMetrics, Snapshot, SnapshotError, SnapshotHandle,
};
use symphony_store::Store;

/// How long a request waits for the orchestrator's snapshot.
const SNAPSHOT_TIMEOUT: Duration = Duration::from_secs(2);

/// What the server needs from the orchestrator; the service's handles in production, a fixed
/// snapshot in tests of the response shapes.
#[async_trait]
pub trait Orchestrator: Send + Sync {
    /// The runtime snapshot now.
    async fn snapshot(&self) -> Result<Snapshot, SnapshotError>;

    /// Queues an immediate poll and reconciliation.
    fn request_refresh(&self) -> Result<RefreshQueued, SnapshotError>;

    /// The service's own metrics (dispatches, retries, durations, gates, tracker, store).
    fn metrics(&self) -> Arc<ServiceMetrics>;

    /// Queues a look at just these issues (a webhook named them); an orchestrator that cannot
    /// target issues polls everything instead.
    fn refresh_issues(&self, issue_ids: Vec<String>) -> Result<RefreshQueued, SnapshotError> {
        let _ = issue_ids;
        self.request_refresh()
    }

    /// Wakes the review watch for the pull requests numbered `pull_numbers` (every watched
    /// one when empty): a webhook said a review, comments, checks or state moved. An
    /// orchestrator without a review watch has nothing to wake.
    fn wake_reviews(&self, pull_numbers: Vec<u64>) {
        let _ = pull_numbers;
    }

    /// The durable record (run history, agent events, audit log), when the service keeps one.
    fn store(&self) -> Option<Arc<dyn Store>> {
        None
    }

    /// The folder of per-run agent logs, when the service writes them.
    fn run_logs(&self) -> Option<std::path::PathBuf> {
        None
    }
}

/// The running service's handles.
pub struct ServiceHandles {
    /// Snapshot access.
    pub snapshot: SnapshotHandle,
    /// Refresh trigger.
    pub control: ControlHandle,
    /// Counters and histograms.
    pub metrics: Arc<ServiceMetrics>,
    /// The state store the service writes, for history.
    pub store: Option<Arc<dyn Store>>,
    /// The folder of per-run agent logs.
    pub run_logs: Option<std::path::PathBuf>,
}

#[async_trait]
impl Orchestrator for ServiceHandles {
    async fn snapshot(&self) -> Result<Snapshot, SnapshotError> {
        self.snapshot.get(SNAPSHOT_TIMEOUT).await
    }

    fn request_refresh(&self) -> Result<RefreshQueued, SnapshotError> {
        self.control.request_refresh()
    }

    fn metrics(&self) -> Arc<ServiceMetrics> {
        Arc::clone(&self.metrics)
    }

    fn refresh_issues(&self, issue_ids: Vec<String>) -> Result<RefreshQueued, SnapshotError> {
        self.control.refresh_issues(issue_ids)
    }

    fn wake_reviews(&self, pull_numbers: Vec<u64>) {
        self.control.wake_reviews(pull_numbers);
    }

    fn store(&self) -> Option<Arc<dyn Store>> {
        self.store.clone()
    }

    fn run_logs(&self) -> Option<std::path::PathBuf> {
        self.run_logs.clone()
    }
}
