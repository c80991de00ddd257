//! Worker exits and the retry queue (SPEC §8.4, §16.6).

use symphony_core::Issue;

use crate::decision::*;
use crate::eligibility::{issue_eligible, Ineligible};
use crate::state::{log, Out, Scheduler};
use crate::types::*;

impl Scheduler {
    pub(crate) fn on_worker_exit(
        &mut self,
        issue_id: &str,
        reason: ExitReason,
        now_ms: u64,
        out: &mut Out,
    ) {
        let Some(entry) = self.running.remove(issue_id) else {
            log(
                out,
                LogLevel::Warn,
                Some((issue_id, "")),
                "exit of a worker that is not running; ignored",
            );
            return;
        };
        let runtime_ms = now_ms.saturating_sub(entry.started_at_ms);
        self.totals.ended_runtime_ms += runtime_ms;
        let mut spend = entry.spend(now_ms);
        // The limit that stopped it, or (a worker that refused to start) the one it passed.
        let budget = entry.budget_stop.or_else(|| match &reason {
            ExitReason::Stopped(StopReason::Budget(_)) => entry.limits.stop(&spend),
            _ => None,
        });
        let identifier = entry.issue.identifier.clone();
        let next_attempt = entry.attempt.map_or(1, |a| a.saturating_add(1));
        let (outcome, error) = match (&entry.stopping, &reason) {
            // A worker that finished its own last step succeeded, whatever stop crossed its
            // exit: a shutdown just after its hand-off, a stall noticed as it returned.
            (Some(StopReason::Shutdown | StopReason::Stalled), ExitReason::Normal) => {
                (RunEnd::Succeeded, None)
            }
            (Some(StopReason::Stalled), _) => (
                RunEnd::Stalled,
                Some(format!(
                    "stalled: no agent activity for more than {} ms",
                    self.config.stall_timeout_ms
                )),
            ),
            (Some(StopReason::Shutdown), _) => (
                RunEnd::Interrupted,
                Some("interrupted: the service shut down while it ran".to_owned()),
            ),
            // Its work was handed off before the stop reached it: that stands.
            (Some(StopReason::Budget(_)), ExitReason::Normal) => (RunEnd::Succeeded, None),
            (Some(StopReason::Budget(kind)), _)
            | (None, ExitReason::Stopped(StopReason::Budget(kind))) => (
                RunEnd::BudgetExceeded(*kind),
                Some(match &budget {
                    Some(exceeded) => format!("budget exceeded: {exceeded}"),
                    None => format!("budget exceeded: {kind}"),
                }),
            ),
            (Some(stop), _) => (RunEnd::Stopped(*stop), None),
            (None, ExitReason::Normal) => (RunEnd::Succeeded, None),
            (None, ExitReason::Failed(error)) => {
                (RunEnd::Failed, Some(format!("worker exited: {error}")))
            }
            (None, ExitReason::Ineligible(why)) => (RunEnd::Skipped, Some(why.clone())),
            (None, ExitReason::Stopped(stop)) => (RunEnd::Stopped(*stop), None),
            (None, ExitReason::NoChange) => (
                RunEnd::Failed,
                Some(
                    "no change to hand off: the agent's turns left the workspace as it was".into(),
                ),
            ),
        };
        if outcome == RunEnd::Skipped {
            // A run that never started is no attempt (the store does not count it either).
            spend.attempts = spend.attempts.saturating_sub(1);
        }
        let known = self.ended_spend.entry(issue_id.to_owned()).or_default();
        *known = known.at_least(&spend);
        // A worker that finished its own turn loop succeeded, even if a stop (the issue went
        // terminal, often by the agent's own hand) crossed its exit.
        let recorded = match (outcome, &reason) {
            (RunEnd::Stopped(_), ExitReason::Normal) => RunEnd::Succeeded,
            _ => outcome,
        };
        out.push(Effect::Record(Decision::RunEnded {
            issue_id: issue_id.to_owned(),
            identifier: identifier.clone(),
            outcome: recorded,
            error: error.clone(),
            runtime_ms,
        }));
        // Every exit but a deliberate release queues a retry: (attempt, error or continuation).
        let retry = match outcome {
            RunEnd::Stalled => Some((next_attempt, error, RetryReason::Stall)),
            RunEnd::Failed if reason == ExitReason::NoChange => {
                Some((next_attempt, error, RetryReason::NoChange))
            }
            RunEnd::Failed => Some((next_attempt, error, RetryReason::Failure)),
            RunEnd::Interrupted => {
                // Taken up at once by whoever runs next.
                let retry = (next_attempt, error, RetryReason::Interrupted);
                self.queue_retry(issue_id, &identifier, retry, 0, now_ms, out);
                None
            }
            RunEnd::Stopped(stop) => {
                if stop.removes_workspace() {
                    out.push(Effect::RemoveWorkspace {
                        issue_id: issue_id.to_owned(),
                        identifier: identifier.clone(),
                    });
                }
                self.release(issue_id, &identifier, &format!("stopped: {stop:?}"), out);
                None
            }
            RunEnd::Skipped => {
                let why = error.unwrap_or_default();
                self.release(issue_id, &identifier, &why, out);
                None
            }
            RunEnd::BudgetExceeded(kind) => {
                self.budget_exceeded(&entry.issue, kind, budget, &spend, out);
                let why = error.unwrap_or_default();
                self.release(issue_id, &identifier, &why, out);
                if kind.is_daily() {
                    // Waits in the book for the next day (refill is held until then).
                    return self.after_exit(issue_id, now_ms, out);
                }
                None
            }
            RunEnd::Succeeded => {
                self.completed.insert(issue_id.to_owned());
                Some((1, None, RetryReason::Continuation))
            }
        };
        match retry {
            Some(retry) => self.schedule_retry(issue_id, &identifier, retry, now_ms, out),
            // Let go after a fresh read said so: out of the book until a read shows it again,
            // or the refill below would start it again at once.
            None if !self.claimed.contains(issue_id) => self.candidates.remove(issue_id),
            None => {}
        }
        self.note_retry_url(issue_id, entry.issue.url.clone());
        self.after_exit(issue_id, now_ms, out);
    }

