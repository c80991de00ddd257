//! Tracker reads by id, coalesced (issue 17): the checks workers make before a run and after
//! each turn, the guard's reads before Symphony's own steps, retry refreshes and webhook hints
//! that arrive within `polling.read_batch_ms` of each other become one
//! `fetch_issues_by_ids` call (one GraphQL `nodes` query per 100 ids on GitHub). Requests for
//! the same issue in one window share its read. The tick's own refresh of running issues is
//! never held back: it goes at once and takes whatever is waiting along. A continuation check
//! (SPEC §8.4, a second after a run) may take the answer of a read of the same issue made
//! moments before, the worker's refresh after its last turn: see [`BatchedReads::fetch_shared`].
//! And the worker's refresh after a turn takes GitHub's answer to the agent's own move made in
//! that turn: see [`BatchedReads::fetch_since`].

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use serde_json::Value;
use symphony_core::Issue;
use symphony_tracker::{
    CandidateRead, IssueHandOff, ToolContext, ToolResult, ToolSpec, Tracker, TrackerError,
    TrackerErrorCategory,
};
use tokio::sync::oneshot;

use super::recent_reads::RecentReads;

/// A batch is sent at once when it names this many issues (GitHub's `nodes` limit).
const FULL_BATCH: usize = 100;

type Answer = Result<Vec<Issue>, TrackerError>;

struct Waiter {
    ids: Vec<String>,
    reply: oneshot::Sender<Answer>,
}

/// Reads waiting for their window to close.
#[derive(Default)]
struct Batch {
    ids: Vec<String>,
    waiters: Vec<Waiter>,
    timer_armed: bool,
}

/// `inner` with its reads by id coalesced; everything else is `inner`'s own. It forwards the
/// other `Tracker` methods itself: `ObservedTracker` only watches calls, and this changes how
/// one is made. A method added to the trait must be forwarded here too, or it would take the
/// trait's default instead of `inner`'s.
pub(crate) struct BatchedReads {
    inner: Arc<dyn Tracker>,
    window: Duration,
    batch: Arc<Mutex<Batch>>,
    recent: RecentReads,
}

impl BatchedReads {
    /// Coalesces reads arriving within `window` (zero: every read goes alone, at once).
    pub(crate) fn new(inner: Arc<dyn Tracker>, window: Duration) -> Arc<Self> {
        Arc::new(Self {
            inner,
            window,
            batch: Arc::new(Mutex::new(Batch::default())),
            recent: RecentReads::default(),
        })
    }

    /// `ids` as a read asked within `max_age` showed them, when every one of them was read
    /// that recently; otherwise a (batched) read. Only for reads whose answer is checked again
    /// before anything runs on it: the continuation check, whose "still active" only leads to
    /// a worker that re-reads the issue itself before it starts.
    pub(crate) async fn fetch_shared(&self, ids: &[String], max_age: Duration) -> Answer {
        match Instant::now().checked_sub(max_age) {
            Some(since) => self.fetch_since(ids, since).await,
            None => self.read(ids, false).await,
        }
    }

    /// `ids` as the tracker answered a question asked at or after `since` (a read, or the
    /// agent's own move: GitHub's answer to it), when there is such an answer for every one of
    /// them; otherwise a (batched) read. The worker's refresh after a turn, with `since` the
    /// turn's start: an agent that moved its issue has already been told where it is.
    pub(crate) async fn fetch_since(&self, ids: &[String], since: Instant) -> Answer {
        match self.recent.since(ids, since) {
            Some(issues) => Ok(issues),
            None => self.read(ids, false).await,
        }
    }

    /// Reads `ids` now, with every read waiting for its window.
    pub(crate) async fn fetch_now(&self, ids: &[String]) -> Answer {
        self.read(ids, true).await
    }

