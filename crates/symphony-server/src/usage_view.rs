//! `GET /api/v1/usage`: the service over time, from the durable record — spend per UTC day
//! (the store's day totals, what the daily budget counts) and per hour of the last day (runs
//! by the hour they started), runs per day by outcome, and each gate's verdicts. The
//! dashboard's charts are drawn from exactly this.

use std::collections::BTreeMap;

use serde_json::{json, Value};
use symphony_store::{AuditEntry, RunRecord, Usage, DAY_MS};

/// Days shown when no `days` is given, and the most a request may ask for.
pub const DEFAULT_DAYS: u64 = 14;
/// The most days one request covers.
pub const MAX_DAYS: u64 = 90;
/// Runs read for the charts (the newest); older ones fall outside the window anyway.
pub const CHART_RUNS: usize = 5_000;
/// Gate verdicts read for the pass rates (the newest).
pub const CHART_VERDICTS: usize = 2_000;

const HOUR_MS: u64 = 3_600_000;

/// `day` (days since 1970-01-01) as `YYYY-MM-DD`.
pub fn date(day: u64) -> String {
    i64::try_from(day)
        .ok()
        .and_then(|d| chrono::DateTime::from_timestamp(d * 86_400, 0))
        .map_or_else(|| day.to_string(), |t| t.format("%Y-%m-%d").to_string())
}

fn spend(usage: &Usage) -> Value {
    json!({"tokens": usage.total_tokens, "cost_usd": usage.cost_usd()})
}

/// The view for the UTC days ending with `today` (`per_day`: each day's use, oldest first),
/// the `runs` and gate `verdicts` read, at store time `now_ms`.
pub fn usage(
    per_day: &[(u64, Usage)],
    runs: &[RunRecord],
    verdicts: &[AuditEntry],
    now_ms: u64,
) -> Value {
    let first_day = per_day.first().map_or(0, |(d, _)| *d);
    let mut outcomes: BTreeMap<u64, BTreeMap<&str, u64>> = BTreeMap::new();
    let last_hour = now_ms / HOUR_MS;
    let mut hours: BTreeMap<u64, Usage> = (last_hour.saturating_sub(23)..=last_hour)
        .map(|h| (h, Usage::default()))
        .collect();
    for run in runs {
        let day = run.started_at_ms / DAY_MS;
        if day >= first_day {
            let outcome = run.outcome.map_or("running", |o| o.as_str());
            *outcomes.entry(day).or_default().entry(outcome).or_default() += 1;
        }
        if let Some(used) = hours.get_mut(&(run.started_at_ms / HOUR_MS)) {
            *used = used.plus(&run.usage);
        }
    }
    let mut gates: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
    for entry in verdicts.iter().filter(|e| e.kind == "gate_verdict") {
        let (Some(gate), Some(status)) = (
            entry.detail["gate"].as_str(),
            entry.detail["status"].as_str(),
        ) else {
            continue;
        };
        *gates
            .entry(gate.to_owned())
            .or_default()
            .entry(status.to_owned())
            .or_default() += 1;
    }
    json!({
        "days": per_day.iter().map(|(day, used)| {
            let mut row = spend(used);
            row["utc_day"] = json!(date(*day));
            row["runs"] = json!(outcomes.get(day).cloned().unwrap_or_default());
            row
        }).collect::<Vec<_>>(),
        "hours": hours.iter().map(|(hour, used)| {
            let mut row = spend(used);
            row["hour"] = json!(crate::history::at_ms(hour * HOUR_MS));
            row
        }).collect::<Vec<_>>(),
        "gates": gates.iter().map(|(gate, statuses)| json!({"gate": gate, "verdicts": statuses}))
            .collect::<Vec<_>>(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(id: i64, started_at_ms: u64, outcome: Option<&str>, tokens: u64) -> RunRecord {
        RunRecord {
            id,
            issue_id: "1".into(),
            identifier: "A-1".into(),
            attempt: None,
            instance: "i".into(),
            host: "h".into(),
            workspace: None,
            started_at_ms,
            ended_at_ms: None,
            outcome: outcome.and_then(|o| match o {
                "succeeded" => Some(symphony_store::RunOutcome::Succeeded),
                "failed" => Some(symphony_store::RunOutcome::Failed),
                _ => None,
            }),
            error: None,
            pid: None,
            pid_start: None,
            usage: Usage::tokens(tokens, 0, tokens),
            events_total: 0,
            last_event: None,
        }
    }

    #[test]
    fn days_hours_outcomes_and_gates_are_bucketed() {
        let day = 20_000;
        let now = day * DAY_MS + 10 * HOUR_MS + 5;
        let view = usage(
            &[
                (day - 1, Usage::tokens(5, 5, 10).with_cost_usd(0.5)),
                (day, Usage::tokens(1, 1, 2)),
            ],
            &[
                run(1, day * DAY_MS + 10 * HOUR_MS, Some("succeeded"), 7),
                run(2, day * DAY_MS + 9 * HOUR_MS, Some("failed"), 3),
                run(3, (day - 1) * DAY_MS + HOUR_MS, Some("succeeded"), 1),
                run(4, (day - 9) * DAY_MS, Some("failed"), 1),
            ],
            &[
                verdict("secrets", "pass"),
                verdict("secrets", "fail"),
                verdict("secrets", "pass"),
                verdict("lint", "error"),
            ],
            now,
        );
        assert_eq!(view["days"][0]["utc_day"], date(day - 1));
        assert_eq!(view["days"][0]["cost_usd"], 0.5);
        assert_eq!(
            view["days"][1]["cost_usd"],
            Value::Null,
            "unpriced is not free"
        );
        assert_eq!(view["days"][0]["runs"], json!({"succeeded": 1}));
        assert_eq!(
            view["days"][1]["runs"],
            json!({"failed": 1, "succeeded": 1})
        );
        let hours = view["hours"].as_array().unwrap();
        assert_eq!(hours.len(), 24);
        assert_eq!(hours[23]["tokens"], 7);
        assert_eq!(hours[22]["tokens"], 3);
        assert_eq!(
            view["gates"],
            json!([
                {"gate": "lint", "verdicts": {"error": 1}},
                {"gate": "secrets", "verdicts": {"fail": 1, "pass": 2}},
            ])
        );
    }

    fn verdict(gate: &str, status: &str) -> AuditEntry {
        AuditEntry {
            seq: 1,
            at_ms: 0,
            instance: "i".into(),
            kind: "gate_verdict".into(),
            issue_id: None,
            identifier: None,
            detail: json!({"gate": gate, "status": status}),
            prev_hash: String::new(),
            hash: String::new(),
        }
    }
}
