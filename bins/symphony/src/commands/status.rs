//! `symphony status`: a terminal view of a running service, read from its HTTP API
//! (`/api/v1/state` and, when it keeps a store, `/api/v1/events`), redrawn in place every
//! interval until interrupted; `--once` prints one frame for scripts.

use std::io::{IsTerminal, Write};
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::Value;
use symphony_server::ServerConfig;
use symphony_workflow::{ProcessEnvironment, WorkflowSource};

use crate::failure::Failure;
use crate::trackers;

/// How long one request may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);
/// Recent gate verdicts and hand-offs shown.
const REVIEWS: usize = 5;

/// Where the service listens and the token it wants.
struct Target {
    /// `HOST:PORT`.
    host: String,
    token: Option<String>,
    client: reqwest::blocking::Client,
}

/// A client with the request time limit; plain HTTP only (the API serves no TLS).
fn client() -> Result<reqwest::blocking::Client, Failure> {
    reqwest::blocking::Client::builder()
        .timeout(REQUEST_TIMEOUT)
        .connect_timeout(REQUEST_TIMEOUT)
        .build()
        .map_err(|e| unreachable(format!("cannot start an HTTP client: {e}")))
}

fn unreachable(message: String) -> Failure {
    Failure::new("status_unavailable", message)
}

/// `http://HOST:PORT[/]` to its `HOST:PORT`, checked to name an address.
fn parse_url(url: &str) -> Result<String, Failure> {
    let rest = url.strip_prefix("http://").ok_or_else(|| {
        Failure::new(
            "invalid_status_url",
            format!("{url:?}: expected http://HOST:PORT (the API is plain HTTP on loopback)"),
        )
    })?;
    let authority = rest.trim_end_matches('/');
    if authority
        .to_socket_addrs()
        .ok()
        .and_then(|mut a| a.next())
        .is_none()
    {
        return Err(Failure::new(
            "invalid_status_url",
            format!("{url:?}: {authority:?} is not HOST:PORT"),
        ));
    }
    Ok(authority.to_owned())
}

/// The service's address: `--url`, else the workflow's `server:` section.
fn target(path: &Path, url: Option<&str>) -> Result<Target, Failure> {
    let workflow = WorkflowSource::open(path, trackers::registry(), Arc::new(ProcessEnvironment));
    let server = match &workflow {
        Ok(source) => ServerConfig::from_section(
            source.current().config.extensions.get("server"),
            None,
            |name| std::env::var(name).ok(),
        )
        .map_err(|e| Failure::new("invalid_server_config", e))?,
        Err(_) => None,
    };
    let token = server.as_ref().and_then(|s| s.auth_token.clone());
    if let Some(url) = url {
        let host = parse_url(url)?;
        return Ok(Target {
            host,
            token,
            client: client()?,
        });
    }
    // Without --url the workflow must load: it names the address.
    workflow?;
    match server {
        Some(server) if server.port != 0 => Ok(Target {
            host: SocketAddr::new(server.host, server.port).to_string(),
            token,
            client: client()?,
        }),
        _ => Err(Failure::new(
            "invalid_status_url",
            format!(
                "{} sets no fixed server.port; pass --url http://127.0.0.1:PORT (the address \
                 `symphony run` logged)",
                path.display()
            ),
        )),
    }
}

/// One GET; `(status, body)`.
fn get(target: &Target, path: &str) -> Result<(u16, String), Failure> {
    let failed = |e: reqwest::Error| {
        unreachable(format!(
            "cannot read http://{}{path}: {e} (is `symphony run` serving there?)",
            target.host
        ))
    };
    let mut request = target
        .client
        .get(format!("http://{}{path}", target.host))
        .header("accept", "application/json");
    if let Some(token) = &target.token {
        request = request.bearer_auth(token);
    }
    let response = request.send().map_err(failed)?;
    let status = response.status().as_u16();
    Ok((status, response.text().map_err(failed)?))
}

fn get_json(target: &Target, path: &str) -> Result<Option<Value>, Failure> {
    let (status, body) = get(target, path)?;
    match status {
        200 => serde_json::from_str(&body).map(Some).map_err(|e| {
            unreachable(format!(
                "http://{}{path} sent invalid JSON: {e}",
                target.host
            ))
        }),
        404 => Ok(None),
        401 => Err(unreachable(format!(
            "http://{} wants a bearer token: set server.auth_token in the workflow",
            target.host
        ))),
        other => Err(unreachable(format!(
            "http://{}{path} answered {other}: {}",
            target.host,
            body.trim()
        ))),
    }
}

