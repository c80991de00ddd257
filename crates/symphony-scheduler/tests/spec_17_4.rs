//! SPEC §17.4 "Orchestrator Dispatch, Reconciliation, and Retry": one test per bullet, named
//! after it, driven through the pure scheduler on a virtual clock.

mod common;

use common::*;
use symphony_core::Usage;
use symphony_scheduler::{
    AgentUpdate, Effect, Event, ExitReason, FetchPurpose, Ineligible, SchedulerConfig, StopReason,
    Timer,
};

fn config() -> SchedulerConfig {
    SchedulerConfig::default()
}

#[test]
fn dispatch_sort_order_is_priority_then_oldest_creation_time() {
    let mut sim = Sim::new(SchedulerConfig {
        max_concurrent_agents: 10,
        ..config()
    });
    let candidates = vec![
        created(with_priority(issue("late-p1", "todo"), Some(1)), 9),
        created(with_priority(issue("early-p1", "todo"), Some(1)), 2),
        created(with_priority(issue("p0", "todo"), Some(0)), 1),
        created(with_priority(issue("none", "todo"), None), 1),
        created(with_priority(issue("p3", "todo"), Some(3)), 1),
        with_priority(issue("p1-undated", "todo"), Some(1)),
        created(with_priority(issue("p9", "todo"), Some(9)), 1),
    ];
    let order = spawned(&sim.tick(&[], &candidates));
    assert_eq!(
        order,
        [
            "early-p1",
            "late-p1",
            "p1-undated",
            "p3",
            "none",
            "p0",
            "p9"
        ]
    );
}

#[test]
fn dispatchable_false_issues_are_not_eligible() {
    let mut sim = Sim::new(config());
    let mut blocked = issue("a", "todo");
    blocked.dispatchable = false;
    assert!(spawned(&sim.tick(&[], &[blocked.clone()])).is_empty());
    assert!(matches!(
        sim.s.explain(&blocked),
        Err(Ineligible::NotDispatchable { .. })
    ));
}

#[test]
fn required_label_filtering_is_case_insensitive_and_applies_after_adapter_normalization() {
    let mut sim = Sim::new(SchedulerConfig {
        required_labels: vec!["agent".into()],
        ..config()
    });
    let mut yes = issue("yes", "todo");
    yes.labels = vec!["agent".into(), "bug".into()];
    let mut upper = issue("upper", "todo");
    upper.labels = vec![" AGENT ".into()];
    let no = issue("no", "todo");
    assert_eq!(
        spawned(&sim.tick(&[], &[yes, upper, no.clone()])),
        ["upper", "yes"]
    );
    assert_eq!(
        sim.s.explain(&no),
        Err(Ineligible::MissingLabel("agent".into()))
    );
    // A blank configured label matches nothing.
    let mut blank = Sim::new(SchedulerConfig {
        required_labels: vec![String::new()],
        ..config()
    });
    let mut labelled = issue("x", "todo");
    labelled.labels = vec![String::new()];
    assert!(spawned(&blank.tick(&[], &[labelled])).is_empty());
}

#[test]
fn active_state_issue_refresh_updates_running_entry_state() {
    let mut sim = Sim::new(config());
    sim.tick(&[], &[issue("a", "todo")]);
    let mut moved = issue("a", "In Progress");
    moved.title = "Renamed".into();
    let effects = sim.tick(&[moved], &[]);
    assert!(!effects
        .iter()
        .any(|e| matches!(e, Effect::StopWorker { .. })));
    let entry = &sim.s.running()["a"];
    assert_eq!(
        (entry.issue.state.as_str(), entry.issue.title.as_str()),
        ("In Progress", "Renamed")
    );
}

#[test]
fn non_active_state_stops_running_agent_without_workspace_cleanup() {
    let mut sim = Sim::new(config());
    sim.tick(&[], &[issue("a", "todo")]);
    let effects = sim.tick(&[issue("a", "Human Review")], &[]);
    assert!(effects.contains(&Effect::StopWorker {
        issue_id: "a".into(),
        reason: StopReason::Inactive
    }));
    let effects = sim.exit("a", ExitReason::Failed("stopped".into()));
    assert!(!effects
        .iter()
        .any(|e| matches!(e, Effect::RemoveWorkspace { .. })));
    assert!(!sim.s.claimed().contains("a") && sim.s.retries().is_empty());
}

