//! The scheduler's events, effects and records.

use serde::Serialize;
use serde_json::Value;
use symphony_core::{Issue, Usage};

use crate::budget::{BudgetKind, Exceeded, IssueLimits, Spend};
use crate::config::SchedulerConfig;
use crate::decision::{Decision, StopReason};

/// Delay of the continuation retry after a normal worker exit (SPEC §8.4).
pub const CONTINUATION_DELAY_MS: u64 = 1_000;
/// First failure-retry delay; doubles per attempt up to `max_retry_backoff_ms` (SPEC §8.4).
pub const FAILURE_BASE_DELAY_MS: u64 = 10_000;

/// A timer the shell keeps; arming one replaces the previous timer with the same key.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Timer {
    /// The poll tick.
    Tick,
    /// The retry of one issue (by id).
    Retry(String),
    /// The earliest lapse of a claim another instance holds: its issue may run again.
    HoldLapse,
}

/// Why a tracker read was requested; the shell hands it back with the result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FetchPurpose {
    /// Startup terminal workspace cleanup (SPEC §8.6).
    StartupCleanup,
    /// Refresh of running issues (SPEC §8.5 part B).
    Reconcile,
    /// Candidate poll (SPEC §8.1 step 3).
    Candidates,
    /// Refresh of one issue whose retry is due (SPEC §8.4).
    Retry(String),
    /// Refresh of issues a tracker notification named (a webhook): reconciled if running,
    /// dispatched if eligible, without waiting for the next poll.
    Hint,
}

/// How a worker ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExitReason {
    /// Its turn loop finished (issue left the active states, or max turns reached).
    Normal,
    /// It failed; the text says how (workspace, hook, prompt or agent error).
    Failed(String),
    /// It did not start: once claimed, a fresh read showed the issue no longer eligible.
    Ineligible(String),
    /// It re-read the issue after the agent's turns, or before one of Symphony's own steps,
    /// and found it moved out of the run's reach by someone other than the agent: it stopped
    /// there and handed nothing off.
    Stopped(StopReason),
    /// Its turns left nothing to hand off (no change in the workspace); retried with backoff
    /// until the hand-off's `max_empty_attempts`, when the worker sends the issue to a person.
    NoChange,
}

/// Something the agent reported for a running issue.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AgentUpdate {
    /// Event name (`turn_started`, `notification`, ...).
    pub event: String,
    /// Current session id, if known.
    pub session_id: Option<String>,
    /// Agent process id, if known.
    pub pid: Option<u32>,
    /// Short human-readable message.
    pub message: Option<String>,
    /// Whether this update starts a new turn.
    pub turn_started: bool,
    /// Whether this update starts a gate feedback or review round (the worker's, not the
    /// agent's).
    pub round_started: bool,
    /// Session-cumulative usage (tokens, and cost when the agent prices it), when reported.
    pub tokens: Option<Usage>,
    /// Latest rate-limit payload, when reported.
    pub rate_limits: Option<Value>,
    /// Only a sign of life (the agent is working, nothing to report): it keeps the stall
    /// clock from running and changes nothing shown or recorded.
    pub activity: bool,
}