fn time(value: &Value) -> Option<DateTime<Utc>> {
    value
        .as_str()
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.with_timezone(&Utc))
}

/// `1h02m`, `3m05s`, `12s`.
fn span(seconds: i64) -> String {
    let s = seconds.abs();
    let text = if s >= 3600 {
        format!("{}h{:02}m", s / 3600, s % 3600 / 60)
    } else if s >= 60 {
        format!("{}m{:02}s", s / 60, s % 60)
    } else {
        format!("{s}s")
    };
    if seconds < 0 {
        format!("-{text}")
    } else {
        text
    }
}

/// `text` cut to `width` characters (an ellipsis marks the cut).
fn fit(text: &str, width: usize) -> String {
    let one_line = text.replace(['\n', '\r', '\t'], " ");
    if one_line.chars().count() <= width {
        return one_line;
    }
    let mut cut: String = one_line.chars().take(width.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

fn str_of(value: &Value) -> String {
    match value {
        Value::Null => "-".to_owned(),
        Value::String(s) if s.is_empty() => "-".to_owned(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The budget an issue is closest to spending, as `tokens 70%` (`-` without budgets).
fn closest_budget(budget: &Value) -> String {
    budget
        .as_object()
        .into_iter()
        .flatten()
        .filter_map(|(kind, line)| {
            let used = line["used"].as_f64()?;
            let hard = line["hard"].as_f64().filter(|h| *h > 0.0)?;
            Some((kind, used / hard * 100.0))
        })
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map_or_else(|| "-".to_owned(), |(kind, pct)| format!("{kind} {pct:.0}%"))
}

/// The day's use against its limits, when a daily limit is set.
fn day_budget(budget: &Value) -> Option<String> {
    let part = |key: &str, money: bool| -> Option<String> {
        let line = &budget[key];
        let hard = line["hard"].as_f64()?;
        let used = line["used"].as_f64().unwrap_or(0.0);
        Some(if money {
            format!("${used:.2} of ${hard:.2}")
        } else {
            format!("{used} of {hard} tokens")
        })
    };
    let parts: Vec<String> = [part("cost_usd", true), part("tokens", false)]
        .into_iter()
        .flatten()
        .collect();
    (!parts.is_empty()).then(|| {
        format!(
            "Budget today ({}): {}",
            str_of(&budget["utc_day"]),
            parts.join(", ")
        )
    })
}

/// One frame: totals, running sessions, the retry queue and recent reviews.
pub(crate) fn render(
    state: &Value,
    (reviews, watched): (Option<&Value>, Option<&Value>),
    width: usize,
) -> String {
    let now = time(&state["generated_at"]).unwrap_or_else(Utc::now);
    let since = |v: &Value| time(v).map_or("-".to_owned(), |t| span((now - t).num_seconds()));
    let until = |v: &Value| time(v).map_or("-".to_owned(), |t| span((t - now).num_seconds()));
    let mut out = String::new();
    let totals = &state["codex_totals"];
    out.push_str(&format!(
        "Symphony · {} running · {} retrying · {} tokens{} · {} s agent time · {}\n",
        str_of(&state["counts"]["running"]),
        str_of(&state["counts"]["retrying"]),
        str_of(&totals["total_tokens"]),
        // A cost only when agents reported one (not reported is not free).
        totals["cost_usd"]
            .as_f64()
            .and_then(symphony_core::micros_of_usd)
            .map_or_else(String::new, |m| format!(" · {}", symphony_core::dollars(m))),
        str_of(&totals["seconds_running"]),
        now.format("%H:%M:%S UTC"),
    ));
    if let Some(error) = state["health"]["store_error"].as_str() {
        out.push_str(&fit(&format!("! state store cannot write: {error}"), width));
        out.push('\n');
    }
    if let Some(error) = state["health"]["config_error"].as_str() {
        out.push_str(&fit(&format!("! not dispatching new work: {error}"), width));
        out.push('\n');
    }
    if let Some(held) = state["budget"]["dispatch_held"]["message"].as_str() {
        out.push_str(&fit(
            &format!("! {held}: no new work until the next UTC day"),
            width,
        ));
        out.push('\n');
    }
    if let Some(line) = day_budget(&state["budget"]) {
        out.push_str(&fit(&line, width));
        out.push('\n');
    }
    out.push_str("\nRUNNING\n");
    out.push_str(&format!(
        "{:<16} {:<14} {:<6} {:>5} {:>8} {:>9} {:<12}  {}\n",
        "ISSUE", "STATE", "STAGE", "TURNS", "AGE", "TOKENS", "BUDGET", "LAST EVENT"
    ));
    let running = state["running"].as_array().cloned().unwrap_or_default();
    if running.is_empty() {
        out.push_str("  (nothing running)\n");
    }
    for r in &running {
        let stage = if r["stage"] == "agent" {
            "agent"
        } else {
            "gates"
        };
        let last = format!(
            "{} {} ({} ago)",
            str_of(&r["last_event"]),
            r["last_message"].as_str().unwrap_or_default(),
            since(&r["last_event_at"]),
        );
        let line = format!(
            "{:<16} {:<14} {:<6} {:>5} {:>8} {:>9} {:<12}  {}",
            fit(&str_of(&r["issue_identifier"]), 16),
            fit(&str_of(&r["state"]), 14),
            stage,
            str_of(&r["turn_count"]),
            since(&r["started_at"]),
            str_of(&r["tokens"]["total_tokens"]),
            fit(&closest_budget(&r["budget"]), 12),
            last,
        );
        out.push_str(&fit(&line, width));
        out.push('\n');
    }
    out.push_str("\nRETRY QUEUE\n");
    out.push_str(&format!(
        "{:<16} {:>7} {:>8}  {}\n",
        "ISSUE", "ATTEMPT", "DUE IN", "ERROR"
    ));
    let retrying = state["retrying"].as_array().cloned().unwrap_or_default();
    if retrying.is_empty() {
        out.push_str("  (no retries queued)\n");
    }
    for r in &retrying {
        let line = format!(
            "{:<16} {:>7} {:>8}  {}",
            fit(&str_of(&r["issue_identifier"]), 16),
            str_of(&r["attempt"]),
            until(&r["due_at"]),
            str_of(&r["error"]),
        );
        out.push_str(&fit(&line, width));
        out.push('\n');
    }
    if let Some(rows) = watched.and_then(|w| w["reviews"].as_array()) {
        out.push_str("\nIN REVIEW\n");
        out.push_str(&format!(
            "{:<16} {:>5} {:<28} {}\n",
            "ISSUE", "ROUND", "AWAITING", "CHANGE"
        ));
        if rows.is_empty() {
            out.push_str("  (nothing under review)\n");
        }
        for r in rows {
            let awaiting = match r["awaiting"].as_str() {
                Some("agent") => format!(
                    "agent ({} feedback item(s))",
                    r["pending_feedback"].as_u64().unwrap_or(0)
                ),
                _ => "reviewers".to_owned(),
            };
            let change = r["url"]
                .as_str()
                .map_or_else(|| str_of(&r["branch"]), str::to_owned);
            let line = format!(
                "{:<16} {:>5} {:<28} {change}",
                fit(&str_of(&r["issue_identifier"]), 16),
                str_of(&r["round"]),
                awaiting,
            );
            out.push_str(&fit(&line, width));
            out.push('\n');
        }
    }
    if let Some(events) = reviews.and_then(|r| r["events"].as_array()) {
        out.push_str("\nRECENT GATE VERDICTS AND HAND-OFFS\n");
        if events.is_empty() {
            out.push_str("  (none yet)\n");
        }
        for e in events {
            let d = &e["detail"];
            let what = match e["kind"].as_str().unwrap_or_default() {
                "gate_verdict" => format!(
                    "gate {} {}: {}",
                    str_of(&d["gate"]),
                    str_of(&d["status"]),
                    str_of(&d["summary"])
                ),
                "handed_off" => format!(
                    "handed off to {} {}",
                    str_of(&d["state"]),
                    str_of(&d["url"])
                ),
                "change_proposed" => {
                    format!("proposed {} {}", str_of(&d["branch"]), str_of(&d["url"]))
                }
                "handoff_failed" => format!("hand-off failed: {}", str_of(&d["error"])),
                other => other.to_owned(),
            };
            let line = format!(
                "{:>8} ago  {:<16} {what}",
                since(&e["at"]),
                fit(&str_of(&e["issue_identifier"]), 16)
            );
            out.push_str(&fit(&line, width));
            out.push('\n');
        }
    }
    out
}

fn frame(target: &Target, width: usize) -> Result<String, Failure> {
    let state = get_json(target, "/api/v1/state")?
        .ok_or_else(|| unreachable(format!("http://{} has no /api/v1/state", target.host)))?;
    let kinds = "gate_verdict,change_proposed,handed_off,handoff_failed";
    let reviews = get_json(
        target,
        &format!("/api/v1/events?kind={kinds}&limit={REVIEWS}"),
    )?;
    let watched = get_json(target, "/api/v1/reviews")?;
    Ok(render(&state, (reviews.as_ref(), watched.as_ref()), width))
}

fn terminal_width() -> usize {
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse().ok())
        .filter(|&c: &usize| c >= 40)
        .unwrap_or(120)
}

pub fn run(path: &Path, url: Option<&str>, once: bool, interval: Duration) -> Result<(), Failure> {
    let target = target(path, url)?;
    let width = terminal_width();
    let mut stdout = std::io::stdout();
    if once || !stdout.is_terminal() {
        let text = frame(&target, width)?;
        let _ = stdout.write_all(text.as_bytes());
        return Ok(());
    }
    loop {
        // Home and clear, then the frame: redrawn in place, like `top`.
        let text = match frame(&target, width) {
            Ok(text) => text,
            Err(e) => format!(
                "{e}\n(retrying every {} s; Ctrl-C to quit)\n",
                interval.as_secs()
            ),
        };
        let _ = write!(stdout, "\x1b[H\x1b[2J{text}");
        let _ = stdout.flush();
        std::thread::sleep(interval);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_frame_shows_sessions_retries_and_reviews_cut_to_width() {
        let state = json!({
            "generated_at": "2026-11-24T10:00:00Z",
            "counts": {"running": 1, "retrying": 1},
            "running": [{"issue_identifier": "widgets#7", "state": "in-progress", "stage": "agent",
                "turn_count": 3, "started_at": "2026-11-24T09:58:55Z", "last_event": "notification",
                "last_message": "Working on tests\nline two", "last_event_at": "2026-11-24T09:59:59Z",
                "tokens": {"total_tokens": 2000},
                "budget": {"tokens": {"used": 7000, "hard": 10000}, "cost_usd": {"used": 1.31, "hard": 2.0}}}],
            "retrying": [{"issue_identifier": "widgets#9", "attempt": 3,
                "due_at": "2026-11-24T10:00:30Z",
                "error": "agent turn error [turn_timeout]: no answer in 3600 s and a very long tail that is cut"}],
            "codex_totals": {"total_tokens": 9400, "seconds_running": 1834.2, "cost_usd": 1.25},
            "health": {"config_error": "workflow_parse_error: bad YAML"},
            "budget": {"utc_day": "2026-11-24", "tokens": {"used": 69000, "hard": null},
                "cost_usd": {"used": 10.2, "hard": 10.0},
                "dispatch_held": {"budget": "daily_cost",
                    "message": "daily_cost budget: used $10.20 of a limit of $10.00 (budgets.per_day.cost_usd)"}},
        });
        let reviews = json!({"events": [{"at": "2026-11-24T09:59:00Z", "kind": "gate_verdict",
            "issue_identifier": "widgets#7",
            "detail": {"gate": "secrets", "status": "fail", "summary": "1 secret"}}]});
        let watched = serde_json::json!({"count": 2, "reviews": [
            {"issue_identifier": "widgets#7", "round": 1, "awaiting": "agent", "pending_feedback": 2,
             "url": "https://github.example/acme/widgets/pull/12", "branch": "symphony/widgets-7"},
            {"issue_identifier": "DEMO-2", "round": 0, "awaiting": "reviewers", "url": null,
             "branch": "symphony/DEMO-2"},
        ]});
        insta::assert_snapshot!(render(&state, (Some(&reviews), Some(&watched)), 100));
    }

    #[test]
    fn urls_must_be_plain_http_host_and_port() {
        assert!(parse_url("http://127.0.0.1:8080/").is_ok());
        assert!(parse_url("https://127.0.0.1:8080").is_err());
        assert!(parse_url("http://127.0.0.1").is_err());
        assert_eq!(span(3725), "1h02m");
        assert_eq!(span(-5), "-5s");
        assert_eq!(fit("abcdef", 4), "abc…");
    }
}