#[test]
fn terminal_state_stops_running_agent_and_cleans_workspace() {
    let mut sim = Sim::new(config());
    sim.tick(&[], &[issue("a", "todo")]);
    let effects = sim.tick(&[issue("a", "Done")], &[]);
    assert!(effects.contains(&Effect::StopWorker {
        issue_id: "a".into(),
        reason: StopReason::Terminal
    }));
    // The workspace goes only after the worker is gone: never under a running agent.
    assert!(!effects
        .iter()
        .any(|e| matches!(e, Effect::RemoveWorkspace { .. })));
    let effects = sim.exit("a", ExitReason::Failed("stopped".into()));
    assert!(effects.contains(&Effect::RemoveWorkspace {
        issue_id: "a".into(),
        identifier: "ID-a".into()
    }));
    assert!(sim.s.claimed().is_empty());
}

#[test]
fn reconciliation_with_no_running_issues_is_a_no_op() {
    let mut sim = Sim::new(config());
    let effects = sim.send(Event::Tick {
        preflight_error: None,
    });
    assert!(!effects
        .iter()
        .any(|e| matches!(e, Effect::FetchByIds { .. } | Effect::StopWorker { .. })));
    assert!(effects.iter().any(|e| matches!(
        e,
        Effect::FetchByStates {
            purpose: FetchPurpose::Candidates,
            ..
        }
    )));
}

#[test]
fn normal_worker_exit_schedules_a_short_continuation_retry_attempt_1() {
    let mut sim = Sim::new(config());
    sim.tick(&[], &[issue("a", "todo")]);
    let effects = sim.exit("a", ExitReason::Normal);
    assert_eq!(retry_delay(&effects, "a"), Some(1_000));
    let entry = &sim.s.retries()["a"];
    assert_eq!((entry.attempt, entry.error.as_deref()), (1, None));
    assert!(sim.s.completed().contains("a"));
    sim.advance(1_000);
    let effects = sim.retry("a", Ok(vec![issue("a", "todo")]));
    assert!(effects.iter().any(|e| matches!(
        e,
        Effect::SpawnWorker {
            attempt: Some(1),
            ..
        }
    )));
}

#[test]
fn abnormal_worker_exit_increments_retries_with_10s_based_exponential_backoff() {
    let mut sim = Sim::new(config());
    sim.tick(&[], &[issue("a", "todo")]);
    let mut delays = Vec::new();
    for _ in 0..4 {
        let effects = sim.exit("a", ExitReason::Failed("agent crashed".into()));
        let delay = retry_delay(&effects, "a").unwrap();
        delays.push((sim.s.retries()["a"].attempt, delay));
        sim.advance(delay);
        sim.retry("a", Ok(vec![issue("a", "todo")]));
    }
    assert_eq!(delays, [(1, 10_000), (2, 20_000), (3, 40_000), (4, 80_000)]);
}

#[test]
fn retry_backoff_cap_uses_configured_agent_max_retry_backoff_ms() {
    let mut sim = Sim::new(SchedulerConfig {
        max_retry_backoff_ms: 25_000,
        ..config()
    });
    sim.tick(&[], &[issue("a", "todo")]);
    let mut delays = Vec::new();
    for _ in 0..4 {
        let effects = sim.exit("a", ExitReason::Failed("boom".into()));
        delays.push(retry_delay(&effects, "a").unwrap());
        sim.advance(30_000);
        sim.retry("a", Ok(vec![issue("a", "todo")]));
    }
    assert_eq!(delays, [10_000, 20_000, 25_000, 25_000]);
}

#[test]
fn retry_queue_entries_include_attempt_due_time_identifier_and_error() {
    let mut sim = Sim::new(config());
    sim.tick(&[], &[issue("a", "todo")]);
    sim.advance(5_000);
    sim.exit("a", ExitReason::Failed("before_run hook failed".into()));
    let entry = &sim.s.retries()["a"];
    assert_eq!(entry.attempt, 1);
    assert_eq!(entry.due_at_ms, 15_000);
    assert_eq!(entry.identifier, "ID-a");
    assert_eq!(
        entry.error.as_deref(),
        Some("worker exited: before_run hook failed")
    );
}

