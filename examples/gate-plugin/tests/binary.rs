//! The gate ships with the whole CLI through `symphony::main_with`: `symphony-todo-gate`
//! documents the kind in its schema, loads a workflow that names it, and refuses a kind no one
//! registered — the same `check` and `schema` as `symphony`, with one more gate.

use std::process::{Command, Output};

fn cli(dir: &std::path::Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_symphony-todo-gate"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("the binary runs")
}

fn workflow(dir: &std::path::Path, kind: &str) {
    std::fs::create_dir_all(dir.join("issues")).unwrap();
    std::fs::write(
        dir.join("WORKFLOW.md"),
        format!(
            "---\ntracker:\n  kind: local\n  provider:\n    path: ./issues\nworkspace:\n  root: ./ws\n  repo: ./repo\nagent:\n  backend: command\n  command: \"true\"\ngates:\n  checks:\n    - kind: {kind}\n---\nWork on {{{{ issue.identifier }}}}\n"
        ),
    )
    .unwrap();
}

#[test]
fn the_plugin_binary_knows_the_gate_kind() {
    let dir = tempfile::tempdir().unwrap();
    let schema = cli(dir.path(), &["schema"]);
    assert!(
        schema.status.success(),
        "{}",
        String::from_utf8_lossy(&schema.stderr)
    );
    let schema: serde_json::Value = serde_json::from_slice(&schema.stdout).expect("JSON");
    let text = schema.to_string();
    assert!(
        text.contains(symphony_example_todo_gate::KIND),
        "the gates section documents the plugin's kind"
    );

    workflow(dir.path(), symphony_example_todo_gate::KIND);
    let check = cli(dir.path(), &["check"]);
    assert!(
        check.status.success(),
        "a workflow naming the plugin's gate loads: {}",
        String::from_utf8_lossy(&check.stderr)
    );

    workflow(dir.path(), "todo_nobody_registered");
    let refused = cli(dir.path(), &["check"]);
    assert!(!refused.status.success(), "an unknown gate kind is refused");
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("todo_nobody_registered"), "{stderr}");
}
