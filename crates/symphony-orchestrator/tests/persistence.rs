//! The persistence task's answers are never "ok" by default: once it is gone, a lease renewal
//! reports failure (before, it answered with an empty success, so leases lapsed while agents
//! kept running), claims fail, and the health says why.

use std::sync::Arc;

use symphony_orchestrator::Persistence;
use symphony_store::{SqliteStore, StoreOptions};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_persistence_task_that_is_gone_fails_renewals_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path(), StoreOptions::default()).unwrap();
    let persistence = Persistence::spawn(Arc::new(store), Arc::default());
    assert!(persistence.heartbeat().await.is_ok());
    assert_eq!(persistence.health().error(), None);
    persistence.detach().await;
    let renewal = persistence.heartbeat().await;
    assert!(
        renewal.is_err(),
        "a renewal nobody made was reported as made"
    );
    assert!(persistence
        .health()
        .error()
        .is_some_and(|e| e.contains("persistence task has stopped")));
}
