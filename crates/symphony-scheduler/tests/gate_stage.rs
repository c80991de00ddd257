//! The scheduler during a worker's gate stage: an issue the agent moved to review is not
//! stopped for being inactive, gates are not agent silence, a terminal move still stops it.
//! Nor is one whose agent moved it with a tracker tool and is still finishing its turn — but
//! only a call that moved it, and only while it stays where the agent put it.

mod common;

use common::{issue, Sim};
use symphony_scheduler::{Effect, Event, SchedulerConfig, StopReason};

fn stops(effects: &[Effect], id: &str) -> Option<StopReason> {
    effects.iter().find_map(|e| match e {
        Effect::StopWorker { issue_id, reason } if issue_id == id => Some(*reason),
        _ => None,
    })
}

#[test]
fn a_gating_worker_survives_review_states_and_silence_but_not_terminal_states() {
    let mut sim = Sim::new(SchedulerConfig {
        stall_timeout_ms: 60_000,
        ..SchedulerConfig::default()
    });
    sim.tick(&[], &[issue("a", "todo"), issue("b", "todo")]);
    sim.send(Event::GateStageStarted {
        issue_id: "a".into(),
    });
    sim.advance(120_000);
    let effects = sim.tick(
        &[issue("a", "Human Review"), issue("b", "Human Review")],
        &[],
    );
    assert_eq!(
        stops(&effects, "a"),
        None,
        "gating: review is expected, gates are not silence"
    );
    assert!(
        stops(&effects, "b").is_some(),
        "b is not gating: stopped as before"
    );
    let effects = sim.tick(&[issue("a", "Done")], &[]);
    assert_eq!(stops(&effects, "a"), Some(StopReason::Terminal));
}

#[test]
fn an_agent_that_moved_its_own_issue_finishes_its_turn() {
    let mut sim = Sim::new(SchedulerConfig::default());
    sim.tick(&[], &[issue("a", "todo"), issue("b", "todo")]);
    // a's agent moves its own issue; b's is moved by a person.
    sim.send(Event::AgentToolCallStarted {
        issue_id: "a".into(),
    });
    // A refresh during the call sees the move before the call has said it made it.
    let effects = sim.tick(
        &[issue("a", "Human Review"), issue("b", "Human Review")],
        &[],
    );
    assert_eq!(
        stops(&effects, "a"),
        None,
        "the call in flight may be the move"
    );
    assert_eq!(stops(&effects, "b"), Some(StopReason::Inactive));
    sim.send(Event::AgentToolCallEnded {
        issue_id: "a".into(),
        moved_to: Some("human review".into()),
    });
    let effects = sim.tick(&[issue("a", "Human Review")], &[]);
    assert_eq!(
        stops(&effects, "a"),
        None,
        "the worker reads the state when the turn ends and runs its gates"
    );
    // A person then moves it elsewhere: that is not the agent's move.
    let effects = sim.tick(&[issue("a", "Backlog")], &[]);
    assert_eq!(stops(&effects, "a"), Some(StopReason::Inactive));
}

/// Every `github_api` call used to count as the agent moving its own issue, a GET included,
/// so a person's move mid-turn was heard only when the turn ended.
#[test]
fn a_tool_call_that_moved_nothing_exempts_nothing() {
    let mut sim = Sim::new(SchedulerConfig::default());
    sim.tick(&[], &[issue("a", "todo")]);
    sim.send(Event::AgentToolCallStarted {
        issue_id: "a".into(),
    });
    sim.send(Event::AgentToolCallEnded {
        issue_id: "a".into(),
        moved_to: None,
    });
    let effects = sim.tick(&[issue("a", "Human Review")], &[]);
    assert_eq!(stops(&effects, "a"), Some(StopReason::Inactive));
}

#[test]
fn a_terminal_state_stops_even_the_agents_own_move() {
    let mut sim = Sim::new(SchedulerConfig::default());
    sim.tick(&[], &[issue("a", "todo")]);
    sim.send(Event::AgentToolCallStarted {
        issue_id: "a".into(),
    });
    sim.send(Event::AgentToolCallEnded {
        issue_id: "a".into(),
        moved_to: Some("Done".into()),
    });
    let effects = sim.tick(&[issue("a", "Done")], &[]);
    assert_eq!(stops(&effects, "a"), Some(StopReason::Terminal));
}
