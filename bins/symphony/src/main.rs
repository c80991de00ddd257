//! The `symphony` binary: the CLI with the built-in adapters only.

fn main() -> std::process::ExitCode {
    symphony::main_with(symphony::Plugins::new())
}
