//! `GET /metrics` in the Prometheus text exposition format (version 0.0.4): gauges from the
//! orchestrator's snapshot, counters the server keeps itself.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use symphony_orchestrator::{Family, MetricKind, SampleValue, Snapshot};

/// Counters of the server's own traffic.
#[derive(Debug, Default)]
pub struct ServerCounters {
    requests: Mutex<BTreeMap<(&'static str, u16), u64>>,
    refreshes: AtomicU64,
    refreshes_coalesced: AtomicU64,
    unauthorized: AtomicU64,
    webhooks: Mutex<BTreeMap<&'static str, u64>>,
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

    /// Counts a webhook delivery by outcome.
    pub fn webhook(&self, outcome: &'static str) {
        *self
            .webhooks
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(outcome)
            .or_default() += 1;
    }

    /// Counts a request refused for want of a valid token.
    pub fn unauthorized(&self) {
        self.unauthorized.fetch_add(1, Ordering::Relaxed);
    }
}

fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

/// A label value with `\`, `"` and newlines escaped, as the text format requires.
fn escape_label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn labels(pairs: &[(&str, String)], extra: Option<(&str, String)>) -> String {
    let all: Vec<String> = pairs
        .iter()
        .map(|(k, v)| (*k, v.clone()))
        .chain(extra)
        .map(|(k, v)| format!("{k}=\"{}\"", escape_label(&v)))
        .collect();
    if all.is_empty() {
        String::new()
    } else {
        format!("{{{}}}", all.join(","))
    }
}

/// Renders the orchestrator's families: counters and gauges as one line per sample,
/// histograms as cumulative `_bucket` lines with `le`, then `_sum` and `_count`.
fn render_families(out: &mut String, families: &[Family]) {
    for f in families {
        let kind = match f.kind {
            MetricKind::Counter => "counter",
            MetricKind::Gauge => "gauge",
            MetricKind::Histogram => "histogram",
        };
        family(out, f.name, kind, f.help);
        for sample in &f.samples {
            match &sample.value {
                SampleValue::Number(v) => {
                    let _ = writeln!(out, "{}{} {v}", f.name, labels(&sample.labels, None));
                }
                SampleValue::Histogram(h) => {
                    for (bound, n) in &h.buckets {
                        let le = Some(("le", bound.to_string()));
                        let _ =
                            writeln!(out, "{}_bucket{} {n}", f.name, labels(&sample.labels, le));
                    }
                    let inf = Some(("le", "+Inf".to_owned()));
                    let _ = writeln!(
                        out,
                        "{}_bucket{} {}",
                        f.name,
                        labels(&sample.labels, inf),
                        h.count
                    );
                    let _ = writeln!(
                        out,
                        "{}_sum{} {}",
                        f.name,
                        labels(&sample.labels, None),
                        h.sum
                    );
                    let _ = writeln!(
                        out,
                        "{}_count{} {}",
                        f.name,
                        labels(&sample.labels, None),
                        h.count
                    );
                }
            }
        }
    }
}

/// The exposition text; `snapshot` is `None` when the orchestrator did not answer.
pub fn render(
    snapshot: Option<&Snapshot>,
    service: &[Family],
    counters: &ServerCounters,
) -> String {
    let mut out = String::new();
    render_families(&mut out, service);
    family(
        &mut out,
        "symphony_orchestrator_up",
        "gauge",
        "1 when the orchestrator answered this scrape.",
    );
    let _ = writeln!(
        out,
        "symphony_orchestrator_up {}",
        u8::from(snapshot.is_some())
    );
    if let Some(s) = snapshot {
        family(
            &mut out,
            "symphony_running_sessions",
            "gauge",
            "Agent sessions running now.",
        );
        let _ = writeln!(out, "symphony_running_sessions {}", s.running.len());
        family(
            &mut out,
            "symphony_gating_sessions",
            "gauge",
            "Sessions in Symphony's own gates or hand-off.",
        );
        let _ = writeln!(
            out,
            "symphony_gating_sessions {}",
            s.running.iter().filter(|r| r.gating).count()
        );
        family(
            &mut out,
            "symphony_retry_queue_length",
            "gauge",
            "Issues waiting for a retry.",
        );
        let _ = writeln!(out, "symphony_retry_queue_length {}", s.retrying.len());
        family(
            &mut out,
            "symphony_tokens_total",
            "counter",
            "Model tokens spent by agents (finished runs and running sessions).",
        );
        // The scheduler's totals already hold running sessions' tokens as they are reported
        // (and only ever grow); adding the running rows again counted them twice and made the
        // counter fall when a session ended.
        let _ = writeln!(
            out,
            "symphony_tokens_total{{kind=\"input\"}} {}",
            s.totals.input_tokens
        );
        let _ = writeln!(
            out,
            "symphony_tokens_total{{kind=\"output\"}} {}",
            s.totals.output_tokens
        );
        family(
            &mut out,
            "symphony_agent_seconds_total",
            "counter",
            "Seconds agents have run, finished runs and running sessions.",
        );
        let _ = writeln!(out, "symphony_agent_seconds_total {:.3}", s.seconds_running);
    }
    family(
        &mut out,
        "symphony_http_requests_total",
        "counter",
        "Requests the server answered, by route and status.",
    );
    for ((route, status), n) in counters
        .requests
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .iter()
    {
        let _ = writeln!(
            out,
            "symphony_http_requests_total{{route=\"{route}\",status=\"{status}\"}} {n}"
        );
    }
    family(
        &mut out,
        "symphony_refresh_requests_total",
        "counter",
        "POST /api/v1/refresh requests, by whether they joined a pending one.",
    );
    let all = counters.refreshes.load(Ordering::Relaxed);
    let coalesced = counters.refreshes_coalesced.load(Ordering::Relaxed);
    let _ = writeln!(
        out,
        "symphony_refresh_requests_total{{coalesced=\"false\"}} {}",
        all - coalesced
    );
    let _ = writeln!(
        out,
        "symphony_refresh_requests_total{{coalesced=\"true\"}} {coalesced}"
    );
    family(
        &mut out,
        "symphony_http_unauthorized_total",
        "counter",
        "Requests refused for a missing or wrong bearer token.",
    );
    let _ = writeln!(
        out,
        "symphony_http_unauthorized_total {}",
        counters.unauthorized.load(Ordering::Relaxed)
    );
    family(
        &mut out,
        "symphony_webhook_deliveries_total",
        "counter",
        "GitHub webhook deliveries, by outcome.",
    );
    for (outcome, n) in counters
        .webhooks
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .iter()
    {
        let _ = writeln!(
            out,
            "symphony_webhook_deliveries_total{{outcome=\"{outcome}\"}} {n}"
        );
    }
    out
}
