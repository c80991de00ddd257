//! Starting a session refuses what it cannot run, before anything is sent: a missing CLI, a
//! version this backend does not speak, an API key variable that is not set. No real CLI
//! needed: stand-in scripts answer `--version`.

use std::path::Path;
use std::time::Duration;

use serde_json::json;
use symphony_agent::{AgentBackend, AgentError, SessionSpec, StopSignal};
use symphony_agent_claude::{ClaudeBackend, ClaudeOptions};

const KEY_VAR: &str = "SYMPHONY_LAUNCH_TEST_KEY";

async fn start(dir: &Path, command: &str, key_var: &str) -> Result<(), AgentError> {
    let workspace = dir.join("W-1");
    std::fs::create_dir_all(&workspace).unwrap();
    let options = ClaudeOptions::from_section(Some(&json!({
        "command": command, "api_key": format!("${key_var}"),
    })))
    .unwrap();
    let (events, _rx) = tokio::sync::mpsc::channel(100);
    let (_stop, signal) = StopSignal::new();
    let mut spec = SessionSpec::new(
        workspace,
        symphony_core::Issue::new("W-1", "W-1", "t", "todo"),
        events,
        signal,
    );
    spec.read_timeout = Duration::from_secs(10);
    ClaudeBackend::new(options).start(spec).await.map(drop)
}

fn script(dir: &Path, name: &str, body: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, format!("#!/usr/bin/env bash\n{body}\n")).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path.display().to_string()
}

#[tokio::test]
async fn a_missing_cli_a_wrong_version_and_a_missing_key_are_refused_at_start() {
    std::env::set_var(KEY_VAR, "sk-ant-test");
    let dir = tempfile::tempdir().unwrap();
    let error = start(dir.path(), "/nonexistent/claude-xyz", KEY_VAR)
        .await
        .unwrap_err();
    assert_eq!(error.category(), "codex_not_found", "{error}");
    assert!(error.to_string().contains("claude-xyz"), "{error}");

    let old = script(dir.path(), "old-claude", "echo '1.0.9 (Claude Code)'");
    let error = start(dir.path(), &old, KEY_VAR).await.unwrap_err();
    assert_eq!(error.category(), "agent_version_unsupported", "{error}");
    assert!(
        error.to_string().contains("1.0.9") && error.to_string().contains("2.1.x"),
        "{error}"
    );

    let broken = script(dir.path(), "broken-claude", "echo 'segfault' >&2; exit 3");
    let error = start(dir.path(), &broken, KEY_VAR).await.unwrap_err();
    assert_eq!(error.category(), "agent_version_unsupported", "{error}");

    let fine = script(dir.path(), "fine-claude", "echo '2.1.332 (Claude Code)'");
    let error = start(dir.path(), &fine, "SYMPHONY_LAUNCH_TEST_UNSET_KEY")
        .await
        .unwrap_err();
    assert!(
        error
            .to_string()
            .contains("$SYMPHONY_LAUNCH_TEST_UNSET_KEY, which is not set"),
        "{error}"
    );
}
