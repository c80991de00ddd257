//! The runtime snapshot of SPEC §13.3, for the status surfaces.

use serde::Serialize;
use serde_json::Value;

use crate::budget::{DayLimits, Exceeded, IssueLimits, Spend};
use crate::decision::StopReason;
use crate::state::Scheduler;
use crate::types::Totals;

/// One running session.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunningRow {
    /// Issue id.
    pub issue_id: String,
    /// Issue identifier.
    pub identifier: String,
    /// Tracker state as last seen.
    pub state: String,
    /// Link to the issue.
    pub url: Option<String>,
    /// Current session id.
    pub session_id: Option<String>,
    /// Turns started.
    pub turn_count: u32,
    /// Retry/continuation number (`None` on a first run).
    pub attempt: Option<u32>,
    /// Milliseconds since dispatch.
    pub running_ms: u64,
    /// Last agent event.
    pub last_event: Option<String>,
    /// Milliseconds since the last agent event (`None` before the first).
    pub last_event_ms_ago: Option<u64>,
    /// Symphony's own stages (gates, hand-off) are running, not the agent.
    pub gating: bool,
    /// Last agent message.
    pub last_message: Option<String>,
    /// The session's usage as last reported.
    pub tokens: symphony_core::Usage,
    /// Set while the worker is being stopped.
    pub stopping: Option<StopReason>,
    /// What the issue used so far, earlier runs included (ADR 0023).
    pub spend: Spend,
    /// Its per-issue limits.
    pub limits: IssueLimits,
}

/// The day's use against its budget.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct DayBudget {
    /// The UTC day (days since 1970-01-01), once reported.
    pub day: Option<u64>,
    /// What every run used in it.
    pub usage: symphony_core::Usage,
    /// Its limits.
    pub limits: DayLimits,
    /// The hard limit holding new dispatch, while one does.
    pub held: Option<Exceeded>,
}

/// One queued retry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RetryRow {
    /// Issue id.
    pub issue_id: String,
    /// Issue identifier.
    pub identifier: String,
    /// Attempt it will run as.
    pub attempt: u32,
    /// Milliseconds until it is due (0 when due).
    pub due_in_ms: u64,
    /// Why it was queued.
    pub error: Option<String>,
    /// The issue's page in the tracker, when known.
    pub url: Option<String>,
}

/// What the orchestrator is doing right now.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Snapshot {
    /// Running sessions.
    pub running: Vec<RunningRow>,
    /// Queued retries.
    pub retrying: Vec<RetryRow>,
    /// Tokens of every session so far, running ones included (added as they are reported, so
    /// they only grow), and the runtime of finished runs.
    pub totals: Totals,
    /// Runtime seconds including active sessions.
    pub seconds_running: f64,
    /// Latest rate-limit payload.
    pub rate_limits: Option<Value>,
    /// Why new work is not dispatched (an invalid workflow after a reload, a state store that
    /// cannot write), if it is not.
    pub config_error: Option<String>,
    /// Why durable state is not being written, while it is not (the service is not ready).
    pub store_error: Option<String>,
    /// The day's budget.
    pub day: DayBudget,
    /// The backlog and why each issue waits; filled only when a snapshot is asked for (the
    /// API, the dashboard), not on every state change.
    pub backlog: Vec<crate::backlog::BacklogRow>,
}

impl Scheduler {
    /// The runtime snapshot at scheduler time `now_ms`.
    pub fn snapshot(&self, now_ms: u64) -> Snapshot {
        let running: Vec<RunningRow> = self
            .running()
            .iter()
            .map(|(id, r)| RunningRow {
                issue_id: id.clone(),
                identifier: r.issue.identifier.clone(),
                state: r.issue.state.clone(),
                url: r.issue.url.clone(),
                session_id: r.session_id.clone(),
                turn_count: r.turn_count,
                attempt: r.attempt,
                running_ms: now_ms.saturating_sub(r.started_at_ms),
                last_event: r.last_event.clone(),
                last_event_ms_ago: r.last_event_at_ms.map(|at| now_ms.saturating_sub(at)),
                gating: r.gating,
                last_message: r.last_message.clone(),
                tokens: r.tokens,
                stopping: r.stopping,
                spend: r.spend(now_ms),
                limits: r.limits,
            })
            .collect();
        let live_ms: u64 = running.iter().map(|r| r.running_ms).sum();
        Snapshot {
            retrying: self
                .retries()
                .values()
                .map(|r| RetryRow {
                    issue_id: r.issue_id.clone(),
                    identifier: r.identifier.clone(),
                    attempt: r.attempt,
                    due_in_ms: r.due_at_ms.saturating_sub(now_ms),
                    error: r.error.clone(),
                    url: r.url.clone(),
                })
                .collect(),
            totals: self.totals(),
            seconds_running: (self.totals().ended_runtime_ms + live_ms) as f64 / 1000.0,
            rate_limits: self.rate_limits().cloned(),
            config_error: self.preflight_error().map(str::to_owned),
            store_error: None,
            day: DayBudget {
                day: self.day_usage().map(|(day, _)| day),
                usage: self.day_usage().map(|(_, usage)| usage).unwrap_or_default(),
                limits: self.config().budgets.per_day,
                held: self.dispatch_hold().copied(),
            },
            running,
            backlog: Vec::new(),
        }
    }
}
