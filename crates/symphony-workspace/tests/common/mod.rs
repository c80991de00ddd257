//! Helpers shared by this crate's integration tests.

use std::path::Path;

use symphony_workflow::{HooksConfig, WorkspaceConfig};
use symphony_workspace::WorkspaceManager;

/// A manager for `root` with no repository.
pub fn manager(root: &Path, hooks: HooksConfig) -> WorkspaceManager {
    let ws = WorkspaceConfig {
        root: root.to_path_buf(),
        repo: None,
        base_branch: None,
    };
    WorkspaceManager::new(&ws, &hooks)
}
