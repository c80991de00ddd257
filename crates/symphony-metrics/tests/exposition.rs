//! The exposition as a scraper reads it: OpenMetrics text ending in `# EOF`, counters with
//! `_total`, histograms cumulative, label values escaped, series present only once known.

use std::time::Duration;

use symphony_metrics::{exposition, ScrapeMetrics, ServiceMetrics, TrackerOutcome};

fn text(metrics: &ServiceMetrics) -> String {
    exposition(metrics, &ScrapeMetrics::new())
}

fn has(text: &str, line: &str) -> bool {
    text.lines().any(|l| l == line)
}

#[test]
fn the_store_is_unhealthy_while_writes_or_lease_renewals_fail() {
    let metrics = ServiceMetrics::default();
    assert!(has(&text(&metrics), "symphony_store_healthy 1"));
    // Readiness fails on a lease renewal alone; the gauge says the same.
    metrics.store_lease(false);
    assert!(has(&text(&metrics), "symphony_store_healthy 0"));
    metrics.store_lease(true);
    metrics.store_write(false, 3);
    let failing = text(&metrics);
    assert!(has(&failing, "symphony_store_healthy 0"), "{failing}");
    assert!(
        has(&failing, "symphony_store_queued_changes 3"),
        "{failing}"
    );
    assert!(
        has(&failing, "symphony_store_write_failures_total 1"),
        "{failing}"
    );
    metrics.store_write(true, 0);
    assert!(has(&text(&metrics), "symphony_store_healthy 1"));
    assert!(metrics.store_healthy());
}

#[test]
fn histograms_are_cumulative_with_sum_and_count() {
    let metrics = ServiceMetrics::default();
    for ms in [3, 3, 40, 7_200_000] {
        metrics.tick(Duration::from_millis(ms));
    }
    let out = text(&metrics);
    for line in [
        "symphony_tick_duration_seconds_bucket{le=\"0.001\"} 0",
        "symphony_tick_duration_seconds_bucket{le=\"0.005\"} 2",
        "symphony_tick_duration_seconds_bucket{le=\"0.05\"} 3",
        "symphony_tick_duration_seconds_bucket{le=\"3600.0\"} 3",
        "symphony_tick_duration_seconds_bucket{le=\"+Inf\"} 4",
        "symphony_tick_duration_seconds_count 4",
    ] {
        assert!(has(&out, line), "{line} missing:\n{out}");
    }
}

#[test]
fn a_gate_name_cannot_break_the_exposition() {
    let metrics = ServiceMetrics::default();
    metrics.gate("lint \"strict\"\nand\\more", "fail");
    let out = text(&metrics);
    assert!(
        has(
            &out,
            "symphony_gate_outcomes_total{gate=\"lint \\\"strict\\\"\\nand\\\\more\",status=\"fail\"} 1"
        ),
        "{out}"
    );
    assert!(out.ends_with("# EOF\n"), "{out}");
}

#[test]
fn tracker_calls_are_counted_and_the_budget_appears_once_reported() {
    let metrics = ServiceMetrics::default();
    metrics.tracker_call(
        "fetch_issues_by_ids",
        TrackerOutcome::Ok,
        Duration::from_millis(20),
        None,
    );
    let before = text(&metrics);
    assert!(
        !before
            .lines()
            .any(|l| l.starts_with("symphony_tracker_rate_limit_remaining")),
        "no series before a provider reported a budget:\n{before}"
    );
    metrics.tracker_call(
        "fetch_issues_by_ids",
        TrackerOutcome::Timeout,
        Duration::from_secs(30),
        Some(4_990),
    );
    let after = text(&metrics);
    for line in [
        "symphony_tracker_requests_total{operation=\"fetch_issues_by_ids\",outcome=\"ok\"} 1",
        "symphony_tracker_requests_total{operation=\"fetch_issues_by_ids\",outcome=\"timeout\"} 1",
        "symphony_tracker_request_duration_seconds_count{operation=\"fetch_issues_by_ids\"} 2",
        "symphony_tracker_rate_limit_remaining 4990",
    ] {
        assert!(has(&after, line), "{line} missing:\n{after}");
    }
    assert_eq!(metrics.tracker_calls("fetch_issues_by_ids"), 2);
    assert_eq!(metrics.tracker_calls("hand_off"), 0);
}

#[test]
fn scrape_values_follow_the_service_families() {
    let mut scrape = ScrapeMetrics::new();
    scrape
        .gauge("symphony_orchestrator_up", "Up.", 1)
        .counters("symphony_tokens", "Tokens.", "kind", [("input", 7u64)])
        .counter("symphony_agent_seconds", "Seconds.", 1.5);
    let out = exposition(&ServiceMetrics::default(), &scrape);
    let dispatches = out
        .find("symphony_dispatches_total 0")
        .expect("service first");
    let up = out
        .find("symphony_orchestrator_up 1")
        .expect("then the scrape");
    assert!(dispatches < up, "{out}");
    assert!(
        has(&out, "symphony_tokens_total{kind=\"input\"} 7"),
        "{out}"
    );
    assert!(has(&out, "symphony_agent_seconds_total 1.5"), "{out}");
    assert!(has(&out, "# TYPE symphony_tokens counter"), "{out}");
}
