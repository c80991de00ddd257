//! Events from outside the tick: agent updates, reloads, claims another instance holds,
//! restored retries and shutdown.

use crate::config::SchedulerConfig;
use crate::decision::*;
use crate::state::{log, Out, Scheduler};
use crate::types::*;

/// The shortest time an issue another instance holds is left alone.
const MIN_HOLD_MS: u64 = 1_000;

impl Scheduler {
    pub(crate) fn on_agent_update(
        &mut self,
        issue_id: &str,
        update: AgentUpdate,
        now_ms: u64,
        out: &mut Out,
    ) {
        let Some(entry) = self.running.get_mut(issue_id) else {
            return;
        };
        entry.last_event_at_ms = Some(now_ms);
        if update.activity {
            return;
        }
        if update.session_id.is_some() {
            entry.session_id = update.session_id;
        }
        if update.pid.is_some() {
            entry.pid = update.pid;
        }
        let counted = update.turn_started || update.round_started || update.tokens.is_some();
        if update.turn_started {
            entry.turn_count += 1;
        }
        if update.round_started {
            entry.rounds += 1;
        }
        entry.last_event = Some(update.event);
        if update.message.is_some() {
            entry.last_message = update.message;
        }
        let mut increase = None;
        if let Some(usage) = update.tokens {
            // Reports are session-cumulative; a smaller number means a new session began.
            let added = usage.since(&entry.tokens);
            self.totals.usage = self.totals.usage.plus(&added);
            entry.tokens = usage;
            increase = Some(added);
        }
        if update.rate_limits.is_some() {
            self.rate_limits = update.rate_limits;
        }
        // Checked with the entry in hand: one lookup per report.
        let stop = if counted {
            crate::spend::judge_entry(issue_id, entry, now_ms, out)
        } else {
            None
        };
        if let Some(added) = increase {
            self.count_toward_day(&added, out);
        }
        if let Some(exceeded) = stop {
            self.stop_for_budget(issue_id, exceeded, out);
        }
    }

    pub(crate) fn on_reload(&mut self, config: SchedulerConfig, out: &mut Out) {
        let interval_changed = config.poll_interval_ms != self.config.poll_interval_ms;
        if config.active_states != self.config.active_states {
            // Other states are candidates now: the next read must be complete.
            self.candidate_mark = None;
        }
        let judged_differently = config.active_states != self.config.active_states
            || config.terminal_states != self.config.terminal_states
            || config.required_labels != self.config.required_labels;
        self.config = config;
        if judged_differently {
            self.candidates.rejudge(&self.config);
        }
        if interval_changed && !self.shutting_down {
            out.push(Effect::ArmTimer {
                timer: Timer::Tick,
                delay_ms: self.config.poll_interval_ms,
            });
        }
        log(
            out,
            LogLevel::Info,
            None,
            "configuration reloaded; applies to the next decisions",
        );
        out.push(Effect::Record(Decision::ConfigReloaded));
        out.push(Effect::Notify);
    }

    pub(crate) fn on_claim_denied(
        &mut self,
        issue_id: &str,
        holder: String,
        held_for_ms: u64,
        now_ms: u64,
        out: &mut Out,
    ) {
        let Some(entry) = self.running.remove(issue_id) else {
            return;
        };
        self.claimed.remove(issue_id);
        let identifier = entry.issue.identifier;
        log(
            out,
            LogLevel::Info,
            Some((issue_id, &identifier)),
            format!("not started: instance {holder} holds it for up to {held_for_ms} ms"),
        );
        out.push(Effect::Record(Decision::HeldElsewhere {
            issue_id: issue_id.to_owned(),
            identifier,
            holder: holder.clone(),
            held_for_ms,
        }));
        // A claim at its very end is still tried again only after a pause: the refill below
        // must not start the same issue in a loop while the other instance lets go.
        let held_for_ms = held_for_ms.max(MIN_HOLD_MS);
        self.held_elsewhere.insert(
            issue_id.to_owned(),
            (holder, now_ms.saturating_add(held_for_ms)),
        );
        if self.shutting_down && self.running.is_empty() {
            out.push(Effect::Stopped);
        }
        self.arm_hold_lapse(now_ms, out);
        // The slot it would have used is free for the next candidate.
        self.refill(now_ms, out);
        out.push(Effect::Notify);
    }

    /// Lapsed holds are forgotten and their issues may take free slots at once.
    pub(crate) fn on_holds_lapsed(&mut self, now_ms: u64, out: &mut Out) {
        if self.shutting_down {
            return;
        }
        self.held_elsewhere.retain(|_, (_, until)| *until > now_ms);
        self.arm_hold_lapse(now_ms, out);
        self.refill(now_ms, out);
        out.push(Effect::Notify);
    }

    /// Arms the hold-lapse timer for the earliest hold still in force.
    fn arm_hold_lapse(&self, now_ms: u64, out: &mut Out) {
        if let Some(until) = self.held_elsewhere.values().map(|(_, until)| *until).min() {
            out.push(Effect::ArmTimer {
                timer: Timer::HoldLapse,
                delay_ms: until.saturating_sub(now_ms),
            });
        }
    }

    pub(crate) fn on_restore(&mut self, retries: Vec<RestoredRetry>, now_ms: u64, out: &mut Out) {
        if self.shutting_down {
            return;
        }
        for retry in retries {
            if self.claimed.contains(&retry.issue_id) {
                continue;
            }
            log(
                out,
                LogLevel::Info,
                Some((&retry.issue_id, &retry.identifier)),
                format!(
                    "restored retry {} due in {} ms{}",
                    retry.attempt,
                    retry.due_in_ms,
                    retry
                        .error
                        .as_deref()
                        .map(|e| format!(": {e}"))
                        .unwrap_or_default()
                ),
            );
            self.held_elsewhere.remove(&retry.issue_id);
            self.claimed.insert(retry.issue_id.clone());
            out.push(Effect::ArmTimer {
                timer: Timer::Retry(retry.issue_id.clone()),
                delay_ms: retry.due_in_ms,
            });
            self.retries.insert(
                retry.issue_id.clone(),
                RetryEntry {
                    issue_id: retry.issue_id,
                    identifier: retry.identifier,
                    attempt: retry.attempt,
                    due_at_ms: now_ms.saturating_add(retry.due_in_ms),
                    error: retry.error,
                    refreshing: false,
                    url: None,
                },
            );
        }
        out.push(Effect::Notify);
    }

    pub(crate) fn on_stop(&mut self, out: &mut Out) {
        if self.shutting_down {
            return;
        }
        self.shutting_down = true;
        out.push(Effect::CancelTimer { timer: Timer::Tick });
        out.push(Effect::CancelTimer {
            timer: Timer::HoldLapse,
        });
        // Queued retries stay in durable state for the next start; only their timers go.
        let queued: Vec<String> = self.retries.keys().cloned().collect();
        for id in queued {
            self.retries.remove(&id);
            self.claimed.remove(&id);
            out.push(Effect::CancelTimer {
                timer: Timer::Retry(id),
            });
        }
        let running: Vec<String> = self.running.keys().cloned().collect();
        for id in running {
            self.stop_worker(&id, StopReason::Shutdown, out);
        }
        if self.running.is_empty() {
            out.push(Effect::Stopped);
        }
        out.push(Effect::Notify);
    }
}
