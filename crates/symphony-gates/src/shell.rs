//! The one way gates run a configured command: `bash -lc` in a folder, the tracker's secrets
//! removed from its environment (the caller bounds it with `run_bounded`).

use std::path::Path;

/// `bash -lc run` in `dir`, without the variables named in `remove_env`.
pub(crate) fn bash(run: &str, dir: &Path, remove_env: &[String]) -> tokio::process::Command {
    let mut command = symphony_process::child_command("bash");
    command.arg("-lc").arg(run).current_dir(dir);
    for name in remove_env {
        command.env_remove(name);
    }
    command
}
