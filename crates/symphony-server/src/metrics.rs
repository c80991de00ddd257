//! `GET /metrics` in the OpenMetrics text format (`symphony-metrics`): the service's metrics,
//! gauges from the orchestrator's snapshot, counters the server keeps itself.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use symphony_metrics::ScrapeMetrics;
use symphony_orchestrator::{ServiceMetrics, Snapshot};

/// Counters of the server's own traffic.
#[derive(Debug, Default)]
pub struct ServerCounters {
    requests: Mutex<BTreeMap<(&'static str, u16), u64>>,
    refreshes: AtomicU64,
    refreshes_coalesced: AtomicU64,
    unauthorized: AtomicU64,
    webhooks: Mutex<BTreeMap<(String, &'static str), u64>>,
}

impl ServerCounters {
    /// Counts one answered request on `route` (the route's pattern, never the raw path).
    pub fn request(&self, route: &'static str, status: u16) {
        *self
            .requests
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry((route, status))
            .or_default() += 1;
    }

    /// Counts a refresh request.
    pub fn refresh(&self, coalesced: bool) {
        self.refreshes.fetch_add(1, Ordering::Relaxed);
        if coalesced {
            self.refreshes_coalesced.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Counts a webhook delivery of `kind` (the route's, so a registered receiver's or an
    /// unknown kind's) by outcome.
    pub fn webhook(&self, kind: &str, outcome: &'static str) {
        *self
            .webhooks
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry((kind.to_owned(), outcome))
            .or_default() += 1;
    }

    /// Counts a request refused for want of a valid token.
    pub fn unauthorized(&self) {
        self.unauthorized.fetch_add(1, Ordering::Relaxed);
    }
}

/// The day's budget (ADR 0023): what every run used today, what is left before each hard
/// daily limit (only when one is set), and whether new dispatch is held. Per-issue use is in
/// the API: issue identifiers never become labels.
fn budget_gauges(scrape: &mut ScrapeMetrics, day: &symphony_orchestrator::DayBudget) {
    let tokens = i64::try_from(day.usage.total_tokens).unwrap_or(i64::MAX);
    scrape
        .gauge(
            "symphony_budget_day_tokens",
            "Tokens every run used in the current UTC day",
            tokens,
        )
        .gauge_f64(
            "symphony_budget_day_cost_usd",
            "US dollars every run used in the current UTC day (priced by the agent or the \
             workflow's price table)",
            day.usage.cost_usd().unwrap_or(0.0),
        )
        .gauge(
            "symphony_budget_dispatch_held",
            "1 while a daily budget holds new dispatch until the next UTC day",
            i64::from(day.held.is_some()),
        );
    if let Some(hard) = day.limits.tokens.hard {
        scrape.gauge(
            "symphony_budget_day_remaining_tokens",
            "Tokens left before the daily hard limit",
            i64::try_from(hard.saturating_sub(day.usage.total_tokens)).unwrap_or(i64::MAX),
        );
    }
    if let Some(hard) = day.limits.cost_micros.hard {
        let used = day.usage.cost_micros.unwrap_or(0);
        scrape.gauge_f64(
            "symphony_budget_day_remaining_cost_usd",
            "US dollars left before the daily hard limit",
            symphony_core::usd_of_micros(hard.saturating_sub(used)),
        );
    }
}

/// The exposition text: the service's metrics, then this scrape's (the orchestrator's
/// snapshot, `None` when it did not answer, and the server's own counters).
pub fn render(
    snapshot: Option<&Snapshot>,
    service: &ServiceMetrics,
    counters: &ServerCounters,
) -> String {
    let mut scrape = ScrapeMetrics::new();
    scrape.gauge(
        "symphony_orchestrator_up",
        "1 when the orchestrator answered this scrape",
        i64::from(snapshot.is_some()),
    );
    if let Some(s) = snapshot {
        let count = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
        scrape
            .gauge(
                "symphony_running_sessions",
                "Agent sessions running now",
                count(s.running.len()),
            )
            .gauge(
                "symphony_gating_sessions",
                "Sessions in Symphony's own gates or hand-off",
                count(s.running.iter().filter(|r| r.gating).count()),
            )
            .gauge(
                "symphony_retry_queue_length",
                "Issues waiting for a retry",
                count(s.retrying.len()),
            )
            // The scheduler's totals already hold running sessions' tokens as they are
            // reported (and only ever grow); adding the running rows again counted them twice
            // and made the counter fall when a session ended.
            .counters(
                "symphony_tokens",
                "Model tokens spent by agents (finished runs and running sessions)",
                "kind",
                [
                    ("input", s.totals.usage.input_tokens),
                    ("output", s.totals.usage.output_tokens),
                ],
            )
            // Part of the input above, priced differently: apart so the kinds still add up.
            .counters(
                "symphony_prompt_cache_tokens",
                "Input tokens agents read from or wrote to the model's prompt cache",
                "kind",
                [
                    ("read", s.totals.usage.cache_read_tokens),
                    ("write", s.totals.usage.cache_write_tokens),
                ],
            )
            .counter(
                "symphony_agent_cost_usd",
                "US dollars agents reported for their work (agents that price it, e.g. Claude Code)",
                s.totals.usage.cost_usd().unwrap_or(0.0),
            )
            .counter(
                "symphony_agent_seconds",
                "Seconds agents have run, finished runs and running sessions",
                s.seconds_running,
            );
        budget_gauges(&mut scrape, &s.day);
    }
    let requests: Vec<((&str, String), u64)> = counters
        .requests
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .iter()
        .map(|((route, status), n)| ((*route, status.to_string()), *n))
        .collect();
    let all = counters.refreshes.load(Ordering::Relaxed);
    let coalesced = counters.refreshes_coalesced.load(Ordering::Relaxed);
    let webhooks: Vec<((String, &str), u64)> = counters
        .webhooks
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .iter()
        .map(|((kind, outcome), n)| ((kind.clone(), *outcome), *n))
        .collect();
    scrape
        .counters2(
            "symphony_http_requests",
            "Requests the server answered, by route and status",
            ("route", "status"),
            requests,
        )
        .counters(
            "symphony_refresh_requests",
            "POST /api/v1/refresh requests, by whether they joined a pending one",
            "coalesced",
            [("false", all - coalesced), ("true", coalesced)],
        )
        .count(
            "symphony_http_unauthorized",
            "Requests refused for a missing or wrong bearer token",
            counters.unauthorized.load(Ordering::Relaxed),
        )
        .counters2(
            "symphony_webhook_deliveries",
            "Webhook deliveries, by receiver kind and outcome",
            ("kind", "outcome"),
            webhooks,
        );
    symphony_metrics::exposition(service, &scrape)
}
