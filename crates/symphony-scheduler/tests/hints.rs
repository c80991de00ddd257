//! Targeted refresh: a tracker notification (webhook) names issues; the scheduler reads just
//! those and reconciles or dispatches them without waiting for the next poll, under the same
//! eligibility, slot and claim rules as a poll.

mod common;

use common::*;
use symphony_scheduler::{
    Effect, Event, FetchPurpose, SchedulerConfig, StopReason, CONTINUATION_DELAY_MS,
};

fn config() -> SchedulerConfig {
    SchedulerConfig {
        max_concurrent_agents: 2,
        ..SchedulerConfig::default()
    }
}

/// Sends a hint for `ids` and answers its read with `view`.
fn hint(
    sim: &mut Sim,
    ids: &[&str],
    view: Result<Vec<symphony_core::Issue>, String>,
) -> Vec<Effect> {
    let mut all = sim.send(Event::Hint {
        issue_ids: ids.iter().map(|s| (*s).to_owned()).collect(),
    });
    let asked = all.iter().find_map(|e| match e {
        Effect::FetchByIds {
            purpose: FetchPurpose::Hint,
            ids,
        } => Some(ids.clone()),
        _ => None,
    });
    if asked.is_some() {
        all.extend(sim.send(Event::Fetched {
            purpose: FetchPurpose::Hint,
            result: view,
        }));
    }
    all
}

fn stops(effects: &[Effect]) -> Vec<String> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::StopWorker { issue_id, .. } => Some(issue_id.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn a_hinted_new_issue_is_dispatched_without_a_poll() {
    let mut sim = Sim::new(config());
    sim.tick(&[], &[]);
    let effects = sim.send(Event::Hint {
        issue_ids: vec!["9".into(), "9".into()],
    });
    assert!(
        effects.iter().any(|e| matches!(e,
            Effect::FetchByIds { purpose: FetchPurpose::Hint, ids } if ids == &["9".to_owned()])),
        "only the named issue is read, once: {effects:?}"
    );
    assert!(
        !effects
            .iter()
            .any(|e| matches!(e, Effect::FetchByStates { .. })),
        "no candidate poll"
    );
    let effects = sim.send(Event::Fetched {
        purpose: FetchPurpose::Hint,
        result: Ok(vec![issue("9", "todo")]),
    });
    assert_eq!(spawned(&effects), ["9"]);
}

#[test]
fn hinted_issues_obey_eligibility_slots_and_claims() {
    let mut sim = Sim::new(config());
    sim.tick(&[], &[issue("1", "todo")]);
    // Running already: not a second worker. Not active: not dispatched. One slot left.
    let effects = hint(
        &mut sim,
        &["1", "2", "3", "4"],
        Ok(vec![
            issue("1", "todo"),
            issue("2", "done"),
            issue("3", "todo"),
            issue("4", "todo"),
        ]),
    );
    assert_eq!(spawned(&effects), ["3"], "{effects:?}");
    // Slots full: the next hint dispatches nothing.
    let effects = hint(&mut sim, &["4"], Ok(vec![issue("4", "todo")]));
    assert!(spawned(&effects).is_empty());
}

#[test]
fn a_hinted_running_issue_that_went_terminal_is_stopped_at_once() {
    let mut sim = Sim::new(config());
    sim.tick(&[], &[issue("1", "todo")]);
    let effects = hint(&mut sim, &["1"], Ok(vec![issue("1", "done")]));
    assert_eq!(stops(&effects), ["1"]);
    assert!(effects.iter().any(|e| matches!(
        e,
        Effect::StopWorker {
            reason: StopReason::Terminal,
            ..
        }
    )));
}

#[test]
fn a_failed_hint_read_changes_nothing_and_a_config_error_blocks_dispatch() {
    let mut sim = Sim::new(config());
    sim.tick(&[], &[]);
    let effects = hint(&mut sim, &["9"], Err("tracker_request: 502".into()));
    assert!(spawned(&effects).is_empty() && stops(&effects).is_empty());
    sim.send(Event::Tick {
        preflight_error: Some("workflow_parse_error: bad".into()),
    });
    let effects = hint(&mut sim, &["9"], Ok(vec![issue("9", "todo")]));
    assert!(spawned(&effects).is_empty(), "{effects:?}");
}

#[test]
fn an_issue_dispatched_while_a_reconcile_read_is_out_is_not_taken_for_missing() {
    let mut sim = Sim::new(config());
    sim.tick(&[], &[issue("1", "todo")]);
    // The next tick asks about issue 1 only ...
    sim.advance(CONTINUATION_DELAY_MS);
    let effects = sim.send(Event::Tick {
        preflight_error: None,
    });
    assert!(effects.iter().any(|e| matches!(e,
        Effect::FetchByIds { purpose: FetchPurpose::Reconcile, ids } if ids == &["1".to_owned()])));
    // ... a webhook dispatches issue 2 before that read returns ...
    let effects = hint(&mut sim, &["2"], Ok(vec![issue("2", "todo")]));
    assert_eq!(spawned(&effects), ["2"]);
    // ... and the reconcile answer, which never asked about 2, does not stop it.
    let effects = sim.send(Event::Fetched {
        purpose: FetchPurpose::Reconcile,
        result: Ok(vec![issue("1", "todo")]),
    });
    assert!(stops(&effects).is_empty(), "{effects:?}");
    assert!(sim.s.running().contains_key("2"));
}

#[test]
fn hints_are_ignored_during_shutdown() {
    let mut sim = Sim::new(config());
    sim.tick(&[], &[]);
    sim.send(Event::Stop);
    let effects = sim.send(Event::Hint {
        issue_ids: vec!["9".into()],
    });
    assert!(effects.is_empty(), "{effects:?}");
}
