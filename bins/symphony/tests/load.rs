//! The operator surface under load: `symphony run` with 20 `command` agents streaming events
//! (about 100 lines a second each), then 2,000 requests from 50 concurrent clients across the
//! API, the dashboard and `/metrics`. Every request must be answered without an error, and the
//! scheduler must keep ticking. The mean poll-tick time (from `/metrics`) with and without the
//! clients is printed with their ratio; it is not asserted on (machines are noisy).

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use support::{start_serving, wait_until};

const LIMIT: Duration = Duration::from_secs(120);
const AGENTS: usize = 20;
const CLIENTS: usize = 50;
const REQUESTS: usize = 2_000;
/// How long each phase measures ticks (the poll interval is 100 ms).
const PHASE: Duration = Duration::from_secs(3);

fn project(dir: &Path) {
    std::fs::create_dir_all(dir.join("issues")).unwrap();
    for n in 1..=AGENTS {
        std::fs::write(
            dir.join(format!("issues/L-{n}.md")),
            format!("---\ntitle: Load {n}\nstate: todo\n---\n"),
        )
        .unwrap();
    }
    // Bursts of ten lines, ten times a second: ~100 agent events a second per agent.
    std::fs::write(
        dir.join("WORKFLOW.md"),
        format!(
            "---\ntracker:\n  kind: local\n  provider:\n    path: ./issues\nworkspace:\n  root: ./ws\n\
             polling:\n  interval_ms: 100\nagent:\n  max_concurrent_agents: {AGENTS}\n  backend: command\n  \
             command: \"cat > /dev/null; while :; do for i in 0 1 2 3 4 5 6 7 8 9; do echo event $i; done; sleep 0.1; done\"\n\
             ---\nWork on {{{{ issue.identifier }}}}\n"
        ),
    )
    .unwrap();
}

/// One request; `(status, body)`, or the I/O error as text.
fn http(port: u16, path: &str) -> Result<(u16, String), String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .map_err(|e| e.to_string())?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .map_err(|e| e.to_string())?;
    let mut raw = String::new();
    stream.read_to_string(&mut raw).map_err(|e| e.to_string())?;
    let status = raw
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("no status line in {raw:?}"))?;
    let body = raw.split_once("\r\n\r\n").map_or("", |(_, b)| b).to_owned();
    Ok((status, body))
}

/// `(sum, count)` of the poll-tick histogram, from `/metrics` parsed as Prometheus would.
fn tick_sum_count(port: u16) -> (f64, f64) {
    let (status, text) = http(port, "/metrics").unwrap();
    assert_eq!(status, 200, "{text}");
    let parsed = prometheus_parse::Scrape::parse(text.lines().map(|l| Ok(l.to_owned())))
        .unwrap_or_else(|e| panic!("not Prometheus text: {e}\n{text}"));
    parsed
        .samples
        .iter()
        .find_map(|s| match &s.value {
            prometheus_parse::Value::Histogram(buckets)
                if s.metric == "symphony_tick_duration_seconds" =>
            {
                let count = buckets.last().map_or(0.0, |b| b.count);
                let sum = text
                    .lines()
                    .find_map(|l| l.strip_prefix("symphony_tick_duration_seconds_sum "))
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(0.0);
                Some((sum, count))
            }
            _ => None,
        })
        .unwrap_or_else(|| panic!("no tick histogram in\n{text}"))
}

/// Mean tick time (ms) and tick count over `PHASE`, while `during` runs.
fn measure_ticks(port: u16, during: impl FnOnce()) -> (f64, f64) {
    let before = tick_sum_count(port);
    let started = Instant::now();
    during();
    if let Some(rest) = PHASE.checked_sub(started.elapsed()) {
        std::thread::sleep(rest);
    }
    let after = tick_sum_count(port);
    let ticks = after.1 - before.1;
    let mean_ms = if ticks > 0.0 {
        (after.0 - before.0) / ticks * 1000.0
    } else {
        f64::NAN
    };
    (mean_ms, ticks)
}

#[test]
fn two_thousand_requests_from_fifty_clients_while_twenty_agents_stream() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    project(dir);
    let (child, port) = start_serving(dir, "warn,symphony=info", LIMIT);
    wait_until("all agents running and streaming", LIMIT, || {
        http(port, "/api/v1/state").is_ok_and(|(_, body)| {
            let state: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
            state["running"].as_array().is_some_and(|r| {
                r.len() == AGENTS && r.iter().all(|row| row["last_event"].is_string())
            })
        })
    });

    let (quiet_ms, quiet_ticks) = measure_ticks(port, || {});

    let next = Arc::new(AtomicUsize::new(0));
    let errors = Arc::new(std::sync::Mutex::new(Vec::new()));
    let answered = Arc::new(AtomicUsize::new(0));
    let mut load_elapsed = Duration::ZERO;
    let (loaded_ms, loaded_ticks) = measure_ticks(port, || {
        let started = Instant::now();
        let clients: Vec<_> = (0..CLIENTS)
            .map(|_| {
                let (next, errors, answered) = (next.clone(), errors.clone(), answered.clone());
                std::thread::spawn(move || loop {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    if n >= REQUESTS {
                        break;
                    }
                    let path = match n % 5 {
                        0 => "/api/v1/state".to_owned(),
                        1 => format!("/api/v1/L-{}", n % AGENTS + 1),
                        2 => "/metrics".to_owned(),
                        3 => "/".to_owned(),
                        _ => "/readyz".to_owned(),
                    };
                    match http(port, &path) {
                        Ok((200, _)) => {
                            answered.fetch_add(1, Ordering::Relaxed);
                        }
                        Ok((status, body)) => errors
                            .lock()
                            .unwrap()
                            .push(format!("{path}: {status} {body}")),
                        Err(e) => errors.lock().unwrap().push(format!("{path}: {e}")),
                    }
                })
            })
            .collect();
        for client in clients {
            client.join().unwrap();
        }
        load_elapsed = started.elapsed();
    });

    let errors = errors.lock().unwrap();
    let figures = format!(
        "load: {REQUESTS} requests from {CLIENTS} clients in {:.2} s ({:.0} req/s), {} errors; \
         {AGENTS} agents streaming\n\
         tick: {quiet_ms:.2} ms mean over {quiet_ticks} ticks without clients, {loaded_ms:.2} ms \
         over {loaded_ticks} ticks with them: {:.2}x (target <= 2x)\n",
        load_elapsed.as_secs_f64(),
        REQUESTS as f64 / load_elapsed.as_secs_f64(),
        errors.len(),
        loaded_ms / quiet_ms
    );
    eprint!("{figures}");
    // cargo test hides a passing test's output; CI prints this file.
    let report = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("target/tmp has a parent")
        .join("load-test.txt");
    std::fs::write(&report, &figures).unwrap();
    assert!(errors.is_empty(), "error responses: {:#?}", &errors[..]);
    assert_eq!(answered.load(Ordering::Relaxed), REQUESTS);
    assert!(
        quiet_ticks >= 1.0 && loaded_ticks >= 1.0,
        "the scheduler kept ticking ({quiet_ticks} and {loaded_ticks} ticks)"
    );
    // The agents were still streaming after the load: the service kept up with them.
    let (_, state) = http(port, "/api/v1/state").unwrap();
    let state: serde_json::Value = serde_json::from_str(&state).unwrap();
    assert_eq!(state["counts"]["running"], AGENTS, "{state}");
    child.stop(LIMIT);
}
