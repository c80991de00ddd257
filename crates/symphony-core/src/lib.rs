//! Symphony's domain types, shared by every other crate.
//!
//! This crate does no I/O: it holds the normalized [`Issue`] the scheduler, the prompt renderer
//! and the operator surfaces agree on, the [`WorkspaceKey`] that names an issue's workspace, and
//! the agents' [`Usage`] (tokens and cost) every surface reports.

mod issue;
mod usage;
mod workspace_key;

pub use issue::{normalize_state, BlockerRef, Issue};
pub use usage::{dollars, micros_of_usd, usd_of_micros, Spend, Usage, MICROS_PER_USD};
pub use workspace_key::{WorkspaceKey, WorkspaceKeyError, MAX_KEY_LEN};
