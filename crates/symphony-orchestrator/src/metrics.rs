//! What the scheduler's decisions say to the metrics: runs ended by outcome (with their
//! duration) and retries queued by reason. The model and its format live in
//! `symphony-metrics`; the orchestrator only records.

use std::time::Duration;

use symphony_scheduler::{Decision, RunEnd};

pub use symphony_metrics::{ServiceMetrics, TrackerOutcome};

fn run_end_label(outcome: RunEnd) -> &'static str {
    match outcome {
        RunEnd::Succeeded => "succeeded",
        RunEnd::Failed => "failed",
        RunEnd::Stalled => "stalled",
        RunEnd::Stopped(_) => "stopped",
        RunEnd::Interrupted => "interrupted",
        RunEnd::Skipped => "skipped",
        RunEnd::BudgetExceeded(_) => "budget_exceeded",
    }
}

/// Counts what a scheduler decision says about runs and retries.
pub(crate) fn record_decision(metrics: &ServiceMetrics, decision: &Decision) {
    match decision {
        Decision::RunEnded {
            outcome,
            runtime_ms,
            ..
        } => {
            // A skipped run never ran: no duration.
            let runtime = (*outcome != RunEnd::Skipped).then(|| Duration::from_millis(*runtime_ms));
            metrics.run_ended(run_end_label(*outcome), runtime);
        }
        Decision::RetryScheduled { reason, .. } => metrics.retry_scheduled(reason.as_str()),
        Decision::BudgetExceeded { exceeded, .. } => metrics.budget_stop(exceeded.kind.as_str()),
        Decision::BudgetWarning { exceeded, .. } => metrics.budget_warning(exceeded.kind.as_str()),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decisions_count_runs_and_retries_by_bounded_labels() {
        let metrics = ServiceMetrics::default();
        record_decision(
            &metrics,
            &Decision::RunEnded {
                issue_id: "1".into(),
                identifier: "A-1".into(),
                outcome: RunEnd::Failed,
                error: Some("boom".into()),
                runtime_ms: 1500,
            },
        );
        record_decision(
            &metrics,
            &Decision::RetryScheduled {
                issue_id: "1".into(),
                identifier: "A-1".into(),
                attempt: 1,
                delay_ms: 10_000,
                error: Some("boom".into()),
                reason: symphony_scheduler::RetryReason::Failure,
            },
        );
        let exceeded = symphony_scheduler::Exceeded {
            kind: symphony_scheduler::BudgetKind::Tokens,
            used: Some(11),
            limit: 10,
            hard: true,
        };
        record_decision(
            &metrics,
            &Decision::BudgetExceeded {
                issue_id: "1".into(),
                identifier: "A-1".into(),
                exceeded,
                spend: symphony_scheduler::Spend::default(),
            },
        );
        record_decision(
            &metrics,
            &Decision::BudgetWarning {
                issue_id: None,
                identifier: None,
                exceeded: symphony_scheduler::Exceeded {
                    kind: symphony_scheduler::BudgetKind::DailyCost,
                    hard: false,
                    ..exceeded
                },
            },
        );
        let text = symphony_metrics::exposition(&metrics, &symphony_metrics::ScrapeMetrics::new());
        for line in [
            "symphony_budget_stops_total{kind=\"tokens\"} 1",
            "symphony_budget_warnings_total{kind=\"daily_cost\"} 1",
            "symphony_runs_total{outcome=\"failed\"} 1",
            "symphony_retries_total{reason=\"failure\"} 1",
            "symphony_run_duration_seconds_sum 1.5",
            "symphony_run_duration_seconds_count 1",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} missing:\n{text}");
        }
        assert!(
            !text.contains("A-1"),
            "issue identifiers never become labels:\n{text}"
        );
    }
}
