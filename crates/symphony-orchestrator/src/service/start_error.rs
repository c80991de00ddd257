//! Why the service, or a reloaded workflow, cannot start: the typed error of `Service::run`
//! and of `Wiring`.

use symphony_agent::BackendBuildError;
use symphony_store::StoreError;
use symphony_tracker::TrackerError;

use crate::sections::PlanError;

/// Why a workflow cannot run in this build, or the service cannot start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// No tracker could be built for `tracker:` (no adapter for its kind, bad settings).
    #[error("no tracker for this workflow: {0}")]
    Tracker(#[from] TrackerError),
    /// No agent backend could be built for `agent.backend`.
    #[error("no agent backend for this workflow: {0}")]
    Backend(#[from] BackendBuildError),
    /// The run plan (gates, hand-off, code host) refuses the workflow.
    #[error("the workflow cannot run: {0}")]
    Plan(#[from] PlanError),
    /// The durable state cannot be read at start-up.
    #[error("the durable state cannot be read: {0}")]
    Store(#[from] StoreError),
}

impl StartError {
    /// The error's category name (the underlying error's own).
    pub fn category(&self) -> &'static str {
        match self {
            Self::Tracker(e) => e.category.as_str(),
            Self::Backend(e) => e.category(),
            Self::Plan(e) => e.category,
            Self::Store(e) => e.category(),
        }
    }
}
