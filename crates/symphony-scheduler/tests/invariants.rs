//! Random event sequences against the pure scheduler, with a model tracker and a faithful
//! shell. After every step: running ⊆ claimed; every claimed issue is running or queued; no
//! issue ever has two live workers; a dispatch never exceeds the limits in force; a terminal
//! issue is never dispatched.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::issue;
use proptest::prelude::*;
use symphony_core::{normalize_state, Issue};
use symphony_scheduler::{AgentUpdate, Effect, Event, ExitReason, Scheduler, SchedulerConfig};

const STATES: [&str; 5] = ["todo", "In Progress", "done", "human review", "cancelled"];
const ISSUES: usize = 8;

#[derive(Debug, Clone)]
enum Action {
    Tick,
    Exit {
        pick: usize,
        normal: bool,
    },
    FireRetry {
        pick: usize,
    },
    Move {
        issue: usize,
        state: usize,
    },
    Reload {
        max: usize,
        in_progress: Option<usize>,
    },
    Advance(u64),
    Update {
        pick: usize,
    },
    FailNextFetch,
}

fn action() -> impl Strategy<Value = Action> {
    prop_oneof![
        4 => Just(Action::Tick),
        3 => (any::<usize>(), any::<bool>()).prop_map(|(pick, normal)| Action::Exit { pick, normal }),
        3 => any::<usize>().prop_map(|pick| Action::FireRetry { pick }),
        3 => (0..ISSUES, 0..STATES.len()).prop_map(|(issue, state)| Action::Move { issue, state }),
        1 => (1usize..5, proptest::option::of(1usize..3)).prop_map(|(max, in_progress)| Action::Reload { max, in_progress }),
        2 => (0u64..400_000).prop_map(Action::Advance),
        1 => any::<usize>().prop_map(|pick| Action::Update { pick }),
        1 => Just(Action::FailNextFetch),
    ]
}

struct World {
    s: Scheduler,
    now: u64,
    tracker: BTreeMap<String, Issue>,
    live: BTreeSet<String>,
    fail_next: bool,
    pending: Vec<Event>,
}

impl World {
    fn answer(&mut self, effects: &[Effect]) {
        for effect in effects {
            let fail = std::mem::take(&mut self.fail_next);
            match effect {
                Effect::FetchByStates { purpose, states } => {
                    let wanted: Vec<String> = states.iter().map(|s| normalize_state(s)).collect();
                    let result = if fail {
                        Err("injected".to_owned())
                    } else {
                        Ok(self
                            .tracker
                            .values()
                            .filter(|i| wanted.contains(&normalize_state(&i.state)))
                            .cloned()
                            .collect())
                    };
                    self.pending.push(Event::Fetched {
                        purpose: purpose.clone(),
                        result,
                    });
                }
                Effect::FetchByIds { purpose, ids } => {
                    let result = if fail {
                        Err("injected".to_owned())
                    } else {
                        Ok(ids
                            .iter()
                            .filter_map(|id| self.tracker.get(id).cloned())
                            .collect())
                    };
                    self.pending.push(Event::Fetched {
                        purpose: purpose.clone(),
                        result,
                    });
                }
                _ => {}
            }
        }
    }

    fn step(&mut self, event: Event) -> Result<(), TestCaseError> {
        let running_before: BTreeSet<String> = self.s.running().keys().cloned().collect();
        let effects = self.s.handle(event, self.now);
        let config = self.s.config().clone();
        for effect in &effects {
            if let Effect::SpawnWorker { issue, .. } = effect {
                prop_assert!(
                    !running_before.contains(&issue.id),
                    "dispatched {} while running",
                    issue.id
                );
                prop_assert!(
                    self.live.insert(issue.id.clone()),
                    "second live worker for {}",
                    issue.id
                );
                prop_assert!(
                    !config.is_terminal(&issue.state),
                    "dispatched terminal issue {}",
                    issue.id
                );
            }
        }
        // Limits bind at dispatch: a running issue may later move into a full state, or a
        // reload may lower a limit, without anything being dispatched past it.
        let spawned_states: BTreeSet<String> = effects
            .iter()
            .filter_map(|e| match e {
                Effect::SpawnWorker { issue, .. } => Some(normalize_state(&issue.state)),
                _ => None,
            })
            .collect();
        if !spawned_states.is_empty() {
            prop_assert!(self.s.running().len() <= config.max_concurrent_agents);
            for state in spawned_states {
                let count = self
                    .s
                    .running()
                    .values()
                    .filter(|r| normalize_state(&r.issue.state) == state)
                    .count();
                prop_assert!(
                    count <= config.state_limit(&state),
                    "{count} running in {state}"
                );
            }
        }
        for id in self.s.running().keys() {
            prop_assert!(self.s.claimed().contains(id), "running {id} not claimed");
        }
        for id in self.s.claimed() {
            prop_assert!(
                self.s.running().contains_key(id) || self.s.retries().contains_key(id),
                "claimed {id} is neither running nor queued"
            );
        }
        self.answer(&effects);
        Ok(())
    }

