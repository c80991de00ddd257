//! The review watch (ADR 0018): a task of the service that, every `review.poll_interval_ms`
//! and at once when woken (a webhook named a change, a workflow was reloaded), asks the code
//! host about every watched change and acts on `review_policy::decide`'s answer
//! (`review_actions.rs`). It reads the watches from the store each pass, so a restart, or
//! another instance, picks them up where they were.

use std::sync::Arc;
use std::time::Duration;

use symphony_code_host::WatchedChange;
use symphony_core::Issue;
use symphony_store::{ReviewWatch, Store};
use tokio::sync::watch;

use super::handles::{ControlHandle, ReviewWake};
use super::persist::Persistence;
use super::review_actions::Acting;
pub(crate) use super::review_setup::ReviewSetup;
use crate::review_config::ReviewConfig;
use crate::review_policy::{decide, ReviewDecision};

/// How the shell tells the watch what is current (the control handle wakes it).
#[derive(Clone)]
pub(crate) struct ReviewWatchHandle {
    setup: watch::Sender<Option<Arc<ReviewSetup>>>,
}

impl ReviewWatchHandle {
    /// Makes `setup` current; the watch runs a pass with it at once.
    pub fn set(&self, setup: ReviewSetup) {
        self.setup.send_replace(Some(Arc::new(setup)));
    }
}

/// The watch task's own parts.
pub(crate) struct ReviewWatcher {
    store: Arc<dyn Store>,
    persistence: Persistence,
    control: ControlHandle,
    setup: watch::Receiver<Option<Arc<ReviewSetup>>>,
    wake: Arc<ReviewWake>,
}

/// How long a watch without a `review` section sleeps between looks at its setup.
const IDLE: Duration = Duration::from_secs(3600);

impl ReviewWatcher {
    /// The watch and the handle that drives it.
    pub fn new(
        store: Arc<dyn Store>,
        persistence: Persistence,
        control: ControlHandle,
    ) -> (Self, ReviewWatchHandle) {
        let (setup_tx, setup) = watch::channel(None);
        let wake = Arc::clone(&control.review_wake);
        (
            Self {
                store,
                persistence,
                control,
                setup,
                wake,
            },
            ReviewWatchHandle { setup: setup_tx },
        )
    }

    /// Runs passes until the handle is dropped: a full one at start, after a reload and every
    /// `poll_interval`, one over the changes a wake-up named as soon as it comes.
    pub async fn run(mut self) {
        let mut only = None;
        let mut next_full = tokio::time::Instant::now();
        loop {
            let setup = self.setup.borrow_and_update().clone();
            let review = setup
                .as_ref()
                .and_then(|s| s.plan.review.clone().map(|r| (Arc::clone(s), r)));
            let interval = review.as_ref().map_or(IDLE, |(_, r)| r.poll_interval);
            // The next full pass is due an interval after this one (without a `review`
            // section, an idle wait: nothing is watched until a reload brings one).
            if only.is_none() {
                next_full = tokio::time::Instant::now() + interval;
            }
            if let Some((setup, review)) = &review {
                self.pass(setup, review, only.as_ref()).await;
            }
            tokio::select! {
                () = tokio::time::sleep_until(next_full) => only = None,
                () = self.wake.notify.notified() => only = self.wake.take(),
                changed = self.setup.changed() => {
                    if changed.is_err() { return }
                    only = None;
                }
            }
        }
    }

    /// One look at every watch, or at those of the pull requests numbered in `only`.
    async fn pass(
        &self,
        setup: &ReviewSetup,
        review: &ReviewConfig,
        only: Option<&std::collections::BTreeSet<u64>>,
    ) {
        tracing::debug!(only = ?only, "review pass");
        let watches = match self.store.review_watches().await {
            Ok(watches) => watches,
            Err(e) => {
                tracing::warn!(
                    category = e.category(),
                    "review watch: the watches cannot be read; trying again at the next pass: {e}"
                );
                return;
            }
        };
        let acting = Acting {
            setup,
            review,
            store: self.store.as_ref(),
            persistence: &self.persistence,
            control: &self.control,
        };
        let named = |w: &ReviewWatch| match (only, w.number) {
            (None, _) => true,
            (Some(numbers), Some(number)) => numbers.contains(&number),
            (Some(_), None) => false,
        };
        for watch in watches.into_iter().filter(named) {
            if watch.pending.is_some() {
                // A round is under way: its run answers it. Only a move that did not happen
                // is retried.
                acting.resume_round(&watch).await;
                continue;
            }
            self.look(&acting, &watch).await;
        }
    }

