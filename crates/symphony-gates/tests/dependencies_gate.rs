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
    let settings = DependencySettings {
        rustsec_db: db.map(Path::to_path_buf),
        ..DependencySettings::default()
    };
    judge_with(ws, settings, timeout).await
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
    std::fs::write(
        npm.path().join("package-lock.json"),
        r#"{"lockfileVersion": 3, "packages": {"node_modules/lodash": {"version": "4.17.20"}}}"#,
    )
    .unwrap();
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

/// An OSV-format database: a folder of OSV records (as osv.dev's `all.zip` unpacks).
fn osv_database(date: Option<&str>) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("npm")).unwrap();
    std::fs::create_dir_all(dir.path().join("PyPI")).unwrap();
    std::fs::write(
        dir.path().join("npm/GHSA-35jh-r3h4-6jhm.json"),
        r#"{"id": "GHSA-35jh-r3h4-6jhm", "summary": "Command injection in lodash",
            "affected": [{"package": {"ecosystem": "npm", "name": "lodash"},
              "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "4.17.21"}]}]}]}"#,
    )
    .unwrap();
    std::fs::write(
        dir.path().join("PyPI/PYSEC-2021-98.json"),
        r#"{"id": "PYSEC-2021-98", "summary": "Directory traversal in Django",
            "affected": [{"package": {"ecosystem": "PyPI", "name": "django"},
              "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "3.2"}, {"fixed": "3.2.4"}]}],
              "versions": ["3.2", "3.2.1", "3.2.2", "3.2.3"]}]}"#,
    )
    .unwrap();
    git(dir.path(), &["init", "-q", "-b", "main"], None);
    git(dir.path(), &["add", "-A"], None);
    git(dir.path(), &["commit", "-q", "-m", "osv"], date);
    dir
}

/// A workspace whose base has `file` = `before` and whose working tree has `after`.
fn workspace_with(file: &str, before: &str, after: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    git(dir.path(), &["init", "-q", "-b", "main"], None);
    std::fs::write(dir.path().join(file), before).unwrap();
    git(dir.path(), &["add", "-A"], None);
    git(dir.path(), &["commit", "-q", "-m", "base"], None);
    std::fs::write(dir.path().join(file), after).unwrap();
    dir
}

async fn judge_with(
    ws: &Path,
    settings: DependencySettings,
    timeout: Duration,
) -> symphony_gates::GateReport {
    let change = ChangeSet::from_workspace(ws, "main", Duration::from_secs(30))
        .await
        .unwrap();
    let mut gate_settings = GateSettings::new("dependencies");
    gate_settings.timeout = timeout;
    GateRunner::new(Arc::new(DependenciesGate::new(settings)), gate_settings)
        .unwrap()
        .run(&GateContext::new(ws.to_path_buf(), Arc::new(change)))
        .await
}

