//! The bounded queue agent events wait in on their way to the store.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use symphony_scheduler::AgentUpdate;

/// Agent events waiting for the persistence task, at most [`AGENT_QUEUE`]: when the store
/// falls behind a flood, the oldest are dropped (they are detail) and each run's log says how
/// many. Decisions, claims and audit entries never wait here.
#[derive(Default)]
pub(super) struct AgentQueue {
    state: Mutex<AgentQueueState>,
    /// Woken when an event is queued.
    pub ready: tokio::sync::Notify,
}

#[derive(Default)]
pub(super) struct AgentQueueState {
    pub events: VecDeque<(String, AgentUpdate)>,
    /// Events dropped per issue since the task last drained the queue.
    pub dropped: HashMap<String, u64>,
}

/// Agent events the persistence task may be behind by.
const AGENT_QUEUE: usize = 4_096;

impl AgentQueue {
    pub fn push(&self, issue_id: &str, update: AgentUpdate) {
        {
            let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
            if state.events.len() >= AGENT_QUEUE {
                if let Some((oldest, _)) = state.events.pop_front() {
                    *state.dropped.entry(oldest).or_default() += 1;
                }
            }
            state.events.push_back((issue_id.to_owned(), update));
        }
        self.ready.notify_one();
    }

    pub fn take(&self) -> AgentQueueState {
        std::mem::take(&mut *self.state.lock().unwrap_or_else(|p| p.into_inner()))
    }
}