    async fn read(&self, ids: &[String], now: bool) -> Answer {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let asked = Instant::now();
        if self.window.is_zero() {
            let answer = self.inner.fetch_issues_by_ids(ids).await;
            self.remember(ids, &answer, asked);
            return answer;
        }
        let (reply, answer) = oneshot::channel();
        let due = {
            let mut batch = self.batch.lock().unwrap_or_else(|e| e.into_inner());
            for id in ids {
                if !batch.ids.contains(id) {
                    batch.ids.push(id.clone());
                }
            }
            batch.waiters.push(Waiter {
                ids: ids.to_vec(),
                reply,
            });
            if now || batch.ids.len() >= FULL_BATCH {
                Some(std::mem::take(&mut *batch))
            } else {
                if !batch.timer_armed {
                    batch.timer_armed = true;
                    self.arm_timer();
                }
                None
            }
        };
        if let Some(batch) = due {
            // Its own task: a reader that gives up (a worker stopped) must not strand the
            // others waiting on the same read.
            tokio::spawn(send(Arc::clone(&self.inner), batch));
        }
        let answer = answer.await.unwrap_or_else(|_| {
            Err(TrackerError::new(
                TrackerErrorCategory::Request,
                "the batched tracker read ended without an answer",
            ))
        });
        self.remember(ids, &answer, asked);
        answer
    }

    /// Keeps a successful answer for [`Self::fetch_since`].
    fn remember(&self, ids: &[String], answer: &Answer, asked: Instant) {
        if let Ok(issues) = answer {
            self.recent.read(ids, issues, asked);
        }
    }

    fn arm_timer(&self) {
        let (inner, batch, window) = (
            Arc::clone(&self.inner),
            Arc::clone(&self.batch),
            self.window,
        );
        tokio::spawn(async move {
            tokio::time::sleep(window).await;
            // Whatever waits now; a batch sent early already left, and one that started
            // after it may leave sooner than its window, never later.
            let due = std::mem::take(&mut *batch.lock().unwrap_or_else(|e| e.into_inner()));
            send(inner, due).await;
        });
    }
}

/// One read for the whole batch, each waiter answered with its own issues. A failed read is
/// tried again per waiter, so one broken record fails only the reads that asked for it.
async fn send(inner: Arc<dyn Tracker>, batch: Batch) {
    match batch.waiters.len() {
        0 => {}
        1 => {
            let waiter = batch.waiters.into_iter().next().expect("one waiter");
            let answer = inner.fetch_issues_by_ids(&waiter.ids).await;
            let _ = waiter.reply.send(answer);
        }
        _ => match inner.fetch_issues_by_ids(&batch.ids).await {
            Ok(issues) => {
                for waiter in batch.waiters {
                    let mine = issues
                        .iter()
                        .filter(|i| waiter.ids.contains(&i.id))
                        .cloned()
                        .collect();
                    let _ = waiter.reply.send(Ok(mine));
                }
            }
            Err(_) => {
                for waiter in batch.waiters {
                    let answer = inner.fetch_issues_by_ids(&waiter.ids).await;
                    let _ = waiter.reply.send(answer);
                }
            }
        },
    }
}

#[async_trait]
impl Tracker for BatchedReads {
    fn kind(&self) -> &str {
        self.inner.kind()
    }

    async fn fetch_issues_by_states(&self, states: &[String]) -> Result<Vec<Issue>, TrackerError> {
        self.inner.fetch_issues_by_states(states).await
    }

    async fn fetch_candidates(
        &self,
        states: &[String],
        since: Option<&str>,
    ) -> Result<CandidateRead, TrackerError> {
        self.inner.fetch_candidates(states, since).await
    }

    async fn fetch_issues_by_ids(&self, ids: &[String]) -> Answer {
        self.read(ids, false).await
    }

    fn agent_tool_specs(&self) -> Vec<ToolSpec> {
        self.inner.agent_tool_specs()
    }

