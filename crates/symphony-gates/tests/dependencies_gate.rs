//! The dependencies gate on real git workspaces with a local RustSec-format database: pass,
//! fail, error (missing, stale, unsupported ecosystem, no database) and timeout.

use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use symphony_gates::{
    ChangeSet, DependenciesGate, DependencySettings, GateContext, GateRunner, GateSettings,
    GateStatus,
};

fn git(dir: &Path, args: &[&str], date: Option<&str>) {
    let mut command = Command::new("git");
    command
        .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
        .args(args)
        .current_dir(dir);
    if let Some(date) = date {
        command
            .env("GIT_COMMITTER_DATE", date)
            .env("GIT_AUTHOR_DATE", date);
    }
    let status = command
        .status()
        .unwrap_or_else(|e| panic!("git is required: {e}"));
    assert!(status.success(), "git {args:?}");
}

fn lock(packages: &[(&str, &str)]) -> String {
    let mut text = "version = 4\n".to_owned();
    for (name, version) in packages {
        text.push_str(&format!(
            "\n[[package]]\nname = \"{name}\"\nversion = \"{version}\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n"
        ));
    }
    text
}

/// A RustSec-format database with one vulnerability and one unmaintained notice, committed
/// at `date` (`None`: now).
fn database(date: Option<&str>) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let crates = dir.path().join("crates");
    std::fs::create_dir_all(crates.join("leaky")).unwrap();
    std::fs::create_dir_all(crates.join("oldie")).unwrap();
    std::fs::write(
        crates.join("leaky/RUSTSEC-2026-0001.md"),
        "```toml\n[advisory]\nid = \"RUSTSEC-2026-0001\"\npackage = \"leaky\"\ndate = \"2026-01-02\"\ntitle = \"Buffer over-read in parse\"\n\n[versions]\npatched = [\">= 1.2.0\"]\nunaffected = [\"< 1.0.0\"]\n```\n\n# Buffer over-read\n\nDetails.\n",
    )
    .unwrap();
    std::fs::write(
        crates.join("oldie/RUSTSEC-2026-0002.md"),
        "```toml\n[advisory]\nid = \"RUSTSEC-2026-0002\"\npackage = \"oldie\"\ndate = \"2026-01-03\"\ninformational = \"unmaintained\"\ntitle = \"oldie is unmaintained\"\n\n[versions]\npatched = []\n```\n",
    )
    .unwrap();
    git(dir.path(), &["init", "-q", "-b", "main"], None);
    git(dir.path(), &["add", "-A"], None);
    git(dir.path(), &["commit", "-q", "-m", "advisories"], date);
    dir
}

/// A workspace whose base has `before` locked and whose working tree has `after`.
fn workspace(before: &[(&str, &str)], after: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    git(dir.path(), &["init", "-q", "-b", "main"], None);
    std::fs::write(dir.path().join("Cargo.lock"), lock(before)).unwrap();
    git(dir.path(), &["add", "-A"], None);
    git(dir.path(), &["commit", "-q", "-m", "base"], None);
    std::fs::write(dir.path().join("Cargo.lock"), lock(after)).unwrap();
    dir
}

async fn judge(ws: &Path, db: Option<&Path>, timeout: Duration) -> symphony_gates::GateReport {
    let change = ChangeSet::from_workspace(ws, "main", Duration::from_secs(30))
        .await
        .unwrap();
    let gate = DependenciesGate::new(DependencySettings {
        rustsec_db: db.map(Path::to_path_buf),
        max_age: Duration::from_secs(30 * 86_400),
    });
    let mut settings = GateSettings::new("dependencies");
    settings.timeout = timeout;
    GateRunner::new(Arc::new(gate), settings)
        .unwrap()
        .run(&GateContext {
            workspace: ws.to_path_buf(),
            change: Arc::new(change),
            remove_env: Vec::new(),
        })
        .await
}

const LIMIT: Duration = Duration::from_secs(30);

#[tokio::test]
async fn an_upgrade_into_a_vulnerable_range_fails_and_a_patched_one_passes() {
    let db = database(None);
    let ws = workspace(
        &[("leaky", "0.9.0"), ("serde", "1.0.0")],
        &[("leaky", "1.1.0"), ("serde", "1.0.0")],
    );
    let report = judge(ws.path(), Some(db.path()), LIMIT).await;
    assert_eq!(report.status, GateStatus::Fail, "{report:?}");
    assert_eq!(report.findings[0].rule, "RUSTSEC-2026-0001");
    assert!(
        report.findings[0].message.contains("leaky 1.1.0"),
        "{report:?}"
    );
    assert!(
        report.summary.contains("RustSec database") && report.summary.contains("day(s) old"),
        "{}",
        report.summary
    );

    let ws = workspace(
        &[("leaky", "0.9.0")],
        &[("leaky", "1.2.0"), ("oldie", "0.1.0")],
    );
    let report = judge(ws.path(), Some(db.path()), LIMIT).await;
    assert_eq!(
        report.status,
        GateStatus::Pass,
        "patched, and unmaintained only warns: {report:?}"
    );
    assert_eq!(report.findings.len(), 1);
    assert!(!report.findings[0].in_change);

    // A vulnerable version already there before the change is not this change's doing.
    let ws = workspace(
        &[("leaky", "1.1.0")],
        &[("leaky", "1.1.0"), ("serde", "1.0.1")],
    );
    assert_eq!(
        judge(ws.path(), Some(db.path()), LIMIT).await.status,
        GateStatus::Pass
    );
}

#[tokio::test]
async fn a_missing_stale_or_absent_database_is_an_error_never_a_pass() {
    let ws = workspace(&[("leaky", "0.9.0")], &[("leaky", "1.1.0")]);
    let report = judge(ws.path(), None, LIMIT).await;
    assert_eq!(report.status, GateStatus::Error, "{report:?}");
    let report = judge(
        ws.path(),
        Some(Path::new("/nonexistent/advisory-db")),
        LIMIT,
    )
    .await;
    assert_eq!(report.status, GateStatus::Error, "{report:?}");
    assert!(report.summary.contains("missing"), "{}", report.summary);
    let stale = database(Some("2020-01-01T00:00:00Z"));
    let report = judge(ws.path(), Some(stale.path()), LIMIT).await;
    assert_eq!(report.status, GateStatus::Error, "{report:?}");
    assert!(
        report.summary.contains("older than 30 day(s)"),
        "{}",
        report.summary
    );

    let npm = tempfile::tempdir().unwrap();
    git(npm.path(), &["init", "-q", "-b", "main"], None);
    std::fs::write(npm.path().join("README.md"), "x\n").unwrap();
    git(npm.path(), &["add", "-A"], None);
    git(npm.path(), &["commit", "-q", "-m", "base"], None);
    std::fs::write(npm.path().join("package-lock.json"), "{}\n").unwrap();
    let db = database(None);
    let report = judge(npm.path(), Some(db.path()), LIMIT).await;
    assert_eq!(report.status, GateStatus::Error, "{report:?}");
    assert!(
        report.summary.contains("no npm advisory database"),
        "{}",
        report.summary
    );

    let report = judge(ws.path(), Some(db.path()), Duration::from_nanos(1)).await;
    assert_eq!(report.status, GateStatus::Error, "timed out: {report:?}");
}
