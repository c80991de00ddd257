//! The poll tick (SPEC §8.1): start-up cleanup, stall detection, reconciliation of running
//! issues (SPEC §8.5) and notifications that name issues (hints).

use std::collections::BTreeSet;

use symphony_core::Issue;

use crate::config::same_state;
use crate::decision::*;
use crate::eligibility::routable;
use crate::state::{log, Out, Scheduler, TickPhase};
use crate::types::*;

impl Scheduler {
    pub(crate) fn on_start(&mut self, out: &mut Out) {
        out.push(Effect::FetchByStates {
            purpose: FetchPurpose::StartupCleanup,
            states: self.config.terminal_states.clone(),
            since: None,
        });
        out.push(Effect::ArmTimer {
            timer: Timer::Tick,
            delay_ms: 0,
        });
    }

    pub(crate) fn on_startup_terminal(
        &mut self,
        result: Result<Vec<Issue>, String>,
        out: &mut Out,
    ) {
        match result {
            Ok(issues) => {
                for issue in issues {
                    if !self.claimed.contains(&issue.id) && self.config.is_terminal(&issue.state) {
                        out.push(Effect::RemoveWorkspace {
                            issue_id: issue.id,
                            identifier: issue.identifier,
                        });
                    }
                }
            }
            Err(error) => log(
                out,
                LogLevel::Warn,
                None,
                format!("startup terminal cleanup skipped: {error}"),
            ),
        }
    }

    pub(crate) fn on_tick(&mut self, preflight_error: Option<String>, now_ms: u64, out: &mut Out) {
        if self.shutting_down {
            return;
        }
        out.push(Effect::ArmTimer {
            timer: Timer::Tick,
            delay_ms: self.config.poll_interval_ms,
        });
        if self.phase != TickPhase::Idle {
            log(
                out,
                LogLevel::Warn,
                None,
                "the previous tick is still waiting for the tracker; skipping this one",
            );
            return;
        }
        self.detect_stalls(now_ms, out);
        self.check_budgets_on_tick(now_ms, out);
        self.held_elsewhere.retain(|_, (_, until)| *until > now_ms);
        self.preflight_error = preflight_error;
        let ids: Vec<String> = self
            .running
            .iter()
            .filter(|(_, r)| r.stopping.is_none())
            .map(|(id, _)| id.clone())
            .collect();
        if ids.is_empty() {
            self.dispatch_phase(out);
        } else {
            self.phase = TickPhase::Reconciling;
            self.reconciling = ids.iter().cloned().collect();
            out.push(Effect::FetchByIds {
                purpose: FetchPurpose::Reconcile,
                ids,
            });
        }
    }

    /// SPEC §8.5 part A.
    pub(crate) fn detect_stalls(&mut self, now_ms: u64, out: &mut Out) {
        let Ok(stall_ms) = u64::try_from(self.config.stall_timeout_ms) else {
            return;
        };
        if stall_ms == 0 {
            return;
        }
        let stalled: Vec<String> = self
            .running
            .iter()
            .filter(|(_, r)| r.stopping.is_none() && !r.gating)
            .filter(|(_, r)| {
                now_ms.saturating_sub(r.last_event_at_ms.unwrap_or(r.started_at_ms)) > stall_ms
            })
            .map(|(id, _)| id.clone())
            .collect();
        for id in stalled {
            self.stop_worker(&id, StopReason::Stalled, out);
        }
    }

    pub(crate) fn stop_worker(&mut self, issue_id: &str, reason: StopReason, out: &mut Out) {
        if let Some(entry) = self.running.get_mut(issue_id) {
            if entry.stopping.is_none() {
                entry.stopping = Some(reason);
                log(
                    out,
                    LogLevel::Info,
                    Some((issue_id, &entry.issue.identifier)),
                    format!("stopping worker: {reason:?}"),
                );
                out.push(Effect::Record(Decision::StopRequested {
                    issue_id: issue_id.to_owned(),
                    identifier: entry.issue.identifier.clone(),
                    reason,
                }));
                out.push(Effect::StopWorker {
                    issue_id: issue_id.to_owned(),
                    reason,
                });
            }
        }
    }