/// An input to [`crate::Scheduler::handle`].
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// The service started: clean terminal workspaces, then tick at once.
    Start,
    /// The poll timer fired. `preflight_error` is set when the workflow failed dispatch
    /// validation this tick (SPEC §6.3): reconciliation still runs, dispatch does not.
    Tick {
        /// Why dispatch is not allowed this tick, if it is not.
        preflight_error: Option<String>,
    },
    /// A tracker read finished.
    Fetched {
        /// Why it was requested.
        purpose: FetchPurpose,
        /// The issues, or the error message.
        result: Result<Vec<Issue>, String>,
    },
    /// A candidate read finished, complete or incremental.
    CandidatesRead {
        /// The answer, or the error message.
        result: Result<CandidateAnswer, String>,
    },
    /// A worker ended.
    WorkerExited {
        /// Which issue.
        issue_id: String,
        /// How.
        reason: ExitReason,
    },
    /// A running worker finished its agent turns and entered Symphony's own gate stage: the
    /// issue may now sit in a non-active review state without being stopped, and gates
    /// (bounded by their own limits) are not agent silence.
    GateStageStarted {
        /// Which issue.
        issue_id: String,
    },
    /// A running issue's agent is about to call one of the tracker's mutating tools (sent
    /// before the call, so it reaches the scheduler before any refresh that could see its
    /// effect). While the call is in flight, a non-active state is not acted upon: it may be
    /// the agent's own move, which only the call's end can tell.
    AgentToolCallStarted {
        /// Which issue.
        issue_id: String,
    },
    /// That call ended. `moved_to` is the state it moved the issue to, as the tracker reported
    /// it: while the issue stays in that state it is the agent's own hand-off (the worker reads
    /// it when the turn ends and goes on to its gate stage), so reconciliation does not stop
    /// it as inactive. Any other non-active state stops it; a terminal state always does.
    AgentToolCallEnded {
        /// Which issue.
        issue_id: String,
        /// The state the call moved the issue to, if it moved it.
        moved_to: Option<String>,
    },
    /// A running issue's agent reported something.
    AgentUpdate {
        /// Which issue.
        issue_id: String,
        /// What.
        update: AgentUpdate,
    },
    /// The hold-lapse timer fired: claims other instances held may have lapsed.
    HoldsLapsed,
    /// A retry timer fired.
    RetryDue {
        /// Which issue.
        issue_id: String,
    },
    /// The workflow was reloaded; future decisions use the new settings.
    ConfigReloaded(SchedulerConfig),
    /// A worker could not start because another orchestrator instance holds the issue.
    ClaimDenied {
        /// Which issue.
        issue_id: String,
        /// The instance holding it.
        holder: String,
        /// How long its claim lasts unless renewed.
        held_for_ms: u64,
    },
    /// Retries restored from durable state (after a restart, or work taken over from an
    /// instance that is gone).
    Restore(Vec<RestoredRetry>),
    /// The tracker said these issues changed (a verified webhook): look at them now.
    Hint {
        /// Dispatch ids.
        issue_ids: Vec<String>,
    },
    /// What the issue's earlier runs used, read from durable state by the worker before its
    /// agent starts (ADR 0023): the running run's reports are added to it, so retries,
    /// restarts and other instances never reset a budget. For an issue that is not running
    /// (an explainer's question), it is what its next run is judged by.
    PriorSpend {
        /// Which issue.
        issue_id: String,
        /// Its earlier runs' use.
        spend: Spend,
    },
    /// What every run used so far in UTC day `day` (days since 1970-01-01), from durable
    /// state: sent at start, on every tick and when the day changes. A later day starts the
    /// daily budgets afresh.
    DayUsage {
        /// The UTC day.
        day: u64,
        /// Its use.
        usage: Usage,
    },
    /// Shut down: dispatch nothing more, stop every worker.
    Stop,
}

/// Severity of a [`Effect::Log`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogLevel {
    /// Routine.
    Info,
    /// Something to look at.
    Warn,
    /// Something failed.
    Error,
}

/// An action for the shell to perform.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Read issues in these states; answer with [`Event::Fetched`] (or, for candidates,
    /// [`Event::CandidatesRead`]).
    FetchByStates {
        /// Why.
        purpose: FetchPurpose,
        /// Which states.
        states: Vec<String>,
        /// For candidates: the tracker's mark of the last answer applied, so it may answer
        /// with only what changed since ([`CandidateAnswer`]).
        since: Option<String>,
    },
    /// Read issues by id; answer with [`Event::Fetched`].
    FetchByIds {
        /// Why.
        purpose: FetchPurpose,
        /// Which ids.
        ids: Vec<String>,
    },
    /// Start a worker; answer with [`Event::WorkerExited`] when it ends (at once if it cannot start).
    SpawnWorker {
        /// The issue snapshot it starts from (boxed: it dwarfs the other effects).
        issue: Box<Issue>,
        /// `None` on a first run, the retry/continuation number otherwise.
        attempt: Option<u32>,
    },
    /// Stop a worker; it still answers with [`Event::WorkerExited`].
    StopWorker {
        /// Which issue.
        issue_id: String,
        /// Why.
        reason: StopReason,
    },
    /// Remove an issue's workspace (runs `before_remove`).
    RemoveWorkspace {
        /// The issue's tracker id (for logs and the hook).
        issue_id: String,
        /// The issue identifier (the workspace key's source).
        identifier: String,
    },
    /// Arm (or re-arm) a timer.
    ArmTimer {
        /// Which.
        timer: Timer,
        /// In how long.
        delay_ms: u64,
    },
    /// Cancel a timer.
    CancelTimer {
        /// Which.
        timer: Timer,
    },
    /// Log a decision.
    Log {
        /// Severity.
        level: LogLevel,
        /// The issue concerned, if any.
        issue_id: Option<String>,
        /// Its identifier, if known.
        identifier: Option<String>,
        /// What happened.
        message: String,
    },
    /// A decision for durable state and the audit log.
    Record(Decision),
    /// Send a stopped issue to a person: move it to `state` with `comment` (a per-issue
    /// budget's stop, once its worker has stopped).
    HandToPerson {
        /// The issue as last seen.
        issue: Box<Issue>,
        /// The needs-human state.
        state: String,
        /// What happened and what to change.
        comment: String,
    },
    /// State changed: observers should refresh.
    Notify,
    /// Shutdown finished: no worker is left.
    Stopped,
}

