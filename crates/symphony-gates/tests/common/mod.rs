//! Helpers shared by this crate's integration tests.

use std::path::Path;
use std::process::Command;

/// Runs the real `git` in `dir` as a test user; panics, naming the command, when it fails.
pub fn git(dir: &Path, args: &[&str]) {
    let status = Command::new("git")
        .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
        .args(args)
        .current_dir(dir)
        .status()
        .unwrap_or_else(|e| panic!("git is required for these tests: {e}"));
    assert!(status.success(), "git {args:?}");
}
