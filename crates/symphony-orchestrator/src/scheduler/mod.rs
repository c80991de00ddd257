//! The pure scheduler: `handle(event, now) -> effects` over the single authoritative state.

mod types;

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap, HashMap, HashSet};

use serde_json::Value;
use symphony_core::{normalize_state, Issue};

pub use types::*;

use crate::config::SchedulerConfig;
use crate::eligibility::{dispatch_key, issue_eligible, routable, DispatchKey, Ineligible};

/// Where the current tick is: ticks never overlap, so a slow tracker cannot pile them up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TickPhase {
    Idle,
    Reconciling,
    FetchingCandidates,
}

/// The orchestrator's state (SPEC §4.1.8) and its rules.
#[derive(Debug, Clone)]
pub struct Scheduler {
    config: SchedulerConfig,
    running: BTreeMap<String, RunningEntry>,
    claimed: BTreeSet<String>,
    retries: BTreeMap<String, RetryEntry>,
    completed: BTreeSet<String>,
    /// Issues another instance holds: `(holder, until_ms)`; not dispatched before then.
    held_elsewhere: BTreeMap<String, (String, u64)>,
    totals: Totals,
    rate_limits: Option<Value>,
    phase: TickPhase,
    /// The running issues the in-flight reconcile read asked about: only they can be missing
    /// from its answer (an issue dispatched meanwhile was not asked about).
    reconciling: BTreeSet<String>,
    preflight_error: Option<String>,
    shutting_down: bool,
}

/// Effects collected while handling one event.
type Out = Vec<Effect>;

fn log(out: &mut Out, level: LogLevel, issue: Option<(&str, &str)>, message: impl Into<String>) {
    out.push(Effect::Log {
        level,
        issue_id: issue.map(|(id, _)| id.to_owned()),
        identifier: issue.map(|(_, identifier)| identifier.to_owned()),
        message: message.into(),
    });
}

/// Failure backoff for a 1-based attempt: `min(10000 * 2^(attempt-1), cap)`.
pub(crate) fn failure_delay_ms(attempt: u32, cap: u64) -> u64 {
    let shift = attempt.saturating_sub(1).min(40);
    FAILURE_BASE_DELAY_MS.saturating_mul(1u64 << shift).min(cap)
}

impl Scheduler {
    /// A scheduler with nothing running.
    pub fn new(config: SchedulerConfig) -> Self {
        Self {
            config,
            running: BTreeMap::new(),
            claimed: BTreeSet::new(),
            retries: BTreeMap::new(),
            completed: BTreeSet::new(),
            held_elsewhere: BTreeMap::new(),
            totals: Totals::default(),
            rate_limits: None,
            phase: TickPhase::Idle,
            reconciling: BTreeSet::new(),
            preflight_error: None,
            shutting_down: false,
        }
    }

    /// The settings decisions are made with.
    pub fn config(&self) -> &SchedulerConfig {
        &self.config
    }

    /// Running workers by issue id.
    pub fn running(&self) -> &BTreeMap<String, RunningEntry> {
        &self.running
    }

    /// Claimed issue ids (running or retry-queued).
    pub fn claimed(&self) -> &BTreeSet<String> {
        &self.claimed
    }

    /// Queued retries by issue id.
    pub fn retries(&self) -> &BTreeMap<String, RetryEntry> {
        &self.retries
    }

    /// Issues whose worker exited normally at least once (bookkeeping only).
    pub fn completed(&self) -> &BTreeSet<String> {
        &self.completed
    }

    /// Tokens of every session so far (running ones included, as they report) and the
    /// runtime of finished runs.
    pub fn totals(&self) -> Totals {
        self.totals
    }

    /// Why dispatch is paused: the workflow failed its last reload or preflight check.
    pub fn preflight_error(&self) -> Option<&str> {
        self.preflight_error.as_deref()
    }

    /// The latest rate-limit payload an agent reported.
    pub fn rate_limits(&self) -> Option<&Value> {
        self.rate_limits.as_ref()
    }

