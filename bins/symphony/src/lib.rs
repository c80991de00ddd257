//! The `symphony` command as a library: the whole CLI behind [`main_with`], so a third party
//! can ship Symphony with its own tracker adapter, gate kinds or code host — a binary whose
//! `main` is one call, with every command (`run`, `check`, `issues`, ...) and the same
//! behaviour. See `examples/tracker-plugin` and `examples/gate-plugin`.

mod cli;
mod commands;
mod failure;
mod logging;
mod plugins;
mod traces;
mod trackers;
mod webhooks;
mod wiring;
mod workflow_path;

pub use plugins::{Plugins, TrackerPlugin};

use std::process::ExitCode;

use clap::Parser;

/// Runs the `symphony` CLI with `plugins` (tracker adapters, gate kinds, code hosts, agent
/// backends) beside the built-in ones, and returns the process exit code.
pub fn main_with(plugins: Plugins) -> ExitCode {
    plugins::install(plugins);
    let cli = cli::Cli::parse();
    // The service commands narrate what they decide; the others only warn.
    let default_level = match cli.command {
        cli::Command::Run { .. } | cli::Command::Demo { .. } => "info",
        _ => "warn",
    };
    let traces = match logging::init(
        &logging::LogOptions {
            format: cli.log_format,
            file: cli.log_file.clone(),
            rotation: cli.log_rotate,
            keep: cli.log_keep,
            otlp_endpoint: cli.otlp_endpoint.clone(),
        },
        default_level,
    ) {
        Ok(traces) => traces,
        Err(failure) => {
            eprintln!("{failure}");
            return failure.exit_code();
        }
    };
    let outcome = commands::run(cli.command);
    if let Some(traces) = traces {
        traces.shutdown();
    }
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("{failure}");
            failure.exit_code()
        }
    }
}