    fn drain(&mut self) -> Result<(), TestCaseError> {
        while !self.pending.is_empty() {
            let event = self.pending.remove(0);
            self.step(event)?;
        }
        Ok(())
    }
}

fn pick<T: Clone>(items: &[T], n: usize) -> Option<T> {
    (!items.is_empty()).then(|| items[n % items.len()].clone())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]
    #[test]
    fn scheduling_invariants_hold_after_every_step(actions in proptest::collection::vec(action(), 1..120)) {
        let mut w = World {
            s: Scheduler::new(SchedulerConfig { max_concurrent_agents: 3, stall_timeout_ms: 300_000, ..SchedulerConfig::default() }),
            now: 0,
            tracker: (0..ISSUES).map(|i| (i.to_string(), issue(&i.to_string(), "todo"))).collect(),
            live: BTreeSet::new(),
            fail_next: false,
            pending: Vec::new(),
        };
        w.step(Event::Start)?;
        w.drain()?;
        for action in actions {
            match action {
                Action::Tick => w.step(Event::Tick { preflight_error: None })?,
                Action::Exit { pick: n, normal } => {
                    let live: Vec<String> = w.live.iter().cloned().collect();
                    if let Some(id) = pick(&live, n) {
                        w.live.remove(&id);
                        let reason = if normal { ExitReason::Normal } else { ExitReason::Failed("x".into()) };
                        w.step(Event::WorkerExited { issue_id: id, reason })?;
                    }
                }
                Action::FireRetry { pick: n } => {
                    let queued: Vec<(String, u64)> = w.s.retries().values().map(|r| (r.issue_id.clone(), r.due_at_ms)).collect();
                    if let Some((id, due)) = pick(&queued, n) {
                        w.now = w.now.max(due);
                        w.step(Event::RetryDue { issue_id: id })?;
                    }
                }
                Action::Move { issue, state } => {
                    if let Some(i) = w.tracker.get_mut(&issue.to_string()) {
                        i.state = STATES[state].to_owned();
                    }
                }
                Action::Reload { max, in_progress } => {
                    let mut config = SchedulerConfig { max_concurrent_agents: max, ..w.s.config().clone() };
                    config.max_concurrent_agents_by_state = in_progress.into_iter().map(|l| ("in progress".to_owned(), l)).collect();
                    w.step(Event::ConfigReloaded(config))?;
                }
                Action::Advance(ms) => w.now += ms,
                Action::Update { pick: n } => {
                    let live: Vec<String> = w.s.running().keys().cloned().collect();
                    if let Some(id) = pick(&live, n) {
                        w.step(Event::AgentUpdate { issue_id: id, update: AgentUpdate { event: "notification".into(), ..Default::default() } })?;
                    }
                }
                Action::FailNextFetch => w.fail_next = true,
            }
            w.drain()?;
        }
        // Shutdown ends with nothing claimed once every worker has exited.
        w.step(Event::Stop)?;
        for id in w.live.clone() {
            w.live.remove(&id);
            w.step(Event::WorkerExited { issue_id: id, reason: ExitReason::Failed("stopped".into()) })?;
        }
        prop_assert!(w.s.claimed().is_empty() && w.s.running().is_empty());
    }
}
