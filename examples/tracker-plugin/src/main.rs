//! `symphony-jsonl`: the symphony CLI, every command included, plus the `jsonl` tracker.

use std::sync::Arc;

fn main() -> std::process::ExitCode {
    symphony::main_with(
        symphony::Plugins::new().tracker(Arc::new(symphony_example_jsonl_tracker::JsonlPlugin)),
    )
}