    /// Handles one event at scheduler time `now_ms` (a monotonic millisecond clock).
    pub fn handle(&mut self, event: Event, now_ms: u64) -> Vec<Effect> {
        let mut out = Vec::new();
        match event {
            Event::Start => self.on_start(&mut out),
            Event::Tick { preflight_error } => self.on_tick(preflight_error, now_ms, &mut out),
            Event::Fetched { purpose, result } => match purpose {
                FetchPurpose::StartupCleanup => self.on_startup_terminal(result, &mut out),
                FetchPurpose::Reconcile => self.on_reconcile(result, &mut out),
                FetchPurpose::Candidates => self.on_candidates(result, now_ms, &mut out),
                FetchPurpose::Retry(issue_id) => {
                    self.on_retry_refreshed(&issue_id, result, now_ms, &mut out)
                }
                FetchPurpose::Hint => self.on_hinted(result, now_ms, &mut out),
            },
            Event::WorkerExited { issue_id, reason } => {
                self.on_worker_exit(&issue_id, reason, now_ms, &mut out)
            }
            Event::AgentUpdate { issue_id, update } => {
                self.on_agent_update(&issue_id, update, now_ms)
            }
            Event::GateStageStarted { issue_id } => {
                if let Some(entry) = self.running.get_mut(&issue_id) {
                    entry.gating = true;
                }
            }
            Event::AgentToolCallStarted { issue_id } => {
                if let Some(entry) = self.running.get_mut(&issue_id) {
                    entry.tool_calls_in_flight = entry.tool_calls_in_flight.saturating_add(1);
                }
            }
            Event::AgentToolCallEnded { issue_id, moved_to } => {
                if let Some(entry) = self.running.get_mut(&issue_id) {
                    entry.tool_calls_in_flight = entry.tool_calls_in_flight.saturating_sub(1);
                    if moved_to.is_some() {
                        entry.agent_moved_to = moved_to;
                    }
                }
            }
            Event::RetryDue { issue_id } => self.on_retry_due(&issue_id, now_ms, &mut out),
            Event::ConfigReloaded(config) => self.on_reload(config, &mut out),
            Event::ClaimDenied {
                issue_id,
                holder,
                held_for_ms,
            } => self.on_claim_denied(&issue_id, holder, held_for_ms, now_ms, &mut out),
            Event::Restore(retries) => self.on_restore(retries, now_ms, &mut out),
            Event::Hint { issue_ids } => self.on_hint(issue_ids, &mut out),
            Event::Stop => self.on_stop(&mut out),
        }
        out
    }

    /// Whether `issue` would be dispatched now, and if not, the first reason why.
    pub fn explain(&self, issue: &Issue) -> Result<(), Ineligible> {
        issue_eligible(issue, &self.config)?;
        if self.running.contains_key(&issue.id) {
            return Err(Ineligible::Running);
        }
        if self.claimed.contains(&issue.id) {
            return Err(Ineligible::Claimed);
        }
        if let Some((holder, _)) = self.held_elsewhere.get(&issue.id) {
            return Err(Ineligible::HeldElsewhere {
                holder: holder.clone(),
            });
        }
        self.slot_for(&issue.state)
    }

    fn slot_for(&self, state: &str) -> Result<(), Ineligible> {
        let limit = self.config.max_concurrent_agents;
        if self.running.len() >= limit {
            return Err(Ineligible::NoGlobalSlot { limit });
        }
        let normalized = normalize_state(state);
        let limit = self.config.state_limit(state);
        let in_state = self
            .running
            .values()
            .filter(|r| normalize_state(&r.issue.state) == normalized)
            .count();
        if in_state >= limit {
            return Err(Ineligible::NoStateSlot {
                state: normalized,
                limit,
            });
        }
        Ok(())
    }

    fn on_start(&mut self, out: &mut Out) {
        out.push(Effect::FetchByStates {
            purpose: FetchPurpose::StartupCleanup,
            states: self.config.terminal_states.clone(),
        });
        out.push(Effect::ArmTimer {
            timer: Timer::Tick,
            delay_ms: 0,
        });
    }

