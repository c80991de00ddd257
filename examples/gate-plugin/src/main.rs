//! `symphony-todo-gate`: the symphony CLI, every command included, plus the `todo_reference`
//! gate kind.

use std::sync::Arc;

fn main() -> std::process::ExitCode {
    symphony::main_with(
        symphony::Plugins::new().gate(Arc::new(symphony_example_todo_gate::TodoReferenceFactory)),
    )
}
