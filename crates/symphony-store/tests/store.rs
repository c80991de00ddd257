//! The SQLite store against a real database file: claims and leases between instances,
//! restart recovery, bounded events, totals, and bad files.

mod common;

use std::time::Duration;

use common::{dead, live, open, options};
use symphony_store::{
    AuditVerdict, Change, ClaimOutcome, RunFilter, RunOutcome, RunStart, SqliteStore, Store,
    StoreError, StoreOptions,
};

fn start(issue: &str, attempt: Option<u32>, at_ms: u64) -> RunStart {
    RunStart {
        issue_id: issue.to_owned(),
        identifier: format!("ID-{issue}"),
        attempt,
        workspace: Some(format!("/ws/ID-{issue}")),
        at_ms,
    }
}

fn run_id(outcome: ClaimOutcome) -> i64 {
    match outcome {
        ClaimOutcome::Started { run_id } => run_id,
        held => panic!("expected a started run, got {held:?}"),
    }
}

#[tokio::test]
async fn a_live_claim_is_refused_to_another_instance_and_released_claims_are_free() {
    let dir = tempfile::tempdir().expect("tempdir");
    let a = open(dir.path(), live("a"));
    let b = open(dir.path(), live("b"));
    a.recover(1_000).await.expect("recover a");
    b.recover(1_000).await.expect("recover b");

    let run = run_id(
        a.claim_and_start(start("1", None, 1_000))
            .await
            .expect("claim"),
    );
    match b
        .claim_and_start(start("1", None, 1_001))
        .await
        .expect("claim")
    {
        ClaimOutcome::Held {
            owner,
            expires_at_ms,
        } => {
            assert_eq!(owner, "a");
            assert_eq!(expires_at_ms, 31_000);
        }
        other => panic!("b must not get issue 1: {other:?}"),
    }
    // Its own claim is not in its way (a retry of the same issue).
    a.apply(vec![Change::RunEnded {
        run_id: run,
        at_ms: 2_000,
        outcome: RunOutcome::Succeeded,
        error: None,
    }])
    .await
    .expect("end");
    run_id(
        a.claim_and_start(start("1", Some(1), 2_100))
            .await
            .expect("reclaim"),
    );
    a.apply(vec![Change::Released {
        issue_id: "1".into(),
    }])
    .await
    .expect("release");
    run_id(
        b.claim_and_start(start("1", None, 2_200))
            .await
            .expect("claim"),
    );
    // `a` releasing again does not drop b's claim.
    a.apply(vec![Change::Released {
        issue_id: "1".into(),
    }])
    .await
    .expect("release");
    let claims = b.claims().await.expect("claims");
    assert_eq!(claims.len(), 1);
    assert_eq!(claims[0].owner.as_deref(), Some("b"));
}

#[tokio::test]
async fn an_expired_lease_is_taken_over() {
    let dir = tempfile::tempdir().expect("tempdir");
    let short = StoreOptions {
        lease: Duration::from_millis(100),
        ..options()
    };
    let a = SqliteStore::open_as(dir.path(), short.clone(), live("a")).expect("open");
    let b = SqliteStore::open_as(dir.path(), short, live("b")).expect("open");
    a.recover(1_000).await.expect("recover");
    b.recover(1_000).await.expect("recover");
    a.claim_and_start(start("1", None, 1_000))
        .await
        .expect("claim");
    a.apply(vec![Change::RetryQueued {
        issue_id: "2".into(),
        identifier: "ID-2".into(),
        attempt: 3,
        due_at_ms: 5_000,
        error: Some("boom".into()),
    }])
    .await
    .expect("queue");
    assert!(matches!(
        b.claim_and_start(start("1", None, 1_050))
            .await
            .expect("claim"),
        ClaimOutcome::Held { .. }
    ));
    // `a` stops renewing; after its lease lapses b's heartbeat takes over its work.
    let recovery = b.heartbeat(1_200).await.expect("heartbeat");
    assert_eq!(recovery.departed, vec!["a".to_owned()]);
    assert_eq!(recovery.interrupted.len(), 1, "a's run 1 ended with it");
    let adopted: Vec<(&str, u32, u64)> = recovery
        .retries
        .iter()
        .map(|r| (r.issue_id.as_str(), r.attempt, r.due_at_ms))
        .collect();
    assert_eq!(adopted, vec![("1", 1, 1_200), ("2", 3, 5_000)]);
    run_id(
        b.claim_and_start(start("1", Some(1), 1_300))
            .await
            .expect("claim"),
    );
}

