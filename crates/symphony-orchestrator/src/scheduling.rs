//! The scheduling view of a resolved workflow: what the pure scheduler decides with, rebuilt
//! from every workflow that becomes current.

use symphony_core::normalize_state;
use symphony_scheduler::SchedulerConfig;
use symphony_workflow::ServiceConfig;

/// The scheduler's settings for `config`, states and per-state limits normalized.
pub fn scheduler_config(config: &ServiceConfig) -> SchedulerConfig {
    SchedulerConfig {
        active_states: normalized(&config.tracker.active_states),
        terminal_states: normalized(&config.tracker.terminal_states),
        required_labels: config.tracker.required_labels.clone(),
        max_concurrent_agents: config.agent.max_concurrent_agents as usize,
        max_concurrent_agents_by_state: config
            .agent
            .max_concurrent_agents_by_state
            .iter()
            .map(|(state, limit)| (normalize_state(state), *limit as usize))
            .collect(),
        max_retry_backoff_ms: config.agent.max_retry_backoff_ms,
        stall_timeout_ms: config.run_limits.stall_timeout_ms,
        poll_interval_ms: config.polling.interval_ms,
        // Validated at load; a section that fails to read here holds dispatch through the
        // run plan (see `RunPlan::from_workflow`), so no-budget never stands in for it.
        budgets: std::sync::Arc::new(
            crate::budget_config::budgets_of(config)
                .map(|b| b.budgets)
                .unwrap_or_default(),
        ),
    }
}

fn normalized(states: &[String]) -> Vec<String> {
    states.iter().map(|s| normalize_state(s)).collect()
}
