//! Queries for status surfaces and the CLI.

use rusqlite::{params, Connection, OptionalExtension, Row};
use symphony_core::{Spend, Usage};

use crate::{ClaimRecord, EventRecord, RetryRecord, RunFilter, RunOutcome, RunRecord, Totals};

pub(super) const RUN_COLUMNS: &str = "id, issue_id, identifier, attempt, instance, host, \
    workspace, started_at, ended_at, outcome, error, pid, pid_start, input_tokens, output_tokens, \
    total_tokens, events_total, last_event, cache_read_tokens, cache_write_tokens, cost_micros";

fn opt_u64(row: &Row<'_>, index: usize) -> rusqlite::Result<Option<u64>> {
    Ok(row.get::<_, Option<i64>>(index)?.map(|v| v.max(0) as u64))
}

fn u64_at(row: &Row<'_>, index: usize) -> rusqlite::Result<u64> {
    Ok(row.get::<_, i64>(index)?.max(0) as u64)
}

/// A [`Usage`] from the columns at `[input, output, total, cache read, cache write, cost]`.
fn usage_at(row: &Row<'_>, at: [usize; 6]) -> rusqlite::Result<Usage> {
    let mut usage = Usage::tokens(
        u64_at(row, at[0])?,
        u64_at(row, at[1])?,
        u64_at(row, at[2])?,
    )
    .with_cache(u64_at(row, at[3])?, u64_at(row, at[4])?);
    usage.cost_micros = opt_u64(row, at[5])?;
    Ok(usage)
}

pub(super) fn run_from_row(row: &Row<'_>) -> rusqlite::Result<RunRecord> {
    Ok(RunRecord {
        id: row.get(0)?,
        issue_id: row.get(1)?,
        identifier: row.get(2)?,
        attempt: row.get(3)?,
        instance: row.get(4)?,
        host: row.get(5)?,
        workspace: row.get(6)?,
        started_at_ms: u64_at(row, 7)?,
        ended_at_ms: opt_u64(row, 8)?,
        outcome: row
            .get::<_, Option<String>>(9)?
            .and_then(|o| RunOutcome::parse(&o)),
        error: row.get(10)?,
        pid: row.get(11)?,
        pid_start: opt_u64(row, 12)?,
        usage: usage_at(row, [13, 14, 15, 18, 19, 20])?,
        events_total: u64_at(row, 16)?,
        last_event: row.get(17)?,
    })
}

pub(super) fn runs(conn: &Connection, filter: &RunFilter) -> rusqlite::Result<Vec<RunRecord>> {
    let limit = filter.limit.map_or(-1, |l| l as i64);
    match &filter.issue {
        Some(issue) => {
            let mut statement = conn.prepare_cached(&format!(
                "SELECT {RUN_COLUMNS} FROM runs WHERE issue_id = ?1 OR identifier = ?1
                 ORDER BY id DESC LIMIT ?2"
            ))?;
            let rows = statement.query_map(params![issue, limit], run_from_row)?;
            rows.collect()
        }
        None => {
            let mut statement = conn.prepare_cached(&format!(
                "SELECT {RUN_COLUMNS} FROM runs ORDER BY id DESC LIMIT ?1"
            ))?;
            let rows = statement.query_map([limit], run_from_row)?;
            rows.collect()
        }
    }
}

pub(super) fn run(conn: &Connection, run_id: i64) -> rusqlite::Result<Option<RunRecord>> {
    let mut statement =
        conn.prepare_cached(&format!("SELECT {RUN_COLUMNS} FROM runs WHERE id = ?1"))?;
    let mut rows = statement.query_map([run_id], run_from_row)?;
    rows.next().transpose()
}

pub(super) fn events(conn: &Connection, run_id: i64) -> rusqlite::Result<Vec<EventRecord>> {
    let mut statement = conn.prepare_cached(
        "SELECT seq, at, kind, message FROM events WHERE run_id = ?1 ORDER BY seq",
    )?;
    let rows = statement.query_map([run_id], |row| {
        Ok(EventRecord {
            seq: u64_at(row, 0)?,
            at_ms: u64_at(row, 1)?,
            kind: row.get(2)?,
            message: row.get(3)?,
        })
    })?;
    rows.collect()
}

