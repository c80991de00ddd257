//! One module per subcommand.

mod check;
mod demo;
mod init;
mod issues;
mod prompt;
mod run;

use std::path::{Path, PathBuf};

use crate::cli::Command;
use crate::failure::Failure;

/// Runs a parsed subcommand.
pub fn run(command: Command) -> Result<(), Failure> {
    match command {
        Command::Check { path } => check::run(&workflow_path(path.as_deref())?),
        Command::Prompt {
            path,
            issue,
            attempt,
        } => prompt::run(&workflow_path(path.as_deref())?, &issue, attempt),
        Command::Issues { path } => issues::run(&workflow_path(path.as_deref())?),
        Command::Run { path } => run::run(&workflow_path(path.as_deref())?),
        Command::Demo { dir } => demo::run(dir),
        Command::Schema => {
            let schema = symphony_workflow::front_matter_schema();
            let text = serde_json::to_string_pretty(&schema)
                .map_err(|e| Failure::new("internal_error", e.to_string()))?;
            println!("{text}");
            Ok(())
        }
        Command::Init { path, force } => init::run(&workflow_path(path.as_deref())?, force),
    }
}

/// The workflow path: explicit, else ./WORKFLOW.md (SPEC §5.1), made absolute.
fn workflow_path(explicit: Option<&Path>) -> Result<PathBuf, Failure> {
    let cwd = std::env::current_dir().map_err(|e| {
        Failure::new(
            "missing_workflow_file",
            format!("cannot read the current directory: {e}"),
        )
    })?;
    Ok(symphony_workflow::resolve_workflow_path(explicit, &cwd))
}
