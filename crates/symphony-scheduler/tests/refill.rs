//! Slots refilled at once, from candidates kept between ticks and updated by difference
//! (issue 17): a finished run's slot does not wait for the next poll, and an incremental
//! candidate answer is applied as the changes it names.

mod common;

use common::{issue, spawned, Sim};
use symphony_scheduler::{
    CandidateAnswer, Effect, Event, ExitReason, FetchPurpose, SchedulerConfig,
};

fn sim(max: usize) -> Sim {
    Sim::new(SchedulerConfig {
        max_concurrent_agents: max,
        ..SchedulerConfig::default()
    })
}

fn backlog(n: usize) -> Vec<symphony_core::Issue> {
    (1..=n).map(|i| issue(&i.to_string(), "Todo")).collect()
}

/// The `since` of the candidate read among `effects`, if one was requested.
fn candidate_read(effects: &[Effect]) -> Option<Option<String>> {
    effects.iter().find_map(|e| match e {
        Effect::FetchByStates {
            purpose: FetchPurpose::Candidates,
            since,
            ..
        } => Some(since.clone()),
        _ => None,
    })
}

/// A tick whose candidate read is answered with `answer`.
fn tick_with(
    sim: &mut Sim,
    running: &[symphony_core::Issue],
    answer: CandidateAnswer,
) -> Vec<Effect> {
    let mut effects = sim.send(Event::Tick {
        preflight_error: None,
    });
    if effects.iter().any(|e| {
        matches!(
            e,
            Effect::FetchByIds {
                purpose: FetchPurpose::Reconcile,
                ..
            }
        )
    }) {
        effects.extend(sim.send(Event::Fetched {
            purpose: FetchPurpose::Reconcile,
            result: Ok(running.to_vec()),
        }));
    }
    assert!(candidate_read(&effects).is_some(), "no candidate read");
    effects.extend(sim.send(Event::CandidatesRead { result: Ok(answer) }));
    effects
}

#[test]
fn a_finished_run_frees_its_slot_at_once() {
    let mut sim = sim(2);
    assert_eq!(spawned(&sim.tick(&[], &backlog(4))), ["1", "2"]);
    sim.advance(200);
    // No tick in between: the next candidate starts as the first run ends.
    let effects = sim.exit("1", ExitReason::Normal);
    assert_eq!(spawned(&effects), ["3"]);
    let effects = sim.exit("2", ExitReason::Failed("boom".into()));
    assert_eq!(spawned(&effects), ["4"]);
    // Both finished issues wait in the retry queue (claimed), not in a slot.
    assert!(sim.s.retries().contains_key("1") && sim.s.retries().contains_key("2"));
    assert_eq!(sim.s.running().len(), 2);
}

#[test]
fn a_run_whose_fresh_read_refused_it_is_not_started_again_until_a_read_shows_it() {
    let mut sim = sim(1);
    assert_eq!(spawned(&sim.tick(&[], &backlog(2))), ["1"]);
    let effects = sim.exit("1", ExitReason::Ineligible("moved to Done".into()));
    assert_eq!(spawned(&effects), ["2"]);
    let effects = sim.exit("2", ExitReason::Ineligible("moved to Done".into()));
    assert!(spawned(&effects).is_empty(), "started again: {effects:?}");
    // The next complete read is believed again.
    assert_eq!(spawned(&sim.tick(&[], &backlog(2))), ["1"]);
}

#[test]
fn a_refill_waits_while_dispatch_is_paused() {
    let mut sim = sim(1);
    assert_eq!(spawned(&sim.tick(&[], &backlog(2))), ["1"]);
    let effects = sim.send(Event::Tick {
        preflight_error: Some("tracker.kind is missing".into()),
    });
    assert!(spawned(&effects).is_empty());
    sim.send(Event::Fetched {
        purpose: FetchPurpose::Reconcile,
        result: Ok(vec![issue("1", "Todo")]),
    });
    assert!(spawned(&sim.exit("1", ExitReason::Normal)).is_empty());
}

#[test]
fn an_incremental_answer_changes_only_what_it_names() {
    let mut sim = sim(1);
    let effects = tick_with(
        &mut sim,
        &[],
        CandidateAnswer {
            issues: backlog(3),
            complete: true,
            mark: Some("m1".into()),
        },
    );
    assert_eq!(spawned(&effects), ["1"]);
    // The next read hands the mark back; "2" moved to Done, the rest did not change.
    let running = [issue("1", "Todo")];
    let mut effects = sim.send(Event::Tick {
        preflight_error: None,
    });
    effects.extend(sim.send(Event::Fetched {
        purpose: FetchPurpose::Reconcile,
        result: Ok(running.to_vec()),
    }));
    assert_eq!(candidate_read(&effects), Some(Some("m1".into())));
    sim.send(Event::CandidatesRead {
        result: Ok(CandidateAnswer {
            issues: vec![issue("2", "Done")],
            complete: false,
            mark: Some("m2".into()),
        }),
    });
    assert_eq!(
        spawned(&sim.exit("1", ExitReason::Failed("x".into()))),
        ["3"]
    );
    // An empty incremental answer keeps what is known.
    sim.exit("3", ExitReason::Failed("x".into()));
    let effects = tick_with(
        &mut sim,
        &[],
        CandidateAnswer {
            issues: Vec::new(),
            complete: false,
            mark: Some("m2".into()),
        },
    );
    assert!(
        spawned(&effects).is_empty(),
        "1 and 3 wait for retries, 2 is done"
    );
    assert_eq!(sim.s.known_candidates(), 2);
}

#[test]
fn new_active_states_need_a_complete_read() {
    let mut sim = sim(1);
    tick_with(
        &mut sim,
        &[],
        CandidateAnswer {
            issues: Vec::new(),
            complete: true,
            mark: Some("m1".into()),
        },
    );
    sim.send(Event::ConfigReloaded(SchedulerConfig {
        active_states: vec!["todo".into(), "in progress".into(), "rework".into()],
        ..sim.s.config().clone()
    }));
    let effects = sim.send(Event::Tick {
        preflight_error: None,
    });
    assert_eq!(candidate_read(&effects), Some(None));
}
