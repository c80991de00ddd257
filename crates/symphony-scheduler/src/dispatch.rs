//! Candidate selection and dispatch (SPEC §8.2, §8.3), from the candidate book: after every
//! candidate read, and at once whenever a slot frees (a run ends, a start is refused because
//! another instance holds the issue, such a hold lapses), instead of at the next tick. The
//! worker re-reads each issue before it starts (SPEC §8.3), so a book older than a tick is
//! safe: what changed meanwhile is skipped there and dropped from the book.

use std::collections::HashMap;

use symphony_core::Issue;

use crate::state::{log, Out, Scheduler, TickPhase};
use crate::types::*;

impl Scheduler {
    pub(crate) fn dispatch_phase(&mut self, out: &mut Out) {
        if let Some(error) = &self.preflight_error {
            log(
                out,
                LogLevel::Error,
                None,
                format!("dispatch skipped this tick: {error}"),
            );
            self.phase = TickPhase::Idle;
            out.push(Effect::Notify);
            return;
        }
        self.phase = TickPhase::FetchingCandidates;
        out.push(Effect::FetchByStates {
            purpose: FetchPurpose::Candidates,
            states: self.config.active_states.clone(),
            since: self.candidate_mark.clone(),
        });
    }

    /// A complete candidate list (a tracker without incremental reads, or a test).
    pub(crate) fn on_candidates(
        &mut self,
        result: Result<Vec<Issue>, String>,
        now_ms: u64,
        out: &mut Out,
    ) {
        let result = result.map(|issues| CandidateAnswer {
            issues,
            complete: true,
            mark: None,
        });
        self.on_candidate_answer(result, now_ms, out);
    }

    pub(crate) fn on_candidate_answer(
        &mut self,
        result: Result<CandidateAnswer, String>,
        now_ms: u64,
        out: &mut Out,
    ) {
        if self.phase != TickPhase::FetchingCandidates {
            return;
        }
        self.phase = TickPhase::Idle;
        match result {
            Ok(answer) => {
                if answer.complete {
                    self.candidates.replace(answer.issues, &self.config);
                } else {
                    for issue in &answer.issues {
                        self.candidates.update(issue, &self.config);
                    }
                }
                self.candidate_mark = answer.mark;
                self.refill(now_ms, out);
            }
            Err(error) => log(
                out,
                LogLevel::Warn,
                None,
                format!("candidate fetch failed, no dispatch this tick: {error}"),
            ),
        }
        out.push(Effect::Notify);
    }

    /// Dispatches eligible candidates of the book in dispatch order while slots remain
    /// (SPEC §8.2, §8.3). The book is ordered already, so this walks only past the issues
    /// that cannot run now (claimed, held elsewhere, their state full) and stops when the
    /// slots are: it never touches the rest of the backlog.
    pub(crate) fn refill(&mut self, now_ms: u64, out: &mut Out) {
        let max = self.config.max_concurrent_agents;
        if self.shutting_down
            || self.preflight_error.is_some()
            || self.running.len() >= max
            || self.dispatch_hold().is_some()
        {
            return;
        }
        let chosen: Vec<Issue> = {
            let mut per_state: HashMap<String, usize> = HashMap::new();
            for entry in self.running.values() {
                *per_state
                    .entry(symphony_core::normalize_state(&entry.issue.state))
                    .or_default() += 1;
            }
            let mut chosen = Vec::new();
            for (issue, state) in self.candidates.in_order() {
                if self.running.len() + chosen.len() >= max {
                    break;
                }
                if self.claimed.contains(&issue.id)
                    || self
                        .held_elsewhere
                        .get(&issue.id)
                        .is_some_and(|(_, until)| *until > now_ms)
                {
                    continue;
                }
                if self.spent_out(issue).is_some() {
                    // Its budget is spent (a person moved it back without raising it): it
                    // waits, and `explain` says why.
                    continue;
                }
                let count = per_state.get(state).copied().unwrap_or(0);
                if count >= self.config.state_limit_normalized(state) {
                    continue;
                }
                per_state.insert(state.to_owned(), count + 1);
                chosen.push(issue.clone());
            }
            chosen
        };
        for issue in chosen {
            self.dispatch(issue, None, now_ms, out);
        }
    }

    pub(crate) fn dispatch(
        &mut self,
        issue: Issue,
        attempt: Option<u32>,
        now_ms: u64,
        out: &mut Out,
    ) {
        let id = issue.id.clone();
        log(
            out,
            LogLevel::Info,
            Some((&id, &issue.identifier)),
            match attempt {
                None => "dispatching".to_owned(),
                Some(n) => format!("dispatching attempt {n}"),
            },
        );
        if self.retries.remove(&id).is_some() {
            out.push(Effect::CancelTimer {
                timer: Timer::Retry(id.clone()),
            });
        }
        self.claimed.insert(id.clone());
        let limits = self.config.budgets.for_issue(&issue);
        let prior = self.ended_spend.get(&id).copied().unwrap_or_default();
        self.running.insert(
            id,
            RunningEntry {
                issue: issue.clone(),
                attempt,
                started_at_ms: now_ms,
                last_event_at_ms: None,
                session_id: None,
                pid: None,
                last_event: None,
                last_message: None,
                turn_count: 0,
                tokens: symphony_core::Usage::default(),
                stopping: None,
                gating: false,
                tool_calls_in_flight: 0,
                agent_moved_to: None,
                rounds: 0,
                limits,
                prior,
                warned: Vec::new(),
                budget_stop: None,
            },
        );
        self.note_agent_time(&issue.id);
        out.push(Effect::SpawnWorker {
            issue: Box::new(issue),
            attempt,
        });
    }
}