#[tokio::test]
async fn a_restart_interrupts_the_dead_instances_runs_and_restores_its_queue() {
    let dir = tempfile::tempdir().expect("tempdir");
    let before = open(dir.path(), dead("before"));
    before.recover(1_000).await.expect("recover");
    let run = run_id(
        before
            .claim_and_start(start("1", Some(2), 1_000))
            .await
            .expect("claim"),
    );
    before
        .apply(vec![
            Change::RunProcess {
                run_id: run,
                pid: 4_000_000,
                pid_start: Some(77),
            },
            Change::RetryQueued {
                issue_id: "2".into(),
                identifier: "ID-2".into(),
                attempt: 1,
                due_at_ms: 90_000,
                error: Some("worker exited: boom".into()),
            },
        ])
        .await
        .expect("apply");
    drop(before);

    // The same lease is still running, but the process that held it is gone.
    let after = open(dir.path(), live("after"));
    let recovery = after.recover(2_000).await.expect("recover");
    assert_eq!(recovery.departed, vec!["before".to_owned()]);
    assert_eq!(recovery.interrupted.len(), 1);
    assert_eq!(recovery.interrupted[0].id, run);
    assert_eq!(recovery.orphans.len(), 1);
    assert_eq!(recovery.orphans[0].pid, 4_000_000);
    let queue: Vec<(&str, u32, u64, Option<&str>)> = recovery
        .retries
        .iter()
        .map(|r| {
            (
                r.issue_id.as_str(),
                r.attempt,
                r.due_at_ms,
                r.owner.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        queue,
        vec![
            ("1", 3, 2_000, Some("after")),
            ("2", 1, 90_000, Some("after"))
        ]
    );
    let runs = after.runs(RunFilter::default()).await.expect("runs");
    assert_eq!(runs[0].outcome, Some(RunOutcome::Interrupted));
    assert!(runs[0].error.as_deref().unwrap_or("").contains("before"));
    // Nothing is taken over twice.
    let again = after.heartbeat(3_000).await.expect("heartbeat");
    assert!(again.retries.is_empty() && again.interrupted.is_empty());
    assert!(matches!(
        after.audit_verify().await.expect("verify"),
        AuditVerdict::Intact { .. }
    ));
}

#[tokio::test]
async fn a_graceful_stop_leaves_the_queue_for_the_next_instance() {
    let dir = tempfile::tempdir().expect("tempdir");
    let a = open(dir.path(), live("a"));
    a.recover(1_000).await.expect("recover");
    a.claim_and_start(start("1", None, 1_000))
        .await
        .expect("claim");
    a.apply(vec![Change::RetryQueued {
        issue_id: "2".into(),
        identifier: "ID-2".into(),
        attempt: 2,
        due_at_ms: 9_000,
        error: None,
    }])
    .await
    .expect("queue");
    a.detach(1_500).await.expect("detach");
    let b = open(dir.path(), live("b"));
    let recovery = b.recover(2_000).await.expect("recover");
    let ids: Vec<&str> = recovery
        .retries
        .iter()
        .map(|r| r.issue_id.as_str())
        .collect();
    // Issue 1's run was still open: it is interrupted and queued; issue 2 keeps its due time.
    assert_eq!(ids, vec!["1", "2"]);
    assert_eq!(recovery.retries[1].due_at_ms, 9_000);
}

#[tokio::test]
async fn events_are_bounded_per_run_and_counted() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = SqliteStore::open_as(
        dir.path(),
        StoreOptions {
            events_per_run: 5,
            ..options()
        },
        live("a"),
    )
    .expect("open");
    store.recover(0).await.expect("recover");
    let run = run_id(
        store
            .claim_and_start(start("1", None, 0))
            .await
            .expect("claim"),
    );
    for batch in 0..3u64 {
        let changes = (0..4u64)
            .map(|i| Change::Event {
                run_id: run,
                at_ms: batch * 10 + i,
                kind: "notification".into(),
                message: Some(format!("line {}", batch * 4 + i + 1)),
            })
            .collect();
        store.apply(changes).await.expect("apply");
    }
    store
        .apply(vec![Change::Tokens {
            run_id: run,
            input: 10,
            output: 5,
            total: 15,
        }])
        .await
        .expect("tokens");
    let events = store.run_events(run).await.expect("events");
    let seqs: Vec<u64> = events.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, vec![8, 9, 10, 11, 12], "the oldest are dropped first");
    assert_eq!(events[4].message.as_deref(), Some("line 12"));
    let runs = store.runs(RunFilter::default()).await.expect("runs");
    assert_eq!(runs[0].events_total, 12);
    assert_eq!(runs[0].workspace.as_deref(), Some("/ws/ID-1"));
    assert_eq!(runs[0].last_event.as_deref(), Some("notification"));
    let totals = store.totals().await.expect("totals");
    assert_eq!((totals.runs, totals.total_tokens), (1, 15));
}