    async fn execute_agent_tool(
        &self,
        name: &str,
        arguments: Value,
        context: &ToolContext,
    ) -> ToolResult {
        let asked = Instant::now();
        let mutates = self
            .inner
            .agent_tool_specs()
            .iter()
            .any(|spec| spec.name == name && spec.mutates);
        let result = self
            .inner
            .execute_agent_tool(name, arguments, context)
            .await;
        // The adapter says where a move of its own put the issue (GitHub: from its answer to
        // the call); any other change, or a call that failed half-way, leaves it unsettled.
        if mutates {
            match &result.moved_to {
                Some(state) if result.success => {
                    let mut issue = context.issue.clone();
                    issue.state = state.clone();
                    self.recent.moved(issue, asked);
                }
                _ => self.recent.unsettled(&context.issue.id, asked),
            }
        }
        result
    }

    fn secret_environment_names(&self) -> Vec<String> {
        self.inner.secret_environment_names()
    }

    fn issue_hand_off(&self) -> Option<&dyn IssueHandOff> {
        self.inner.issue_hand_off()
    }

    fn rate_limit_remaining(&self) -> Option<u64> {
        self.inner.rate_limit_remaining()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use symphony_tracker::MemoryTracker;

    use super::*;

    /// A memory tracker that counts reads by id and can refuse one id.
    struct Counted {
        inner: MemoryTracker,
        reads: AtomicUsize,
        broken: Option<String>,
    }

    #[async_trait]
    impl Tracker for Counted {
        fn kind(&self) -> &str {
            "counted"
        }
        async fn fetch_issues_by_states(&self, states: &[String]) -> Answer {
            self.inner.fetch_issues_by_states(states).await
        }
        async fn fetch_issues_by_ids(&self, ids: &[String]) -> Answer {
            self.reads.fetch_add(1, Ordering::SeqCst);
            if self.broken.as_ref().is_some_and(|b| ids.contains(b)) {
                return Err(TrackerError::new(
                    TrackerErrorCategory::Response,
                    "malformed record",
                ));
            }
            self.inner.fetch_issues_by_ids(ids).await
        }
        fn agent_tool_specs(&self) -> Vec<ToolSpec> {
            self.inner.agent_tool_specs()
        }
        async fn execute_agent_tool(
            &self,
            name: &str,
            arguments: Value,
            context: &ToolContext,
        ) -> ToolResult {
            self.inner
                .execute_agent_tool(name, arguments, context)
                .await
        }
        fn secret_environment_names(&self) -> Vec<String> {
            Vec::new()
        }
    }

    fn counted(issues: usize, broken: Option<&str>) -> Arc<Counted> {
        let inner = MemoryTracker::with_issues(
            (0..issues).map(|n| Issue::new(n.to_string(), format!("M-{n}"), "t", "todo")),
        );
        Arc::new(Counted {
            inner,
            reads: AtomicUsize::new(0),
            broken: broken.map(str::to_owned),
        })
    }

    fn ids(issues: &[Issue]) -> Vec<&str> {
        issues.iter().map(|i| i.id.as_str()).collect()
    }

    #[tokio::test]
    async fn reads_in_one_window_are_one_read_and_each_gets_its_own_issues() {
        let tracker = counted(10, None);
        let batched = BatchedReads::new(tracker.clone(), Duration::from_millis(50));
        let reads = (0..10).map(|n| {
            let batched = Arc::clone(&batched);
            async move { batched.fetch_issues_by_ids(&[n.to_string()]).await }
        });
        let mut tasks = Vec::new();
        for read in reads {
            tasks.push(tokio::spawn(read));
        }
        let mut answers = Vec::new();
        for task in tasks {
            answers.push(task.await.unwrap());
        }
        for (n, answer) in answers.iter().enumerate() {
            assert_eq!(ids(answer.as_ref().unwrap()), [n.to_string()]);
        }
        assert_eq!(tracker.reads.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_read_now_takes_the_waiting_reads_along_without_waiting() {
        let tracker = counted(3, None);
        // A window no test waits out: only the read now can send the batch.
        let batched = BatchedReads::new(tracker.clone(), Duration::from_secs(3_600));
        let waiting = {
            let batched = Arc::clone(&batched);
            tokio::spawn(async move { batched.fetch_issues_by_ids(&["1".into()]).await })
        };
        tokio::task::yield_now().await;
        while batched.batch.lock().unwrap().waiters.is_empty() {
            tokio::task::yield_now().await;
        }
        let now = batched.fetch_now(&["2".into(), "1".into()]).await.unwrap();
        assert_eq!(ids(&now), ["1", "2"]);
        assert_eq!(ids(&waiting.await.unwrap().unwrap()), ["1"]);
        assert_eq!(tracker.reads.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_broken_record_fails_only_the_reads_that_asked_for_it() {
        let tracker = counted(3, Some("2"));
        let batched = BatchedReads::new(tracker.clone(), Duration::from_millis(50));
        let (one, two) = (["1".to_owned()], ["2".to_owned()]);
        let (good, bad) = tokio::join!(
            batched.fetch_issues_by_ids(&one),
            batched.fetch_issues_by_ids(&two),
        );
        assert_eq!(ids(&good.unwrap()), ["1"]);
        assert_eq!(bad.unwrap_err().category_name(), "tracker_response");
    }

    #[tokio::test]
    async fn a_continuation_check_shares_a_read_made_moments_before() {
        let tracker = counted(2, None);
        let batched = BatchedReads::new(tracker.clone(), Duration::from_millis(1));
        let one = ["1".to_owned()];
        batched.fetch_issues_by_ids(&one).await.unwrap();
        let shared = batched
            .fetch_shared(&one, Duration::from_secs(2))
            .await
            .unwrap();
        assert_eq!(ids(&shared), ["1"]);
        assert_eq!(tracker.reads.load(Ordering::SeqCst), 1, "shared");
        // Too old, or never read: a read of its own.
        tokio::time::sleep(Duration::from_millis(20)).await;
        batched
            .fetch_shared(&one, Duration::from_millis(10))
            .await
            .unwrap();
        batched
            .fetch_shared(&["0".to_owned()], Duration::from_secs(2))
            .await
            .unwrap();
        assert_eq!(tracker.reads.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn the_check_after_a_turn_takes_the_answer_to_the_agents_own_move() {
        let tracker = counted(2, None);
        let batched = BatchedReads::new(tracker.clone(), Duration::from_millis(1));
        let (zero, one) = (["0".to_owned()], ["1".to_owned()]);
        // The checks before the run.
        batched.fetch_issues_by_ids(&zero).await.unwrap();
        let issue = batched.fetch_issues_by_ids(&one).await.unwrap().remove(0);
        let turn_started = Instant::now();
        let context = ToolContext::new(issue);
        let moved = batched
            .execute_agent_tool(
                "memory_set_issue_state",
                serde_json::json!({"state": "review"}),
                &context,
            )
            .await;
        assert_eq!(moved.moved_to.as_deref(), Some("review"));
        let after = batched.fetch_since(&one, turn_started).await.unwrap();
        assert_eq!(after[0].state, "review");
        assert_eq!(tracker.reads.load(Ordering::SeqCst), 2, "told by the move");
        // A read from before the turn is not taken for one after it.
        batched.fetch_since(&zero, turn_started).await.unwrap();
        assert_eq!(tracker.reads.load(Ordering::SeqCst), 3);
        // A change the adapter cannot place (here a refused call) needs a read of its own.
        let refused = batched
            .execute_agent_tool(
                "memory_set_issue_state",
                serde_json::json!({"state": ""}),
                &context,
            )
            .await;
        assert!(!refused.success);
        batched.fetch_since(&one, turn_started).await.unwrap();
        assert_eq!(tracker.reads.load(Ordering::SeqCst), 4);
    }

    #[tokio::test]
    async fn without_a_window_every_read_goes_alone() {
        let tracker = counted(2, None);
        let batched = BatchedReads::new(tracker.clone(), Duration::ZERO);
        let (zero, one) = (["0".to_owned()], ["1".to_owned()]);
        let (a, b) = tokio::join!(
            batched.fetch_issues_by_ids(&zero),
            batched.fetch_issues_by_ids(&one),
        );
        assert_eq!((ids(&a.unwrap()), ids(&b.unwrap())), (vec!["0"], vec!["1"]));
        assert_eq!(tracker.reads.load(Ordering::SeqCst), 2);
    }
}
