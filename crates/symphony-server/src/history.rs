//! What the durable store remembers, over HTTP: run history (`/api/v1/runs`), one run with its
//! kept agent events (`/api/v1/runs/{id}`), the run's agent log as text
//! (`/api/v1/runs/{id}/log`, the per-run log the API links to), and the recent decisions of the
//! audit log (`/api/v1/events`: gate verdicts, hand-offs, retries), and the changes under
//! review that Symphony watches (`/api/v1/reviews`, ADR 0018).

use std::fmt::Write as _;
use std::path::Path;

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{json, Value};
use symphony_store::{AuditEntry, EventRecord, ReviewWatch, RunRecord};

/// Runs listed when no `limit` is given, and the most a request may ask for.
pub const DEFAULT_RUNS: usize = 50;
/// The most runs one request returns.
pub const MAX_RUNS: usize = 500;
/// Agent events returned with one run (the newest; the log has them all).
pub const RUN_EVENTS: usize = 200;
/// Audit entries returned when no `limit` is given.
pub const DEFAULT_EVENTS: usize = 50;

/// Audit kinds the dashboard shows as "recent gate verdicts and hand-offs".
pub const REVIEW_KINDS: &[&str] = &[
    "gate_verdict",
    "changelog_generated",
    "change_proposed",
    "handed_off",
    "handoff_failed",
    "review_round_started",
    "review_watch_ended",
];

/// The changes under review Symphony watches: where each is, its round, and what it awaits
/// (`reviewers` while nothing is pending, `agent` while a round's feedback waits for its run).
pub fn reviews(watches: &[ReviewWatch]) -> Value {
    let rows: Vec<Value> = watches
        .iter()
        .map(|w| {
            let pending = w
                .pending
                .as_deref()
                .and_then(|p| serde_json::from_str::<Value>(p).ok());
            json!({
                "issue_id": w.issue_id,
                "issue_identifier": w.identifier,
                "branch": w.branch,
                "base_branch": w.base_branch,
                "number": w.number,
                "url": w.url,
                "head_sha": w.head_sha,
                "round": w.round,
                "awaiting": if w.pending.is_some() { "agent" } else { "reviewers" },
                "pending_feedback": pending
                    .as_ref()
                    .and_then(|p| p["feedback"].as_array())
                    .map(Vec::len),
                "since": at_ms(w.since_ms),
                "updated_at": at_ms(w.updated_ms),
            })
        })
        .collect();
    json!({ "count": rows.len(), "reviews": rows })
}

/// A store time (milliseconds since the Unix epoch) as RFC 3339.
pub fn at_ms(ms: u64) -> Option<String> {
    let ms = i64::try_from(ms).ok()?;
    DateTime::<Utc>::from_timestamp_millis(ms).map(|t| t.to_rfc3339_opts(SecondsFormat::Secs, true))
}

/// The run's agent log file, when run logs are kept and this run has one.
fn log_file(logs: Option<&Path>, run_id: i64) -> Option<String> {
    let path = symphony_orchestrator::run_log_path(logs?, run_id);
    path.is_file().then(|| path.display().to_string())
}

/// One run, with links to its details and log (`logs`: the run-log folder, if kept).
pub fn run(record: &RunRecord, logs: Option<&Path>) -> Value {
    json!({
        "run_id": record.id,
        "issue_id": record.issue_id,
        "issue_identifier": record.identifier,
        "attempt": record.attempt,
        "instance": record.instance,
        "host": record.host,
        "workspace": record.workspace,
        "started_at": at_ms(record.started_at_ms),
        "ended_at": record.ended_at_ms.and_then(at_ms),
        "outcome": record.outcome.map(|o| o.as_str()),
        "error": record.error,
        "tokens": crate::api::usage(&record.usage),
        "events_total": record.events_total,
        "last_event": record.last_event,
        "url": format!("/api/v1/runs/{}", record.id),
        "log_url": format!("/api/v1/runs/{}/log", record.id),
        "log_path": log_file(logs, record.id),
    })
}

/// `GET /api/v1/runs`.
pub fn runs(records: &[RunRecord], logs: Option<&Path>) -> Value {
    json!({"runs": records.iter().map(|r| run(r, logs)).collect::<Vec<_>>()})
}

fn event(record: &EventRecord) -> Value {
    json!({
        "seq": record.seq,
        "at": at_ms(record.at_ms),
        "event": record.kind,
        "message": record.message,
    })
}

/// `GET /api/v1/runs/{id}`: the run and its newest kept events, oldest first.
pub fn run_detail(record: &RunRecord, events: &[EventRecord], logs: Option<&Path>) -> Value {
    let newest = &events[events.len().saturating_sub(RUN_EVENTS)..];
    json!({
        "run": run(record, logs),
        "events_kept": events.len(),
        "events": newest.iter().map(event).collect::<Vec<_>>(),
    })
}

/// `GET /api/v1/runs/{id}/log` when no run-log file exists: one line per event the store kept.
pub fn run_log(record: &RunRecord, events: &[EventRecord]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# run {} of {} ({}), {} events reported, {} kept",
        record.id,
        record.identifier,
        record
            .attempt
            .map_or_else(|| "first run".to_owned(), |a| format!("retry attempt {a}")),
        record.events_total,
        events.len()
    );
    for e in events {
        let _ = writeln!(
            out,
            "{} {:>6} {} {}",
            at_ms(e.at_ms).unwrap_or_default(),
            e.seq,
            e.kind,
            e.message
                .as_deref()
                .unwrap_or_default()
                .replace('\n', "\n    ")
        );
    }
    out
}

/// One audit entry.
pub fn audit(entry: &AuditEntry) -> Value {
    json!({
        "seq": entry.seq,
        "at": at_ms(entry.at_ms),
        "kind": entry.kind,
        "issue_identifier": entry.identifier,
        "instance": entry.instance,
        "detail": entry.detail,
    })
}

/// `GET /api/v1/events`, newest first.
pub fn events(entries: &[AuditEntry]) -> Value {
    json!({"events": entries.iter().rev().map(audit).collect::<Vec<_>>()})
}

/// `name=value` pairs of a query string, percent-decoded (`+` is a space).
pub fn query_pairs(query: Option<&str>) -> Vec<(String, String)> {
    form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .into_owned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_are_percent_decoded_and_bad_escapes_kept() {
        assert_eq!(
            query_pairs(Some(
                "issue=widgets%237&limit=5&x=a+b&bad=%zz&%C3%A9=%é&end=%4"
            )),
            vec![
                ("issue".into(), "widgets#7".into()),
                ("limit".into(), "5".into()),
                ("x".into(), "a b".into()),
                ("bad".into(), "%zz".into()),
                ("é".into(), "%é".into()),
                ("end".into(), "%4".into()),
            ]
        );
        assert!(query_pairs(None).is_empty());
    }

    #[test]
    fn store_times_are_rfc3339() {
        assert_eq!(at_ms(0).as_deref(), Some("1970-01-01T00:00:00Z"));
        assert_eq!(at_ms(u64::MAX), None);
    }
}
