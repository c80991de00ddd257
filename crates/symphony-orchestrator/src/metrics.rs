//! Counters and histograms of the service's work, kept by the shell as it performs effects and
//! read by status surfaces (`/metrics`). Labels come from bounded sets (operations, outcomes,
//! gate names from the workflow), never from issue identifiers, so the series count stays small.

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use symphony_scheduler::{Decision, RunEnd};

/// Bucket bounds in seconds for durations from a millisecond (a tick) to an hour (a run).
pub const DURATION_BUCKETS: &[f64] = &[
    0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0,
    3600.0,
];

/// A cumulative histogram over [`DURATION_BUCKETS`].
#[derive(Debug, Clone, PartialEq)]
pub struct Histogram {
    /// Observations at or below each bound (cumulative), then `+Inf` = `count`.
    pub buckets: Vec<(f64, u64)>,
    /// Sum of the observations.
    pub sum: f64,
    /// Number of observations.
    pub count: u64,
}

impl Default for Histogram {
    fn default() -> Self {
        Self {
            buckets: DURATION_BUCKETS.iter().map(|&b| (b, 0)).collect(),
            sum: 0.0,
            count: 0,
        }
    }
}

impl Histogram {
    /// Records one duration.
    pub fn observe(&mut self, elapsed: Duration) {
        let seconds = elapsed.as_secs_f64();
        for (bound, n) in &mut self.buckets {
            if seconds <= *bound {
                *n += 1;
            }
        }
        self.sum += seconds;
        self.count += 1;
    }

    /// The smallest bucket bound at or above quantile `q` (0..=1); `None` when empty or when
    /// the quantile lies beyond the last bound.
    pub fn quantile_bound(&self, q: f64) -> Option<f64> {
        if self.count == 0 {
            return None;
        }
        let rank = (q * self.count as f64).ceil().max(1.0) as u64;
        self.buckets
            .iter()
            .find(|(_, n)| *n >= rank)
            .map(|(bound, _)| *bound)
    }
}

/// What a metric is, in the Prometheus sense.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricKind {
    /// Only goes up.
    Counter,
    /// Goes up and down.
    Gauge,
    /// Bucketed observations.
    Histogram,
}

/// One labelled value of a family.
#[derive(Debug, Clone, PartialEq)]
pub enum SampleValue {
    /// A counter or gauge value.
    Number(f64),
    /// A histogram.
    Histogram(Histogram),
}

/// One labelled sample.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// `(label, value)` pairs.
    pub labels: Vec<(&'static str, String)>,
    /// The value.
    pub value: SampleValue,
}

/// A metric family: a name, its meaning and its samples.
#[derive(Debug, Clone, PartialEq)]
pub struct Family {
    /// The metric name.
    pub name: &'static str,
    /// One line of help.
    pub help: &'static str,
    /// Counter, gauge or histogram.
    pub kind: MetricKind,
    /// The samples (may be empty).
    pub samples: Vec<Sample>,
}

/// The outcome of one tracker call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum TrackerOutcome {
    /// It answered.
    Ok,
    /// It failed (any typed tracker error).
    Error,
    /// It did not answer within the fetch limit.
    Timeout,
}

impl TrackerOutcome {
    fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Error => "error",
            Self::Timeout => "timeout",
        }
    }
}

#[derive(Debug, Default)]
struct Inner {
    dispatches: u64,
    retries: BTreeMap<&'static str, u64>,
    runs: BTreeMap<&'static str, u64>,
    run_duration: Histogram,
    turn_duration: Histogram,
    tick_duration: Histogram,
    gates: BTreeMap<(String, &'static str), u64>,
    tracker_requests: BTreeMap<(&'static str, &'static str), u64>,
    tracker_latency: BTreeMap<&'static str, Histogram>,
    rate_limit_remaining: Option<u64>,
    store_write_failures: u64,
    store_queued: u64,
    store_failing: bool,
    lease_failing: bool,
}

/// The service's metrics; shared between the shell, its workers and status surfaces.
#[derive(Debug, Default)]
pub struct ServiceMetrics {
    inner: Mutex<Inner>,
}

fn run_end_label(outcome: RunEnd) -> &'static str {
    match outcome {
        RunEnd::Succeeded => "succeeded",
        RunEnd::Failed => "failed",
        RunEnd::Stalled => "stalled",
        RunEnd::Stopped(_) => "stopped",
        RunEnd::Interrupted => "interrupted",
        RunEnd::Skipped => "skipped",
    }
}

