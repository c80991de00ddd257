//! Claims and the ordered application of changes.

use std::collections::BTreeMap;

use rusqlite::{params, OptionalExtension, Transaction};
use serde_json::json;

use super::audit_log::Appender;
use super::inner::Inner;
use super::read;
use super::review_watches;
use crate::{wall_clock_ms, AuditRecord, Change, ClaimOutcome, RunStart};

pub(super) fn lease_ms(inner: &Inner) -> u64 {
    u64::try_from(inner.options.lease.as_millis()).unwrap_or(u64::MAX)
}

/// Whether `owner` is a registered instance (a claim of an instance that is gone is void).
fn instance_known(tx: &Transaction<'_>, owner: &str) -> rusqlite::Result<bool> {
    tx.query_row(
        "SELECT EXISTS (SELECT 1 FROM instances WHERE id = ?1)",
        [owner],
        |row| row.get(0),
    )
}

pub(super) fn claim_and_start(
    tx: &Transaction<'_>,
    inner: &Inner,
    audit: &mut Appender,
    start: &RunStart,
) -> rusqlite::Result<ClaimOutcome> {
    let me = inner.instance.id.as_str();
    let holder: Option<(Option<String>, i64)> = tx
        .query_row(
            "SELECT owner, expires_at FROM claims WHERE issue_id = ?1",
            [&start.issue_id],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .optional()?;
    if let Some((Some(owner), expires_at)) = holder {
        let expires_at = expires_at as u64;
        if owner != me && expires_at > start.at_ms && instance_known(tx, &owner)? {
            return Ok(ClaimOutcome::Held {
                owner,
                expires_at_ms: expires_at,
            });
        }
    }
    upsert_claim(tx, inner, &start.issue_id, &start.identifier, start.at_ms)?;
    tx.execute("DELETE FROM retries WHERE issue_id = ?1", [&start.issue_id])?;
    tx.execute(
        "INSERT INTO runs (issue_id, identifier, attempt, instance, host, workspace, started_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            start.issue_id,
            start.identifier,
            start.attempt,
            me,
            inner.instance.host,
            start.workspace,
            start.at_ms as i64
        ],
    )?;
    let run_id = tx.last_insert_rowid();
    audit.append(
        tx,
        &AuditRecord {
            at_ms: start.at_ms,
            kind: "dispatch".to_owned(),
            issue_id: Some(start.issue_id.clone()),
            identifier: Some(start.identifier.clone()),
            detail: json!({"run_id": run_id, "attempt": start.attempt}),
        },
    )?;
    Ok(ClaimOutcome::Started { run_id })
}

pub(super) fn upsert_claim(
    tx: &Transaction<'_>,
    inner: &Inner,
    issue_id: &str,
    identifier: &str,
    now_ms: u64,
) -> rusqlite::Result<()> {
    tx.execute(
        "INSERT INTO claims (issue_id, identifier, owner, expires_at, claimed_at)
         VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (issue_id) DO UPDATE SET
             identifier = excluded.identifier,
             owner = excluded.owner,
             expires_at = excluded.expires_at,
             claimed_at = CASE WHEN claims.owner IS excluded.owner
                               THEN claims.claimed_at ELSE excluded.claimed_at END",
        params![
            issue_id,
            identifier,
            inner.instance.id,
            now_ms.saturating_add(lease_ms(inner)) as i64,
            now_ms as i64
        ],
    )?;
    Ok(())
}

