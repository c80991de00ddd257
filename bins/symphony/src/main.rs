//! The `symphony` command: thin wiring of the library crates behind a clap CLI.

mod cli;
mod commands;
mod failure;
mod trackers;
mod wiring;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    // The service commands narrate what they decide; the others only warn.
    let default_level = match cli.command {
        cli::Command::Run { .. } | cli::Command::Demo { .. } => "info",
        _ => "warn",
    };
    init_logging(cli.log_format, default_level);
    match commands::run(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("{failure}");
            failure.exit_code()
        }
    }
}

fn init_logging(format: cli::LogFormat, default_level: &str) {
    use tracing_subscriber::EnvFilter;
    let filter =
        EnvFilter::try_from_env("SYMPHONY_LOG").unwrap_or_else(|_| EnvFilter::new(default_level));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        cli::LogFormat::Text => builder.init(),
        cli::LogFormat::Json => builder.json().init(),
    }
}
