//! Symphony's orchestrator. [`Scheduler`] is the single authority over scheduling state
//! (SPEC §4.1.8): a pure state machine, `handle(event, now) -> effects`, with no threads,
//! clocks or sockets, so every rule of SPEC §7, §8 and §16 is tested deterministically. A thin
//! async shell (the service) performs the effects and feeds their results back as events.

mod config;
mod eligibility;
mod handoff_config;
mod metrics;
mod scheduler;
mod sections;
mod service;
mod snapshot;

pub use config::SchedulerConfig;
pub use eligibility::{sort_for_dispatch, Ineligible};
pub use handoff_config::HandOffConfig;
pub use metrics::{
    Family, Histogram, MetricKind, Sample, SampleValue, ServiceMetrics, TrackerOutcome,
    DURATION_BUCKETS,
};
pub use scheduler::{
    AgentUpdate, Decision, Effect, Event, ExitReason, FetchPurpose, LogLevel, RestoredRetry,
    RetryEntry, RetryReason, RunEnd, RunningEntry, Scheduler, StopReason, Timer, Totals,
    CONTINUATION_DELAY_MS, FAILURE_BASE_DELAY_MS,
};
pub use sections::{config_sections, handoff_plan};
pub use service::run_log::{path_for as run_log_path, KEPT_RUN_LOGS, MAX_RUN_LOG_BYTES};
pub use service::{
    ControlHandle, Persistence, RefreshQueued, Service, ServiceOptions, SnapshotError,
    SnapshotHandle, StoreHealth, TrackerTools, Wiring,
};
pub use snapshot::{RetryRow, RunningRow, Snapshot};
