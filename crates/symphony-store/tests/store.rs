//! The SQLite store against a real database file: the store conformance kit (claims and
//! leases between instances, takeover, restart recovery, bounded events, totals, the audit
//! chain), and what is SQLite's own: bad, locked, newer and full files.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{live, open, options};
use symphony_store::conformance::{self, KitSettings, StoreHarness};
use symphony_store::{
    AuditVerdict, Change, Instance, SqliteStore, Store, StoreError, StoreOptions,
};

/// Every store opened by the kit shares one database folder, until it starts over.
struct Sqlite {
    dir: Option<tempfile::TempDir>,
}

impl StoreHarness for Sqlite {
    fn fresh(&mut self) {
        self.dir = Some(tempfile::tempdir().expect("tempdir"));
    }

    fn open(&mut self, settings: &KitSettings, instance: Instance) -> Arc<dyn Store> {
        let dir = self.dir.as_ref().expect("fresh() first").path();
        let options = StoreOptions {
            lease: settings.lease,
            events_per_run: settings.events_per_run,
            ..options()
        };
        Arc::new(SqliteStore::open_as(dir, options, instance).expect("open"))
    }
}

#[tokio::test]
async fn sqlite_passes_the_store_conformance_kit() {
    conformance::run(&mut Sqlite { dir: None }).await;
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

/// A database written before review watches existed (schema 1) is brought up to date in
/// place: its runs stay, and watches work.
#[tokio::test]
async fn a_database_of_schema_1_is_migrated_keeping_its_runs_and_their_tokens() {
    let dir = tempfile::tempdir().expect("tempdir");
    {
        let store = open(dir.path(), live("a"));
        store.recover(1_000).await.expect("recover");
        store
            .claim_and_start(symphony_store::RunStart {
                issue_id: "1".into(),
                identifier: "ID-1".into(),
                attempt: None,
                workspace: None,
                at_ms: 1_000,
            })
            .await
            .expect("claim");
    }
    // Back to schema 1, as an older build left it.
    let conn = rusqlite::Connection::open(dir.path().join("state.db")).expect("open");
    conn.execute_batch(
        "DROP TABLE review_watches;
         DROP TABLE usage_days;
         ALTER TABLE runs DROP COLUMN cache_read_tokens;
         ALTER TABLE runs DROP COLUMN cache_write_tokens;
         ALTER TABLE runs DROP COLUMN cost_micros;
         ALTER TABLE runs DROP COLUMN turns;
         ALTER TABLE runs DROP COLUMN rounds;
         UPDATE runs SET input_tokens = 7, output_tokens = 2, total_tokens = 9;
         PRAGMA user_version = 1;",
    )
    .expect("downgrade");
    drop(conn);
    let store = open(dir.path(), live("a"));
    let runs = store.runs(Default::default()).await.expect("runs");
    assert_eq!(runs.len(), 1);
    assert_eq!(
        runs[0].usage,
        symphony_store::Usage::tokens(7, 2, 9),
        "old counts kept; no cache counts, and no cost rather than a zero one"
    );
    let spend = store.issue_spend("1", None).await.expect("spend");
    assert_eq!((spend.turns, spend.rounds, spend.attempts), (0, 0, 1));
    let watch =
        symphony_store::ReviewWatch::new("1", "ID-1", "symphony/id-1", "main", "aaa", 2_000);
    store
        .apply(vec![Change::ReviewWatched(watch.clone())])
        .await
        .expect("watch after the migration");
    assert_eq!(store.review_watches().await.expect("list"), vec![watch]);
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
