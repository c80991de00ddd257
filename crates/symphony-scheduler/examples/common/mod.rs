//! What the benchmarks share: a realistic issue and the scheduler settings they run with.

use chrono::{TimeZone, Utc};
use symphony_core::Issue;
use symphony_scheduler::SchedulerConfig;

/// Candidate number `i`: a few hundred bytes of description, mixed priorities and states.
pub fn issue(i: usize) -> Issue {
    {
        let mut normalized = Issue::new(
            format!("issue-{i:06}"),
            format!("PROJ-{i}"),
            format!("Issue number {i} with a realistic title"),
            if i % 3 == 0 { "In Progress" } else { "Todo" },
        );
        normalized.description = Some("A description of a few hundred bytes. ".repeat(8));
        normalized.priority = Some((i % 6) as i64);
        normalized.url = Some(format!("https://tracker.example/PROJ-{i}"));
        normalized.labels = vec!["agent".into(), format!("area-{}", i % 17)];
        normalized.created_at = Utc
            .timestamp_opt(1_700_000_000 + (i as i64 * 7919) % 1_000_000, 0)
            .single();
        normalized
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
