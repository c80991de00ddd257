//! Running child programs the way Symphony needs them everywhere (hooks, git, agents, gates):
//! each child leads its own process group, so stopping it stops everything it started; every
//! run has a time limit; a stop is SIGTERM, a short grace, then SIGKILL; captured output is a
//! bounded tail.

mod environment;
mod group;
mod identity;

pub use environment::{child_command, hidden_from_children, hide_from_children, std_child_command};
pub use group::{
    describe_status, run_bounded, Finished, GroupChild, RunError, Signal, OUTPUT_LIMIT, TERM_GRACE,
};
pub use identity::{kill_orphaned_group, OrphanOutcome, ProcessIdentity};
