//! Symphony's scheduler: the single authority over scheduling state (SPEC §4.1.8), as a pure
//! state machine, `handle(event, now) -> effects`. It has no threads, clocks, sockets or files
//! — Cargo enforces it: this crate depends on nothing that performs I/O — so every rule of
//! SPEC §7, §8 and §16 is tested deterministically. The async shell in
//! `symphony-orchestrator` performs the effects and feeds their results back as events, as
//! quinn drives quinn-proto.
//!
//! The worker asks the same rules before it starts ([`issue_eligible`]) and before each of
//! Symphony's own steps ([`standing`]): one definition of "may this issue run".

mod backlog;
mod budget;
mod candidates;
mod config;
mod control;
mod decision;
mod dispatch;
mod eligibility;
mod exit;
mod snapshot;
mod spend;
mod standing;
mod state;
mod tick;
mod types;

pub use backlog::BacklogRow;
pub use budget::{
    stop_comment, usage_lines, used, BudgetKind, BudgetOverride, Budgets, DayLimits, Exceeded,
    IssueLimits, Limit, Spend,
};
pub use config::{same_state, SchedulerConfig};
pub use decision::*;
pub use eligibility::{dispatch_order, issue_eligible, sort_for_dispatch, Ineligible};
pub use snapshot::{DayBudget, RetryRow, RunningRow, Snapshot};
pub use standing::{standing, Standing};
pub use state::Scheduler;
pub use types::*;
