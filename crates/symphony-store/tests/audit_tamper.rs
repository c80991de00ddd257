//! Tampering with the audit log in the database file is detected: any change, removal or
//! reordering of entries (proptest over random edits), and removal at the end even when the
//! recorded head is rewritten to match.

mod common;

use common::{live, open};
use proptest::prelude::*;
use symphony_store::{AuditRecord, AuditVerdict, Change, Store};

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

/// A store with `count` decisions in its chain (plus `instance_started`).
fn chain(rt: &tokio::runtime::Runtime, count: usize) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(dir.path(), live("a"));
    rt.block_on(async {
        store.recover(1).await.expect("recover");
        for i in 0..count {
            let record = AuditRecord {
                at_ms: 10 + i as u64,
                kind: if i % 2 == 0 {
                    "dispatch"
                } else {
                    "retry_scheduled"
                }
                .to_owned(),
                issue_id: Some(format!("issue-{i}")),
                identifier: Some(format!("ID-{i}")),
                detail: serde_json::json!({"attempt": i, "error": null}),
            };
            store
                .apply(vec![Change::Audit(record)])
                .await
                .expect("append");
        }
        assert!(matches!(
            store.audit_verify().await.expect("verify"),
            AuditVerdict::Intact { .. }
        ));
    });
    dir
}

fn verdict(rt: &tokio::runtime::Runtime, dir: &std::path::Path) -> AuditVerdict {
    let store = open(dir, live("checker"));
    rt.block_on(store.audit_verify()).expect("verify")
}

#[derive(Debug, Clone)]
enum Edit {
    /// Set one column of one entry to a different value.
    Change { seq: i64, column: usize },
    /// Remove one entry.
    Delete { seq: i64 },
    /// Swap two entries' contents, each keeping its position.
    SwapContents { a: i64, b: i64 },
    /// Swap two entries' positions.
    SwapPositions { a: i64, b: i64 },
}

const COLUMNS: [&str; 8] = [
    "at = at + 1",
    "instance = instance || 'x'",
    "kind = 'tampered'",
    "issue_id = 'someone-else'",
    "identifier = COALESCE(identifier, '') || 'x'",
    "detail = '{\"attempt\":99}'",
    "prev_hash = (CASE WHEN substr(prev_hash, 1, 1) = 'a' THEN 'b' ELSE 'a' END) || substr(prev_hash, 2)",
    "hash = (CASE WHEN substr(hash, 1, 1) = 'a' THEN 'b' ELSE 'a' END) || substr(hash, 2)",
];

fn edit(entries: i64) -> impl Strategy<Value = Edit> {
    let seq = 1..=entries;
    prop_oneof![
        (seq.clone(), 0..COLUMNS.len()).prop_map(|(seq, column)| Edit::Change { seq, column }),
        seq.clone().prop_map(|seq| Edit::Delete { seq }),
        (seq.clone(), seq.clone())
            .prop_filter("two entries", |(a, b)| a != b)
            .prop_map(|(a, b)| Edit::SwapContents { a, b }),
        (seq.clone(), seq)
            .prop_filter("two entries", |(a, b)| a != b)
            .prop_map(|(a, b)| Edit::SwapPositions { a, b }),
    ]
}

fn tamper(dir: &std::path::Path, edit: &Edit) {
    let conn = rusqlite::Connection::open(dir.join("state.db")).expect("open");
    match edit {
        Edit::Change { seq, column } => {
            let sql = format!("UPDATE audit SET {} WHERE seq = ?1", COLUMNS[*column]);
            assert_eq!(conn.execute(&sql, [seq]).expect("update"), 1);
        }
        Edit::Delete { seq } => {
            conn.execute("DELETE FROM audit WHERE seq = ?1", [seq])
                .expect("delete");
        }
        Edit::SwapContents { a, b } => {
            conn.execute_batch(&format!(
                "CREATE TEMP TABLE t AS SELECT * FROM audit WHERE seq IN ({a}, {b});
                 UPDATE audit SET (at, instance, kind, issue_id, identifier, detail, prev_hash, hash) =
                   (SELECT at, instance, kind, issue_id, identifier, detail, prev_hash, hash
                    FROM t WHERE t.seq = CASE audit.seq WHEN {a} THEN {b} ELSE {a} END)
                 WHERE seq IN ({a}, {b});"
            ))
            .expect("swap contents");
        }
        Edit::SwapPositions { a, b } => {
            conn.execute_batch(&format!(
                "UPDATE audit SET seq = -1 WHERE seq = {a};
                 UPDATE audit SET seq = {a} WHERE seq = {b};
                 UPDATE audit SET seq = {b} WHERE seq = -1;"
            ))
            .expect("swap positions");
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn any_edit_of_any_entry_is_detected((count, edit) in (2usize..10).prop_flat_map(|n| (Just(n), edit(n as i64 + 1)))) {
        let rt = runtime();
        let dir = chain(&rt, count);
        tamper(dir.path(), &edit);
        match verdict(&rt, dir.path()) {
            AuditVerdict::Broken { seq, reason } => {
                prop_assert!(seq >= 1 && seq <= count as u64 + 1, "{seq}: {reason}");
            }
            intact => prop_assert!(false, "{edit:?} went unnoticed: {intact:?}"),
        }
    }
}

#[test]
fn removing_the_newest_entries_and_rewriting_the_head_is_caught_by_the_copy_outside() {
    let rt = runtime();
    let dir = chain(&rt, 5);
    let conn = rusqlite::Connection::open(dir.path().join("state.db")).expect("open");
    conn.execute_batch(
        "DELETE FROM audit WHERE seq > 4;
         UPDATE audit_head SET seq = 4, hash = (SELECT hash FROM audit WHERE seq = 4);",
    )
    .expect("truncate");
    match verdict(&rt, dir.path()) {
        AuditVerdict::Broken { seq, reason } => {
            assert_eq!(seq, 5, "{reason}");
            assert!(reason.contains("outside the database"), "{reason}");
        }
        intact => panic!("truncation went unnoticed: {intact:?}"),
    }
}

#[test]
fn the_first_broken_entry_is_reported() {
    let rt = runtime();
    let dir = chain(&rt, 6);
    tamper(dir.path(), &Edit::Change { seq: 3, column: 2 });
    tamper(dir.path(), &Edit::Change { seq: 5, column: 2 });
    assert_eq!(
        verdict(&rt, dir.path()),
        AuditVerdict::Broken {
            seq: 3,
            reason: "its contents do not match its hash (the entry was changed)".to_owned()
        }
    );
}
