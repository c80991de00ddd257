//! The scheduler during a worker's gate stage: an issue the agent moved to review is not
//! stopped for being inactive, gates are not agent silence, a terminal move still stops it.
//! Nor is one whose agent used a tracker tool and is still finishing its turn.

mod common;

use common::{issue, Sim};
use symphony_orchestrator::{Effect, Event, SchedulerConfig, StopReason};

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
fn an_agent_that_used_a_tracker_tool_finishes_its_turn_after_moving_its_issue() {
    let mut sim = Sim::new(SchedulerConfig::default());
    sim.tick(&[], &[issue("a", "todo"), issue("b", "todo")]);
    // a's agent moves its own issue (the event precedes the tool call); b's is moved by a person.
    sim.send(Event::AgentUsedTrackerTool {
        issue_id: "a".into(),
    });
    let effects = sim.tick(
        &[issue("a", "Human Review"), issue("b", "Human Review")],
        &[],
    );
    assert_eq!(
        stops(&effects, "a"),
        None,
        "the worker reads the state when the turn ends and runs its gates"
    );
    assert_eq!(stops(&effects, "b"), Some(StopReason::Inactive));
    let effects = sim.tick(&[issue("a", "Done")], &[]);
    assert_eq!(stops(&effects, "a"), Some(StopReason::Terminal));
}
