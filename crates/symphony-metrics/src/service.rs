//! The service's own metrics, kept by the orchestrator's shell as it performs effects. Labels
//! come from bounded sets (operations, outcomes, gate names from the workflow), never from issue
//! identifiers, so the series count stays small.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use crate::label::{labels, Labels};
use crate::optional::OptionalGauge;

/// Bucket bounds in seconds for durations from a millisecond (a tick) to an hour (a run).
pub const DURATION_BUCKETS: &[f64] = &[
    0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0,
    3600.0,
];

fn duration_histogram() -> Histogram {
    Histogram::new(DURATION_BUCKETS.iter().copied())
}

/// The outcome of one tracker call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[non_exhaustive]
pub enum TrackerOutcome {
    /// It answered.
    Ok,
    /// It failed (any typed tracker error).
    Error,
    /// It did not answer within the fetch limit.
    Timeout,
}

impl TrackerOutcome {
    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Error => "error",
            Self::Timeout => "timeout",
        }
    }
}

/// The service's metrics; shared between the shell, its workers and status surfaces.
#[derive(Debug)]
pub struct ServiceMetrics {
    registry: Registry,
    dispatches: Counter,
    retries: Family<Labels<1>, Counter>,
    runs: Family<Labels<1>, Counter>,
    run_duration: Histogram,
    turn_duration: Histogram,
    tick_duration: Histogram,
    gates: Family<Labels<2>, Counter>,
    budget_stops: Family<Labels<1>, Counter>,
    budget_warnings: Family<Labels<1>, Counter>,
    tracker_requests: Family<Labels<2>, Counter>,
    tracker_latency: Family<Labels<1>, Histogram, fn() -> Histogram>,
    /// Present once a provider reported a budget (no series before).
    rate_limit_remaining: OptionalGauge,
    store_write_failures: Counter,
    store_queued: Gauge,
    store_healthy: Gauge,
    store_failing: AtomicBool,
    lease_failing: AtomicBool,
}

impl Default for ServiceMetrics {
    fn default() -> Self {
        let mut registry = Registry::default();
        let dispatches = Counter::default();
        registry.register(
            "symphony_dispatches",
            "Agent workers started (first runs and retries)",
            dispatches.clone(),
        );
        let retries = Family::default();
        registry.register(
            "symphony_retries",
            "Retries queued, by reason",
            retries.clone(),
        );
        let runs = Family::default();
        registry.register("symphony_runs", "Runs ended, by outcome", runs.clone());
        let run_duration = duration_histogram();
        registry.register(
            "symphony_run_duration_seconds",
            "Wall time of runs, dispatch to exit",
            run_duration.clone(),
        );
        let turn_duration = duration_histogram();
        registry.register(
            "symphony_turn_duration_seconds",
            "Wall time of agent turns",
            turn_duration.clone(),
        );
        let tick_duration = duration_histogram();
        registry.register(
            "symphony_tick_duration_seconds",
            "Poll ticks, from the timer firing to candidates dispatched",
            tick_duration.clone(),
        );
        let gates = Family::default();
        registry.register(
            "symphony_gate_outcomes",
            "Gate verdicts, by gate and status",
            gates.clone(),
        );
        let budget_stops = Family::default();
        registry.register(
            "symphony_budget_stops",
            "Runs stopped (or kept from starting) by a hard budget limit, by budget kind",
            budget_stops.clone(),
        );
        let budget_warnings = Family::default();
        registry.register(
            "symphony_budget_warnings",
            "Soft budget thresholds passed, by budget kind",
            budget_warnings.clone(),
        );
        let tracker_requests = Family::default();
        registry.register(
            "symphony_tracker_requests",
            "Tracker calls, by operation and outcome",
            tracker_requests.clone(),
        );
        let tracker_latency = Family::new_with_constructor(duration_histogram as fn() -> Histogram);
        registry.register(
            "symphony_tracker_request_duration_seconds",
            "Tracker call latency, by operation",
            tracker_latency.clone(),
        );
        let store_write_failures = Counter::default();
        registry.register(
            "symphony_store_write_failures",
            "Failed writes of durable state (each is retried; nothing is dropped)",
            store_write_failures.clone(),
        );
        let store_queued = Gauge::default();
        registry.register(
            "symphony_store_queued_changes",
            "Changes waiting for the state store after a failed write",
            store_queued.clone(),
        );
        let store_healthy = Gauge::default();
        store_healthy.set(1);
        registry.register(
            "symphony_store_healthy",
            "1 while durable state is being written and leases renewed, 0 while either fails \
             (the service is then not ready)",
            store_healthy.clone(),
        );
        let rate_limit_remaining = OptionalGauge::default();
        registry.register(
            "symphony_tracker_rate_limit_remaining",
            "Requests left in the tracker's rate-limit window, as last reported",
            rate_limit_remaining.clone(),
        );
        Self {
            registry,
            dispatches,
            retries,
            runs,
            run_duration,
            turn_duration,
            tick_duration,
            gates,
            budget_stops,
            budget_warnings,
            tracker_requests,
            tracker_latency,
            rate_limit_remaining,
            store_write_failures,
            store_queued,
            store_healthy,
            store_failing: AtomicBool::new(false),
            lease_failing: AtomicBool::new(false),
        }
    }
}

