//! Symphony's durable state (DESIGN.md §4 `Store`): runs and attempts, agent events (bounded
//! per run), token and runtime totals, the retry queue, claims with leases, and an
//! append-only, hash-chained audit log of every decision.
//!
//! The orchestrator's scheduler keeps its authoritative state in memory (SPEC §7); this crate
//! is what lets a restart pick it up again and several instances share one backlog without
//! running an issue twice. [`SqliteStore`] is the embedded default; the [`Store`] trait is
//! written so that a Postgres implementation can follow (ADR 0006).

mod audit;
pub mod conformance;
mod error;
mod redact;
mod review_watch;
mod sqlite;
mod store;
mod types;

pub use audit::{canonical_json, entry_hash, verify_chain, AuditVerdict, GENESIS_HASH};
pub use error::StoreError;
pub use redact::Redactor;
pub use review_watch::ReviewWatch;
pub use sqlite::{SqliteStore, StoreOptions, ANCHOR_FILE, DATABASE_FILE};
pub use store::{utc_day, wall_clock_ms, Store, DAY_MS};
pub use types::*;