fn counter(labels: Vec<(&'static str, String)>, n: u64) -> Sample {
    Sample {
        labels,
        value: SampleValue::Number(n as f64),
    }
}

fn histogram(labels: Vec<(&'static str, String)>, h: &Histogram) -> Sample {
    Sample {
        labels,
        value: SampleValue::Histogram(h.clone()),
    }
}

impl ServiceMetrics {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A worker was started.
    pub fn dispatched(&self) {
        self.lock().dispatches += 1;
    }

    /// Counts what a scheduler decision says about runs and retries.
    pub fn decision(&self, decision: &Decision) {
        let mut inner = self.lock();
        match decision {
            Decision::RunEnded {
                outcome,
                runtime_ms,
                ..
            } => {
                *inner.runs.entry(run_end_label(*outcome)).or_default() += 1;
                if *outcome != RunEnd::Skipped {
                    inner
                        .run_duration
                        .observe(Duration::from_millis(*runtime_ms));
                }
            }
            Decision::RetryScheduled { reason, .. } => {
                *inner.retries.entry(reason.as_str()).or_default() += 1;
            }
            _ => {}
        }
    }

    /// An agent turn took `elapsed`.
    pub fn turn(&self, elapsed: Duration) {
        self.lock().turn_duration.observe(elapsed);
    }

    /// A poll tick (timer to candidates dispatched) took `elapsed`.
    pub fn tick(&self, elapsed: Duration) {
        self.lock().tick_duration.observe(elapsed);
    }

    /// Gate `gate` reported `status` (`pass`, `fail`, `error`, `skipped`).
    pub fn gate(&self, gate: &str, status: &'static str) {
        *self
            .lock()
            .gates
            .entry((gate.to_owned(), status))
            .or_default() += 1;
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
        let mut inner = self.lock();
        *inner
            .tracker_requests
            .entry((operation, outcome.as_str()))
            .or_default() += 1;
        inner
            .tracker_latency
            .entry(operation)
            .or_default()
            .observe(elapsed);
        if remaining.is_some() {
            inner.rate_limit_remaining = remaining;
        }
    }

    /// A write of durable state succeeded or failed with `queued` changes still waiting.
    pub fn store_write(&self, ok: bool, queued: usize) {
        let mut inner = self.lock();
        if !ok {
            inner.store_write_failures += 1;
        }
        inner.store_failing = !ok;
        inner.store_queued = queued as u64;
    }

    /// A lease renewal succeeded or failed: while it fails the service is not ready either.
    pub fn store_lease(&self, ok: bool) {
        self.lock().lease_failing = !ok;
    }

    /// The poll-tick histogram (for tests and benchmarks that compare loads).
    pub fn tick_histogram(&self) -> Histogram {
        self.lock().tick_duration.clone()
    }

    /// Every family, in a stable order.
    pub fn families(&self) -> Vec<Family> {
        let inner = self.lock();
        let mut out = vec![
            Family {
                name: "symphony_dispatches_total",
                help: "Agent workers started (first runs and retries).",
                kind: MetricKind::Counter,
                samples: vec![counter(vec![], inner.dispatches)],
            },
            Family {
                name: "symphony_retries_total",
                help: "Retries queued, by reason.",
                kind: MetricKind::Counter,
                samples: inner
                    .retries
                    .iter()
                    .map(|(reason, n)| counter(vec![("reason", (*reason).to_owned())], *n))
                    .collect(),
            },
            Family {
                name: "symphony_runs_total",
                help: "Runs ended, by outcome.",
                kind: MetricKind::Counter,
                samples: inner
                    .runs
                    .iter()
                    .map(|(outcome, n)| counter(vec![("outcome", (*outcome).to_owned())], *n))
                    .collect(),
            },
            Family {
                name: "symphony_run_duration_seconds",
                help: "Wall time of runs, dispatch to exit.",
                kind: MetricKind::Histogram,
                samples: vec![histogram(vec![], &inner.run_duration)],
            },
            Family {
                name: "symphony_turn_duration_seconds",
                help: "Wall time of agent turns.",
                kind: MetricKind::Histogram,
                samples: vec![histogram(vec![], &inner.turn_duration)],
            },
            Family {
                name: "symphony_tick_duration_seconds",
                help: "Poll ticks, from the timer firing to candidates dispatched.",
                kind: MetricKind::Histogram,
                samples: vec![histogram(vec![], &inner.tick_duration)],
            },
            Family {
                name: "symphony_gate_outcomes_total",
                help: "Gate verdicts, by gate and status.",
                kind: MetricKind::Counter,
                samples: inner
                    .gates
                    .iter()
                    .map(|((gate, status), n)| {
                        counter(
                            vec![("gate", gate.clone()), ("status", (*status).to_owned())],
                            *n,
                        )
                    })
                    .collect(),
            },
            Family {
                name: "symphony_tracker_requests_total",
                help: "Tracker calls, by operation and outcome.",
                kind: MetricKind::Counter,
                samples: inner
                    .tracker_requests
                    .iter()
                    .map(|((operation, outcome), n)| {
                        counter(
                            vec![
                                ("operation", (*operation).to_owned()),
                                ("outcome", (*outcome).to_owned()),
                            ],
                            *n,
                        )
                    })
                    .collect(),
            },
            Family {
                name: "symphony_tracker_request_duration_seconds",
                help: "Tracker call latency, by operation.",
                kind: MetricKind::Histogram,
                samples: inner
                    .tracker_latency
                    .iter()
                    .map(|(operation, h)| {
                        histogram(vec![("operation", (*operation).to_owned())], h)
                    })
                    .collect(),
            },
            Family {
                name: "symphony_store_write_failures_total",
                help: "Failed writes of durable state (each is retried; nothing is dropped).",
                kind: MetricKind::Counter,
                samples: vec![counter(vec![], inner.store_write_failures)],
            },
            Family {
                name: "symphony_store_queued_changes",
                help: "Changes waiting for the state store after a failed write.",
                kind: MetricKind::Gauge,
                samples: vec![counter(vec![], inner.store_queued)],
            },
            Family {
                name: "symphony_store_healthy",
                help: "1 while durable state is being written and leases renewed, 0 while either fails (the service is then not ready).",
                kind: MetricKind::Gauge,
                samples: vec![counter(
                    vec![],
                    u64::from(!inner.store_failing && !inner.lease_failing),
                )],
            },
        ];
        if let Some(remaining) = inner.rate_limit_remaining {
            out.push(Family {
                name: "symphony_tracker_rate_limit_remaining",
                help: "Requests left in the tracker's rate-limit window, as last reported.",
                kind: MetricKind::Gauge,
                samples: vec![counter(vec![], remaining)],
            });
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_store_is_unhealthy_while_writes_or_lease_renewals_fail() {
        let healthy = |metrics: &ServiceMetrics| {
            let family = metrics
                .families()
                .into_iter()
                .find(|f| f.name == "symphony_store_healthy")
                .expect("the gauge");
            family.samples[0].value.clone()
        };
        let metrics = ServiceMetrics::default();
        metrics.store_write(true, 0);
        assert_eq!(healthy(&metrics), SampleValue::Number(1.0));
        // Readiness fails on a lease renewal alone; the gauge says the same.
        metrics.store_lease(false);
        assert_eq!(healthy(&metrics), SampleValue::Number(0.0));
        metrics.store_lease(true);
        metrics.store_write(false, 3);
        assert_eq!(healthy(&metrics), SampleValue::Number(0.0));
        metrics.store_write(true, 0);
        assert_eq!(healthy(&metrics), SampleValue::Number(1.0));
    }

    #[test]
    fn histograms_are_cumulative_and_quantiles_pick_the_covering_bucket() {
        let mut h = Histogram::default();
        h.observe(Duration::from_millis(3));
        h.observe(Duration::from_millis(3));
        h.observe(Duration::from_millis(40));
        h.observe(Duration::from_secs(7200));
        assert_eq!(h.count, 4);
        assert!((h.sum - 7200.046).abs() < 1e-9, "{}", h.sum);
        let at = |bound: f64| h.buckets.iter().find(|(b, _)| *b == bound).unwrap().1;
        assert_eq!(at(0.001), 0);
        assert_eq!(at(0.005), 2);
        assert_eq!(at(0.05), 3);
        assert_eq!(at(3600.0), 3, "two hours is only in +Inf");
        assert_eq!(h.quantile_bound(0.5), Some(0.005));
        assert_eq!(h.quantile_bound(0.75), Some(0.05));
        assert_eq!(h.quantile_bound(1.0), None);
        assert_eq!(Histogram::default().quantile_bound(0.5), None);
    }

    #[test]
    fn decisions_count_runs_and_retries_by_bounded_labels() {
        let metrics = ServiceMetrics::default();
        metrics.decision(&Decision::RunEnded {
            issue_id: "1".into(),
            identifier: "A-1".into(),
            outcome: RunEnd::Failed,
            error: Some("boom".into()),
            runtime_ms: 1500,
        });
        metrics.decision(&Decision::RetryScheduled {
            issue_id: "1".into(),
            identifier: "A-1".into(),
            attempt: 1,
            delay_ms: 10_000,
            error: Some("boom".into()),
            reason: symphony_scheduler::RetryReason::Failure,
        });
        let families = metrics.families();
        let find = |name: &str| families.iter().find(|f| f.name == name).unwrap();
        assert_eq!(
            find("symphony_runs_total").samples,
            vec![counter(vec![("outcome", "failed".into())], 1)]
        );
        assert_eq!(
            find("symphony_retries_total").samples,
            vec![counter(vec![("reason", "failure".into())], 1)]
        );
        let SampleValue::Histogram(runs) = &find("symphony_run_duration_seconds").samples[0].value
        else {
            panic!("a histogram")
        };
        assert_eq!((runs.count, runs.sum), (1, 1.5));
        assert!(
            !families
                .iter()
                .any(|f| f.name == "symphony_tracker_rate_limit_remaining"),
            "no gauge before a provider reported a budget"
        );
    }
}
