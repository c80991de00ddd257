//! What a worker runs with.

use std::sync::Arc;

use symphony_agent::AgentBackend;
use symphony_scheduler::{Event, SchedulerConfig};
use symphony_workflow::Workflow;
use tokio::sync::mpsc;

use super::batched_reads::BatchedReads;
use super::persist::Persistence;
use super::review_round::RoundContext;
use super::reviewer::ReviewerBackends;
use crate::metrics::ServiceMetrics;
use crate::sections::RunPlan;
use symphony_store::Store;

/// Events a worker's agent may queue before it is slowed down.
pub(crate) const AGENT_EVENT_BUFFER: usize = 256;

/// What a worker runs with: one workflow snapshot for its whole session (SPEC §10.5).
pub(crate) struct WorkerContext {
    pub workflow: Arc<Workflow>,
    /// The scheduling rules of that workflow (active states, routing), as the scheduler has them.
    pub scheduling: SchedulerConfig,
    /// The tracker, its reads by id batched and shared.
    pub tracker: Arc<BatchedReads>,
    pub backend: Arc<dyn AgentBackend>,
    /// The reviewers the workflow's `ai_review` checks name.
    pub reviewers: Arc<ReviewerBackends>,
    pub updates: mpsc::Sender<Event>,
    /// The workflow's gates, hand-off and docs, validated when the workflow became current.
    pub plan: Arc<RunPlan>,
    /// Where gate verdicts are audited.
    pub persistence: Option<Persistence>,
    /// The run's id in the state store, when there is one.
    pub run_id: Option<i64>,
    /// Where turn durations and gate outcomes are counted.
    pub metrics: Arc<ServiceMetrics>,
    /// The folder of per-run agent logs, when they are kept.
    pub run_logs: Option<std::path::PathBuf>,
    /// Consecutive earlier runs of this issue that left nothing to hand off.
    pub empty_before: u32,
    /// The state store, for what a run reads there (its review round).
    pub store: Option<Arc<dyn Store>>,
    /// The review round this run answers (read when it starts).
    pub review: Option<RoundContext>,
    /// What the earlier runs used, when its budgets asked the store (ADR 0023).
    pub prior_spend: Option<symphony_scheduler::Spend>,
}
