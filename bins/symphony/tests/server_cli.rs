//! `symphony run --port 0` serves the SPEC §13.7 surface for the real service: the running
//! issue is in `/api/v1/state` and `/api/v1/<id>`, a refresh is accepted, the metrics count
//! it, and the server refuses to start open on a network address without a token.

mod support;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use support::{http, start_serving, wait_until};

const LIMIT: Duration = Duration::from_secs(60);

/// One parsed sample: name, sorted labels, value.
type Sample = (String, Vec<(String, String)>, f64);

/// `/metrics` parsed by a Prometheus text-format parser: `(name, labels) -> value`.
fn scrape(port: u16) -> Vec<Sample> {
    let (status, text) = http(port, "GET", "/metrics");
    assert_eq!(status, 200, "{text}");
    let parsed = prometheus_parse::Scrape::parse(text.lines().map(|l| Ok(l.to_owned())))
        .unwrap_or_else(|e| panic!("not Prometheus text: {e}\n{text}"));
    assert!(!parsed.samples.is_empty(), "{text}");
    parsed
        .samples
        .into_iter()
        .map(|s| {
            let value = match s.value {
                prometheus_parse::Value::Counter(v)
                | prometheus_parse::Value::Gauge(v)
                | prometheus_parse::Value::Untyped(v) => v,
                // A histogram stands for its observation count here.
                prometheus_parse::Value::Histogram(buckets) => {
                    buckets.last().map_or(0.0, |b| b.count)
                }
                other => panic!("unexpected {other:?}"),
            };
            let mut labels: Vec<(String, String)> = s
                .labels
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            labels.sort();
            (s.metric, labels, value)
        })
        .collect()
}

fn sample(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> f64 {
    samples
        .iter()
        .find(|(n, l, _)| {
            n == name
                && labels.len() == l.len()
                && labels
                    .iter()
                    .all(|(k, v)| l.iter().any(|(lk, lv)| lk == k && lv == v))
        })
        .map_or(0.0, |(_, _, v)| *v)
}

fn project(dir: &Path, server: &str) {
    std::fs::create_dir_all(dir.join("issues")).unwrap();
    std::fs::write(
        dir.join("issues/S-1.md"),
        "---\ntitle: A slow one\nstate: todo\n---\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("WORKFLOW.md"),
        format!(
            "---\ntracker:\n  kind: local\n  provider:\n    path: ./issues\nworkspace:\n  root: ./ws\npolling:\n  interval_ms: 500\nagent:\n  backend: command\n  command: \"cat > /dev/null; echo working; sleep 30\"\n{server}---\nWork on {{{{ issue.identifier }}}}\n"
        ),
    )
    .unwrap();
}

#[test]
fn run_with_a_port_serves_the_live_state_of_the_service() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    project(dir, "");
    let (child, port) = start_serving(dir, "info", LIMIT);
    wait_until("S-1 to be running", LIMIT, || {
        http(port, "GET", "/api/v1/state")
            .1
            .contains("\"issue_identifier\": \"S-1\"")
    });
    let (status, issue) = http(port, "GET", "/api/v1/S-1");
    assert_eq!(status, 200, "{issue}");
    assert!(issue.contains("\"status\": \"running\""), "{issue}");
    // The store's side: the run is in the history, with a log the API links to.
    let issue: serde_json::Value = serde_json::from_str(&issue).unwrap();
    let log_url = issue["recent_runs"][0]["log_url"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, runs) = http(port, "GET", "/api/v1/runs?issue=S-1");
    assert_eq!(status, 200, "{runs}");
    assert!(runs.contains(&log_url), "{runs}");
    wait_until("the agent's first line in its run log", LIMIT, || {
        http(port, "GET", &log_url).1.contains("working")
    });
    // The full log is a file next to the state database, where the API says it is.
    let log_path = issue["recent_runs"][0]["log_path"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(log_path.ends_with(".log"), "{log_path}");
    let file = std::fs::read_to_string(&log_path).unwrap();
    assert!(file.contains(" notification working"), "{file}");
    assert_eq!(http(port, "GET", &log_url).1, file);
    assert_eq!(http(port, "GET", "/api/v1/NOPE-9").0, 404);
    let before = scrape(port);
    assert_eq!(sample(&before, "symphony_running_sessions", &[]), 1.0);
    assert_eq!(sample(&before, "symphony_orchestrator_up", &[]), 1.0);
    // The service's own work is counted: the dispatch, the tracker reads, the poll ticks.
    assert_eq!(sample(&before, "symphony_dispatches_total", &[]), 1.0);
    assert!(
        sample(
            &before,
            "symphony_tracker_requests_total",
            &[("operation", "fetch_candidates"), ("outcome", "ok")]
        ) >= 1.0
    );
    assert!(sample(&before, "symphony_tick_duration_seconds", &[]) >= 1.0);
    let (status, refresh) = http(port, "POST", "/api/v1/refresh");
    assert_eq!(status, 202, "{refresh}");
    let after = scrape(port);
    let refreshes = |s: &[Sample]| {
        sample(
            s,
            "symphony_refresh_requests_total",
            &[("coalesced", "false")],
        )
    };
    assert_eq!(
        refreshes(&after),
        refreshes(&before) + 1.0,
        "the counter moved"
    );
    let states = |s: &[Sample]| {
        sample(
            s,
            "symphony_http_requests_total",
            &[("route", "/api/v1/state"), ("status", "200")],
        )
    };
    assert!(states(&after) >= 1.0);
    assert!(
        sample(&after, "symphony_agent_seconds_total", &[])
            >= sample(&before, "symphony_agent_seconds_total", &[]),
        "agent time only grows"
    );
    // The terminal view reads the same API.
    let status_view = Command::new(env!("CARGO_BIN_EXE_symphony"))
        .args([
            "status",
            "--once",
            "--url",
            &format!("http://127.0.0.1:{port}"),
        ])
        .current_dir(dir)
        .output()
        .unwrap();
    let frame = String::from_utf8_lossy(&status_view.stdout);
    assert!(
        status_view.status.success(),
        "{frame}{}",
        String::from_utf8_lossy(&status_view.stderr)
    );
    assert!(frame.contains("1 running"), "{frame}");
    assert!(
        frame
            .lines()
            .any(|l| l.starts_with("S-1") && l.contains("agent")),
        "{frame}"
    );
    assert!(
        frame.contains("RECENT GATE VERDICTS AND HAND-OFFS"),
        "{frame}"
    );
    let (status, page) = http(port, "GET", "/");
    assert_eq!(status, 200);
    assert!(page.contains("<tr data-issue=\"S-1\">"), "{page}");
    child.stop(LIMIT);
}

#[test]
fn a_network_bind_without_a_token_is_refused_at_start() {
    let dir = tempfile::tempdir().unwrap();
    project(dir.path(), "server:\n  port: 0\n  host: 0.0.0.0\n");
    let out = Command::new(env!("CARGO_BIN_EXE_symphony"))
        .arg("run")
        .current_dir(dir.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("error[invalid_server_config]") && stderr.contains("server.auth_token"),
        "{stderr}"
    );
}

#[test]
fn status_without_a_service_says_where_it_looked() {
    let dir = tempfile::tempdir().unwrap();
    project(dir.path(), "");
    let out = Command::new(env!("CARGO_BIN_EXE_symphony"))
        .args(["status", "--once"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("error[invalid_status_url]") && stderr.contains("--url"),
        "{stderr}"
    );
    // A port nothing listens on.
    let free = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_symphony"))
        .args(["status", "--once", "--url", &format!("http://{free}")])
        .current_dir(dir.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("error[status_unavailable]"), "{stderr}");
}
