//! A deterministic driver for the pure scheduler: a virtual clock and helpers that play the
//! shell's part.

#![allow(dead_code)]

use chrono::{TimeZone, Utc};
use symphony_core::Issue;
use symphony_scheduler::{
    Effect, Event, ExitReason, FetchPurpose, Scheduler, SchedulerConfig, Timer,
};

pub fn issue(id: &str, state: &str) -> Issue {
    serde_json::from_value(serde_json::json!({
        "id": id, "identifier": format!("ID-{id}"), "title": format!("Issue {id}"), "state": state
    }))
    .unwrap()
}

pub fn with_priority(mut issue: Issue, priority: Option<i64>) -> Issue {
    issue.priority = priority;
    issue
}

pub fn created(mut issue: Issue, day: u32) -> Issue {
    issue.created_at = Some(Utc.with_ymd_and_hms(2026, 1, day, 0, 0, 0).unwrap());
    issue
}

pub struct Sim {
    pub s: Scheduler,
    pub now: u64,
    pub log: Vec<Effect>,
}

impl Sim {
    pub fn new(config: SchedulerConfig) -> Self {
        Self {
            s: Scheduler::new(config),
            now: 0,
            log: Vec::new(),
        }
    }

    pub fn send(&mut self, event: Event) -> Vec<Effect> {
        let effects = self.s.handle(event, self.now);
        self.log.extend(effects.iter().cloned());
        effects
    }

    pub fn advance(&mut self, ms: u64) {
        self.now += ms;
    }

    /// A whole tick: reconcile with `running_view` (if asked), then candidates.
    pub fn tick(&mut self, running_view: &[Issue], candidates: &[Issue]) -> Vec<Effect> {
        let mut all = self.send(Event::Tick {
            preflight_error: None,
        });
        if all.iter().any(|e| {
            matches!(
                e,
                Effect::FetchByIds {
                    purpose: FetchPurpose::Reconcile,
                    ..
                }
            )
        }) {
            all.extend(self.send(Event::Fetched {
                purpose: FetchPurpose::Reconcile,
                result: Ok(running_view.to_vec()),
            }));
        }
        if all.iter().any(|e| {
            matches!(
                e,
                Effect::FetchByStates {
                    purpose: FetchPurpose::Candidates,
                    ..
                }
            )
        }) {
            all.extend(self.send(Event::Fetched {
                purpose: FetchPurpose::Candidates,
                result: Ok(candidates.to_vec()),
            }));
        }
        all
    }

    pub fn exit(&mut self, id: &str, reason: ExitReason) -> Vec<Effect> {
        self.send(Event::WorkerExited {
            issue_id: id.to_owned(),
            reason,
        })
    }

    /// Fires a retry timer and answers its refresh with `view`.
    pub fn retry(&mut self, id: &str, view: Result<Vec<Issue>, String>) -> Vec<Effect> {
        let mut all = self.send(Event::RetryDue {
            issue_id: id.to_owned(),
        });
        if all.iter().any(|e| {
            matches!(
                e,
                Effect::FetchByIds {
                    purpose: FetchPurpose::Retry(_),
                    ..
                }
            )
        }) {
            all.extend(self.send(Event::Fetched {
                purpose: FetchPurpose::Retry(id.to_owned()),
                result: view,
            }));
        }
        all
    }
}

pub fn spawned(effects: &[Effect]) -> Vec<String> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::SpawnWorker { issue, .. } => Some(issue.id.clone()),
            _ => None,
        })
        .collect()
}

pub fn retry_delay(effects: &[Effect], id: &str) -> Option<u64> {
    effects.iter().find_map(|e| match e {
        Effect::ArmTimer {
            timer: Timer::Retry(t),
            delay_ms,
        } if t == id => Some(*delay_ms),
        _ => None,
    })
}