fn npm_lock(packages: &[(&str, &str, &str)]) -> String {
    let entries: Vec<String> = packages
        .iter()
        .map(|(name, version, license)| {
            format!(r#""node_modules/{name}": {{"version": "{version}", "license": "{license}"}}"#)
        })
        .collect();
    format!(
        r#"{{"lockfileVersion": 3, "packages": {{"": {{"name": "app"}}, {}}}}}"#,
        entries.join(", ")
    )
}

#[tokio::test]
async fn npm_and_pypi_changes_are_checked_against_osv_records_and_the_license_deny_list() {
    let osv = osv_database(None);
    let settings = DependencySettings {
        osv_db: Some(osv.path().to_path_buf()),
        deny_licenses: vec!["GPL-3.0".to_owned()],
        ..DependencySettings::default()
    };
    // An npm downgrade into the vulnerable range, and a new GPL-only package.
    let ws = workspace_with(
        "package-lock.json",
        &npm_lock(&[("lodash", "4.17.21", "MIT")]),
        &npm_lock(&[
            ("lodash", "4.17.20", "MIT"),
            ("copyleft", "1.0.0", "GPL-3.0-only"),
            ("dual", "2.0.0", "MIT OR GPL-3.0"),
        ]),
    );
    let report = judge_with(ws.path(), settings.clone(), LIMIT).await;
    assert_eq!(report.status, GateStatus::Fail, "{report:?}");
    let rules: Vec<&str> = report.findings.iter().map(|f| f.rule.as_str()).collect();
    assert_eq!(
        rules,
        ["license-denied", "GHSA-35jh-r3h4-6jhm"],
        "{report:?}"
    );
    assert!(
        report.findings[1].message.contains("lodash 4.17.20 (npm)"),
        "{report:?}"
    );
    assert!(
        report.findings[1].message.contains("fixed in: 4.17.21"),
        "{report:?}"
    );
    assert!(
        report.summary.contains("OSV database") && report.summary.contains("day(s) old"),
        "{}",
        report.summary
    );

    // PyPI pins: a vulnerable Django fails; the fixed one passes; unpinned lines are named.
    let ws = workspace_with(
        "requirements.txt",
        "django==3.1.0\n",
        "Django==3.2.1\nflask>=2\n",
    );
    let report = judge_with(ws.path(), settings.clone(), LIMIT).await;
    assert_eq!(report.status, GateStatus::Fail, "{report:?}");
    assert_eq!(report.findings[0].rule, "PYSEC-2021-98");
    assert!(
        report
            .summary
            .contains("not pinned, so not checked: requirements.txt: flask>=2"),
        "{}",
        report.summary
    );
    assert!(
        report.summary.contains("have no license"),
        "{}",
        report.summary
    );
    let ws = workspace_with("requirements.txt", "django==3.1.0\n", "django==3.2.4\n");
    assert_eq!(
        judge_with(ws.path(), settings.clone(), LIMIT).await.status,
        GateStatus::Pass
    );

    // An ecosystem the OSV folder holds nothing for cannot be judged.
    let ws = workspace_with("go.sum", "", "golang.org/x/text v0.3.5 h1:abc=\n");
    let report = judge_with(ws.path(), settings.clone(), LIMIT).await;
    assert_eq!(report.status, GateStatus::Error, "{report:?}");
    assert!(
        report.summary.contains("no Go advisory database"),
        "{}",
        report.summary
    );

    // A stale OSV folder is an error, and so is a format this gate cannot read.
    let stale = osv_database(Some("2020-01-01T00:00:00Z"));
    let ws = workspace_with("requirements.txt", "", "django==3.2.4\n");
    let report = judge_with(
        ws.path(),
        DependencySettings {
            osv_db: Some(stale.path().to_path_buf()),
            ..DependencySettings::default()
        },
        LIMIT,
    )
    .await;
    assert_eq!(report.status, GateStatus::Error, "{report:?}");
    let ws = workspace_with("yarn.lock", "", "lodash@4.17.20:\n  version \"4.17.20\"\n");
    let report = judge_with(ws.path(), settings, LIMIT).await;
    assert_eq!(report.status, GateStatus::Error, "{report:?}");
    assert!(report.summary.contains("yarn.lock"), "{}", report.summary);
}

/// What the gate cannot evaluate is an `error` naming what it could not evaluate: an OSV range
/// whose versions do not compare (it used to count as "not affected"), and a license that is
/// not an SPDX expression. Parenthesised expressions are evaluated as SPDX groups them.
#[tokio::test]
async fn a_range_or_license_the_gate_cannot_evaluate_is_an_error_never_a_pass() {
    let osv = osv_database(None);
    std::fs::write(
        osv.path().join("npm/GHSA-odd-range.json"),
        r#"{"id": "GHSA-odd-range", "summary": "Prototype pollution in left-pad",
            "affected": [{"package": {"ecosystem": "npm", "name": "left-pad"},
              "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "1.x"}]}]}]}"#,
    )
    .unwrap();
    git(osv.path(), &["add", "-A"], None);
    git(osv.path(), &["commit", "-q", "-m", "odd"], None);
    let settings = DependencySettings {
        osv_db: Some(osv.path().to_path_buf()),
        deny_licenses: vec!["GPL-3.0".to_owned()],
        ..DependencySettings::default()
    };
    let ws = workspace_with(
        "package-lock.json",
        &npm_lock(&[("lodash", "4.17.21", "MIT")]),
        &npm_lock(&[("lodash", "4.17.21", "MIT"), ("left-pad", "1.3.0", "MIT")]),
    );
    let report = judge_with(ws.path(), settings.clone(), LIMIT).await;
    assert_eq!(report.status, GateStatus::Error, "{report:?}");
    for part in [
        "GHSA-odd-range",
        "SEMVER [introduced 0, fixed 1.x]",
        "left-pad 1.3.0",
    ] {
        assert!(
            report.summary.contains(part),
            "{part:?} missing: {}",
            report.summary
        );
    }

    let ws = workspace_with(
        "package-lock.json",
        &npm_lock(&[("lodash", "4.17.21", "MIT")]),
        &npm_lock(&[
            ("lodash", "4.17.21", "MIT"),
            ("bundle", "1.0.0", "GPL-3.0-only AND (MIT OR Apache-2.0)"),
        ]),
    );
    let report = judge_with(ws.path(), settings.clone(), LIMIT).await;
    assert_eq!(report.status, GateStatus::Fail, "{report:?}");
    assert_eq!(report.findings[0].rule, "license-denied");

    let ws = workspace_with(
        "package-lock.json",
        &npm_lock(&[("lodash", "4.17.21", "MIT")]),
        &npm_lock(&[
            ("lodash", "4.17.21", "MIT"),
            ("custom", "1.0.0", "SEE LICENSE IN LICENSE.md"),
        ]),
    );
    let report = judge_with(ws.path(), settings, LIMIT).await;
    assert_eq!(report.status, GateStatus::Error, "{report:?}");
    assert!(
        report.summary.contains("custom 1.0.0")
            && report.summary.contains("not an SPDX expression"),
        "{}",
        report.summary
    );
}

#[tokio::test]
async fn a_crate_version_that_cannot_be_compared_with_its_advisories_is_an_error() {
    let db = database(None);
    let ws = workspace(
        &[("serde", "1.0.0")],
        &[("serde", "1.0.0"), ("leaky", "1.1")],
    );
    let report = judge(ws.path(), Some(db.path()), LIMIT).await;
    assert_eq!(report.status, GateStatus::Error, "{report:?}");
    assert!(report.summary.contains("leaky 1.1"), "{}", report.summary);
}
