//! Helpers shared by this crate's integration tests.

#![allow(dead_code)]

use std::path::Path;
use std::process::Command;

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

/// Runs the real `git` in `dir` as a test user; its trimmed output. Panics, naming the
/// command and what git said, when it fails.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(["-c", "user.name=Test", "-c", "user.email=test@example.com"])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("the `git` program is required for these tests");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}
