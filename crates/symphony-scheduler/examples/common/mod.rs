//! What the benchmarks share: a realistic issue and the scheduler settings they run with.

use chrono::{TimeZone, Utc};
use symphony_core::Issue;
use symphony_scheduler::SchedulerConfig;

/// Candidate number `i`: a few hundred bytes of description, mixed priorities and states.
pub fn issue(i: usize) -> Issue {
    Issue {
        id: format!("issue-{i:06}"),
        native_ref: None,
        identifier: format!("PROJ-{i}"),
        title: format!("Issue number {i} with a realistic title"),
        description: Some("A description of a few hundred bytes. ".repeat(8)),
        priority: Some((i % 6) as i64),
        state: if i % 3 == 0 {
            "In Progress".into()
        } else {
            "Todo".into()
        },
        branch_name: None,
        url: Some(format!("https://tracker.example/PROJ-{i}")),
        assignee_id: None,
        labels: vec!["agent".into(), format!("area-{}", i % 17)],
        blocked_by: Vec::new(),
        dispatchable: true,
        created_at: Utc
            .timestamp_opt(1_700_000_000 + (i as i64 * 7919) % 1_000_000, 0)
            .single(),
        updated_at: None,
    }
}

/// At most `max` agents, stall detection on.
pub fn config(max: usize) -> SchedulerConfig {
    SchedulerConfig {
        max_concurrent_agents: max,
        stall_timeout_ms: 300_000,
        ..SchedulerConfig::default()
    }
}
