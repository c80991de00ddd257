//! The service's own limits.

use std::time::Duration;

/// Limits of the shell itself.
#[derive(Debug, Clone)]
pub struct ServiceOptions {
    /// A tracker read that takes longer fails (the scheduler retries next tick).
    pub fetch_timeout: Duration,
    /// How long a worker asked to stop has before its task is aborted (its processes killed).
    pub stop_grace: Duration,
    /// Where each run's full agent log is written (`<dir>/<run id>.log`; runs have ids only
    /// with a state store). `None`: no run logs.
    pub run_logs: Option<std::path::PathBuf>,
}

impl Default for ServiceOptions {
    fn default() -> Self {
        Self {
            fetch_timeout: Duration::from_secs(30),
            stop_grace: Duration::from_secs(15),
            run_logs: None,
        }
    }
}
