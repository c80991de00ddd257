//! Random sequences of usage reports, exits, retries, ticks and restarts against the pure
//! scheduler with a per-issue token budget, a model of durable state and a worker that
//! behaves as the real one: it reports the issue's earlier use before its agent starts and
//! refuses to start one over budget; once asked to stop, its agent reports nothing more.
//! After every step: what is recorded for an issue never decreases, never passes the hard
//! limit by more than one report, and a running issue's spend as the scheduler sees it
//! includes everything recorded for the issue's earlier runs.

mod common;

use std::collections::BTreeMap;

use common::issue;
use proptest::prelude::*;
use symphony_core::Usage;
use symphony_scheduler::{
    AgentUpdate, Budgets, Effect, Event, ExitReason, FetchPurpose, IssueLimits, Limit, Scheduler,
    SchedulerConfig, Spend, StopReason,
};

const ISSUES: usize = 4;
const HARD: u64 = 1_000;
const MAX_STEP: u64 = 300;

#[derive(Debug, Clone)]
enum Action {
    Tick,
    Report { pick: usize, add: u64 },
    Exit { pick: usize, normal: bool },
    FireRetry { pick: usize },
    Restart,
    Advance(u64),
}

fn action() -> impl Strategy<Value = Action> {
    prop_oneof![
        3 => Just(Action::Tick),
        8 => (0..ISSUES, 1..=MAX_STEP).prop_map(|(pick, add)| Action::Report { pick, add }),
        3 => (0..ISSUES, any::<bool>()).prop_map(|(pick, normal)| Action::Exit { pick, normal }),
        2 => (0..ISSUES).prop_map(|pick| Action::FireRetry { pick }),
        1 => Just(Action::Restart),
        2 => (1u64..120_000).prop_map(Action::Advance),
    ]
}

fn config() -> SchedulerConfig {
    SchedulerConfig {
        max_concurrent_agents: 3,
        budgets: std::sync::Arc::new(Budgets {
            per_issue: IssueLimits {
                tokens: Limit {
                    soft: Some(HARD / 2),
                    hard: Some(HARD),
                },
                ..IssueLimits::default()
            },
            needs_human_state: Some("Needs Human".into()),
            ..Budgets::default()
        }),
        ..SchedulerConfig::default()
    }
}

/// Durable state: each issue's runs' recorded tokens.
#[derive(Default)]
struct Store {
    runs: BTreeMap<String, Vec<u64>>,
}

impl Store {
    fn used(&self, id: &str) -> u64 {
        self.runs.get(id).map_or(0, |r| r.iter().sum())
    }
    fn prior(&self, id: &str) -> Spend {
        let runs = self.runs.get(id).cloned().unwrap_or_default();
        Spend {
            usage: Usage::tokens(runs.iter().sum(), 0, runs.iter().sum()),
            attempts: runs.len() as u32,
            ..Spend::default()
        }
    }
}

/// A live worker: its run's index in the store, its session's cumulative tokens, stopping.
struct Worker {
    run: usize,
    tokens: u64,
    stopping: bool,
}

struct World {
    s: Scheduler,
    now: u64,
    store: Store,
    workers: BTreeMap<String, Worker>,
    /// Issues sent to a person (out of the active states until the test moves them back).
    with_person: Vec<String>,
}

impl World {
    fn send(&mut self, event: Event) {
        let mut queue = vec![event];
        while let Some(event) = queue.pop() {
            for effect in self.s.handle(event, self.now) {
                match effect {
                    Effect::SpawnWorker { issue, .. } => {
                        let id = issue.id.clone();
                        let prior = self.store.prior(&id);
                        let runs = self.store.runs.entry(id.clone()).or_default();
                        runs.push(0);
                        let run = runs.len() - 1;
                        // The real worker: earlier use first, then refuse to start over budget.
                        queue.insert(
                            0,
                            Event::PriorSpend {
                                issue_id: id.clone(),
                                spend: prior,
                            },
                        );
                        let next = prior.plus(&Spend {
                            attempts: 1,
                            ..Spend::default()
                        });
                        if let Some(e) = config().budgets.for_issue(&issue).stop(&next) {
                            queue.insert(
                                0,
                                Event::WorkerExited {
                                    issue_id: id,
                                    reason: ExitReason::Stopped(StopReason::Budget(e.kind)),
                                },
                            );
                        } else {
                            self.workers.insert(
                                id,
                                Worker {
                                    run,
                                    tokens: 0,
                                    stopping: false,
                                },
                            );
                        }
                    }
                    Effect::StopWorker { issue_id, .. } => {
                        if let Some(w) = self.workers.get_mut(&issue_id) {
                            w.stopping = true;
                        }
                    }
                    Effect::HandToPerson { issue, .. } => self.with_person.push(issue.id),
                    Effect::FetchByIds {
                        purpose: FetchPurpose::Retry(id),
                        ..
                    } => queue.insert(
                        0,
                        Event::Fetched {
                            purpose: FetchPurpose::Retry(id.clone()),
                            result: Ok(self.view(&[id])),
                        },
                    ),
                    Effect::FetchByIds {
                        purpose: FetchPurpose::Reconcile,
                        ids,
                    } => queue.insert(
                        0,
                        Event::Fetched {
                            purpose: FetchPurpose::Reconcile,
                            result: Ok(self.view(&ids)),
                        },
                    ),
                    Effect::FetchByStates {
                        purpose: FetchPurpose::Candidates,
                        ..
                    } => {
                        let ids: Vec<String> = (0..ISSUES).map(|i| i.to_string()).collect();
                        let active: Vec<_> = self
                            .view(&ids)
                            .into_iter()
                            .filter(|i| i.state == "Todo")
                            .collect();
                        queue.insert(
                            0,
                            Event::Fetched {
                                purpose: FetchPurpose::Candidates,
                                result: Ok(active),
                            },
                        );
                    }
                    _ => {}
                }
            }
        }
    }

