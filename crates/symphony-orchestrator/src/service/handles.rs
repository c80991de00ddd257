//! The handles status and control surfaces hold: a live snapshot view and the refresh
//! triggers, each over a bounded queue to the service.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::mpsc;

use symphony_scheduler::Snapshot;

/// Why a snapshot could not be had (SPEC §13.3 error modes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SnapshotError {
    /// The service is not running (not started yet, or stopped).
    Unavailable,
    /// The service did not answer in time (busy or stuck).
    Timeout,
}

impl std::fmt::Display for SnapshotError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Unavailable => f.write_str("unavailable: the orchestrator is not running"),
            Self::Timeout => f.write_str("timeout: the orchestrator did not answer in time"),
        }
    }
}

impl std::error::Error for SnapshotError {}

/// A live view of the scheduler for status surfaces (SPEC §13.3).
#[derive(Clone)]
pub struct SnapshotHandle {
    pub(super) latest: Arc<Mutex<Option<Snapshot>>>,
    pub(super) requests: mpsc::Sender<tokio::sync::oneshot::Sender<Snapshot>>,
}

impl SnapshotHandle {
    /// The snapshot as of the last state change, without asking the service (may be stale).
    pub fn latest(&self) -> Option<Snapshot> {
        self.latest
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// A snapshot taken by the service now, within `timeout`.
    pub async fn get(&self, timeout: Duration) -> Result<Snapshot, SnapshotError> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        // A full queue is a busy service: the caller hears so now rather than piling up.
        self.requests.try_send(reply).map_err(|e| match e {
            mpsc::error::TrySendError::Full(_) => SnapshotError::Timeout,
            mpsc::error::TrySendError::Closed(_) => SnapshotError::Unavailable,
        })?;
        match tokio::time::timeout(timeout, answer).await {
            Ok(Ok(snapshot)) => Ok(snapshot),
            Ok(Err(_)) => Err(SnapshotError::Unavailable),
            Err(_) => Err(SnapshotError::Timeout),
        }
    }

    pub(super) fn set(&self, snapshot: Snapshot) {
        *self.latest.lock().unwrap_or_else(|p| p.into_inner()) = Some(snapshot);
    }
}

/// Operational triggers for control surfaces (the HTTP API, webhooks).
#[derive(Clone)]
pub struct ControlHandle {
    pub(super) refresh: mpsc::Sender<()>,
    pub(super) pending: Arc<std::sync::atomic::AtomicBool>,
    pub(super) hinted: mpsc::Sender<()>,
    /// Issues named since the service last took them (a set: repeats coalesce).
    pub(super) pending_hints: Arc<Mutex<std::collections::BTreeSet<String>>>,
    /// Wakes the review watch (ADR 0018).
    pub(super) review_wake: Arc<ReviewWake>,
}

/// What woke the review watch: the pull requests named since it last looked, or all.
#[derive(Default)]
pub(crate) struct ReviewWake {
    pub notify: tokio::sync::Notify,
    targets: Mutex<(bool, std::collections::BTreeSet<u64>)>,
}

impl ReviewWake {
    /// The watches to look at now (`None`: every one), and the slate cleared.
    pub fn take(&self) -> Option<std::collections::BTreeSet<u64>> {
        let mut targets = self.targets.lock().unwrap_or_else(|p| p.into_inner());
        let (all, numbers) = std::mem::take(&mut *targets);
        (!all).then_some(numbers)
    }
}

/// What a refresh request did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RefreshQueued {
    /// An earlier request was still waiting: this one joined it.
    pub coalesced: bool,
}

impl ControlHandle {
    /// Asks for an immediate poll and reconciliation (SPEC §13.7 `POST /api/v1/refresh`).
    /// Requests made before the service picks the first one up are coalesced into it.
    pub fn request_refresh(&self) -> Result<RefreshQueued, SnapshotError> {
        use std::sync::atomic::Ordering;
        if self.pending.swap(true, Ordering::AcqRel) {
            return Ok(RefreshQueued { coalesced: true });
        }
        // One signal at most is ever queued: `pending` coalesces the rest.
        match self.refresh.try_send(()) {
            Ok(()) | Err(mpsc::error::TrySendError::Full(())) => {}
            Err(mpsc::error::TrySendError::Closed(())) => {
                self.pending.store(false, Ordering::Release);
                return Err(SnapshotError::Unavailable);
            }
        }
        Ok(RefreshQueued { coalesced: false })
    }

    /// Asks the review watch to look now (a code host's notification said a review, a
    /// comment, a check or a change moved) at the changes numbered `pull_numbers`, or at every
    /// watched change when it names none; wake-ups before it looks join.
    pub fn wake_reviews(&self, pull_numbers: Vec<u64>) {
        {
            let mut targets = self
                .review_wake
                .targets
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            if pull_numbers.is_empty() {
                targets.0 = true;
            }
            targets.1.extend(pull_numbers);
        }
        self.review_wake.notify.notify_one();
    }

    /// Asks the service to look at these issues now (a tracker notification named them):
    /// running ones are reconciled, eligible ones dispatched, without a full poll. Names given
    /// before the service takes the pending ones join them.
    pub fn refresh_issues(&self, issue_ids: Vec<String>) -> Result<RefreshQueued, SnapshotError> {
        let was_empty = {
            let mut pending = self.pending_hints.lock().unwrap_or_else(|p| p.into_inner());
            let was_empty = pending.is_empty();
            pending.extend(issue_ids);
            was_empty
        };
        // The named issues wait in `pending_hints`; one signal at most is queued for them.
        if was_empty {
            if let Err(mpsc::error::TrySendError::Closed(())) = self.hinted.try_send(()) {
                return Err(SnapshotError::Unavailable);
            }
        }
        Ok(RefreshQueued {
            coalesced: !was_empty,
        })
    }
}
