//! Symphony's orchestrator: the async shell (the service) around the pure scheduler of
//! `symphony-scheduler`. It performs the scheduler's effects — tracker reads, workers, timers,
//! workspace removal, durable state — and feeds their results back as events, one at a time,
//! so the scheduler stays the single authority over scheduling state (SPEC §4.1.8).
//!
//! The scheduler's types are re-exported: they are this crate's vocabulary too (the snapshot
//! status surfaces read, the events and effects an embedder may drive a scheduler with).

mod budget_config;
mod budget_plan;
mod handoff_config;
mod metrics;
mod planning_config;
pub mod planning_policy;
pub mod planning_prompt;
mod prompt_section;
mod review_config;
pub mod review_policy;
pub mod review_prompt;
mod scheduling;
mod sections;
mod service;
#[cfg(test)]
mod test_config;

pub use budget_config::{budgets_of, budgets_section, BudgetsConfig, Price, BUDGETS};
pub use handoff_config::HandOffConfig;
pub use metrics::{ServiceMetrics, TrackerOutcome};
pub use planning_config::PlanningConfig;
pub use review_config::ReviewConfig;
pub use scheduling::scheduler_config;
pub use sections::{config_sections, handoff_plan, planning_plan, PlanError};
pub use service::run_log::{path_for as run_log_path, KEPT_RUN_LOGS, MAX_RUN_LOG_BYTES};
pub use service::{
    ControlHandle, Persistence, RefreshQueued, ReviewerBackends, Service, ServiceOptions,
    SnapshotError, SnapshotHandle, StartError, StoreHealth, TrackerTools, Wiring,
};
pub use symphony_scheduler::{
    sort_for_dispatch, AgentUpdate, BacklogRow, BudgetKind, Budgets, DayBudget, DayLimits,
    Decision, Effect, Event, Exceeded, ExitReason, FetchPurpose, Ineligible, IssueLimits, Limit,
    LogLevel, RestoredRetry, RetryEntry, RetryReason, RetryRow, RunEnd, RunningEntry, RunningRow,
    Scheduler, SchedulerConfig, Snapshot, Spend, StopReason, Timer, Totals, CONTINUATION_DELAY_MS,
    FAILURE_BASE_DELAY_MS,
};
pub use symphony_scheduler::{usage_lines, used as budget_used};
