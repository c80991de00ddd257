//! Budget enforcement (ADR 0023): each usage report, turn or round start and tick checks the
//! issue's limits, and the day's; a hard per-issue limit stops the worker, a hard daily limit
//! holds new dispatch until the shell reports the next UTC day.

use symphony_core::Usage;

use crate::budget::{BudgetKind, DayBook, Exceeded, Spend};
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
        self.note_agent_time(issue_id);
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
        if limits.is_unset() || (book.held.is_none() && limits.clear(&book.usage)) {
            book.held = None;
            return;
        }
        for warning in limits.check(&book.usage).filter(|e| !e.hard) {
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
            // Still held: the figure people see is the current one.
            (true, Some(exceeded)) => book.held = Some(exceeded),
            (false, None) => {}
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
        if let Some(exceeded) = judge_entry(issue_id, entry, now_ms, out) {
            self.stop_for_budget(issue_id, exceeded, out);
        }
    }

    /// Stops a worker for a hard limit and records which, once.
    pub(crate) fn stop_for_budget(&mut self, issue_id: &str, exceeded: Exceeded, out: &mut Out) {
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
        // Nothing grows past an agent-time threshold before the earliest one is due.
        if self.agent_time_due.is_none_or(|due| now_ms < due) {
            return;
        }
        // Only the issues with something to do are named (no copy of every id per tick).
        let due: Vec<String> = self
            .running
            .iter()
            .filter(|(_, r)| r.stopping.is_none() && !r.limits.agent_ms.is_unset())
            .filter(|(_, r)| {
                // Only agent time grows between reports: only it is judged here.
                let used = r
                    .prior
                    .agent_ms
                    .saturating_add(now_ms.saturating_sub(r.started_at_ms));
                let limit = r.limits.agent_ms;
                limit.hard.is_some_and(|h| used > h)
                    || (limit.soft.is_some_and(|s| used > s)
                        && !r.warned.contains(&BudgetKind::AgentTime))
            })
            .map(|(id, _)| id.clone())
            .collect();
        for id in due {
            self.check_issue_budget(&id, now_ms, out);
        }
        self.agent_time_due = self
            .running
            .values()
            .filter(|r| r.stopping.is_none())
            .filter_map(agent_time_due)
            .min();
    }

    /// Keeps the earliest agent-time threshold in view after `issue_id`'s entry changed (a
    /// dispatch, its earlier use read).
    pub(crate) fn note_agent_time(&mut self, issue_id: &str) {
        if let Some(due) = self.running.get(issue_id).and_then(agent_time_due) {
            self.agent_time_due = Some(self.agent_time_due.map_or(due, |d| d.min(due)));
        }
    }
}

/// A running issue's limits against what it used at `now_ms`: each soft threshold passed is
/// warned about once (recorded in `out`); the hard limit passed, if one is, is returned for the
/// caller to stop the worker. Called on every usage report with the entry in hand.
pub(crate) fn judge_entry(
    issue_id: &str,
    entry: &mut RunningEntry,
    now_ms: u64,
    out: &mut Out,
) -> Option<Exceeded> {
    if entry.limits.is_unset() || entry.stopping.is_some() {
        return None;
    }
    if clear(entry, now_ms) {
        return None;
    }
    let limits = entry.limits;
    let spend = entry.spend(now_ms);
    let mut stop = None;
    for exceeded in limits.check(&spend) {
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
    stop
}

/// [`crate::IssueLimits::clear`] of the entry's spend, summed field by field instead of built:
/// every usage report of a budgeted issue asks this, and nearly always hears yes.
fn clear(entry: &RunningEntry, now_ms: u64) -> bool {
    let (l, p) = (&entry.limits, &entry.prior);
    let usage = &entry.tokens;
    let cost_clear = l.cost_micros.is_unset() || {
        let run = crate::budget::cost(usage);
        let before = crate::budget::cost(&p.usage);
        run.zip(before)
            .is_some_and(|(r, b)| l.cost_micros.clear(r.saturating_add(b)))
    };
    cost_clear
        && l.tokens
            .clear(p.usage.total_tokens.saturating_add(usage.total_tokens))
        && l.turns
            .clear(u64::from(p.turns).saturating_add(entry.turn_count.into()))
        && l.rounds
            .clear(u64::from(p.rounds).saturating_add(entry.rounds.into()))
        && l.attempts.clear(u64::from(p.attempts).saturating_add(1))
        && l.agent_ms.clear(
            p.agent_ms
                .saturating_add(now_ms.saturating_sub(entry.started_at_ms)),
        )
}

/// When (scheduler clock) the entry's agent time passes its next threshold: the soft one until
/// it was warned about, then the hard one; `None` without one.
fn agent_time_due(entry: &RunningEntry) -> Option<u64> {
    let limit = entry.limits.agent_ms;
    let threshold = match limit.soft {
        Some(soft) if !entry.warned.contains(&BudgetKind::AgentTime) => Some(soft),
        _ => limit.hard,
    }?;
    // Passed when the time used is above the threshold: one millisecond after reaching it.
    Some(
        entry
            .started_at_ms
            .saturating_add(threshold.saturating_sub(entry.prior.agent_ms))
            .saturating_add(1),
    )
}
