//! OpenTelemetry traces: `symphony --otlp-endpoint URL demo` exports its spans over OTLP/HTTP
//! (JSON encoding here, so the test reads them without a protobuf decoder) to a collector on
//! loopback that answers as the OpenTelemetry Collector does. The demo's whole loop is
//! there: ticks with their tracker reads, runs with their turns, gates and the hand-off's
//! tracker calls, nested and carrying issue and session attributes.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::process::Command;
use std::sync::{Arc, Mutex};

use serde_json::Value;

/// Export requests received: `(path, JSON body)`.
type Received = Arc<Mutex<Vec<(String, Value)>>>;

/// Accepts OTLP/HTTP exports on loopback; every request body is kept.
fn collector() -> (String, Received) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let received = Arc::new(Mutex::new(Vec::new()));
    let keep = Arc::clone(&received);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            let mut reader = BufReader::new(stream);
            let mut request_line = String::new();
            if reader.read_line(&mut request_line).is_err() {
                continue;
            }
            let mut length = 0;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line.trim().is_empty() {
                    break;
                }
                if let Some((name, value)) = line.split_once(':') {
                    if name.eq_ignore_ascii_case("content-length") {
                        length = value.trim().parse().unwrap_or(0);
                    }
                }
            }
            let mut body = vec![0; length];
            if reader.read_exact(&mut body).is_err() {
                continue;
            }
            let path = request_line
                .split_whitespace()
                .nth(1)
                .unwrap_or("")
                .to_owned();
            let parsed = serde_json::from_slice(&body).unwrap_or(Value::Null);
            keep.lock().unwrap().push((path, parsed));
            // An ExportTraceServiceResponse with nothing rejected.
            let answer = "{}";
            let _ = write!(
                reader.get_mut(),
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{answer}",
                answer.len()
            );
        }
    });
    (url, received)
}

/// One exported span: name, ids and attributes as strings.
#[derive(Debug)]
struct Span {
    name: String,
    span_id: String,
    parent: String,
    attributes: HashMap<String, String>,
}

fn spans(exports: &[(String, Value)]) -> (Vec<Span>, Vec<String>) {
    let mut spans = Vec::new();
    let mut services = Vec::new();
    for (_, export) in exports {
        for resource in export["resourceSpans"].as_array().into_iter().flatten() {
            for attr in resource["resource"]["attributes"]
                .as_array()
                .into_iter()
                .flatten()
            {
                if attr["key"] == "service.name" {
                    services.push(
                        attr["value"]["stringValue"]
                            .as_str()
                            .unwrap_or("")
                            .to_owned(),
                    );
                }
            }
            for scope in resource["scopeSpans"].as_array().into_iter().flatten() {
                for span in scope["spans"].as_array().into_iter().flatten() {
                    let attributes =
                        span["attributes"]
                            .as_array()
                            .into_iter()
                            .flatten()
                            .map(|a| {
                                let v = &a["value"];
                                let text =
                                    v["stringValue"].as_str().map(str::to_owned).unwrap_or_else(
                                        || v["intValue"].to_string().trim_matches('"').to_owned(),
                                    );
                                (a["key"].as_str().unwrap_or("").to_owned(), text)
                            })
                            .collect();
                    spans.push(Span {
                        name: span["name"].as_str().unwrap_or("").to_owned(),
                        span_id: span["spanId"].as_str().unwrap_or("").to_owned(),
                        parent: span["parentSpanId"].as_str().unwrap_or("").to_owned(),
                        attributes,
                    });
                }
            }
        }
    }
    (spans, services)
}

#[test]
fn the_demo_exports_nested_spans_with_issue_and_session_attributes() {
    let (url, received) = collector();
    let dir = tempfile::tempdir().unwrap();
    let demo = dir.path().join("demo");
    let out = Command::new(env!("CARGO_BIN_EXE_symphony"))
        .args([
            "--otlp-endpoint",
            &url,
            "demo",
            "--dir",
            demo.to_str().unwrap(),
        ])
        .env("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json")
        .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT")
        .env_remove("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The exporter is flushed before the process exits.
    let exports = received.lock().unwrap().clone();
    assert!(!exports.is_empty(), "nothing was exported");
    assert!(
        exports.iter().all(|(path, _)| path == "/v1/traces"),
        "{exports:?}"
    );
    let (spans, services) = spans(&exports);
    assert!(services.iter().all(|s| s == "symphony") && !services.is_empty());
    let named = |name: &'static str| spans.iter().filter(move |s| s.name == name);
    for name in ["tick", "run", "turn", "gate", "tracker_request"] {
        assert!(named(name).count() > 0, "no {name} span in {spans:#?}");
    }
    let run = named("run")
        .find(|s| s.attributes.get("issue_identifier").map(String::as_str) == Some("DEMO-1"))
        .expect("a run span of DEMO-1");
    assert!(run.attributes.contains_key("run_id"), "{run:?}");
    let turn = named("turn")
        .find(|s| s.parent == run.span_id)
        .expect("DEMO-1's turns are children of its run");
    assert!(
        turn.attributes
            .get("session_id")
            .is_some_and(|s| !s.is_empty()),
        "{turn:?}"
    );
    // Entered, not just created: the turn's work ran inside it.
    let busy = |s: &Span| {
        s.attributes
            .get("busy_ns")
            .and_then(|n| n.parse::<u64>().ok())
    };
    assert!(busy(turn).is_some_and(|n| n > 0), "{turn:?}");
    let gates: Vec<_> = named("gate").filter(|s| s.parent == run.span_id).collect();
    assert!(
        gates.iter().any(
            |g| g.attributes.get("gate").map(String::as_str) == Some("secrets")
                && g.attributes.get("status").map(String::as_str) == Some("fail")
                && busy(g).is_some_and(|n| n > 0)
        ),
        "the failed secrets gate is a span of the run: {gates:#?}"
    );
    let ticks: Vec<&str> = named("tick").map(|s| s.span_id.as_str()).collect();
    assert!(
        named("tracker_request").any(|r| ticks.contains(&r.parent.as_str())
            && r.attributes.get("operation").map(String::as_str) == Some("fetch_candidates")),
        "candidate reads are children of their tick"
    );
}
