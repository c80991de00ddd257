//! The scheduler's side of durable state: the decisions it records, claims held by another
//! instance, retries restored after a restart, and what a shutdown leaves queued.

mod common;

use common::{issue, retry_delay, spawned, Sim};
use symphony_scheduler::{
    Decision, Effect, Event, ExitReason, Ineligible, RestoredRetry, RunEnd, SchedulerConfig,
    StopReason, Timer,
};

fn config() -> SchedulerConfig {
    SchedulerConfig {
        max_concurrent_agents: 2,
        ..SchedulerConfig::default()
    }
}

fn decisions(effects: &[Effect]) -> Vec<Decision> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Record(d) => Some(d.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn an_issue_held_by_another_instance_is_left_alone_until_its_claim_lapses() {
    let mut sim = Sim::new(config());
    let backlog = [issue("1", "Todo"), issue("2", "Todo"), issue("3", "Todo")];
    assert_eq!(spawned(&sim.tick(&[], &backlog)), vec!["1", "2"]);
    let effects = sim.send(Event::ClaimDenied {
        issue_id: "1".into(),
        holder: "other".into(),
        held_for_ms: 30_000,
    });
    // The freed slot goes to the next issue at once, not back to the held one.
    assert_eq!(spawned(&effects), vec!["3"]);
    assert!(effects.contains(&Effect::ArmTimer {
        timer: Timer::HoldLapse,
        delay_ms: 30_000
    }));
    assert_eq!(
        decisions(&effects),
        vec![Decision::HeldElsewhere {
            issue_id: "1".into(),
            identifier: "ID-1".into(),
            holder: "other".into(),
            held_for_ms: 30_000,
        }]
    );
    assert!(!sim.s.running().contains_key("1") && !sim.s.claimed().contains("1"));
    assert_eq!(
        sim.s.explain(&backlog[0]),
        Err(Ineligible::HeldElsewhere {
            holder: "other".into()
        })
    );
    // A slot freed while the hold lasts does not go to the held issue.
    sim.advance(1_000);
    let running = [issue("2", "Todo"), issue("3", "Todo")];
    assert!(spawned(&sim.tick(&running, &backlog)).is_empty());
    assert!(spawned(&sim.exit("2", ExitReason::Failed("x".into()))).is_empty());
    // When the claim could have lapsed, the issue is tried again at once.
    sim.advance(29_000);
    assert_eq!(spawned(&sim.send(Event::HoldsLapsed)), vec!["1"]);
}

#[test]
fn restored_retries_keep_their_due_times_and_skip_what_is_already_claimed() {
    let mut sim = Sim::new(config());
    assert_eq!(spawned(&sim.tick(&[], &[issue("1", "Todo")])), vec!["1"]);
    let effects = sim.send(Event::Restore(vec![
        RestoredRetry {
            issue_id: "1".into(),
            identifier: "ID-1".into(),
            attempt: 4,
            due_in_ms: 0,
            error: None,
        },
        RestoredRetry {
            issue_id: "2".into(),
            identifier: "ID-2".into(),
            attempt: 3,
            due_in_ms: 45_000,
            error: Some("worker exited: boom".into()),
        },
    ]));
    assert_eq!(retry_delay(&effects, "1"), None, "issue 1 is running here");
    assert_eq!(retry_delay(&effects, "2"), Some(45_000));
    let entry = &sim.s.retries()["2"];
    assert_eq!((entry.attempt, entry.due_at_ms), (3, 45_000));
    assert!(sim.s.claimed().contains("2"));
    // Due: refreshed and dispatched as attempt 3.
    sim.advance(45_000);
    let effects = sim.retry("2", Ok(vec![issue("2", "Todo")]));
    assert!(effects.iter().any(|e| matches!(
        e,
        Effect::SpawnWorker { issue, attempt: Some(3) } if issue.id == "2"
    )));
}

#[test]
fn a_shutdown_records_interrupted_runs_as_due_retries_and_keeps_the_queue() {
    let mut sim = Sim::new(config());
    assert_eq!(
        spawned(&sim.tick(&[], &[issue("1", "Todo"), issue("2", "Todo")])),
        vec!["1", "2"]
    );
    sim.exit("2", ExitReason::Failed("boom".into()));
    let stop = sim.send(Event::Stop);
    assert!(
        !decisions(&stop)
            .iter()
            .any(|d| matches!(d, Decision::Released { .. })),
        "the queued retry of issue 2 is not released: {stop:?}"
    );
    let effects = sim.exit("1", ExitReason::Failed("killed".into()));
    let recorded = decisions(&effects);
    assert!(matches!(
        &recorded[0],
        Decision::RunEnded { issue_id, outcome: RunEnd::Interrupted, .. } if issue_id == "1"
    ));
    assert!(matches!(
        &recorded[1],
        Decision::RetryScheduled { issue_id, attempt: 1, delay_ms: 0, error: Some(e), .. }
            if issue_id == "1" && e.starts_with("interrupted")
    ));
    assert!(effects.contains(&Effect::Stopped));
    assert_eq!(
        retry_delay(&effects, "1"),
        None,
        "nothing more runs in this life"
    );
}

/// A worker whose last step (the hand-off) finished as the service began to stop has
/// succeeded: it used to be recorded `interrupted`, its PR written and its issue in review.
#[test]
fn a_run_that_finished_its_hand_off_during_a_shutdown_is_recorded_as_succeeded() {
    let mut sim = Sim::new(config());
    sim.tick(&[], &[issue("1", "Todo")]);
    sim.advance(1_000);
    sim.send(Event::Stop);
    let effects = sim.exit("1", ExitReason::Normal);
    let recorded = decisions(&effects);
    assert!(
        matches!(
            &recorded[0],
            Decision::RunEnded { issue_id, outcome: RunEnd::Succeeded, error: None, .. }
                if issue_id == "1"
        ),
        "{recorded:?}"
    );
    assert!(
        !recorded.iter().any(|d| matches!(
            d,
            Decision::RetryScheduled { error: Some(e), .. } if e.starts_with("interrupted")
        )),
        "not queued as an interrupted run: {recorded:?}"
    );
    assert!(effects.contains(&Effect::Stopped));
}

/// A worker that found its issue moved out of its reach stopped there: recorded as stopped,
/// released without a retry.
#[test]
fn a_worker_that_found_its_issue_moved_away_is_recorded_as_stopped() {
    let mut sim = Sim::new(config());
    sim.tick(&[], &[issue("1", "Todo")]);
    let effects = sim.exit("1", ExitReason::Stopped(StopReason::Inactive));
    let recorded = decisions(&effects);
    assert!(
        matches!(
            &recorded[0],
            Decision::RunEnded {
                outcome: RunEnd::Stopped(StopReason::Inactive),
                ..
            }
        ),
        "{recorded:?}"
    );
    assert!(
        matches!(&recorded[1], Decision::Released { .. }),
        "{recorded:?}"
    );
    assert_eq!(retry_delay(&effects, "1"), None);
}

#[test]
fn a_worker_that_finds_its_issue_no_longer_eligible_releases_it_without_a_retry() {
    let mut sim = Sim::new(config());
    sim.tick(&[], &[issue("1", "Todo")]);
    let effects = sim.exit(
        "1",
        ExitReason::Ineligible("state \"Done\" is terminal".into()),
    );
    let recorded = decisions(&effects);
    assert!(matches!(
        &recorded[0],
        Decision::RunEnded {
            outcome: RunEnd::Skipped,
            ..
        }
    ));
    assert!(matches!(&recorded[1], Decision::Released { .. }));
    assert_eq!(recorded.len(), 2);
    assert!(!sim.s.claimed().contains("1") && sim.s.retries().is_empty());
}

#[test]
fn a_worker_that_ends_on_its_own_after_a_stop_request_is_recorded_as_succeeded() {
    let mut sim = Sim::new(config());
    sim.tick(&[], &[issue("1", "Todo")]);
    sim.advance(1_000);
    // The agent moved its issue to done; the tick asks the worker to stop, which has just
    // finished its turn loop.
    sim.tick(&[issue("1", "Done")], &[]);
    let effects = sim.exit("1", ExitReason::Normal);
    let recorded = decisions(&effects);
    assert!(matches!(
        &recorded[0],
        Decision::RunEnded {
            outcome: RunEnd::Succeeded,
            ..
        }
    ));
    // Still released, workspace removed: the issue is terminal.
    assert!(matches!(&recorded[1], Decision::Released { .. }));
    assert!(effects
        .iter()
        .any(|e| matches!(e, Effect::RemoveWorkspace { .. })));
    // Cancelled mid-turn instead: stopped.
    let mut sim = Sim::new(config());
    sim.tick(&[], &[issue("1", "Todo")]);
    sim.advance(1_000);
    sim.tick(&[issue("1", "Done")], &[]);
    let effects = sim.exit("1", ExitReason::Failed("turn 1 was cancelled".into()));
    assert!(matches!(
        &decisions(&effects)[0],
        Decision::RunEnded {
            outcome: RunEnd::Stopped(_),
            ..
        }
    ));
}

#[test]
fn every_retry_and_stop_is_recorded() {
    let mut sim = Sim::new(config());
    sim.tick(&[], &[issue("1", "Todo")]);
    let effects = sim.exit("1", ExitReason::Failed("boom".into()));
    assert!(decisions(&effects).iter().any(|d| matches!(
        d,
        Decision::RetryScheduled {
            attempt: 1,
            delay_ms: 10_000,
            error: Some(_),
            ..
        }
    )));
    sim.advance(10_000);
    sim.retry("1", Ok(vec![issue("1", "Todo")]));
    sim.advance(1_000);
    let effects = sim.tick(&[issue("1", "Done")], &[]);
    assert!(decisions(&effects).iter().any(|d| matches!(
        d,
        Decision::StopRequested { issue_id, .. } if issue_id == "1"
    )));
}
