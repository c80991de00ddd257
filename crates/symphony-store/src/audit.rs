//! The audit chain: each entry's hash covers the previous entry's hash and the entry's
//! canonical JSON, so changing, removing or reordering any entry breaks every hash after it.
//! The recorded head (last sequence number and hash) catches removal at the end.

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::AuditEntry;

/// The `prev_hash` of the first entry.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// JSON with object keys sorted and no insignificant whitespace: one text per value,
/// whatever order a map was built in.
pub fn canonical_json(value: &Value) -> String {
    let mut out = String::new();
    write_canonical(value, &mut out);
    out
}

fn write_canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                write_canonical(&map[key], out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

/// The hash of an entry: SHA-256 (hex) of `prev_hash`, a newline, and the canonical JSON of
/// every field but the hashes.
pub fn entry_hash(entry: &AuditEntry) -> String {
    let body = serde_json::json!({
        "seq": entry.seq,
        "at_ms": entry.at_ms,
        "instance": entry.instance,
        "kind": entry.kind,
        "issue_id": entry.issue_id,
        "identifier": entry.identifier,
        "detail": entry.detail,
    });
    let mut hasher = Sha256::new();
    hasher.update(entry.prev_hash.as_bytes());
    hasher.update(b"\n");
    hasher.update(canonical_json(&body).as_bytes());
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The result of checking a chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuditVerdict {
    /// Every entry is in place and unchanged.
    Intact {
        /// How many entries.
        entries: u64,
        /// The last entry's hash ([`GENESIS_HASH`] when empty).
        head_hash: String,
    },
    /// The first entry that does not check out.
    Broken {
        /// Its sequence number (where it was expected).
        seq: u64,
        /// What is wrong.
        reason: String,
    },
}

/// Checks `entries` (in stored order) against each other and against the recorded heads:
/// `head` is the exact last `(seq, hash)` the store recorded; `anchor` is a copy kept outside
/// the database, which may lag behind but must be part of the chain.
pub fn verify_chain(
    entries: impl IntoIterator<Item = AuditEntry>,
    head: Option<(u64, String)>,
    anchor: Option<(u64, String)>,
) -> AuditVerdict {
    let mut expected_seq = 1u64;
    let mut prev_hash = GENESIS_HASH.to_owned();
    let mut anchor_seen = anchor.as_ref().is_none_or(|(seq, _)| *seq == 0);
    for entry in entries {
        if entry.seq != expected_seq {
            let reason = if entry.seq > expected_seq {
                format!(
                    "entries {expected_seq}..{} are missing (found {} next)",
                    entry.seq - 1,
                    entry.seq
                )
            } else {
                format!("entry {} appears out of order", entry.seq)
            };
            return AuditVerdict::Broken {
                seq: expected_seq,
                reason,
            };
        }
        if entry.prev_hash != prev_hash {
            return AuditVerdict::Broken {
                seq: entry.seq,
                reason: "its link to the previous entry does not match (an entry before it was \
                         changed, removed or moved)"
                    .to_owned(),
            };
        }
        let computed = entry_hash(&entry);
        if computed != entry.hash {
            return AuditVerdict::Broken {
                seq: entry.seq,
                reason: "its contents do not match its hash (the entry was changed)".to_owned(),
            };
        }
        if let Some((seq, hash)) = &anchor {
            if *seq == entry.seq {
                if *hash != entry.hash {
                    return AuditVerdict::Broken {
                        seq: entry.seq,
                        reason: "it differs from the copy of the head kept outside the database"
                            .to_owned(),
                    };
                }
                anchor_seen = true;
            }
        }
        prev_hash = entry.hash;
        expected_seq += 1;
    }
    let last = expected_seq - 1;
    match head {
        Some((seq, hash)) if seq != last || (last > 0 && hash != prev_hash) => {
            return AuditVerdict::Broken {
                seq: seq.min(last + 1),
                reason: format!(
                    "the recorded head is entry {seq}, but the chain ends at entry {last}"
                ),
            };
        }
        None if last > 0 => {
            return AuditVerdict::Broken {
                seq: last,
                reason: "the chain has entries but no recorded head".to_owned(),
            };
        }
        _ => {}
    }
    if !anchor_seen {
        let seq = anchor.map_or(0, |(seq, _)| seq);
        return AuditVerdict::Broken {
            seq: seq.min(last + 1),
            reason: format!(
                "the copy of the head kept outside the database names entry {seq}, which the \
                 chain no longer has"
            ),
        };
    }
    AuditVerdict::Intact {
        entries: last,
        head_hash: prev_hash,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_json_sorts_keys_at_every_depth() {
        let a: Value = serde_json::from_str(r#"{"b":1,"a":{"d":[1,{"z":0,"y":"x"}],"c":null}}"#)
            .expect("json");
        assert_eq!(
            canonical_json(&a),
            r#"{"a":{"c":null,"d":[1,{"y":"x","z":0}]},"b":1}"#
        );
    }
}
