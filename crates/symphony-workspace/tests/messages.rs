//! The workspace errors a user reads in logs and run records, as snapshots.

mod common;

use common::manager;
use std::path::Path;

use symphony_workflow::HooksConfig;

fn hooks() -> HooksConfig {
    HooksConfig::default()
}

fn shown(dir: &Path, category: &str, message: String) -> String {
    let canonical = dir.canonicalize().unwrap();
    format!("{category}: {message}")
        .replace(&canonical.display().to_string(), "[DIR]")
        .replace(&dir.display().to_string(), "[DIR]")
}

#[tokio::test]
async fn workspace_error_messages() {
    let dir = tempfile::tempdir().unwrap();
    let mut seen = Vec::new();

    let m = manager(&dir.path().join("ws"), hooks());
    std::fs::write(m.path_for("FILE-1").unwrap(), "x").unwrap();
    let e = m.ensure("FILE-1").await.unwrap_err();
    seen.push(shown(dir.path(), e.category(), e.to_string()));

    std::os::unix::fs::symlink("/", m.path_for("LINK-1").unwrap()).unwrap();
    let e = m.ensure("LINK-1").await.unwrap_err();
    seen.push(shown(dir.path(), e.category(), e.to_string()));

    let failing = manager(
        &dir.path().join("ws"),
        HooksConfig {
            after_create: Some("echo 'npm ERR! missing script' >&2; exit 1".into()),
            ..hooks()
        },
    );
    let e = failing.ensure("HOOK-1").await.unwrap_err();
    seen.push(shown(dir.path(), e.category(), e.to_string()));

    let slow = manager(
        &dir.path().join("ws"),
        HooksConfig {
            before_run: Some("echo working; sleep 30".into()),
            timeout_ms: 3_000,
            ..hooks()
        },
    );
    let ws = slow.ensure("HOOK-2").await.unwrap();
    let e = slow.before_run(&ws).await.unwrap_err();
    seen.push(shown(dir.path(), e.category(), e.to_string()));

    insta::assert_snapshot!(seen.join("\n"));
}