    /// What follows every exit: shutdown's end, the freed slot's refill.
    fn after_exit(&mut self, _issue_id: &str, now_ms: u64, out: &mut Out) {
        if self.shutting_down && self.running.is_empty() {
            out.push(Effect::Stopped);
        }
        // The slot is free now, not at the next tick.
        self.refill(now_ms, out);
        out.push(Effect::Notify);
    }

    /// A hard limit ended the run: recorded, and a per-issue one sends the issue to a person
    /// (the workspace is kept for them).
    fn budget_exceeded(
        &mut self,
        issue: &Issue,
        kind: crate::budget::BudgetKind,
        exceeded: Option<crate::budget::Exceeded>,
        spend: &crate::budget::Spend,
        out: &mut Out,
    ) {
        let exceeded = exceeded.unwrap_or(crate::budget::Exceeded {
            kind,
            used: None,
            limit: 0,
            hard: true,
        });
        out.push(Effect::Record(Decision::BudgetExceeded {
            issue_id: issue.id.clone(),
            identifier: issue.identifier.clone(),
            exceeded,
            spend: *spend,
        }));
        if kind.is_daily() {
            return;
        }
        match &self.config.budgets.needs_human_state {
            Some(state) => out.push(Effect::HandToPerson {
                issue: Box::new(issue.clone()),
                state: state.clone(),
                comment: crate::budget::stop_comment(&exceeded, spend),
            }),
            None => log(
                out,
                LogLevel::Error,
                Some((&issue.id, &issue.identifier)),
                "budget exceeded and no needs-human state to send the issue to",
            ),
        }
    }

    /// SPEC §8.4: continuation (no error) after 1 s, failures with capped exponential backoff.
    pub(crate) fn schedule_retry(
        &mut self,
        issue_id: &str,
        identifier: &str,
        retry: (u32, Option<String>, RetryReason),
        now_ms: u64,
        out: &mut Out,
    ) {
        let delay_ms = match &retry.1 {
            None => CONTINUATION_DELAY_MS,
            Some(_) => failure_delay_ms(retry.0, self.config.max_retry_backoff_ms),
        };
        self.queue_retry(issue_id, identifier, retry, delay_ms, now_ms, out);
    }

    /// Queues retry `(attempt, error, reason)` `delay_ms` from now; during shutdown it is only
    /// recorded.
    pub(crate) fn queue_retry(
        &mut self,
        issue_id: &str,
        identifier: &str,
        (attempt, error, reason): (u32, Option<String>, RetryReason),
        delay_ms: u64,
        now_ms: u64,
        out: &mut Out,
    ) {
        out.push(Effect::Record(Decision::RetryScheduled {
            issue_id: issue_id.to_owned(),
            identifier: identifier.to_owned(),
            attempt,
            delay_ms,
            error: error.clone(),
            reason,
        }));
        if self.shutting_down {
            // Kept in durable state for the next start; nothing more happens in this one.
            self.claimed.remove(issue_id);
            return;
        }
        log(
            out,
            if error.is_some() {
                LogLevel::Warn
            } else {
                LogLevel::Info
            },
            Some((issue_id, identifier)),
            match &error {
                Some(e) => format!("retry {attempt} in {delay_ms} ms: {e}"),
                None => format!("continuation check in {delay_ms} ms"),
            },
        );
        self.claimed.insert(issue_id.to_owned());
        self.retries.insert(
            issue_id.to_owned(),
            RetryEntry {
                issue_id: issue_id.to_owned(),
                identifier: identifier.to_owned(),
                attempt,
                due_at_ms: now_ms.saturating_add(delay_ms),
                error,
                refreshing: false,
                url: None,
            },
        );
        out.push(Effect::ArmTimer {
            timer: Timer::Retry(issue_id.to_owned()),
            delay_ms,
        });
    }

