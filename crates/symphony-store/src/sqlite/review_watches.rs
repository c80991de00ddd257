//! The `review_watches` table: handed-off changes under review (ADR 0018).

use rusqlite::{params, Connection, OptionalExtension, Row, Transaction};

use crate::ReviewWatch;

const COLUMNS: &str = "issue_id, identifier, branch, base_branch, number, url, head_sha, round, \
    seen, pending, since_at, updated_at";

fn from_row(row: &Row<'_>) -> rusqlite::Result<ReviewWatch> {
    let mut watch = ReviewWatch::new(
        row.get::<_, String>(0)?,
        row.get::<_, String>(1)?,
        row.get::<_, String>(2)?,
        row.get::<_, String>(3)?,
        row.get::<_, String>(6)?,
        row.get::<_, i64>(10)?.max(0) as u64,
    );
    watch.number = row.get::<_, Option<i64>>(4)?.map(|n| n.max(0) as u64);
    watch.url = row.get(5)?;
    watch.round = row.get(7)?;
    watch.seen = row.get(8)?;
    watch.pending = row.get(9)?;
    watch.updated_ms = row.get::<_, i64>(11)?.max(0) as u64;
    Ok(watch)
}

/// Starts watching `watch`, or moves an existing watch to its new place and head: what was
/// pending is addressed, the round, the mark and the start stay.
pub(super) fn watched(tx: &Transaction<'_>, watch: &ReviewWatch) -> rusqlite::Result<()> {
    tx.execute(
        "INSERT INTO review_watches (issue_id, identifier, branch, base_branch, number, url,
             head_sha, round, seen, pending, since_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
         ON CONFLICT (issue_id) DO UPDATE SET identifier = excluded.identifier,
             branch = excluded.branch, base_branch = excluded.base_branch,
             number = excluded.number, url = excluded.url, head_sha = excluded.head_sha,
             pending = NULL, updated_at = excluded.updated_at",
        params![
            watch.issue_id,
            watch.identifier,
            watch.branch,
            watch.base_branch,
            watch.number.map(|n| n as i64),
            watch.url,
            watch.head_sha,
            watch.round,
            watch.seen,
            watch.pending,
            watch.since_ms as i64,
            watch.updated_ms as i64,
        ],
    )?;
    Ok(())
}

/// Records feedback taken from the report marked `seen`: one more round, the feedback
/// pending. A watch that is gone, has moved past `after`, or still has feedback pending takes
/// nothing (another instance took it first).
pub(super) fn feedback_taken(
    tx: &Transaction<'_>,
    issue_id: &str,
    after: Option<&str>,
    (seen, pending): (&str, &str),
    at_ms: u64,
) -> rusqlite::Result<()> {
    tx.execute(
        "UPDATE review_watches SET seen = ?2, pending = ?3, round = round + 1, updated_at = ?4
         WHERE issue_id = ?1 AND seen IS ?5 AND pending IS NULL",
        params![issue_id, seen, pending, at_ms as i64, after],
    )?;
    Ok(())
}

/// Moves the watch of `issue_id` from head `from` to `to` (someone else's push, taken), only
/// while it is at `from` with nothing pending.
pub(super) fn head_adopted(
    tx: &Transaction<'_>,
    issue_id: &str,
    (from, to): (&str, &str),
    at_ms: u64,
) -> rusqlite::Result<()> {
    tx.execute(
        "UPDATE review_watches SET head_sha = ?3, updated_at = ?4
         WHERE issue_id = ?1 AND head_sha = ?2 AND pending IS NULL",
        params![issue_id, from, to, at_ms as i64],
    )?;
    Ok(())
}

/// Stops watching issue `issue_id`.
pub(super) fn ended(tx: &Transaction<'_>, issue_id: &str) -> rusqlite::Result<()> {
    tx.execute("DELETE FROM review_watches WHERE issue_id = ?1", [issue_id])?;
    Ok(())
}

/// Every watch, oldest first.
pub(super) fn all(conn: &Connection) -> rusqlite::Result<Vec<ReviewWatch>> {
    let mut statement = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM review_watches ORDER BY since_at, issue_id"
    ))?;
    let rows = statement.query_map([], from_row)?;
    rows.collect()
}

/// The watch of issue `issue_id`, if there is one.
pub(super) fn one(conn: &Connection, issue_id: &str) -> rusqlite::Result<Option<ReviewWatch>> {
    conn.query_row(
        &format!("SELECT {COLUMNS} FROM review_watches WHERE issue_id = ?1"),
        [issue_id],
        from_row,
    )
    .optional()
}