#[test]
fn stall_detection_kills_stalled_sessions_and_schedules_retry() {
    let mut sim = Sim::new(SchedulerConfig {
        stall_timeout_ms: 60_000,
        ..config()
    });
    sim.tick(&[], &[issue("a", "todo"), issue("b", "todo")]);
    sim.advance(50_000);
    sim.send(Event::AgentUpdate {
        issue_id: "b".into(),
        update: AgentUpdate {
            event: "notification".into(),
            ..Default::default()
        },
    });
    sim.advance(20_000);
    let effects = sim.tick(&[issue("a", "todo"), issue("b", "todo")], &[]);
    assert!(effects.contains(&Effect::StopWorker {
        issue_id: "a".into(),
        reason: StopReason::Stalled
    }));
    assert!(!effects
        .iter()
        .any(|e| matches!(e, Effect::StopWorker { issue_id, .. } if issue_id == "b")));
    let effects = sim.exit("a", ExitReason::Failed("killed".into()));
    assert_eq!(retry_delay(&effects, "a"), Some(10_000));
    assert!(sim.s.retries()["a"]
        .error
        .as_deref()
        .unwrap()
        .starts_with("stalled"));
    // Disabled with stall_timeout_ms <= 0.
    let mut off = Sim::new(SchedulerConfig {
        stall_timeout_ms: 0,
        ..config()
    });
    off.tick(&[], &[issue("a", "todo")]);
    off.advance(10_000_000);
    assert!(!off
        .tick(&[issue("a", "todo")], &[])
        .iter()
        .any(|e| matches!(e, Effect::StopWorker { .. })));
}

/// A sign of life (an item streaming) holds off a stall like any event, without replacing
/// what the dashboard shows as the last event.
#[test]
fn activity_resets_the_stall_clock_and_changes_nothing_shown() {
    let mut sim = Sim::new(SchedulerConfig {
        stall_timeout_ms: 60_000,
        ..config()
    });
    sim.tick(&[], &[issue("a", "todo")]);
    sim.send(Event::AgentUpdate {
        issue_id: "a".into(),
        update: AgentUpdate {
            event: "notification".into(),
            message: Some("compiling".into()),
            ..Default::default()
        },
    });
    for _ in 0..3 {
        sim.advance(50_000);
        sim.send(Event::AgentUpdate {
            issue_id: "a".into(),
            update: AgentUpdate {
                event: "activity".into(),
                activity: true,
                ..Default::default()
            },
        });
    }
    sim.advance(20_000);
    let effects = sim.tick(&[issue("a", "todo")], &[]);
    assert!(
        !effects
            .iter()
            .any(|e| matches!(e, Effect::StopWorker { .. })),
        "150 s of streaming is not a stall: {effects:?}"
    );
    let row = &sim.s.snapshot(0).running[0];
    assert_eq!(row.last_event.as_deref(), Some("notification"));
    assert_eq!(row.last_message.as_deref(), Some("compiling"));
}

#[test]
fn slot_exhaustion_requeues_retries_with_explicit_error_reason() {
    let mut sim = Sim::new(SchedulerConfig {
        max_concurrent_agents: 1,
        ..config()
    });
    sim.tick(&[], &[issue("a", "todo")]);
    sim.exit("a", ExitReason::Failed("boom".into()));
    sim.tick(&[], &[issue("b", "todo")]);
    assert!(sim.s.running().contains_key("b"));
    sim.advance(10_000);
    let effects = sim.retry("a", Ok(vec![issue("a", "todo")]));
    assert!(spawned(&effects).is_empty());
    let entry = &sim.s.retries()["a"];
    assert_eq!(
        entry.error.as_deref(),
        Some("no available orchestrator slots")
    );
    assert_eq!(entry.attempt, 2);
}

