//! The scheduler's state (SPEC §4.1.8), what it exposes, and the event dispatch: each event
//! is handled by the rules in `tick`, `dispatch`, `exit` and `control`.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;
use symphony_core::{normalize_state, Issue};

use crate::budget::{DayBook, Spend};
use crate::candidates::CandidateBook;
use crate::config::SchedulerConfig;
use crate::eligibility::{issue_eligible, Ineligible};
use crate::types::*;

/// Where the current tick is: ticks never overlap, so a slow tracker cannot pile them up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TickPhase {
    Idle,
    Reconciling,
    FetchingCandidates,
}

/// The orchestrator's state (SPEC §4.1.8) and its rules.
#[derive(Debug, Clone)]
pub struct Scheduler {
    pub(crate) config: SchedulerConfig,
    pub(crate) running: BTreeMap<String, RunningEntry>,
    pub(crate) claimed: BTreeSet<String>,
    pub(crate) retries: BTreeMap<String, RetryEntry>,
    pub(crate) completed: BTreeSet<String>,
    /// Issues another instance holds: `(holder, until_ms)`; not dispatched before then.
    pub(crate) held_elsewhere: BTreeMap<String, (String, u64)>,
    pub(crate) totals: Totals,
    pub(crate) rate_limits: Option<Value>,
    pub(crate) phase: TickPhase,
    /// The running issues the in-flight reconcile read asked about: only they can be missing
    /// from its answer (an issue dispatched meanwhile was not asked about).
    pub(crate) reconciling: BTreeSet<String>,
    pub(crate) preflight_error: Option<String>,
    pub(crate) shutting_down: bool,
    /// The last candidates, in dispatch order (see `candidates`).
    pub(crate) candidates: CandidateBook,
    /// The tracker's mark of the last candidate answer applied.
    pub(crate) candidate_mark: Option<String>,
    /// What each issue used in the runs seen to end (earlier ones, from durable state, are
    /// added as workers report them): the budgets' memory across attempts.
    pub(crate) ended_spend: BTreeMap<String, Spend>,
    /// The UTC day and its use, once the shell reported it.
    pub(crate) day: Option<DayBook>,
    /// The earliest moment a running issue's agent time passes a threshold (ticks before it
    /// skip the check); may be early, never late.
    pub(crate) agent_time_due: Option<u64>,
}

/// Effects collected while handling one event.
pub(crate) type Out = Vec<Effect>;
pub(crate) fn log(
    out: &mut Out,
    level: LogLevel,
    issue: Option<(&str, &str)>,
    message: impl Into<String>,
) {
    out.push(Effect::Log {
        level,
        issue_id: issue.map(|(id, _)| id.to_owned()),
        identifier: issue.map(|(_, identifier)| identifier.to_owned()),
        message: message.into(),
    });
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
            candidates: CandidateBook::default(),
            candidate_mark: None,
            ended_spend: BTreeMap::new(),
            day: None,
            agent_time_due: None,
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

    /// Issues the last candidate reads showed (eligible or not).
    pub fn known_candidates(&self) -> usize {
        self.candidates.len()
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
            Event::CandidatesRead { result } => self.on_candidate_answer(result, now_ms, &mut out),
            Event::WorkerExited { issue_id, reason } => {
                self.on_worker_exit(&issue_id, reason, now_ms, &mut out)
            }
            Event::AgentUpdate { issue_id, update } => {
                self.on_agent_update(&issue_id, update, now_ms, &mut out)
            }
            Event::PriorSpend { issue_id, spend } => {
                self.on_prior_spend(&issue_id, spend, now_ms, &mut out)
            }
            Event::DayUsage { day, usage } => self.on_day_usage(day, usage, now_ms, &mut out),
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
            Event::HoldsLapsed => self.on_holds_lapsed(now_ms, &mut out),
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
        if let Some(exceeded) = self.spent_out(issue) {
            return Err(Ineligible::Budget(exceeded));
        }
        self.slot_for(&issue.state)
    }

    /// The hard limit the issue's next run would pass, by what its runs are known to have used.
    pub(crate) fn spent_out(&self, issue: &Issue) -> Option<crate::budget::Exceeded> {
        let spent = self.ended_spend.get(&issue.id)?;
        // The next run would be one more attempt.
        let next = spent.plus(&Spend {
            attempts: 1,
            ..Spend::default()
        });
        self.config.budgets.for_issue(issue).stop(&next)
    }

    pub(crate) fn slot_for(&self, state: &str) -> Result<(), Ineligible> {
        if let Some(held) = self.dispatch_hold() {
            return Err(Ineligible::Budget(*held));
        }
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
}
