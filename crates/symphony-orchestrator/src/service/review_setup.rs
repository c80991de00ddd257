//! What the review watch works with: the current workflow's parts, replaced on every reload.

use std::sync::Arc;

use symphony_scheduler::SchedulerConfig;
use symphony_workflow::Workflow;

use super::batched_reads::BatchedReads;
use crate::sections::RunPlan;

/// What a pass of the review watch works with.
pub(crate) struct ReviewSetup {
    pub workflow: Arc<Workflow>,
    pub plan: Arc<RunPlan>,
    pub tracker: Arc<BatchedReads>,
    pub scheduling: SchedulerConfig,
}