    /// Asks the code host about one watched change and acts on what it says.
    async fn look(&self, acting: &Acting<'_>, watch: &ReviewWatch) {
        let Some(reports) = acting
            .setup
            .plan
            .code_host
            .as_ref()
            .and_then(|host| host.review_reports())
        else {
            // The run plan refuses `review` without one; nothing is decided without a report.
            return;
        };
        let watched = watched_change(watch, acting.review);
        let issue = Issue::new(&watch.issue_id, &watch.identifier, "", "");
        let report = match reports.review_report(&issue, &watched).await {
            Ok(report) => report,
            Err(e) => {
                tracing::warn!(
                    issue_identifier = %watch.identifier,
                    category = e.category.as_str(),
                    "review watch: no report from the code host; asking again at the next pass: {e}"
                );
                return;
            }
        };
        let policy = &acting.review.policy;
        let mut decision = decide(&watched, watch.round, &report, policy);
        if let ReviewDecision::Adopt { head } = &decision {
            if !acting.adopt(watch, head).await {
                return;
            }
            let mut adopted = watched;
            adopted.head_sha = head.clone();
            decision = decide(&adopted, watch.round, &report, policy);
        }
        match decision {
            ReviewDecision::Wait { .. } | ReviewDecision::Adopt { .. } => {}
            decision => acting.act(watch, decision).await,
        }
    }
}

/// The code host's view of a watch.
fn watched_change(watch: &ReviewWatch, review: &ReviewConfig) -> WatchedChange {
    let mut watched = WatchedChange::new(
        watch.branch.clone(),
        watch.base_branch.clone(),
        watch.number,
        watch.head_sha.clone(),
    );
    if let Some(seen) = &watch.seen {
        watched = watched.seen(seen.clone());
    }
    if let Some(mention) = &review.mention {
        watched = watched.mentioning(mention.clone());
    }
    watched
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use symphony_store::{SqliteStore, StoreOptions};
    use tokio::sync::mpsc;

    use super::*;

    fn control() -> ControlHandle {
        let (refresh, _) = mpsc::channel(1);
        let (hinted, _) = mpsc::channel(1);
        ControlHandle {
            refresh,
            pending: Arc::default(),
            hinted,
            pending_hints: Arc::default(),
            review_wake: Arc::default(),
        }
    }

    /// Paused time moves only while every task waits: a watch that never waits (it once
    /// spun without a `review` section, a core's worth of CPU in every service) keeps the
    /// hour below from ever passing, and the guard thread reports it.
    #[test]
    fn a_watch_with_nothing_to_watch_waits_instead_of_spinning() {
        let (done, finished) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .start_paused(true)
                .build()
                .unwrap();
            runtime.block_on(async {
                let dir = tempfile::tempdir().unwrap();
                let store: Arc<dyn Store> =
                    Arc::new(SqliteStore::open(dir.path(), StoreOptions::default()).unwrap());
                let persistence = Persistence::spawn(Arc::clone(&store), Arc::default());
                let control = control();
                let (watcher, handle) = ReviewWatcher::new(store, persistence, control.clone());
                let task = tokio::spawn(watcher.run());
                // A wake-up with nothing to watch changes nothing either.
                control.wake_reviews(vec![7]);
                tokio::time::sleep(Duration::from_secs(3600)).await;
                drop(handle);
                task.abort();
            });
            let _ = done.send(());
        });
        assert!(
            finished.recv_timeout(Duration::from_secs(120)).is_ok(),
            "the review watch never waited: it spins"
        );
    }
}