impl ServiceMetrics {
    /// A worker was started.
    pub fn dispatched(&self) {
        self.dispatches.inc();
    }

    /// A run ended with `outcome` (a bounded label such as `succeeded`) after `runtime`
    /// (`None`: it never ran, so it has no duration).
    pub fn run_ended(&self, outcome: &'static str, runtime: Option<Duration>) {
        self.runs
            .get_or_create(&labels([("outcome", outcome)]))
            .inc();
        if let Some(runtime) = runtime {
            self.run_duration.observe(runtime.as_secs_f64());
        }
    }

    /// A retry was queued for `reason` (a bounded label such as `failure`).
    pub fn retry_scheduled(&self, reason: &'static str) {
        self.retries
            .get_or_create(&labels([("reason", reason)]))
            .inc();
    }

    /// A hard budget limit of `kind` (a bounded label such as `tokens`) stopped a run.
    pub fn budget_stop(&self, kind: &'static str) {
        self.budget_stops
            .get_or_create(&labels([("kind", kind)]))
            .inc();
    }

    /// A soft budget threshold of `kind` was passed.
    pub fn budget_warning(&self, kind: &'static str) {
        self.budget_warnings
            .get_or_create(&labels([("kind", kind)]))
            .inc();
    }

    /// An agent turn took `elapsed`.
    pub fn turn(&self, elapsed: Duration) {
        self.turn_duration.observe(elapsed.as_secs_f64());
    }

    /// A poll tick (timer to candidates dispatched) took `elapsed`.
    pub fn tick(&self, elapsed: Duration) {
        self.tick_duration.observe(elapsed.as_secs_f64());
    }

    /// Gate `gate` reported `status` (`pass`, `fail`, `error`, `skipped`).
    pub fn gate(&self, gate: &str, status: &'static str) {
        let verdict = labels([("gate", gate), ("status", status)]);
        self.gates.get_or_create(&verdict).inc();
    }

    /// A tracker call `operation` ended with `outcome` after `elapsed`; `remaining` is the
    /// provider's rate-limit budget when it reports one.
    pub fn tracker_call(
        &self,
        operation: &'static str,
        outcome: TrackerOutcome,
        elapsed: Duration,
        remaining: Option<u64>,
    ) {
        let requests = labels([("operation", operation), ("outcome", outcome.as_str())]);
        self.tracker_requests.get_or_create(&requests).inc();
        self.tracker_latency
            .get_or_create(&labels([("operation", operation)]))
            .observe(elapsed.as_secs_f64());
        if let Some(remaining) = remaining {
            self.rate_limit_remaining
                .set(i64::try_from(remaining).unwrap_or(i64::MAX));
        }
    }

    /// Tracker calls of `operation` so far, whatever their outcome.
    pub fn tracker_calls(&self, operation: &'static str) -> u64 {
        [
            TrackerOutcome::Ok,
            TrackerOutcome::Error,
            TrackerOutcome::Timeout,
        ]
        .into_iter()
        .filter_map(|outcome| {
            self.tracker_requests
                .get(&labels([
                    ("operation", operation),
                    ("outcome", outcome.as_str()),
                ]))
                .map(|counter| counter.get())
        })
        .sum()
    }

    /// A write of durable state succeeded or failed with `queued` changes still waiting.
    pub fn store_write(&self, ok: bool, queued: usize) {
        if !ok {
            self.store_write_failures.inc();
        }
        self.store_failing.store(!ok, Ordering::SeqCst);
        self.store_queued
            .set(i64::try_from(queued).unwrap_or(i64::MAX));
        self.update_store_health();
    }

    /// A lease renewal succeeded or failed: while it fails the service is not ready either.
    pub fn store_lease(&self, ok: bool) {
        self.lease_failing.store(!ok, Ordering::SeqCst);
        self.update_store_health();
    }

    /// Whether durable state is being written and leases renewed.
    pub fn store_healthy(&self) -> bool {
        self.store_healthy.get() == 1
    }

    fn update_store_health(&self) {
        let failing =
            self.store_failing.load(Ordering::SeqCst) || self.lease_failing.load(Ordering::SeqCst);
        self.store_healthy.set(i64::from(!failing));
    }

    /// The registry holding every family, for an exposition.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }
}