#[test]
fn snapshot_returns_running_rows_retry_rows_token_totals_and_rate_limits() {
    let mut sim = Sim::new(config());
    sim.tick(&[], &[issue("a", "todo"), issue("b", "todo")]);
    sim.advance(2_000);
    let update = AgentUpdate {
        event: "turn_started".into(),
        session_id: Some("t1-u1".into()),
        turn_started: true,
        tokens: Some(Usage::tokens(100, 20, 120).with_cost_usd(0.01)),
        rate_limits: Some(serde_json::json!({"primary": {"used_percent": 12}})),
        ..Default::default()
    };
    sim.send(Event::AgentUpdate {
        issue_id: "a".into(),
        update: update.clone(),
    });
    sim.send(Event::AgentUpdate {
        issue_id: "a".into(),
        update: AgentUpdate {
            tokens: Some(
                Usage::tokens(150, 30, 180)
                    .with_cache(40, 0)
                    .with_cost_usd(0.03),
            ),
            turn_started: false,
            ..update
        },
    });
    sim.exit("b", ExitReason::Failed("boom".into()));
    let snap = sim.s.snapshot(sim.now);
    assert_eq!(snap.running.len(), 1);
    let row = &snap.running[0];
    assert_eq!(
        (
            row.identifier.as_str(),
            row.session_id.as_deref(),
            row.turn_count,
            row.running_ms
        ),
        ("ID-a", Some("t1-u1"), 1, 2_000)
    );
    assert_eq!(snap.retrying.len(), 1);
    assert_eq!(
        (
            snap.retrying[0].identifier.as_str(),
            snap.retrying[0].due_in_ms
        ),
        ("ID-b", 10_000)
    );
    assert_eq!(
        snap.totals.usage,
        Usage::tokens(150, 30, 180)
            .with_cache(40, 0)
            .with_cost_usd(0.03),
        "each report's increase, cost included"
    );
    assert_eq!(snap.seconds_running, 4.0);
    assert_eq!(snap.rate_limits.unwrap()["primary"]["used_percent"], 12);
}

// Beyond the bullets: the rest of SPEC §8.

#[test]
fn per_state_limits_cap_dispatch_by_current_state() {
    let mut limits = std::collections::BTreeMap::new();
    limits.insert("in progress".to_owned(), 1);
    let mut sim = Sim::new(SchedulerConfig {
        max_concurrent_agents_by_state: limits,
        ..config()
    });
    let order = spawned(&sim.tick(
        &[],
        &[
            issue("a", "In Progress"),
            issue("b", "in progress"),
            issue("c", "todo"),
        ],
    ));
    assert_eq!(order, ["a", "c"]);
    assert!(matches!(
        sim.s.explain(&issue("b", "in progress")),
        Err(Ineligible::NoStateSlot { limit: 1, .. })
    ));
}

#[test]
fn a_failed_preflight_skips_dispatch_but_still_reconciles() {
    let mut sim = Sim::new(config());
    sim.tick(&[], &[issue("a", "todo")]);
    let effects = sim.send(Event::Tick {
        preflight_error: Some("tracker.kind is required".into()),
    });
    assert!(effects.iter().any(|e| matches!(
        e,
        Effect::FetchByIds {
            purpose: FetchPurpose::Reconcile,
            ..
        }
    )));
    let effects = sim.send(Event::Fetched {
        purpose: FetchPurpose::Reconcile,
        result: Ok(vec![issue("a", "done")]),
    });
    assert!(effects.contains(&Effect::StopWorker {
        issue_id: "a".into(),
        reason: StopReason::Terminal
    }));
    assert!(!effects
        .iter()
        .any(|e| matches!(e, Effect::FetchByStates { .. })));
    assert!(effects.iter().any(
        |e| matches!(e, Effect::Log { message, .. } if message.contains("tracker.kind is required"))
    ));
}

#[test]
fn tracker_failures_keep_workers_running_and_skip_dispatch() {
    let mut sim = Sim::new(config());
    sim.tick(&[], &[issue("a", "todo")]);
    let mut effects = sim.send(Event::Tick {
        preflight_error: None,
    });
    effects.extend(sim.send(Event::Fetched {
        purpose: FetchPurpose::Reconcile,
        result: Err("timeout".into()),
    }));
    effects.extend(sim.send(Event::Fetched {
        purpose: FetchPurpose::Candidates,
        result: Err("HTTP 502".into()),
    }));
    assert!(!effects
        .iter()
        .any(|e| matches!(e, Effect::StopWorker { .. } | Effect::SpawnWorker { .. })));
    assert!(sim.s.running().contains_key("a"));
}

