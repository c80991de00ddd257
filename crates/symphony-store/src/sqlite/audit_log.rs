//! Appending to and checking the audit chain, and the head's copy outside the database.

use std::path::Path;

use rusqlite::{params, Connection, OptionalExtension, Transaction};

use super::inner::Inner;
use crate::audit::{entry_hash, verify_chain, AuditVerdict, GENESIS_HASH};
use crate::{AuditEntry, AuditRecord};

/// Appends entries within one transaction: reads the head once, writes it back once.
pub(super) struct Appender {
    instance: String,
    head: Option<(u64, String)>,
    dirty: bool,
}

impl Appender {
    pub(super) fn new(instance: &str) -> Self {
        Self {
            instance: instance.to_owned(),
            head: None,
            dirty: false,
        }
    }

    pub(super) fn append(
        &mut self,
        tx: &Transaction<'_>,
        record: &AuditRecord,
    ) -> rusqlite::Result<()> {
        let (seq, prev_hash) = match self.head.take() {
            Some(head) => head,
            None => head(tx)?.unwrap_or((0, GENESIS_HASH.to_owned())),
        };
        let mut entry = AuditEntry {
            seq: seq + 1,
            at_ms: record.at_ms,
            instance: self.instance.clone(),
            kind: record.kind.clone(),
            issue_id: record.issue_id.clone(),
            identifier: record.identifier.clone(),
            detail: record.detail.clone(),
            prev_hash,
            hash: String::new(),
        };
        entry.hash = entry_hash(&entry);
        tx.execute(
            "INSERT INTO audit (seq, at, instance, kind, issue_id, identifier, detail, prev_hash, hash)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![
                entry.seq as i64,
                entry.at_ms as i64,
                entry.instance,
                entry.kind,
                entry.issue_id,
                entry.identifier,
                crate::canonical_json(&entry.detail),
                entry.prev_hash,
                entry.hash,
            ],
        )?;
        self.head = Some((entry.seq, entry.hash));
        self.dirty = true;
        Ok(())
    }

    /// Records the new head; returns it when anything was appended.
    pub(super) fn finish(self, tx: &Transaction<'_>) -> rusqlite::Result<Option<(u64, String)>> {
        if !self.dirty {
            return Ok(None);
        }
        let Some((seq, hash)) = self.head else {
            return Ok(None);
        };
        tx.execute(
            "INSERT INTO audit_head (id, seq, hash) VALUES (1, ?1, ?2)
             ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash",
            params![seq as i64, hash],
        )?;
        Ok(Some((seq, hash)))
    }
}

fn head(conn: &Connection) -> rusqlite::Result<Option<(u64, String)>> {
    conn.query_row("SELECT seq, hash FROM audit_head WHERE id = 1", [], |row| {
        Ok((row.get::<_, i64>(0)? as u64, row.get(1)?))
    })
    .optional()
}

fn read_anchor(path: &Path) -> Option<(u64, String)> {
    let text = std::fs::read_to_string(path).ok()?;
    let (seq, hash) = text.trim().split_once(' ')?;
    Some((seq.parse().ok()?, hash.to_owned()))
}

/// After a commit that moved the head: copies it outside the database, never backwards (the
/// copy is a lower bound when several instances write).
pub(super) fn update_anchor(inner: &Inner, head: Option<(u64, String)>) {
    let Some((seq, hash)) = head else {
        return;
    };
    if read_anchor(&inner.anchor).is_some_and(|(current, _)| current >= seq) {
        return;
    }
    let temp = inner
        .anchor
        .with_extension(format!("head.{}", std::process::id()));
    let written = std::fs::write(&temp, format!("{seq} {hash}\n"))
        .and_then(|()| std::fs::rename(&temp, &inner.anchor));
    if written.is_err() {
        // The chain in the database stays authoritative; a stale copy only weakens the check
        // for removal of the newest entries.
        let _ = std::fs::remove_file(&temp);
    }
}

fn entry_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<AuditEntry> {
    let detail: String = row.get(6)?;
    Ok(AuditEntry {
        seq: row.get::<_, i64>(0)? as u64,
        at_ms: row.get::<_, i64>(1)? as u64,
        instance: row.get(2)?,
        kind: row.get(3)?,
        issue_id: row.get(4)?,
        identifier: row.get(5)?,
        // A detail that no longer parses is kept as text: its hash will not match.
        detail: serde_json::from_str(&detail).unwrap_or(serde_json::Value::String(detail)),
        prev_hash: row.get(7)?,
        hash: row.get(8)?,
    })
}

const COLUMNS: &str = "seq, at, instance, kind, issue_id, identifier, detail, prev_hash, hash";

pub(super) fn tail(conn: &Connection, limit: usize) -> rusqlite::Result<Vec<AuditEntry>> {
    let mut statement = conn.prepare(&format!(
        "SELECT {COLUMNS} FROM audit ORDER BY seq DESC LIMIT ?1"
    ))?;
    let mut entries = statement
        .query_map([limit as i64], entry_from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    entries.reverse();
    Ok(entries)
}

/// The last `limit` entries whose kind is one of `kinds`, oldest first.
pub(super) fn tail_of(
    conn: &Connection,
    kinds: &[String],
    limit: usize,
) -> rusqlite::Result<Vec<AuditEntry>> {
    if kinds.is_empty() {
        return Ok(Vec::new());
    }
    let placeholders = vec!["?"; kinds.len()].join(", ");
    let mut statement = conn.prepare(&format!(
        "SELECT {COLUMNS} FROM audit WHERE kind IN ({placeholders}) ORDER BY seq DESC LIMIT {}",
        limit as i64
    ))?;
    let mut entries = statement
        .query_map(rusqlite::params_from_iter(kinds), entry_from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    entries.reverse();
    Ok(entries)
}

pub(super) fn verify(conn: &Connection, anchor: &Path) -> rusqlite::Result<AuditVerdict> {
    let mut statement = conn.prepare(&format!("SELECT {COLUMNS} FROM audit ORDER BY seq"))?;
    let entries = statement
        .query_map([], entry_from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(verify_chain(entries, head(conn)?, read_anchor(anchor)))
}
