//! Random event sequences against the pure scheduler, with a model tracker and a faithful
//! shell. After every step: running ⊆ claimed; every claimed issue is running or queued; no
//! issue ever has two live workers; a dispatch never exceeds the limits in force; a terminal
//! issue is never dispatched. Slots are refilled at once when runs end, starts are refused
//! or holds lapse, from candidates read completely or by difference: a first run is never
//! of a claimed issue, an issue held elsewhere, or an issue whose latest snapshot the
//! scheduler saw is ineligible; a worker whose fresh read finds its issue ineligible exits
//! at once, as the real one does.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::issue;
use proptest::prelude::*;
use symphony_core::{normalize_state, Issue};
use symphony_scheduler::{
    issue_eligible, AgentUpdate, CandidateAnswer, Effect, Event, ExitReason, FetchPurpose,
    Scheduler, SchedulerConfig,
};

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
    /// The next start of this live worker is refused: another instance holds the issue.
    Deny {
        pick: usize,
        held_for_ms: u64,
    },
    HoldsLapsed,
    /// Candidate reads answer by difference (or completely).
    Incremental(bool),
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
        1 => (any::<usize>(), 0u64..60_000).prop_map(|(pick, held_for_ms)| Action::Deny { pick, held_for_ms }),
        1 => Just(Action::HoldsLapsed),
        1 => any::<bool>().prop_map(Action::Incremental),
    ]
}

struct World {
    s: Scheduler,
    now: u64,
    tracker: BTreeMap<String, Issue>,
    /// Tracker version at which each issue last changed; the version is the mark.
    changed_at: BTreeMap<String, u64>,
    version: u64,
    incremental: bool,
    live: BTreeSet<String>,
    /// Holds of other instances, as the shell reported them: issue → until.
    held: BTreeMap<String, u64>,
    fail_next: bool,
    pending: Vec<Event>,
}

impl World {
    fn answer(&mut self, effects: &[Effect]) {
        for effect in effects {
            let fail = std::mem::take(&mut self.fail_next);
            match effect {
                Effect::FetchByStates {
                    purpose: FetchPurpose::Candidates,
                    states,
                    since,
                } if self.incremental => {
                    let wanted: Vec<String> = states.iter().map(|s| normalize_state(s)).collect();
                    let since = since.as_deref().and_then(|m| m.parse::<u64>().ok());
                    let result = if fail {
                        Err("injected".to_owned())
                    } else {
                        let complete = since.is_none();
                        let issues = self
                            .tracker
                            .values()
                            .filter(|i| match since {
                                None => wanted.contains(&normalize_state(&i.state)),
                                Some(mark) => self.changed_at.get(&i.id).is_some_and(|v| *v > mark),
                            })
                            .cloned()
                            .collect();
                        Ok(CandidateAnswer {
                            issues,
                            complete,
                            mark: Some(self.version.to_string()),
                        })
                    };
                    self.pending.push(Event::CandidatesRead { result });
                }
                Effect::FetchByStates {
                    purpose, states, ..
                } => {
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
                // The worker's own read before it starts (SPEC §8.3): an issue the tracker
                // no longer shows as eligible ends the run at once.
                Effect::SpawnWorker { issue, .. } => {
                    let config = self.s.config();
                    let fresh = self.tracker.get(&issue.id);
                    if let Some(why) = fresh
                        .map(|i| issue_eligible(i, config).err().map(|e| e.to_string()))
                        .unwrap_or(Some("gone".to_owned()))
                    {
                        self.live.remove(&issue.id);
                        self.pending.push(Event::WorkerExited {
                            issue_id: issue.id.clone(),
                            reason: ExitReason::Ineligible(why),
                        });
                    }
                }
                _ => {}
            }
        }
    }

    fn step(&mut self, event: Event) -> Result<(), TestCaseError> {
        let running_before: BTreeSet<String> = self.s.running().keys().cloned().collect();
        let claimed_before = self.s.claimed().clone();
        let queued_before: BTreeSet<String> = self.s.retries().keys().cloned().collect();
        let effects = self.s.handle(event, self.now);
        let config = self.s.config().clone();
        for effect in &effects {
            if let Effect::SpawnWorker { issue, attempt } = effect {
                match attempt {
                    None => {
                        prop_assert!(
                            !claimed_before.contains(&issue.id),
                            "first run of claimed {}",
                            issue.id
                        );
                        prop_assert!(
                            self.held
                                .get(&issue.id)
                                .is_none_or(|until| *until <= self.now),
                            "first run of {} while another instance holds it",
                            issue.id
                        );
                    }
                    Some(_) => prop_assert!(
                        queued_before.contains(&issue.id),
                        "retry of {} that was not queued",
                        issue.id
                    ),
                }
                prop_assert!(
                    issue_eligible(issue, &config).is_ok(),
                    "dispatched {} whose snapshot is ineligible",
                    issue.id
                );
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
        // Refills answered by exits answered by refills must settle: a run that ends at once
        // must not start again at once.
        let mut budget = 1_000;
        while !self.pending.is_empty() {
            budget -= 1;
            prop_assert!(budget > 0, "events never settle");
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
            changed_at: BTreeMap::new(),
            version: 0,
            incremental: false,
            live: BTreeSet::new(),
            held: BTreeMap::new(),
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
                        w.version += 1;
                        w.changed_at.insert(issue.to_string(), w.version);
                    }
                }
                Action::Deny { pick: n, held_for_ms } => {
                    let live: Vec<String> = w.live.iter().cloned().collect();
                    if let Some(id) = pick(&live, n) {
                        w.live.remove(&id);
                        w.held.insert(id.clone(), w.now + held_for_ms);
                        w.step(Event::ClaimDenied { issue_id: id, holder: "other".into(), held_for_ms })?;
                    }
                }
                Action::HoldsLapsed => w.step(Event::HoldsLapsed)?,
                Action::Incremental(on) => w.incremental = on,
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
