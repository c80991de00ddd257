//! Candidate selection and dispatch (SPEC §8.2, §8.3).

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, HashSet};

use symphony_core::{normalize_state, Issue};

use crate::eligibility::{dispatch_key, issue_eligible, DispatchKey};
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
        });
    }

    pub(crate) fn on_candidates(
        &mut self,
        result: Result<Vec<Issue>, String>,
        now_ms: u64,
        out: &mut Out,
    ) {
        if self.phase != TickPhase::FetchingCandidates {
            return;
        }
        self.phase = TickPhase::Idle;
        match result {
            Ok(issues) => self.dispatch_candidates(issues, now_ms, out),
            Err(error) => log(
                out,
                LogLevel::Warn,
                None,
                format!("candidate fetch failed, no dispatch this tick: {error}"),
            ),
        }
        out.push(Effect::Notify);
    }

    /// Dispatches eligible candidates in dispatch order while slots remain (SPEC §8.2, §8.3).
    ///
    /// Only small sort keys go into a heap (linear to build) and only as many are popped as
    /// slots allow, so a tick over 10,000 candidates neither sorts nor moves them all; per-state
    /// counts are computed once and updated as issues are chosen.
    pub(crate) fn dispatch_candidates(&mut self, issues: Vec<Issue>, now_ms: u64, out: &mut Out) {
        let max = self.config.max_concurrent_agents;
        if self.shutting_down || self.running.len() >= max {
            return;
        }
        let eligible: Vec<Issue> = issues
            .into_iter()
            .filter(|i| {
                !self.claimed.contains(&i.id)
                    && self
                        .held_elsewhere
                        .get(&i.id)
                        .is_none_or(|(_, until)| *until <= now_ms)
                    && issue_eligible(i, &self.config).is_ok()
            })
            .collect();
        let chosen = {
            let mut per_state: HashMap<String, usize> = HashMap::new();
            for entry in self.running.values() {
                *per_state
                    .entry(normalize_state(&entry.issue.state))
                    .or_default() += 1;
            }
            let mut heap: BinaryHeap<Reverse<(DispatchKey<'_>, usize)>> = eligible
                .iter()
                .enumerate()
                .map(|(index, issue)| Reverse((dispatch_key(issue), index)))
                .collect();
            let mut chosen = Vec::new();
            // A tracker that repeats an issue in one answer must not get it twice.
            let mut taken: HashSet<&str> = HashSet::new();
            while self.running.len() + chosen.len() < max {
                let Some(Reverse((_, index))) = heap.pop() else {
                    break;
                };
                let issue = &eligible[index];
                if self.running.contains_key(&issue.id) || !taken.insert(issue.id.as_str()) {
                    continue;
                }
                let state = normalize_state(&issue.state);
                let count = per_state.get(&state).copied().unwrap_or(0);
                if count >= self.config.state_limit_normalized(&state) {
                    continue;
                }
                per_state.insert(state, count + 1);
                chosen.push(index);
            }
            chosen
        };
        let mut eligible: Vec<Option<Issue>> = eligible.into_iter().map(Some).collect();
        for index in chosen {
            if let Some(issue) = eligible[index].take() {
                self.dispatch(issue, None, now_ms, out);
            }
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
                tokens: (0, 0, 0),
                stopping: None,
                gating: false,
                tool_calls_in_flight: 0,
                agent_moved_to: None,
            },
        );
        out.push(Effect::SpawnWorker {
            issue: Box::new(issue),
            attempt,
        });
    }
}
