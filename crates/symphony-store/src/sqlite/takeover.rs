//! Registering an instance, noticing instances that are gone, and taking over their work.

use rusqlite::{params, Transaction};
use serde_json::json;
use symphony_process::ProcessIdentity;

use super::audit_log::Appender;
use super::inner::Inner;
use super::read::{retries, run_from_row, RUN_COLUMNS};
use super::write::{lease_ms, upsert_claim};
use crate::{AuditRecord, OrphanProcess, Recovery};

struct Peer {
    id: String,
    host: String,
    pid: u32,
    pid_start: Option<u64>,
    heartbeat_at: u64,
}

impl Peer {
    /// Gone: its lease lapsed, or it ran on this host and its process no longer exists.
    fn departed(&self, inner: &Inner, now_ms: u64) -> bool {
        if self.heartbeat_at.saturating_add(lease_ms(inner)) < now_ms {
            return true;
        }
        self.host == inner.instance.host
            && self.pid_start.is_some_and(|start_ticks| {
                !ProcessIdentity {
                    pid: self.pid,
                    start_ticks,
                }
                .is_alive()
            })
    }
}

pub(super) fn run(
    tx: &Transaction<'_>,
    inner: &Inner,
    audit: &mut Appender,
    now_ms: u64,
    starting: bool,
) -> rusqlite::Result<Recovery> {
    let me = &inner.instance;
    tx.execute(
        "INSERT INTO instances (id, host, pid, pid_start, started_at, heartbeat_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?5)
         ON CONFLICT (id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at",
        params![
            me.id,
            me.host,
            me.pid,
            me.pid_start.map(|s| s as i64),
            now_ms as i64
        ],
    )?;
    if starting {
        audit.append(
            tx,
            &AuditRecord {
                at_ms: now_ms,
                kind: "instance_started".to_owned(),
                issue_id: None,
                identifier: None,
                detail: json!({"host": me.host, "pid": me.pid}),
            },
        )?;
    }
    let peers: Vec<Peer> = {
        let mut statement = tx.prepare_cached(
            "SELECT id, host, pid, pid_start, heartbeat_at FROM instances WHERE id != ?1",
        )?;
        let rows = statement.query_map([&me.id], |row| {
            Ok(Peer {
                id: row.get(0)?,
                host: row.get(1)?,
                pid: row.get(2)?,
                pid_start: row.get::<_, Option<i64>>(3)?.map(|s| s as u64),
                heartbeat_at: row.get::<_, i64>(4)? as u64,
            })
        })?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    let mut recovery = Recovery::default();
    for peer in peers.iter().filter(|p| p.departed(inner, now_ms)) {
        tx.execute("DELETE FROM instances WHERE id = ?1", [&peer.id])?;
        audit.append(
            tx,
            &AuditRecord {
                at_ms: now_ms,
                kind: "instance_departed".to_owned(),
                issue_id: None,
                identifier: None,
                detail: json!({"instance": peer.id, "host": peer.host, "pid": peer.pid,
                               "last_heartbeat_ms": peer.heartbeat_at}),
            },
        )?;
        recovery.departed.push(peer.id.clone());
    }
    interrupt_orphaned_runs(tx, inner, audit, now_ms, &mut recovery)?;
    adopt_unowned_work(tx, inner, audit, now_ms, &mut recovery)?;
    tx.execute(
        "UPDATE claims SET expires_at = ?2 WHERE owner = ?1",
        params![me.id, now_ms.saturating_add(lease_ms(inner)) as i64],
    )?;
    Ok(recovery)
}

/// Open runs of instances that are no longer registered ended when their instance did.
fn interrupt_orphaned_runs(
    tx: &Transaction<'_>,
    inner: &Inner,
    audit: &mut Appender,
    now_ms: u64,
    recovery: &mut Recovery,
) -> rusqlite::Result<()> {
    let runs = {
        let mut statement = tx.prepare_cached(&format!(
            "SELECT {RUN_COLUMNS} FROM runs WHERE ended_at IS NULL
             AND instance NOT IN (SELECT id FROM instances) ORDER BY id"
        ))?;
        let rows = statement.query_map([], run_from_row)?;
        rows.collect::<rusqlite::Result<Vec<_>>>()?
    };
    for mut run in runs {
        let error = format!(
            "interrupted: orchestrator instance {} stopped while this run was in progress",
            run.instance
        );
        tx.execute(
            "UPDATE runs SET ended_at = ?2, outcome = 'interrupted', error = ?3 WHERE id = ?1",
            params![run.id, now_ms as i64, error],
        )?;
        let attempt = run.attempt.map_or(1, |a| a.saturating_add(1));
        // A retry already queued (e.g. by a graceful shutdown) is kept as it is.
        let queued = tx.execute(
            "INSERT INTO retries (issue_id, identifier, attempt, due_at, error, queued_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?4) ON CONFLICT (issue_id) DO NOTHING",
            params![run.issue_id, run.identifier, attempt, now_ms as i64, error],
        )?;
        if queued > 0 {
            // Unowned until adopted below, in the same transaction.
            tx.execute(
                "INSERT INTO claims (issue_id, identifier, owner, expires_at, claimed_at)
                 VALUES (?1, ?2, NULL, 0, ?3)
                 ON CONFLICT (issue_id) DO UPDATE SET owner = NULL",
                params![run.issue_id, run.identifier, now_ms as i64],
            )?;
        }
        audit.append(
            tx,
            &AuditRecord {
                at_ms: now_ms,
                kind: "run_interrupted".to_owned(),
                issue_id: Some(run.issue_id.clone()),
                identifier: Some(run.identifier.clone()),
                detail: json!({"run_id": run.id, "instance": run.instance,
                               "retry_attempt": attempt, "agent_pid": run.pid}),
            },
        )?;
        if let (Some(pid), Some(pid_start)) = (run.pid, run.pid_start) {
            // Another host's process cannot be signalled from here.
            if run.host == inner.instance.host {
                recovery.orphans.push(OrphanProcess {
                    run_id: run.id,
                    pid,
                    pid_start,
                });
            }
        }
        run.ended_at_ms = Some(now_ms);
        run.outcome = Some(crate::RunOutcome::Interrupted);
        run.error = Some(error);
        recovery.interrupted.push(run);
    }
    Ok(())
}

/// Claims without a live owner: those with a queued retry become this instance's; the rest
/// (left by an instance that died between steps) are dropped.
fn adopt_unowned_work(
    tx: &Transaction<'_>,
    inner: &Inner,
    audit: &mut Appender,
    now_ms: u64,
    recovery: &mut Recovery,
) -> rusqlite::Result<()> {
    let me = inner.instance.id.as_str();
    // Retries whose claim is missing or belongs to no registered instance.
    let orphaned: Vec<(String, String)> = {
        let mut statement = tx.prepare_cached(
            "SELECT r.issue_id, r.identifier FROM retries r
             LEFT JOIN claims c ON c.issue_id = r.issue_id
             WHERE c.issue_id IS NULL OR c.owner IS NULL
                OR c.owner NOT IN (SELECT id FROM instances)",
        )?;
        let rows = statement.query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    for (issue_id, identifier) in &orphaned {
        upsert_claim(tx, inner, issue_id, identifier, now_ms)?;
    }
    tx.execute(
        "DELETE FROM claims WHERE (owner IS NULL OR owner NOT IN (SELECT id FROM instances))
         AND issue_id NOT IN (SELECT issue_id FROM retries)",
        [],
    )?;
    if orphaned.is_empty() {
        return Ok(());
    }
    let adopted: Vec<&str> = orphaned.iter().map(|(id, _)| id.as_str()).collect();
    recovery.retries = retries(tx)?
        .into_iter()
        .filter(|r| r.owner.as_deref() == Some(me) && adopted.contains(&r.issue_id.as_str()))
        .collect();
    audit.append(
        tx,
        &AuditRecord {
            at_ms: now_ms,
            kind: "retries_adopted".to_owned(),
            issue_id: None,
            identifier: None,
            detail: json!({
                "retries": recovery.retries.iter().map(|r| json!({
                    "issue_id": r.issue_id, "identifier": r.identifier,
                    "attempt": r.attempt, "due_at_ms": r.due_at_ms,
                })).collect::<Vec<_>>(),
            }),
        },
    )?;
    Ok(())
}

pub(super) fn detach(
    tx: &Transaction<'_>,
    inner: &Inner,
    audit: &mut Appender,
    now_ms: u64,
) -> rusqlite::Result<()> {
    let me = inner.instance.id.as_str();
    let kept = tx.execute(
        "UPDATE claims SET owner = NULL, expires_at = 0
         WHERE owner = ?1 AND issue_id IN (SELECT issue_id FROM retries)",
        [me],
    )?;
    let released = tx.execute("DELETE FROM claims WHERE owner = ?1", [me])?;
    tx.execute("DELETE FROM instances WHERE id = ?1", [me])?;
    audit.append(
        tx,
        &AuditRecord {
            at_ms: now_ms,
            kind: "instance_stopped".to_owned(),
            issue_id: None,
            identifier: None,
            detail: json!({"retries_left_queued": kept, "claims_released": released}),
        },
    )?;
    Ok(())
}