    /// Remembers the page of a queued retry's issue, for status surfaces.
    pub(crate) fn note_retry_url(&mut self, issue_id: &str, url: Option<String>) {
        if let Some(entry) = self.retries.get_mut(issue_id) {
            entry.url = url;
        }
    }

    pub(crate) fn on_retry_due(&mut self, issue_id: &str, now_ms: u64, out: &mut Out) {
        let Some(entry) = self.retries.get_mut(issue_id) else {
            return;
        };
        if entry.refreshing || self.shutting_down {
            return;
        }
        if entry.due_at_ms > now_ms {
            // A timer from before a re-schedule; the current one is armed.
            return;
        }
        entry.refreshing = true;
        out.push(Effect::FetchByIds {
            purpose: FetchPurpose::Retry(issue_id.to_owned()),
            ids: vec![issue_id.to_owned()],
        });
    }

    pub(crate) fn on_retry_refreshed(
        &mut self,
        issue_id: &str,
        result: Result<Vec<Issue>, String>,
        now_ms: u64,
        out: &mut Out,
    ) {
        if !self.retries.get(issue_id).is_some_and(|r| r.refreshing) {
            return;
        }
        let Some(entry) = self.retries.remove(issue_id) else {
            return;
        };
        let issues = match result {
            Ok(issues) => issues,
            Err(error) => {
                let error = format!("retry refresh failed: {error}");
                let retry = (
                    entry.attempt.saturating_add(1),
                    Some(error),
                    RetryReason::RefreshFailed,
                );
                self.schedule_retry(issue_id, &entry.identifier, retry, now_ms, out);
                self.note_retry_url(issue_id, entry.url);
                return;
            }
        };
        let Some(issue) = issues.into_iter().find(|i| i.id == issue_id) else {
            self.candidates.remove(issue_id);
            self.release(
                issue_id,
                &entry.identifier,
                "no longer visible in the tracker",
                out,
            );
            return;
        };
        self.candidates.update(&issue, &self.config);
        if self.config.is_terminal(&issue.state) {
            out.push(Effect::RemoveWorkspace {
                issue_id: issue_id.to_owned(),
                identifier: issue.identifier.clone(),
            });
            self.release(issue_id, &issue.identifier, "reached a terminal state", out);
            return;
        }
        if let Err(why) = issue_eligible(&issue, &self.config) {
            self.release(issue_id, &issue.identifier, &why.to_string(), out);
            return;
        }
        if self.running.contains_key(issue_id) {
            // Cannot happen while claims are respected; never start a second worker.
            return;
        }
        if self.shutting_down {
            self.release(issue_id, &issue.identifier, "shutting down", out);
            return;
        }
        // A budget holds it (its own spent, or the day's): let go, not retried. It stays in
        // the book, so the refill takes it when the day turns or the budget is raised.
        if let Some(held) = self.spent_out(&issue).or(self.dispatch_hold().copied()) {
            let why = Ineligible::Budget(held).to_string();
            self.release(issue_id, &issue.identifier, &why, out);
            return;
        }
        match self.slot_for(&issue.state) {
            Ok(()) => self.dispatch(issue, Some(entry.attempt), now_ms, out),
            Err(_) => {
                let error = Some("no available orchestrator slots".to_owned());
                let retry = (entry.attempt.saturating_add(1), error, RetryReason::NoSlots);
                self.schedule_retry(issue_id, &issue.identifier, retry, now_ms, out);
                self.note_retry_url(issue_id, issue.url.clone());
            }
        }
        out.push(Effect::Notify);
    }

    pub(crate) fn release(&mut self, issue_id: &str, identifier: &str, why: &str, out: &mut Out) {
        self.claimed.remove(issue_id);
        out.push(Effect::Record(Decision::Released {
            issue_id: issue_id.to_owned(),
            identifier: identifier.to_owned(),
            reason: why.to_owned(),
        }));
        out.push(Effect::CancelTimer {
            timer: Timer::Retry(issue_id.to_owned()),
        });
        log(
            out,
            LogLevel::Info,
            Some((issue_id, identifier)),
            format!("claim released: {why}"),
        );
        out.push(Effect::Notify);
    }
}

/// Failure backoff for a 1-based attempt: `min(10000 * 2^(attempt-1), cap)`.
pub(crate) fn failure_delay_ms(attempt: u32, cap: u64) -> u64 {
    let shift = attempt.saturating_sub(1).min(40);
    FAILURE_BASE_DELAY_MS.saturating_mul(1u64 << shift).min(cap)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failure_backoff_doubles_from_ten_seconds_and_is_capped() {
        assert_eq!(failure_delay_ms(1, 300_000), 10_000);
        assert_eq!(failure_delay_ms(2, 300_000), 20_000);
        assert_eq!(failure_delay_ms(5, 300_000), 160_000);
        assert_eq!(failure_delay_ms(6, 300_000), 300_000);
        assert_eq!(failure_delay_ms(u32::MAX, 300_000), 300_000);
    }
}