/// A tracker's answer to a candidate read.
#[derive(Debug, Clone, PartialEq)]
pub struct CandidateAnswer {
    /// Complete: every candidate. Incremental: the issues in scope that changed since the
    /// mark the read was given, whatever their state now (one that left the active states is
    /// there so it is dropped); an empty list means nothing changed. An incremental answer
    /// cannot see an issue deleted or moved out of scope: the tracker answers completely
    /// often enough to bound that, and the worker's re-read before a run skips such an issue.
    pub issues: Vec<Issue>,
    /// Whether `issues` is every candidate.
    pub complete: bool,
    /// The tracker's mark of this answer, handed back with the next read.
    pub mark: Option<String>,
}

/// A retry queued before, by this or another instance, to be taken up again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestoredRetry {
    /// Issue id.
    pub issue_id: String,
    /// Identifier for people.
    pub identifier: String,
    /// 1-based attempt number it will run as.
    pub attempt: u32,
    /// In how long it is due (0: now).
    pub due_in_ms: u64,
    /// Why it was queued.
    pub error: Option<String>,
}

/// A running worker's record (SPEC §4.1.6, §16.4).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunningEntry {
    /// The latest issue snapshot.
    pub issue: Issue,
    /// `None` on a first run.
    pub attempt: Option<u32>,
    /// When it was dispatched (scheduler clock, ms).
    pub started_at_ms: u64,
    /// When the agent last reported anything.
    pub last_event_at_ms: Option<u64>,
    /// Current session id.
    pub session_id: Option<String>,
    /// Agent process id.
    pub pid: Option<u32>,
    /// Last event name.
    pub last_event: Option<String>,
    /// Last message.
    pub last_message: Option<String>,
    /// Turns started in this worker.
    pub turn_count: u32,
    /// The session's usage as last reported.
    pub tokens: Usage,
    /// Set once the scheduler asked the worker to stop.
    pub stopping: Option<StopReason>,
    /// The worker is in its gate stage (see [`Event::GateStageStarted`]).
    pub gating: bool,
    /// Mutating tracker tool calls of the agent in flight
    /// (see [`Event::AgentToolCallStarted`]).
    pub tool_calls_in_flight: u32,
    /// The state the agent's own tool call last moved the issue to
    /// (see [`Event::AgentToolCallEnded`]).
    pub agent_moved_to: Option<String>,
    /// Gate feedback and review rounds started in this worker.
    pub rounds: u32,
    /// The issue's per-issue limits, resolved at dispatch.
    pub limits: IssueLimits,
    /// What the issue's earlier runs used ([`Event::PriorSpend`]).
    pub prior: Spend,
    /// Soft thresholds already warned about.
    pub warned: Vec<BudgetKind>,
    /// The hard limit that stopped it, if one did.
    pub budget_stop: Option<Exceeded>,
}

impl RunningEntry {
    /// What the issue used so far at scheduler time `now_ms`: its earlier runs and this one.
    pub fn spend(&self, now_ms: u64) -> Spend {
        self.prior.plus(&Spend {
            usage: self.tokens,
            turns: self.turn_count,
            rounds: self.rounds,
            attempts: 1,
            agent_ms: now_ms.saturating_sub(self.started_at_ms),
        })
    }
}

/// A queued retry (SPEC §4.1.7).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RetryEntry {
    /// Issue id.
    pub issue_id: String,
    /// Identifier for people.
    pub identifier: String,
    /// 1-based attempt number it will run as.
    pub attempt: u32,
    /// When it is due (scheduler clock, ms).
    pub due_at_ms: u64,
    /// Why it was queued (`None` for a continuation).
    pub error: Option<String>,
    /// Whether its tracker refresh is in flight.
    pub refreshing: bool,
    /// The issue's page in the tracker, when known (not after a restart until it is read).
    pub url: Option<String>,
}

/// Aggregate agent usage (SPEC §13.5). Counts include running sessions (each report's
/// increase is added when it arrives) and never decrease.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Totals {
    /// Tokens by kind, and the cost the agents reported.
    pub usage: Usage,
    /// Milliseconds of finished runs.
    pub ended_runtime_ms: u64,
}
