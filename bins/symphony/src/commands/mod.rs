//! One module per subcommand.

mod check;
mod demo;
mod demo_plan;
mod demo_review;
mod init;
mod issues;
mod prompt;
mod review;
mod run;
mod state;
mod status;

use crate::workflow_path::workflow_path;

use crate::cli::{AuditAction, Command};
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
        Command::Run { path, port } => run::run(&workflow_path(path.as_deref())?, port),
        Command::Demo { dir } => demo::run(dir),
        Command::Status {
            path,
            url,
            once,
            interval_ms,
        } => status::run(
            &workflow_path(path.as_deref())?,
            url.as_deref(),
            once,
            std::time::Duration::from_millis(interval_ms),
        ),
        Command::Runs {
            path,
            state: args,
            issue,
            limit,
            json,
        } => {
            let dir = state::locate(path.as_deref(), args.state_dir.as_deref())?;
            // One issue's runs end with what it used against the workflow's budget.
            let limits = issue
                .as_ref()
                .and_then(|_| state::default_issue_limits(path.as_deref()));
            state::runs(&dir, issue, limit, json, limits)
        }
        Command::Audit { action } => match action {
            AuditAction::Verify { path, state: args } => {
                state::audit_verify(&state::locate(path.as_deref(), args.state_dir.as_deref())?)
            }
            AuditAction::Tail {
                path,
                state: args,
                lines,
                json,
            } => state::audit_tail(
                &state::locate(path.as_deref(), args.state_dir.as_deref())?,
                lines,
                json,
            ),
        },
        Command::Review {
            issue,
            path,
            verdict,
            message,
            by,
        } => review::run(
            &workflow_path(path.as_deref())?,
            &issue,
            &verdict,
            message.as_deref(),
            by,
        ),
        Command::Schema => {
            let schema = symphony_workflow::front_matter_schema(&crate::trackers::registry());
            let text = serde_json::to_string_pretty(&schema)
                .map_err(|e| Failure::new("internal_error", e.to_string()))?;
            println!("{text}");
            Ok(())
        }
        Command::Init {
            path,
            force,
            agent,
            tracker,
        } => init::run(&workflow_path(path.as_deref())?, force, agent, tracker),
    }
}
