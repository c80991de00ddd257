//! The database schema as numbered migrations, applied in order at start-up and tracked in
//! `PRAGMA user_version`. A migration, once released, is never edited: add the next one.

use rusqlite::Connection;

/// Migration `n` (1-based) brings the schema from version `n - 1` to `n`.
const MIGRATIONS: &[&str] = &[
    // 1: runs, events, retry queue, claims, instances, audit chain.
    r#"
    CREATE TABLE instances (
        id            TEXT PRIMARY KEY,
        host          TEXT NOT NULL,
        pid           INTEGER NOT NULL,
        pid_start     INTEGER,
        started_at    INTEGER NOT NULL,
        heartbeat_at  INTEGER NOT NULL
    );
    CREATE TABLE runs (
        id             INTEGER PRIMARY KEY,
        issue_id       TEXT NOT NULL,
        identifier     TEXT NOT NULL,
        attempt        INTEGER,
        instance       TEXT NOT NULL,
        host           TEXT NOT NULL,
        workspace      TEXT,
        started_at     INTEGER NOT NULL,
        ended_at       INTEGER,
        outcome        TEXT,
        error          TEXT,
        pid            INTEGER,
        pid_start      INTEGER,
        input_tokens   INTEGER NOT NULL DEFAULT 0,
        output_tokens  INTEGER NOT NULL DEFAULT 0,
        total_tokens   INTEGER NOT NULL DEFAULT 0,
        events_total   INTEGER NOT NULL DEFAULT 0,
        last_event     TEXT,
        last_event_at  INTEGER
    );
    CREATE INDEX runs_by_issue ON runs (issue_id, id);
    CREATE INDEX runs_by_identifier ON runs (identifier, id);
    CREATE INDEX runs_open ON runs (instance) WHERE ended_at IS NULL;
    CREATE TABLE events (
        run_id   INTEGER NOT NULL,
        seq      INTEGER NOT NULL,
        at       INTEGER NOT NULL,
        kind     TEXT NOT NULL,
        message  TEXT,
        PRIMARY KEY (run_id, seq)
    ) WITHOUT ROWID;
    CREATE TABLE retries (
        issue_id    TEXT PRIMARY KEY,
        identifier  TEXT NOT NULL,
        attempt     INTEGER NOT NULL,
        due_at      INTEGER NOT NULL,
        error       TEXT,
        queued_at   INTEGER NOT NULL
    );
    CREATE TABLE claims (
        issue_id    TEXT PRIMARY KEY,
        identifier  TEXT NOT NULL,
        owner       TEXT,
        expires_at  INTEGER NOT NULL,
        claimed_at  INTEGER NOT NULL
    );
    CREATE INDEX claims_by_owner ON claims (owner);
    CREATE TABLE audit (
        seq         INTEGER PRIMARY KEY,
        at          INTEGER NOT NULL,
        instance    TEXT NOT NULL,
        kind        TEXT NOT NULL,
        issue_id    TEXT,
        identifier  TEXT,
        detail      TEXT NOT NULL,
        prev_hash   TEXT NOT NULL,
        hash        TEXT NOT NULL
    );
    CREATE TABLE audit_head (
        id    INTEGER PRIMARY KEY CHECK (id = 1),
        seq   INTEGER NOT NULL,
        hash  TEXT NOT NULL
    );
    "#,
    // 2: handed-off changes under review (ADR 0018).
    r#"
    CREATE TABLE review_watches (
        issue_id     TEXT PRIMARY KEY,
        identifier   TEXT NOT NULL,
        branch       TEXT NOT NULL,
        base_branch  TEXT NOT NULL,
        number       INTEGER,
        url          TEXT,
        head_sha     TEXT NOT NULL,
        round        INTEGER NOT NULL DEFAULT 0,
        seen         TEXT,
        pending      TEXT,
        since_at     INTEGER NOT NULL,
        updated_at   INTEGER NOT NULL
    );
    "#,
    // 3: prompt-cache token counts and the agent's own price of a run (NULL: not reported).
    r#"
    ALTER TABLE runs ADD COLUMN cache_read_tokens INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE runs ADD COLUMN cache_write_tokens INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE runs ADD COLUMN cost_micros INTEGER;
    "#,
    // 4: usage per UTC day (days since 1970-01-01), for the daily budgets (ADR 0023).
    r#"
    CREATE TABLE usage_days (
        day                 INTEGER PRIMARY KEY,
        input_tokens        INTEGER NOT NULL DEFAULT 0,
        cache_read_tokens   INTEGER NOT NULL DEFAULT 0,
        cache_write_tokens  INTEGER NOT NULL DEFAULT 0,
        output_tokens       INTEGER NOT NULL DEFAULT 0,
        total_tokens        INTEGER NOT NULL DEFAULT 0,
        cost_micros         INTEGER
    );
    "#,
    // 5: a run's agent turns and its gate feedback and review rounds (budgets, ADR 0023).
    r#"
    ALTER TABLE runs ADD COLUMN turns INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE runs ADD COLUMN rounds INTEGER NOT NULL DEFAULT 0;
    "#,
];

/// The schema version this build writes.
pub(crate) const LATEST: i64 = MIGRATIONS.len() as i64;

/// What the database's schema version is compared with this build's.
pub(crate) enum Outcome {
    /// Up to date (after applying what was missing).
    Current,
    /// Written by a newer build.
    TooNew(i64),
}

/// Applies the missing migrations in one transaction.
pub(crate) fn migrate(conn: &mut Connection) -> rusqlite::Result<Outcome> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let version: i64 = tx.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    if version > LATEST {
        return Ok(Outcome::TooNew(version));
    }
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(version.max(0) as usize) {
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", index as i64 + 1)?;
    }
    tx.commit()?;
    Ok(Outcome::Current)
}
