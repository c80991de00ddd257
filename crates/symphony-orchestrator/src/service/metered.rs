//! Metering every tracker call, so `/metrics` and traces cover every adapter (built-in or
//! plugin) without each one measuring itself: an observer on `symphony_tracker`'s
//! `ObservedTracker`, which does the forwarding.

use std::sync::Arc;
use std::time::Duration;

use symphony_tracker::{ObservedTracker, Tracker, TrackerCall, TrackerObserver};

use crate::metrics::{ServiceMetrics, TrackerOutcome};

/// Counts and times each call, and runs it in a `tracker_request` span.
pub(crate) struct MeteredTracker {
    metrics: Arc<ServiceMetrics>,
}

impl MeteredTracker {
    /// `inner`, with every call recorded in `metrics`.
    pub(crate) fn wrap(inner: Arc<dyn Tracker>, metrics: Arc<ServiceMetrics>) -> Arc<dyn Tracker> {
        Arc::new(ObservedTracker::new(inner, Self { metrics }))
    }

    /// A call the caller gave up on after `limit` (the future was dropped unfinished).
    pub(crate) fn record_timeout(
        metrics: &ServiceMetrics,
        operation: &'static str,
        limit: Duration,
    ) {
        metrics.tracker_call(operation, TrackerOutcome::Timeout, limit, None);
    }
}

impl TrackerObserver for MeteredTracker {
    fn span(&self, tracker: &str, call: TrackerCall) -> tracing::Span {
        tracing::debug_span!("tracker_request", tracker = %tracker, operation = call.as_str())
    }

    fn finished(&self, tracker: &dyn Tracker, call: TrackerCall, ok: bool, elapsed: Duration) {
        let outcome = if ok {
            TrackerOutcome::Ok
        } else {
            TrackerOutcome::Error
        };
        self.metrics.tracker_call(
            call.as_str(),
            outcome,
            elapsed,
            tracker.rate_limit_remaining(),
        );
    }
}
