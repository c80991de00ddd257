//! The budgets' JSON (ADR 0023): what an issue used against its limits, and the day's use
//! against the daily ones, for the API and the dashboard. Amounts are in the limits' own
//! units: tokens, US dollars, minutes, counts.

use serde_json::{json, Value};
use symphony_core::usd_of_micros;
use symphony_orchestrator::{BudgetKind, DayBudget, IssueLimits, Limit, Spend};

/// An amount of `kind` in its unit for people (dollars, minutes, counts).
fn amount(kind: BudgetKind, value: u64) -> Value {
    match kind {
        BudgetKind::Cost | BudgetKind::DailyCost => json!(usd_of_micros(value)),
        BudgetKind::AgentTime => json!((value as f64 / 6_000.0).round() / 10.0),
        _ => json!(value),
    }
}

/// One budget: used, thresholds and what is left before the hard one (`null`: none set).
fn line(kind: BudgetKind, used: Option<u64>, limit: Limit) -> Value {
    json!({
        "used": used.map(|u| amount(kind, u)),
        "soft": limit.soft.map(|s| amount(kind, s)),
        "hard": limit.hard.map(|h| amount(kind, h)),
        "remaining": limit.hard.zip(used).map(|(h, u)| amount(kind, h.saturating_sub(u))),
    })
}

/// An issue's use against its limits; only the limits that are set.
pub(crate) fn issue(spend: &Spend, limits: &IssueLimits) -> Value {
    let mut map = serde_json::Map::new();
    for (kind, limit) in limits.by_kind() {
        if !limit.is_unset() {
            let used = symphony_orchestrator::budget_used(spend, kind);
            map.insert(kind.key().to_owned(), line(kind, used, limit));
        }
    }
    Value::Object(map)
}

/// The day's use against the daily limits, and the hold while one stands.
pub(crate) fn day(day: &DayBudget) -> Value {
    let date = day.day.and_then(|d| {
        chrono::DateTime::from_timestamp(i64::try_from(d).ok()? * 86_400, 0)
            .map(|t| t.format("%Y-%m-%d").to_string())
    });
    json!({
        "utc_day": date,
        "tokens": line(BudgetKind::DailyTokens, Some(day.usage.total_tokens), day.limits.tokens),
        "cost_usd": line(BudgetKind::DailyCost, day.usage.cost_micros, day.limits.cost_micros),
        "stop_running": day.limits.stop_running,
        "dispatch_held": day.held.map(|e| json!({"budget": e.kind, "message": e.to_string()})),
    })
}