pub(super) fn apply(
    tx: &Transaction<'_>,
    inner: &Inner,
    audit: &mut Appender,
    changes: Vec<Change>,
) -> rusqlite::Result<()> {
    // Highest event sequence written per run in this batch, to trim once per run.
    let mut trimmed: BTreeMap<i64, i64> = BTreeMap::new();
    let mut add_event = tx.prepare_cached(
        "UPDATE runs SET events_total = events_total + 1, last_event = ?2, last_event_at = ?3
         WHERE id = ?1 RETURNING events_total",
    )?;
    let mut insert_event = tx.prepare_cached(
        "INSERT OR REPLACE INTO events (run_id, seq, at, kind, message) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    for change in changes {
        match change {
            Change::RunProcess {
                run_id,
                pid,
                pid_start,
            } => {
                tx.execute(
                    "UPDATE runs SET pid = ?2, pid_start = ?3 WHERE id = ?1",
                    params![run_id, pid, pid_start.map(|s| s as i64)],
                )?;
            }
            Change::Event {
                run_id,
                at_ms,
                kind,
                message,
            } => {
                let seq: Option<i64> = add_event
                    .query_row(params![run_id, kind, at_ms as i64], |row| row.get(0))
                    .optional()?;
                if let Some(seq) = seq {
                    insert_event.execute(params![run_id, seq, at_ms as i64, kind, message])?;
                    trimmed.insert(run_id, seq);
                }
            }
            Change::Tokens {
                run_id,
                at_ms,
                usage,
            } => {
                let n = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
                // The increase since the run's previous report counts toward today.
                let before = read::run_usage(tx, run_id)?.unwrap_or_default();
                let added = usage.since(&before);
                tx.execute(
                    "INSERT INTO usage_days (day, input_tokens, cache_read_tokens,
                        cache_write_tokens, output_tokens, total_tokens, cost_micros)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                     ON CONFLICT (day) DO UPDATE SET
                        input_tokens = input_tokens + excluded.input_tokens,
                        cache_read_tokens = cache_read_tokens + excluded.cache_read_tokens,
                        cache_write_tokens = cache_write_tokens + excluded.cache_write_tokens,
                        output_tokens = output_tokens + excluded.output_tokens,
                        total_tokens = total_tokens + excluded.total_tokens,
                        cost_micros = CASE
                            WHEN excluded.cost_micros IS NULL THEN cost_micros
                            ELSE COALESCE(cost_micros, 0) + excluded.cost_micros END",
                    params![
                        n(crate::utc_day(at_ms)),
                        n(added.input_tokens),
                        n(added.cache_read_tokens),
                        n(added.cache_write_tokens),
                        n(added.output_tokens),
                        n(added.total_tokens),
                        added.cost_micros.map(n),
                    ],
                )?;
                tx.execute(
                    "UPDATE runs SET input_tokens = ?2, output_tokens = ?3, total_tokens = ?4,
                        cache_read_tokens = ?5, cache_write_tokens = ?6, cost_micros = ?7
                     WHERE id = ?1",
                    params![
                        run_id,
                        n(usage.input_tokens),
                        n(usage.output_tokens),
                        n(usage.total_tokens),
                        n(usage.cache_read_tokens),
                        n(usage.cache_write_tokens),
                        usage.cost_micros.map(n),
                    ],
                )?;
            }
            Change::Progress {
                run_id,
                turns,
                rounds,
            } => {
                tx.execute(
                    "UPDATE runs SET turns = turns + ?2, rounds = rounds + ?3 WHERE id = ?1",
                    params![run_id, turns, rounds],
                )?;
            }
            Change::RunEnded {
                run_id,
                at_ms,
                outcome,
                error,
            } => {
                tx.execute(
                    "UPDATE runs SET ended_at = ?2, outcome = ?3, error = ?4
                     WHERE id = ?1 AND ended_at IS NULL",
                    params![run_id, at_ms as i64, outcome.as_str(), error],
                )?;
            }
            Change::RetryQueued {
                issue_id,
                identifier,
                attempt,
                due_at_ms,
                error,
            } => {
                let now = wall_clock_ms();
                upsert_claim(tx, inner, &issue_id, &identifier, now)?;
                tx.execute(
                    "INSERT INTO retries (issue_id, identifier, attempt, due_at, error, queued_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                     ON CONFLICT (issue_id) DO UPDATE SET identifier = excluded.identifier,
                         attempt = excluded.attempt, due_at = excluded.due_at,
                         error = excluded.error, queued_at = excluded.queued_at",
                    params![
                        issue_id,
                        identifier,
                        attempt,
                        due_at_ms as i64,
                        error,
                        now as i64
                    ],
                )?;
            }
            Change::Released { issue_id } => {
                // Only this instance's claim (or an unowned one) is released; another
                // instance's work is never dropped from here.
                tx.execute(
                    "DELETE FROM claims WHERE issue_id = ?1 AND (owner = ?2 OR owner IS NULL)",
                    params![issue_id, inner.instance.id],
                )?;
                // The queued retry goes with the claim; one another instance holds stays.
                tx.execute(
                    "DELETE FROM retries WHERE issue_id = ?1
                     AND NOT EXISTS (SELECT 1 FROM claims WHERE issue_id = ?1)",
                    [&issue_id],
                )?;
            }
            Change::Audit(record) => audit.append(tx, &record)?,
            Change::ReviewWatched(watch) => review_watches::watched(tx, &watch)?,
            Change::ReviewFeedbackTaken {
                issue_id,
                after,
                seen,
                pending,
                at_ms,
            } => review_watches::feedback_taken(
                tx,
                &issue_id,
                after.as_deref(),
                (&seen, &pending),
                at_ms,
            )?,
            Change::ReviewHeadAdopted {
                issue_id,
                from,
                to,
                at_ms,
            } => review_watches::head_adopted(tx, &issue_id, (&from, &to), at_ms)?,
            Change::ReviewWatchEnded { issue_id } => review_watches::ended(tx, &issue_id)?,
        }
    }
    let keep = inner.options.events_per_run.max(1) as i64;
    for (run_id, last) in trimmed {
        if last > keep {
            tx.execute(
                "DELETE FROM events WHERE run_id = ?1 AND seq <= ?2",
                params![run_id, last - keep],
            )?;
        }
    }
    Ok(())
}
