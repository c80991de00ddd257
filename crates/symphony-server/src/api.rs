//! The JSON shapes of SPEC §13.7.2, built from an orchestrator snapshot. Kept apart from the
//! handlers so the dashboard renders exactly what the API returns.

use chrono::{DateTime, Duration as ChronoDuration, SecondsFormat, Utc};
use serde_json::{json, Value};
use symphony_orchestrator::{RetryRow, RunningRow, Snapshot};
use symphony_store::Usage;

fn at(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn ago(now: DateTime<Utc>, ms: u64) -> String {
    at(now - ChronoDuration::milliseconds(i64::try_from(ms).unwrap_or(i64::MAX)))
}

fn ahead(now: DateTime<Utc>, ms: u64) -> String {
    at(now + ChronoDuration::milliseconds(i64::try_from(ms).unwrap_or(i64::MAX)))
}

/// Tokens by kind and the agent's own price (`cost_usd`: `null` when it reported none, which
/// is not the same as free).
pub(crate) fn usage(u: &Usage) -> Value {
    json!({
        "input_tokens": u.input_tokens,
        "cache_read_tokens": u.cache_read_tokens,
        "cache_write_tokens": u.cache_write_tokens,
        "output_tokens": u.output_tokens,
        "total_tokens": u.total_tokens,
        "cost_usd": u.cost_usd(),
    })
}

fn running_row(now: DateTime<Utc>, r: &RunningRow) -> Value {
    json!({
        "issue_id": r.issue_id,
        "issue_identifier": r.identifier,
        "issue_url": r.url,
        "state": r.state,
        "session_id": r.session_id,
        "turn_count": r.turn_count,
        "attempt": r.attempt,
        "stage": if r.gating { "gates_and_handoff" } else { "agent" },
        "stopping": r.stopping.map(|s| match s {
            symphony_orchestrator::StopReason::Budget(kind) => format!("budget:{kind}"),
            other => other.as_str().to_owned(),
        }),
        "last_event": r.last_event,
        "last_message": r.last_message.clone().unwrap_or_default(),
        "started_at": ago(now, r.running_ms),
        "last_event_at": r.last_event_ms_ago.map(|ms| ago(now, ms)),
        "tokens": usage(&r.tokens),
        "budget": crate::budget_json::issue(&r.spend, &r.limits),
    })
}

fn retry_row(now: DateTime<Utc>, r: &RetryRow) -> Value {
    json!({
        "issue_id": r.issue_id,
        "issue_identifier": r.identifier,
        "issue_url": r.url,
        "attempt": r.attempt,
        "due_at": ahead(now, r.due_in_ms),
        "error": r.error,
    })
}

/// Usage totals over finished runs and the sessions still running: the scheduler's totals hold
/// both (running sessions' usage is added as it is reported), so nothing is added here.
fn totals(snapshot: &Snapshot) -> Value {
    let mut totals = usage(&snapshot.totals.usage);
    totals["seconds_running"] = json!((snapshot.seconds_running * 10.0).round() / 10.0);
    totals
}

/// `GET /api/v1/state`.
pub fn state(now: DateTime<Utc>, snapshot: &Snapshot) -> Value {
    let mut running: Vec<&RunningRow> = snapshot.running.iter().collect();
    running.sort_by(|a, b| a.identifier.cmp(&b.identifier));
    let mut retrying: Vec<&RetryRow> = snapshot.retrying.iter().collect();
    retrying.sort_by_key(|r| (r.due_in_ms, r.identifier.clone()));
    json!({
        "generated_at": at(now),
        "counts": {"running": running.len(), "retrying": retrying.len()},
        "running": running.iter().map(|r| running_row(now, r)).collect::<Vec<_>>(),
        "retrying": retrying.iter().map(|r| retry_row(now, r)).collect::<Vec<_>>(),
        "codex_totals": totals(snapshot),
        "rate_limits": snapshot.rate_limits,
        "budget": crate::budget_json::day(&snapshot.day),
        "backlog": snapshot.backlog.iter().map(|b| json!({
            "issue_id": b.issue_id,
            "issue_identifier": b.identifier,
            "issue_url": b.url,
            "title": b.title,
            "state": b.state,
            "priority": b.priority,
            "waiting": b.waiting,
            "why": b.why,
            "budget": crate::budget_json::issue(&b.spent.unwrap_or_default(), &b.limits),
        })).collect::<Vec<_>>(),
        "health": {"config_error": snapshot.config_error, "store_error": snapshot.store_error},
    })
}

/// `GET /api/v1/<issue_identifier>`, or `None` when the issue is neither running nor queued.
pub fn issue(now: DateTime<Utc>, snapshot: &Snapshot, identifier: &str) -> Option<Value> {
    let running = snapshot.running.iter().find(|r| r.identifier == identifier);
    let retry = snapshot
        .retrying
        .iter()
        .find(|r| r.identifier == identifier);
    let issue_id = running
        .map(|r| r.issue_id.clone())
        .or_else(|| retry.map(|r| r.issue_id.clone()))?;
    let status = if running.is_some() {
        "running"
    } else {
        "retrying"
    };
    let attempt = running
        .and_then(|r| r.attempt)
        .or_else(|| retry.map(|r| r.attempt));
    Some(json!({
        "issue_identifier": identifier,
        "issue_id": issue_id,
        "status": status,
        "attempts": {
            "restart_count": attempt.map_or(0, |a| a.saturating_sub(1)),
            "current_retry_attempt": attempt,
        },
        "running": running.map(|r| running_row(now, r)),
        "retry": retry.map(|r| retry_row(now, r)),
        "last_error": retry.and_then(|r| r.error.clone()),
    }))
}

/// The error envelope of every API error.
pub fn error(code: &str, message: &str) -> Value {
    json!({"error": {"code": code, "message": message}})
}