    fn on_startup_terminal(&mut self, result: Result<Vec<Issue>, String>, out: &mut Out) {
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

    fn on_tick(&mut self, preflight_error: Option<String>, now_ms: u64, out: &mut Out) {
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
    fn detect_stalls(&mut self, now_ms: u64, out: &mut Out) {
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

    fn stop_worker(&mut self, issue_id: &str, reason: StopReason, out: &mut Out) {
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
    fn on_reconcile(&mut self, result: Result<Vec<Issue>, String>, out: &mut Out) {
        if self.phase != TickPhase::Reconciling {
            return;
        }
        let asked = std::mem::take(&mut self.reconciling);
        match result {
            Ok(issues) => {
                // Issues not running any more (their worker exited meanwhile) need nothing.
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
    /// Returns the issues that were not running.
    fn reconcile_running(
        &mut self,
        asked: &BTreeSet<String>,
        issues: Vec<Issue>,
        out: &mut Out,
    ) -> Vec<Issue> {
        let mut seen = BTreeSet::new();
        let mut not_running = Vec::new();
        for issue in issues {
            seen.insert(issue.id.clone());
            let Some(entry) = self.running.get(&issue.id) else {
                not_running.push(issue);
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
        not_running
    }

    /// At most this many issues are read for one hint (a webhook names one or a few).
    const HINT_LIMIT: usize = 50;

    fn on_hint(&mut self, issue_ids: Vec<String>, out: &mut Out) {
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
    fn on_hinted(&mut self, result: Result<Vec<Issue>, String>, now_ms: u64, out: &mut Out) {
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
        let candidates = self.reconcile_running(&asked, issues, out);
        if self.preflight_error.is_none() && !self.shutting_down {
            self.dispatch_candidates(candidates, now_ms, out);
        }
        out.push(Effect::Notify);
    }

    fn dispatch_phase(&mut self, out: &mut Out) {
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

    fn on_candidates(&mut self, result: Result<Vec<Issue>, String>, now_ms: u64, out: &mut Out) {
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
    fn dispatch_candidates(&mut self, issues: Vec<Issue>, now_ms: u64, out: &mut Out) {
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

    fn dispatch(&mut self, issue: Issue, attempt: Option<u32>, now_ms: u64, out: &mut Out) {
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

    fn on_worker_exit(&mut self, issue_id: &str, reason: ExitReason, now_ms: u64, out: &mut Out) {
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
            RunEnd::Succeeded => {
                self.completed.insert(issue_id.to_owned());
                Some((1, None, RetryReason::Continuation))
            }
        };
        if let Some(retry) = retry {
            self.schedule_retry(issue_id, &identifier, retry, now_ms, out);
        }
        self.note_retry_url(issue_id, entry.issue.url.clone());
        if self.shutting_down && self.running.is_empty() {
            out.push(Effect::Stopped);
        }
        out.push(Effect::Notify);
    }

    /// SPEC §8.4: continuation (no error) after 1 s, failures with capped exponential backoff.
    fn schedule_retry(
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
    fn queue_retry(
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
    fn note_retry_url(&mut self, issue_id: &str, url: Option<String>) {
        if let Some(entry) = self.retries.get_mut(issue_id) {
            entry.url = url;
        }
    }

    fn on_retry_due(&mut self, issue_id: &str, now_ms: u64, out: &mut Out) {
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

    fn on_retry_refreshed(
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
            self.release(
                issue_id,
                &entry.identifier,
                "no longer visible in the tracker",
                out,
            );
            return;
        };
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

    fn release(&mut self, issue_id: &str, identifier: &str, why: &str, out: &mut Out) {
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

    fn on_agent_update(&mut self, issue_id: &str, update: AgentUpdate, now_ms: u64) {
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
        if update.turn_started {
            entry.turn_count += 1;
        }
        entry.last_event = Some(update.event);
        if update.message.is_some() {
            entry.last_message = update.message;
        }
        if let Some((input, output, total)) = update.tokens {
            // Reports are session-cumulative; a smaller number means a new session began.
            let delta = |now: u64, before: u64| if now >= before { now - before } else { now };
            self.totals.input_tokens += delta(input, entry.tokens.0);
            self.totals.output_tokens += delta(output, entry.tokens.1);
            self.totals.total_tokens += delta(total, entry.tokens.2);
            entry.tokens = (input, output, total);
        }
        if update.rate_limits.is_some() {
            self.rate_limits = update.rate_limits;
        }
    }

    fn on_reload(&mut self, config: SchedulerConfig, out: &mut Out) {
        let interval_changed = config.poll_interval_ms != self.config.poll_interval_ms;
        self.config = config;
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

    fn on_claim_denied(
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
        self.held_elsewhere.insert(
            issue_id.to_owned(),
            (holder, now_ms.saturating_add(held_for_ms)),
        );
        if self.shutting_down && self.running.is_empty() {
            out.push(Effect::Stopped);
        }
        out.push(Effect::Notify);
    }

    fn on_restore(&mut self, retries: Vec<RestoredRetry>, now_ms: u64, out: &mut Out) {
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

    fn on_stop(&mut self, out: &mut Out) {
        if self.shutting_down {
            return;
        }
        self.shutting_down = true;
        out.push(Effect::CancelTimer { timer: Timer::Tick });
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

/// Whether two tracker state names are the same state, normalized as the scheduler compares
/// states.
pub(crate) fn same_state(a: &str, b: &str) -> bool {
    symphony_core::normalize_state(a) == symphony_core::normalize_state(b)
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