#[test]
fn reloaded_config_applies_to_future_decisions() {
    let mut sim = Sim::new(SchedulerConfig {
        max_concurrent_agents: 1,
        ..config()
    });
    assert_eq!(
        spawned(&sim.tick(&[], &[issue("a", "todo"), issue("b", "todo")])),
        ["a"]
    );
    let effects = sim.send(Event::ConfigReloaded(SchedulerConfig {
        max_concurrent_agents: 3,
        poll_interval_ms: 5_000,
        ..config()
    }));
    assert!(effects.contains(&Effect::ArmTimer {
        timer: Timer::Tick,
        delay_ms: 5_000
    }));
    assert_eq!(
        spawned(&sim.tick(
            &[issue("a", "todo")],
            &[issue("a", "todo"), issue("b", "todo")]
        )),
        ["b"]
    );
}

#[test]
fn startup_cleans_workspaces_of_terminal_issues_and_ticks_at_once() {
    let mut sim = Sim::new(config());
    let effects = sim.send(Event::Start);
    assert!(effects.contains(&Effect::ArmTimer {
        timer: Timer::Tick,
        delay_ms: 0
    }));
    assert!(effects.iter().any(|e| matches!(
        e,
        Effect::FetchByStates {
            purpose: FetchPurpose::StartupCleanup,
            ..
        }
    )));
    let effects = sim.send(Event::Fetched {
        purpose: FetchPurpose::StartupCleanup,
        result: Ok(vec![issue("x", "Done")]),
    });
    assert_eq!(
        effects,
        [Effect::RemoveWorkspace {
            issue_id: "x".into(),
            identifier: "ID-x".into()
        }]
    );
    let effects = sim.send(Event::Fetched {
        purpose: FetchPurpose::StartupCleanup,
        result: Err("offline".into()),
    });
    assert!(matches!(effects.as_slice(), [Effect::Log { .. }]));
}

#[test]
fn stop_stops_every_worker_dispatches_nothing_and_reports_when_done() {
    let mut sim = Sim::new(config());
    sim.tick(&[], &[issue("a", "todo"), issue("b", "todo")]);
    sim.exit("b", ExitReason::Failed("x".into()));
    let effects = sim.send(Event::Stop);
    assert!(effects.contains(&Effect::StopWorker {
        issue_id: "a".into(),
        reason: StopReason::Shutdown
    }));
    assert!(effects.contains(&Effect::CancelTimer {
        timer: Timer::Retry("b".into())
    }));
    assert!(!effects.contains(&Effect::Stopped));
    assert!(sim
        .send(Event::Tick {
            preflight_error: None
        })
        .is_empty());
    let effects = sim.exit("a", ExitReason::Failed("cancelled".into()));
    assert!(effects.contains(&Effect::Stopped));
    assert!(sim.s.claimed().is_empty() && sim.s.retries().is_empty());
}

#[test]
fn a_retry_for_an_issue_gone_terminal_or_missing_releases_the_claim() {
    let mut sim = Sim::new(config());
    sim.tick(
        &[],
        &[issue("a", "todo"), issue("b", "todo"), issue("c", "todo")],
    );
    for id in ["a", "b", "c"] {
        sim.exit(id, ExitReason::Normal);
    }
    sim.advance(1_000);
    let effects = sim.retry("a", Ok(vec![issue("a", "done")]));
    assert!(effects.contains(&Effect::RemoveWorkspace {
        issue_id: "a".into(),
        identifier: "ID-a".into()
    }));
    sim.retry("b", Ok(vec![]));
    sim.retry("c", Ok(vec![issue("c", "human review")]));
    assert!(sim.s.claimed().is_empty() && sim.s.running().is_empty());
    // A failed refresh keeps the claim and backs off.
    let mut sim = Sim::new(config());
    sim.tick(&[], &[issue("d", "todo")]);
    sim.exit("d", ExitReason::Normal);
    sim.advance(1_000);
    let effects = sim.retry("d", Err("HTTP 500".into()));
    assert_eq!(retry_delay(&effects, "d"), Some(20_000));
    assert!(sim.s.claimed().contains("d"));
}

/// SPEC 13.3: retry rows carry the issue's URL (it was always null).
#[test]
fn a_queued_retry_keeps_its_issues_url() {
    let mut sim = Sim::new(config());
    let mut with_url = issue("a", "todo");
    with_url.url = Some("https://tracker.example/a".into());
    sim.tick(&[], &[with_url]);
    sim.exit("a", ExitReason::Failed("boom".into()));
    let snapshot = sim.s.snapshot(0);
    assert_eq!(
        snapshot.retrying[0].url.as_deref(),
        Some("https://tracker.example/a")
    );
}
