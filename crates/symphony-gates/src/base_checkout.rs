//! A clean copy of a commit's files in a temporary folder, for gates that compare the change
//! with its base by running a tool on both. Made from the workspace's object store through a
//! scratch index: the workspace's own index, working tree and worktree list are not touched,
//! and nothing is left behind when the copy is dropped.

use std::path::Path;
use std::time::Duration;

use symphony_process::{run_bounded, RunError};

/// The files of one commit; removed on drop.
#[derive(Debug)]
pub(crate) struct BaseCheckout {
    dir: tempfile::TempDir,
}

impl BaseCheckout {
    /// Writes `commit`'s tree (read from `workspace`'s repository) to a new temporary folder.
    pub(crate) async fn of(
        workspace: &Path,
        commit: &str,
        remove_env: &[String],
        timeout: Duration,
    ) -> Result<Self, String> {
        // The change's base is a commit id read by git; anything else is not one to check out.
        if commit.is_empty() || !commit.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(format!("the change's base {commit:?} is not a commit id"));
        }
        let dir = tempfile::Builder::new()
            .prefix("symphony-base-")
            .tempdir()
            .map_err(|e| format!("cannot make a folder for the base's files: {e}"))?;
        let index = dir.path().join("index");
        let tree = dir.path().join("tree");
        let prefix = format!("{}/", tree.to_str().ok_or("temporary folder not UTF-8")?);
        for args in [
            vec!["read-tree", commit],
            vec!["checkout-index", "--all", "--force", "--prefix", &prefix],
        ] {
            let mut git = symphony_process::child_command("git");
            git.args(&args)
                .current_dir(workspace)
                .env("GIT_INDEX_FILE", &index);
            for name in remove_env {
                git.env_remove(name);
            }
            match run_bounded(git, timeout).await {
                Ok(done) if done.status.success() => {}
                Ok(done) => {
                    return Err(format!(
                        "`git {}` failed on the base {commit}: {}",
                        args[0],
                        done.output.lines().last().unwrap_or("")
                    ))
                }
                Err(RunError::Spawn(e)) => return Err(format!("could not start git: {e}")),
                Err(RunError::TimedOut { .. }) => {
                    return Err(format!("`git {}` ran past its time limit", args[0]))
                }
            }
        }
        // An empty base tree writes no file, and so no folder.
        std::fs::create_dir_all(&tree)
            .map_err(|e| format!("cannot make {}: {e}", tree.display()))?;
        Ok(Self { dir })
    }

    /// The folder holding the commit's files.
    pub(crate) fn path(&self) -> std::path::PathBuf {
        self.dir.path().join("tree")
    }
}
