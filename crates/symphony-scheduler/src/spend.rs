//! Budget enforcement (ADR 0023): each usage report, turn or round start and tick checks the
//! issue's limits, and the day's; a hard per-issue limit stops the worker, a hard daily limit
//! holds new dispatch until the shell reports the next UTC day.

use symphony_core::Usage;

use crate::budget::{DayBook, Exceeded, Spend};
use crate::decision::*;
use crate::state::{log, Out, Scheduler};
use crate::types::*;

impl Scheduler {
    /// The hard daily limit holding new dispatch, if one does.
    pub fn dispatch_hold(&self) -> Option<&Exceeded> {
        self.day.as_ref().and_then(|d| d.held.as_ref())
    }

    /// The UTC day and its use as last known (`None` before the shell reported one).
    pub fn day_usage(&self) -> Option<(u64, Usage)> {
        self.day.as_ref().map(|d| (d.day, d.usage))
    }

    /// What issue `issue_id` used in the runs this scheduler saw end (its earlier runs in
    /// durable state are added once a worker reports them).
    pub fn ended_spend(&self, issue_id: &str) -> Option<&Spend> {
        self.ended_spend.get(issue_id)
    }

    pub(crate) fn on_prior_spend(
        &mut self,
        issue_id: &str,
        spend: Spend,
        now_ms: u64,
        out: &mut Out,
    ) {
        let Some(entry) = self.running.get_mut(issue_id) else {
            // Known for an issue that is not running (an explainer asking the store): what
            // `explain` judges its next run by.
            let known = self.ended_spend.entry(issue_id.to_owned()).or_default();
            *known = known.at_least(&spend);
            return;
        };
        entry.prior = entry.prior.at_least(&spend);
        self.check_issue_budget(issue_id, now_ms, out);
    }

    /// Adds a run's usage increase to the day's.
    pub(crate) fn count_toward_day(&mut self, increase: &Usage, out: &mut Out) {
        if let Some(book) = &mut self.day {
            book.usage = book.usage.plus(increase);
        }
        self.check_day(out);
    }

    pub(crate) fn on_day_usage(&mut self, day: u64, usage: Usage, now_ms: u64, out: &mut Out) {
        match &mut self.day {
            Some(book) if book.day == day => book.usage = book.usage.at_least(&usage),
            Some(book) if book.day > day => return,
            _ => {
                let was_held = self.dispatch_hold().is_some();
                self.day = Some(DayBook {
                    day,
                    usage,
                    ..DayBook::default()
                });
                if was_held && self.check_day_hold().is_none() {
                    log(
                        out,
                        LogLevel::Info,
                        None,
                        format!("UTC day {day} began: the daily budget no longer holds dispatch"),
                    );
                    out.push(Effect::Record(Decision::DispatchResumed { day }));
                }
            }
        }
        self.check_day(out);
        self.refill(now_ms, out);
        out.push(Effect::Notify);
    }

    /// Whether the day's hard limit is reached now (without recording anything).
    fn check_day_hold(&self) -> Option<Exceeded> {
        let book = self.day.as_ref()?;
        self.config.budgets.per_day.holds_dispatch(&book.usage)
    }

    /// Warns once per day and kind; starts the hold (and, with `stop_running`, stops the
    /// running work) when a hard limit is reached.
    fn check_day(&mut self, out: &mut Out) {
        let limits = self.config.budgets.per_day;
        let Some(book) = &mut self.day else { return };
        if limits.is_unset() {
            book.held = None;
            return;
        }
        for warning in limits.check(&book.usage).into_iter().filter(|e| !e.hard) {
            if !book.warned.contains(&warning.kind) {
                book.warned.push(warning.kind);
                log(out, LogLevel::Warn, None, warning.to_string());
                out.push(Effect::Record(Decision::BudgetWarning {
                    issue_id: None,
                    identifier: None,
                    exceeded: warning,
                }));
            }
        }
        let hold = limits.holds_dispatch(&book.usage);
        let day = book.day;
        match (book.held.is_some(), hold) {
            (false, Some(exceeded)) => {
                book.held = Some(exceeded);
                log(
                    out,
                    LogLevel::Warn,
                    None,
                    format!("{exceeded}: no new work is dispatched until the next UTC day"),
                );
                out.push(Effect::Record(Decision::DispatchHeld { day, exceeded }));
            }
            (true, None) => book.held = None,
            _ => {}
        }
        // Stops follow the current figure, not the one the hold began at.
        let Some(exceeded) = hold else {
            return;
        };
        if limits.stop_running && exceeded.used.is_none_or(|used| used > exceeded.limit) {
            let running: Vec<String> = self.running.keys().cloned().collect();
            for id in running {
                self.stop_for_budget(&id, exceeded, out);
            }
        }
    }

    /// Checks the running issue's limits: warns once per kind, stops at a hard one.
    pub(crate) fn check_issue_budget(&mut self, issue_id: &str, now_ms: u64, out: &mut Out) {
        let Some(entry) = self.running.get_mut(issue_id) else {
            return;
        };
        if entry.limits.is_unset() || entry.stopping.is_some() {
            return;
        }
        let found = entry.limits.check(&entry.spend(now_ms));
        let mut stop = None;
        for exceeded in found {
            if exceeded.hard {
                stop.get_or_insert(exceeded);
            } else if !entry.warned.contains(&exceeded.kind) {
                entry.warned.push(exceeded.kind);
                let identifier = entry.issue.identifier.clone();
                log(
                    out,
                    LogLevel::Warn,
                    Some((issue_id, &identifier)),
                    exceeded.to_string(),
                );
                out.push(Effect::Record(Decision::BudgetWarning {
                    issue_id: Some(issue_id.to_owned()),
                    identifier: Some(identifier),
                    exceeded,
                }));
            }
        }
        if let Some(exceeded) = stop {
            self.stop_for_budget(issue_id, exceeded, out);
        }
    }

    /// Stops a worker for a hard limit and records which, once.
    fn stop_for_budget(&mut self, issue_id: &str, exceeded: Exceeded, out: &mut Out) {
        let Some(entry) = self.running.get_mut(issue_id) else {
            return;
        };
        if entry.stopping.is_some() {
            return;
        }
        entry.budget_stop = Some(exceeded);
        self.stop_worker(issue_id, StopReason::Budget(exceeded.kind), out);
    }

    /// The tick's check of what grows without reports: agent time.
    pub(crate) fn check_budgets_on_tick(&mut self, now_ms: u64, out: &mut Out) {
        let timed: Vec<String> = self
            .running
            .iter()
            .filter(|(_, r)| !r.limits.agent_ms.is_unset())
            .map(|(id, _)| id.clone())
            .collect();
        for id in timed {
            self.check_issue_budget(&id, now_ms, out);
        }
    }
}
