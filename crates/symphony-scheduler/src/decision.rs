//! What the scheduler records: how runs end, why retries are queued, and the decisions the
//! service keeps in durable state and the audit log.

use serde::Serialize;

use crate::budget::{BudgetKind, Exceeded, Spend};

/// Why the scheduler asked a worker to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// The issue reached a terminal state: stop and remove the workspace.
    Terminal,
    /// The issue left the active states.
    Inactive,
    /// The issue is active but no longer routable (labels, dispatchable).
    Unroutable,
    /// The issue is no longer visible in the tracker.
    Missing,
    /// No agent activity for longer than the stall timeout: stop and retry.
    Stalled,
    /// The service is shutting down.
    Shutdown,
    /// A hard budget limit was passed (ADR 0023): the workspace is kept; a per-issue budget
    /// sends the issue to a person, a daily one lets it wait for the next day.
    Budget(BudgetKind),
}

impl StopReason {
    /// Whether the workspace is removed after the worker stops.
    pub fn removes_workspace(self) -> bool {
        matches!(self, Self::Terminal)
    }

    /// The snake-case name, as recorded (`budget` for every budget).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Terminal => "terminal",
            Self::Inactive => "inactive",
            Self::Unroutable => "unroutable",
            Self::Missing => "missing",
            Self::Stalled => "stalled",
            Self::Shutdown => "shutdown",
            Self::Budget(_) => "budget",
        }
    }
}

/// How a run ended, as recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RunEnd {
    /// Its turn loop finished normally.
    Succeeded,
    /// It failed.
    Failed,
    /// It was stopped for inactivity.
    Stalled,
    /// It was stopped because the issue changed.
    Stopped(StopReason),
    /// It was stopped because the service shut down.
    Interrupted,
    /// It did not start: the issue was no longer eligible once claimed.
    Skipped,
    /// A hard budget limit stopped it (or kept it from starting).
    BudgetExceeded(BudgetKind),
}

/// Why a retry was queued, as a bounded set (the error text says the rest).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RetryReason {
    /// The run succeeded; the issue is checked again shortly (SPEC §8.4 continuation).
    Continuation,
    /// The run failed.
    Failure,
    /// The run was stopped for inactivity.
    Stall,
    /// The service shut down mid-run; the next start takes it up.
    Interrupted,
    /// Re-reading the issue before the retry failed.
    RefreshFailed,
    /// No slot was free when the retry came due.
    NoSlots,
    /// The run left nothing to hand off.
    NoChange,
}

impl RetryReason {
    /// The snake-case name, as in metrics labels.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Continuation => "continuation",
            Self::Failure => "failure",
            Self::Stall => "stall",
            Self::Interrupted => "interrupted",
            Self::RefreshFailed => "refresh_failed",
            Self::NoSlots => "no_slots",
            Self::NoChange => "no_change",
        }
    }
}

/// A decision worth keeping: the service records each in durable state and the audit log.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Decision {
    /// A running worker is asked to stop.
    StopRequested {
        /// Which issue.
        issue_id: String,
        /// Its identifier.
        identifier: String,
        /// Why.
        reason: StopReason,
    },
    /// A worker ended.
    RunEnded {
        /// Which issue.
        issue_id: String,
        /// Its identifier.
        identifier: String,
        /// How.
        outcome: RunEnd,
        /// Why, when it did not succeed.
        error: Option<String>,
        /// How long it ran.
        runtime_ms: u64,
    },
    /// An issue is queued for another attempt (also during shutdown: the queue outlives the
    /// process).
    RetryScheduled {
        /// Which issue.
        issue_id: String,
        /// Its identifier.
        identifier: String,
        /// The attempt it will run as.
        attempt: u32,
        /// In how long.
        delay_ms: u64,
        /// Why (`None` for a continuation).
        error: Option<String>,
        /// The kind of reason, for metrics.
        reason: RetryReason,
    },
    /// The issue is let go: no worker, no retry.
    Released {
        /// Which issue.
        issue_id: String,
        /// Its identifier.
        identifier: String,
        /// Why.
        reason: String,
    },
    /// Another instance holds the issue; it is left alone until that claim lapses.
    HeldElsewhere {
        /// Which issue.
        issue_id: String,
        /// Its identifier.
        identifier: String,
        /// The holding instance.
        holder: String,
        /// For how long at most.
        held_for_ms: u64,
    },
    /// The workflow was reloaded.
    ConfigReloaded,
    /// A budget's soft threshold was passed (once per issue and kind, or per day and kind).
    BudgetWarning {
        /// The issue concerned (`None` for a daily budget).
        issue_id: Option<String>,
        /// Its identifier.
        identifier: Option<String>,
        /// Which threshold, how much was used.
        exceeded: Exceeded,
    },
    /// A hard per-issue (or, with `stop_running`, daily) limit stopped a run.
    BudgetExceeded {
        /// Which issue.
        issue_id: String,
        /// Its identifier.
        identifier: String,
        /// Which limit, how much was used.
        exceeded: Exceeded,
        /// Everything the issue used, earlier runs included.
        spend: Spend,
    },
    /// The day's hard limit is reached: new dispatch waits for the next UTC day.
    DispatchHeld {
        /// The UTC day.
        day: u64,
        /// Which limit.
        exceeded: Exceeded,
    },
    /// A new UTC day began and lifted the hold.
    DispatchResumed {
        /// The new day.
        day: u64,
    },
}
