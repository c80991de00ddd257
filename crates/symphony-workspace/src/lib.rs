//! Per-issue workspaces (SPEC §9): sanitized keys, containment under the workspace root,
//! lifecycle hooks with timeouts, and optional git population from one shared mirror.
//!
//! [`WorkspaceManager`] is the entry point. Everything that runs a program goes through
//! `symphony_process::run_bounded`, so every child has a time limit, bounded captured output,
//! and its whole process group stopped on timeout.

mod branch;
mod catch_up;
mod error;
mod git;
mod history;
mod hooks;
mod manager;
mod root;

pub use branch::{
    commit_record, commit_subjects, commit_tree, head_branch, head_commit, push_branch,
    remote_default_branch, BranchError, Identity,
};
pub use catch_up::{BaseMerge, CatchUp, CatchUpError, CaughtUp};
pub use error::WorkspaceError;

pub use git::{mirror_path, GitPopulator, BRANCH_PREFIX};
pub use history::{branch_commits, file_at, BranchCommit};
pub use hooks::{HookContext, HookError, HookKind, HookRunner};
pub use manager::{Workspace, WorkspaceManager};
pub use root::WorkspaceRoot;
