//! `symphony-replay`: the symphony CLI, every command included, plus the `replay` agent backend.

use std::sync::Arc;

fn main() -> std::process::ExitCode {
    symphony::main_with(
        symphony::Plugins::new().agent(Arc::new(symphony_example_replay_agent::ReplayFactory)),
    )
}