    fn view(&self, ids: &[String]) -> Vec<symphony_core::Issue> {
        ids.iter()
            .map(|id| {
                let state = if self.with_person.contains(id) {
                    "Needs Human"
                } else {
                    "Todo"
                };
                issue(id, state)
            })
            .collect()
    }

    fn check(&self, before: &BTreeMap<String, u64>) -> Result<(), TestCaseError> {
        for i in 0..ISSUES {
            let id = i.to_string();
            let used = self.store.used(&id);
            prop_assert!(
                used >= before.get(&id).copied().unwrap_or(0),
                "{id}: went down"
            );
            prop_assert!(
                used <= HARD + MAX_STEP,
                "{id}: {used} passed {HARD} by more than a report"
            );
            if let (Some(entry), Some(w)) = (self.s.running().get(&id), self.workers.get(&id)) {
                let earlier = used - self.store.runs[&id][w.run];
                prop_assert!(entry.spend(self.now).usage.total_tokens >= earlier + w.tokens);
            }
        }
        Ok(())
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]
    #[test]
    fn recorded_usage_never_decreases_and_no_hard_limit_is_passed_by_more_than_one_report(
        actions in proptest::collection::vec(action(), 1..120)
    ) {
        let mut world = World {
            s: Scheduler::new(config()),
            now: 0,
            store: Store::default(),
            workers: BTreeMap::new(),
            with_person: Vec::new(),
        };
        world.send(Event::Start);
        for action in actions {
            let before: BTreeMap<String, u64> =
                (0..ISSUES).map(|i| (i.to_string(), world.store.used(&i.to_string()))).collect();
            match action {
                Action::Tick => world.send(Event::Tick { preflight_error: None }),
                Action::Report { pick, add } => {
                    let Some(id) = world.workers.keys().nth(pick % ISSUES.max(1)).cloned() else {
                        continue;
                    };
                    let w = world.workers.get_mut(&id).expect("worker");
                    if w.stopping {
                        continue;
                    }
                    w.tokens += add;
                    let (run, tokens) = (w.run, w.tokens);
                    world.store.runs.get_mut(&id).expect("runs")[run] = tokens;
                    world.send(Event::AgentUpdate {
                        issue_id: id,
                        update: AgentUpdate {
                            event: "token_usage".into(),
                            tokens: Some(Usage::tokens(tokens, 0, tokens)),
                            ..AgentUpdate::default()
                        },
                    });
                }
                Action::Exit { pick, normal } => {
                    let Some(id) = world.workers.keys().nth(pick % ISSUES).cloned() else {
                        continue;
                    };
                    world.workers.remove(&id);
                    let reason = if normal {
                        ExitReason::Normal
                    } else {
                        ExitReason::Failed("boom".into())
                    };
                    world.send(Event::WorkerExited { issue_id: id, reason });
                }
                Action::FireRetry { pick } => {
                    let id = pick.to_string();
                    if world.s.retries().contains_key(&id) {
                        world.send(Event::RetryDue { issue_id: id });
                    }
                }
                Action::Restart => {
                    // The process dies: its workers with it; durable state stays.
                    world.workers.clear();
                    world.s = Scheduler::new(config());
                    world.send(Event::Start);
                }
                Action::Advance(ms) => {
                    world.now += ms;
                    let due: Vec<String> = world
                        .s
                        .retries()
                        .values()
                        .filter(|r| r.due_at_ms <= world.now)
                        .map(|r| r.issue_id.clone())
                        .collect();
                    for id in due {
                        world.send(Event::RetryDue { issue_id: id });
                    }
                }
            }
            world.check(&before)?;
        }
    }
}