#[tokio::test]
async fn runs_are_listed_newest_first_and_filtered_by_id_or_identifier() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(dir.path(), live("a"));
    store.recover(0).await.expect("recover");
    for (i, issue) in ["1", "2", "1"].into_iter().enumerate() {
        let at = i as u64 * 100;
        let run = run_id(
            store
                .claim_and_start(start(issue, None, at))
                .await
                .expect("claim"),
        );
        store
            .apply(vec![Change::RunEnded {
                run_id: run,
                at_ms: at + 50,
                outcome: RunOutcome::Failed,
                error: Some("x".into()),
            }])
            .await
            .expect("end");
    }
    let all = store.runs(RunFilter::default()).await.expect("runs");
    assert_eq!(all.iter().map(|r| r.id).collect::<Vec<_>>(), vec![3, 2, 1]);
    let by_identifier = store
        .runs(RunFilter {
            issue: Some("ID-1".into()),
            limit: None,
        })
        .await
        .expect("runs");
    assert_eq!(by_identifier.len(), 2);
    let by_id = store
        .runs(RunFilter {
            issue: Some("2".into()),
            limit: Some(5),
        })
        .await
        .expect("runs");
    assert_eq!(by_id.len(), 1);
    // One run by its id, as the API's run pages read it.
    let second = store.run(2).await.expect("run").expect("run 2 exists");
    assert_eq!(second, all[1]);
    assert_eq!(store.run(99).await.expect("run"), None);
    assert_eq!(store.totals().await.expect("totals").runtime_ms, 150);
}

#[test]
fn a_corrupt_file_is_a_clear_error_naming_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("state.db");
    std::fs::write(&path, vec![0x5au8; 64 * 1024]).expect("write garbage");
    let error = SqliteStore::open_as(dir.path(), options(), live("a"))
        .err()
        .expect("garbage must not open");
    assert!(matches!(error, StoreError::Corrupt { .. }), "{error:?}");
    assert!(
        error.to_string().contains(&path.display().to_string()),
        "{error}"
    );
    // The file is left as it was for the operator to inspect.
    assert_eq!(std::fs::read(&path).expect("read").len(), 64 * 1024);
}

#[test]
fn a_locked_file_is_a_clear_error_naming_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    drop(open(dir.path(), live("a")));
    let path = dir.path().join("state.db");
    let holder = rusqlite::Connection::open(&path).expect("open");
    holder.execute_batch("BEGIN EXCLUSIVE").expect("lock");
    let error = SqliteStore::open_as(
        dir.path(),
        StoreOptions {
            busy_timeout: Duration::from_millis(200),
            ..options()
        },
        live("b"),
    )
    .err()
    .expect("a locked database must not open");
    assert!(matches!(error, StoreError::Locked { .. }), "{error:?}");
    assert!(
        error.to_string().contains(&path.display().to_string()),
        "{error}"
    );
}

#[test]
fn a_database_from_a_newer_symphony_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    drop(open(dir.path(), live("a")));
    let conn = rusqlite::Connection::open(dir.path().join("state.db")).expect("open");
    conn.pragma_update(None, "user_version", 999).expect("bump");
    drop(conn);
    let error = SqliteStore::open_as(dir.path(), options(), live("a"))
        .err()
        .expect("too new");
    assert!(
        matches!(error, StoreError::TooNew { found: 999, .. }),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_full_disk_fails_the_write_and_keeps_every_committed_row() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = SqliteStore::open_as(
        dir.path(),
        StoreOptions {
            max_size_bytes: Some(256 * 1024),
            ..options()
        },
        live("a"),
    )
    .expect("open");
    store.recover(0).await.expect("recover");
    let mut committed = 0u64;
    let error = loop {
        let at_ms = committed;
        let changes = vec![Change::Audit(symphony_store::AuditRecord {
            at_ms,
            kind: "filler".into(),
            issue_id: Some(format!("{committed}")),
            identifier: None,
            detail: serde_json::json!({"pad": "x".repeat(2_000)}),
        })];
        match store.apply(changes).await {
            Ok(()) => committed += 1,
            Err(e) => break e,
        }
        assert!(committed < 10_000, "the size cap never hit");
    };
    assert!(matches!(error, StoreError::Full { .. }), "{error:?}");
    assert!(committed > 10);
    drop(store);
    let reopened = open(dir.path(), live("b"));
    match reopened.audit_verify().await.expect("verify") {
        // The chain holds `instance_started` plus every filler that committed.
        AuditVerdict::Intact { entries, .. } => assert_eq!(entries, committed + 1),
        broken => panic!("{broken:?}"),
    }
}

#[test]
fn instances_opening_a_new_database_at_the_same_moment_all_open_it() {
    for round in 0..30 {
        let dir = tempfile::tempdir().expect("tempdir");
        let barrier = std::sync::Arc::new(std::sync::Barrier::new(4));
        let handles: Vec<_> = (0..4)
            .map(|i| {
                let dir = dir.path().to_owned();
                let barrier = std::sync::Arc::clone(&barrier);
                std::thread::spawn(move || {
                    barrier.wait();
                    SqliteStore::open_as(&dir, options(), live(&format!("i{i}"))).map(|_| ())
                })
            })
            .collect();
        for handle in handles {
            let opened = handle.join().expect("thread");
            assert!(opened.is_ok(), "round {round}: {opened:?}");
        }
    }
}
