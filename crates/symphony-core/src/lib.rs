//! Symphony's domain types, shared by every other crate.
//!
//! This crate does no I/O: it holds the normalized [`Issue`] the scheduler, the prompt renderer
//! and the operator surfaces agree on, and the [`WorkspaceKey`] that names an issue's workspace.

mod issue;
mod workspace_key;

pub use issue::{normalize_state, BlockerRef, Issue};
pub use workspace_key::{WorkspaceKey, WorkspaceKeyError, MAX_KEY_LEN};