    /// SPEC §8.5 part B, then the dispatch half of the tick.
    pub(crate) fn on_reconcile(&mut self, result: Result<Vec<Issue>, String>, out: &mut Out) {
        if self.phase != TickPhase::Reconciling {
            return;
        }
        let asked = std::mem::take(&mut self.reconciling);
        match result {
            Ok(issues) => {
                // Issues not running any more (their worker exited meanwhile) only update the
                // candidate book.
                self.reconcile_running(&asked, issues, out);
            }
            Err(error) => log(
                out,
                LogLevel::Warn,
                None,
                format!("running-issue refresh failed, workers keep running: {error}"),
            ),
        }
        self.dispatch_phase(out);
    }

    /// SPEC §8.5 part B for the running issues among `asked`, given their fresh snapshots:
    /// stop those that became terminal, inactive, unroutable or invisible; refresh the rest.
    /// Every snapshot also updates the candidate book.
    pub(crate) fn reconcile_running(
        &mut self,
        asked: &BTreeSet<String>,
        issues: Vec<Issue>,
        out: &mut Out,
    ) {
        let mut seen = BTreeSet::new();
        for issue in issues {
            seen.insert(issue.id.clone());
            self.candidates.update(&issue, &self.config);
            let Some(entry) = self.running.get(&issue.id) else {
                continue;
            };
            if entry.stopping.is_some() {
                continue;
            }
            // An agent that moved its issue to review has finished its turns: the worker sees
            // that when the turn ends and runs its gate stage. A call still in flight may be
            // making the move; any other move out of the active states is a person's.
            let agents_own = entry.tool_calls_in_flight > 0
                || entry
                    .agent_moved_to
                    .as_deref()
                    .is_some_and(|moved| same_state(moved, &issue.state));
            let reason = if self.config.is_terminal(&issue.state) {
                Some(StopReason::Terminal)
            } else if !self.config.is_active(&issue.state) && !entry.gating && !agents_own {
                Some(StopReason::Inactive)
            } else if routable(&issue, &self.config).is_err() {
                Some(StopReason::Unroutable)
            } else {
                None
            };
            match reason {
                Some(reason) => self.stop_worker(&issue.id, reason, out),
                None => {
                    if let Some(entry) = self.running.get_mut(&issue.id) {
                        entry.issue = issue;
                    }
                }
            }
        }
        let missing: Vec<String> = self
            .running
            .iter()
            .filter(|(id, r)| r.stopping.is_none() && asked.contains(*id) && !seen.contains(*id))
            .map(|(id, _)| id.clone())
            .collect();
        for id in missing {
            self.stop_worker(&id, StopReason::Missing, out);
        }
        for id in asked.iter().filter(|id| !seen.contains(*id)) {
            self.candidates.remove(id);
        }
    }

    /// At most this many issues are read for one hint (a webhook names one or a few).
    const HINT_LIMIT: usize = 50;

    pub(crate) fn on_hint(&mut self, issue_ids: Vec<String>, out: &mut Out) {
        if self.shutting_down {
            return;
        }
        let ids: BTreeSet<String> = issue_ids.into_iter().take(Self::HINT_LIMIT).collect();
        if ids.is_empty() {
            return;
        }
        out.push(Effect::FetchByIds {
            purpose: FetchPurpose::Hint,
            ids: ids.into_iter().collect(),
        });
    }

    /// The hinted issues, fresh: running ones are reconciled, the others dispatched if they
    /// are eligible now (the same rules and order as a poll; claims prevent a second worker).
    pub(crate) fn on_hinted(
        &mut self,
        result: Result<Vec<Issue>, String>,
        now_ms: u64,
        out: &mut Out,
    ) {
        let issues = match result {
            Ok(issues) => issues,
            Err(error) => {
                log(
                    out,
                    LogLevel::Warn,
                    None,
                    format!("hinted issue refresh failed; the next poll will see them: {error}"),
                );
                return;
            }
        };
        // An issue the tracker no longer shows is left to the next reconcile, which asks
        // about every running issue: only what came back is judged here.
        let asked: BTreeSet<String> = issues.iter().map(|i| i.id.clone()).collect();
        // The book now holds the hinted issues as they are: refill takes those eligible.
        self.reconcile_running(&asked, issues, out);
        self.refill(now_ms, out);
        out.push(Effect::Notify);
    }
}
