//! The budgets' plan for people, as `symphony check` prints it.

use symphony_scheduler::{BudgetKind, IssueLimits, Limit};

use crate::budget_config::BudgetsConfig;

/// `limit` of `kind` for people: `≤ 5 turns (warn above 3)`.
fn describe_limit(kind: BudgetKind, limit: Limit) -> Option<String> {
    match (limit.soft, limit.hard) {
        (None, None) => None,
        (None, Some(h)) => Some(format!("{kind} ≤ {}", kind.amount(h))),
        (Some(s), None) => Some(format!("{kind}: warn above {}", kind.amount(s))),
        (Some(s), Some(h)) => Some(format!(
            "{kind} ≤ {} (warn above {})",
            kind.amount(h),
            kind.amount(s)
        )),
    }
}

fn describe_issue(limits: &IssueLimits) -> String {
    limits
        .by_kind()
        .into_iter()
        .filter_map(|(kind, limit)| describe_limit(kind, limit))
        .collect::<Vec<_>>()
        .join(", ")
}

impl BudgetsConfig {
    /// The plan `symphony check` prints: one line, empty without budgets.
    pub fn describe(&self) -> String {
        let b = &self.budgets;
        let mut parts = Vec::new();
        if !b.per_issue.is_unset() {
            parts.push(format!("per issue: {}", describe_issue(&b.per_issue)));
        }
        let day: Vec<String> = [
            (BudgetKind::DailyTokens, b.per_day.tokens),
            (BudgetKind::DailyCost, b.per_day.cost_micros),
        ]
        .into_iter()
        .filter_map(|(kind, limit)| describe_limit(kind, limit))
        .collect();
        if !day.is_empty() {
            parts.push(format!(
                "per UTC day: {}; {}",
                day.join(", "),
                if b.per_day.stop_running {
                    "passing a limit stops running work too"
                } else {
                    "reaching a limit holds new dispatch, running work goes on"
                }
            ));
        }
        for o in &b.overrides {
            let when: Vec<String> = o
                .labels
                .iter()
                .map(|l| format!("label {l:?}"))
                .chain(o.states.iter().map(|s| format!("state {s:?}")))
                .collect();
            parts.push(format!(
                "with {}: {}",
                when.join(" or "),
                describe_issue(&o.per_issue)
            ));
        }
        if parts.is_empty() {
            return String::new();
        }
        if let Some(state) = &b.needs_human_state {
            parts.push(format!("a stopped issue goes to {state:?}"));
        }
        if let Some(model) = &self.priced_model {
            parts.push(format!(
                "unpriced usage is priced as {model:?}{}",
                self.prices_version
                    .as_deref()
                    .map(|v| format!(" (prices of {v})"))
                    .unwrap_or_default()
            ));
        }
        format!("# Budgets: {}\n", parts.join("; "))
    }
}
