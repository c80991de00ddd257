//! The part of the configuration the scheduler decides with.

use std::collections::BTreeMap;
use std::sync::Arc;

use symphony_core::normalize_state;

use crate::budget::Budgets;

/// Scheduling settings, normalized for comparison. Rebuilt from every reloaded workflow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchedulerConfig {
    /// Normalized states that make an issue eligible.
    pub active_states: Vec<String>,
    /// Normalized states that end an issue.
    pub terminal_states: Vec<String>,
    /// Labels an issue must all carry (normalized; a blank one matches nothing).
    pub required_labels: Vec<String>,
    /// Global concurrency limit.
    pub max_concurrent_agents: usize,
    /// Per-state limits by normalized state.
    pub max_concurrent_agents_by_state: BTreeMap<String, usize>,
    /// Cap of the failure backoff.
    pub max_retry_backoff_ms: u64,
    /// Inactivity after which a run is stalled; `<= 0` disables stall detection.
    pub stall_timeout_ms: i64,
    /// Time between ticks.
    pub poll_interval_ms: u64,
    /// What issues and days may use (none by default); shared, as every worker's copy of the
    /// configuration holds it.
    pub budgets: Arc<Budgets>,
}

impl SchedulerConfig {
    /// Whether a (raw) state is active and not terminal.
    pub fn is_active(&self, state: &str) -> bool {
        self.active_states
            .iter()
            .any(|s| matches_normalized(state, s))
            && !self.is_terminal(state)
    }

    /// Whether a (raw) state is terminal.
    pub fn is_terminal(&self, state: &str) -> bool {
        self.terminal_states
            .iter()
            .any(|s| matches_normalized(state, s))
    }

    /// [`Self::is_active`] for an already normalized state (saves the allocation in hot loops).
    pub fn is_active_normalized(&self, state: &str) -> bool {
        self.active_states.iter().any(|s| s == state) && !self.is_terminal_normalized(state)
    }

    /// [`Self::is_terminal`] for an already normalized state.
    pub fn is_terminal_normalized(&self, state: &str) -> bool {
        self.terminal_states.iter().any(|s| s == state)
    }

    /// The concurrency limit for a (raw) state: its own, else the global one.
    pub fn state_limit(&self, state: &str) -> usize {
        self.state_limit_normalized(&normalize_state(state))
    }

    /// [`Self::state_limit`] for an already normalized state.
    pub fn state_limit_normalized(&self, state: &str) -> usize {
        self.max_concurrent_agents_by_state
            .get(state)
            .copied()
            .unwrap_or(self.max_concurrent_agents)
    }
}

/// Whether raw `state` normalizes to `normalized`, without allocating for ASCII states (the
/// common case, compared once per candidate per tick).
fn matches_normalized(state: &str, normalized: &str) -> bool {
    let trimmed = state.trim();
    if trimmed.is_ascii() {
        trimmed.eq_ignore_ascii_case(normalized)
    } else {
        normalize_state(trimmed) == normalized
    }
}

impl Default for SchedulerConfig {
    /// The SPEC defaults, with `todo`/`in progress` active and `done`/`cancelled` terminal.
    fn default() -> Self {
        Self {
            active_states: vec!["todo".into(), "in progress".into()],
            terminal_states: vec!["done".into(), "cancelled".into()],
            required_labels: Vec::new(),
            max_concurrent_agents: 10,
            max_concurrent_agents_by_state: BTreeMap::new(),
            max_retry_backoff_ms: 300_000,
            stall_timeout_ms: 300_000,
            poll_interval_ms: 30_000,
            budgets: Arc::default(),
        }
    }
}

/// Whether two raw tracker state names are the same state, normalized as the scheduler compares
/// states.
pub fn same_state(a: &str, b: &str) -> bool {
    normalize_state(a) == normalize_state(b)
}