pub(super) fn retries(conn: &Connection) -> rusqlite::Result<Vec<RetryRecord>> {
    let mut statement = conn.prepare_cached(
        "SELECT r.issue_id, r.identifier, r.attempt, r.due_at, r.error, c.owner
         FROM retries r LEFT JOIN claims c ON c.issue_id = r.issue_id
         ORDER BY r.due_at, r.issue_id",
    )?;
    let rows = statement.query_map([], |row| {
        Ok(RetryRecord {
            issue_id: row.get(0)?,
            identifier: row.get(1)?,
            attempt: row.get(2)?,
            due_at_ms: u64_at(row, 3)?,
            error: row.get(4)?,
            owner: row.get(5)?,
        })
    })?;
    rows.collect()
}

pub(super) fn claims(conn: &Connection) -> rusqlite::Result<Vec<ClaimRecord>> {
    let mut statement = conn.prepare_cached(
        "SELECT issue_id, identifier, owner, expires_at FROM claims ORDER BY issue_id",
    )?;
    let rows = statement.query_map([], |row| {
        Ok(ClaimRecord {
            issue_id: row.get(0)?,
            identifier: row.get(1)?,
            owner: row.get(2)?,
            expires_at_ms: u64_at(row, 3)?,
        })
    })?;
    rows.collect()
}

/// The usage recorded for run `run_id`, if the run exists.
pub(super) fn run_usage(conn: &Connection, run_id: i64) -> rusqlite::Result<Option<Usage>> {
    conn.prepare_cached(
        "SELECT input_tokens, output_tokens, total_tokens, cache_read_tokens,
                cache_write_tokens, cost_micros
         FROM runs WHERE id = ?1",
    )?
    .query_row(params![run_id], |row| usage_at(row, [0, 1, 2, 3, 4, 5]))
    .optional()
}

/// What the runs of `issue_id` used, summed, run `except` left out.
pub(super) fn issue_spend(
    conn: &Connection,
    issue_id: &str,
    except: Option<i64>,
) -> rusqlite::Result<Spend> {
    conn.prepare_cached(
        "SELECT COALESCE(SUM(input_tokens), 0), COALESCE(SUM(output_tokens), 0),
                COALESCE(SUM(total_tokens), 0), COALESCE(SUM(cache_read_tokens), 0),
                COALESCE(SUM(cache_write_tokens), 0), SUM(cost_micros),
                COALESCE(SUM(turns), 0), COALESCE(SUM(rounds), 0),
                COUNT(CASE WHEN outcome IS NULL OR outcome <> 'skipped' THEN 1 END),
                COALESCE(SUM(CASE WHEN ended_at IS NOT NULL THEN MAX(ended_at - started_at, 0) END), 0)
         FROM runs WHERE issue_id = ?1 AND id IS NOT ?2",
    )?
    .query_row(params![issue_id, except], |row| {
        let count = |at| u64_at(row, at).map(|n| u32::try_from(n).unwrap_or(u32::MAX));
        Ok(Spend {
            usage: usage_at(row, [0, 1, 2, 3, 4, 5])?,
            turns: count(6)?,
            rounds: count(7)?,
            attempts: count(8)?,
            agent_ms: u64_at(row, 9)?,
        })
    })
}

/// What was used during UTC day `day` (nothing recorded: nothing used, no cost).
pub(super) fn day_usage(conn: &Connection, day: u64) -> rusqlite::Result<Usage> {
    let day = i64::try_from(day).unwrap_or(i64::MAX);
    Ok(conn
        .prepare_cached(
            "SELECT input_tokens, output_tokens, total_tokens, cache_read_tokens,
                    cache_write_tokens, cost_micros
             FROM usage_days WHERE day = ?1",
        )?
        .query_row(params![day], |row| usage_at(row, [0, 1, 2, 3, 4, 5]))
        .optional()?
        .unwrap_or_default())
}

pub(super) fn totals(conn: &Connection) -> rusqlite::Result<Totals> {
    conn.query_row(
        "SELECT COUNT(*), COALESCE(SUM(input_tokens), 0), COALESCE(SUM(output_tokens), 0),
                COALESCE(SUM(total_tokens), 0),
                COALESCE(SUM(CASE WHEN ended_at IS NOT NULL THEN ended_at - started_at END), 0),
                COALESCE(SUM(cache_read_tokens), 0), COALESCE(SUM(cache_write_tokens), 0),
                SUM(cost_micros)
         FROM runs",
        [],
        |row| {
            Ok(Totals {
                runs: u64_at(row, 0)?,
                usage: usage_at(row, [1, 2, 3, 5, 6, 7])?,
                runtime_ms: u64_at(row, 4)?,
            })
        },
    )
}
