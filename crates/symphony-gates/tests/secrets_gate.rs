//! The secrets gate on real git workspaces: pass, fail, error and timeout, only added lines
//! judged, SARIF output valid against the official SARIF 2.1.0 schema.

mod common;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use common::git;
use symphony_gates::{
    sarif, ChangeSet, GateContext, GateRunner, GateSettings, GateStatus, SecretsGate,
};

/// A fake AWS key id, shaped like the real thing (not the documented example).
const AWS_KEY: &str = "AKIAQ3EGRT5YK2PJZW4X";

/// A repository with one commit holding an old secret, then `files` written on top.
fn workspace(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    git(dir.path(), &["init", "-q", "-b", "main"]);
    std::fs::write(
        dir.path().join("legacy.env"),
        format!("OLD_KEY={AWS_KEY}\n"),
    )
    .unwrap();
    std::fs::write(dir.path().join(".gitignore"), "ignored.txt\n").unwrap();
    git(dir.path(), &["add", "-A"]);
    git(dir.path(), &["commit", "-q", "-m", "base"]);
    for (path, text) in files {
        let path = dir.path().join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    dir
}

async fn judge(dir: &Path, settings: GateSettings) -> symphony_gates::GateReport {
    let change = ChangeSet::from_workspace(dir, "main", Duration::from_secs(30))
        .await
        .expect("change");
    let runner = GateRunner::new(Arc::new(SecretsGate::builtin()), settings).unwrap();
    runner
        .run(&GateContext::new(dir.to_path_buf(), Arc::new(change)))
        .await
}

#[tokio::test]
async fn a_clean_change_passes_and_an_old_secret_does_not_block() {
    let dir = workspace(&[(
        "src/lib.rs",
        "pub fn add(a: i32, b: i32) -> i32 { a + b }\n",
    )]);
    let report = judge(dir.path(), GateSettings::new("secrets")).await;
    assert_eq!(report.status, GateStatus::Pass, "{report:?}");
    assert!(!report.blocks());
}

#[tokio::test]
async fn an_added_key_fails_with_its_place_but_not_its_value() {
    let dir = workspace(&[(
        "config/prod.env",
        &format!("REGION=eu\nAWS_ACCESS_KEY_ID={AWS_KEY}\n"),
    )]);
    let report = judge(dir.path(), GateSettings::new("secrets")).await;
    assert_eq!(report.status, GateStatus::Fail, "{report:?}");
    let finding = &report.findings[0];
    assert_eq!(finding.rule, "aws-access-key-id");
    assert_eq!(
        (finding.file.as_deref(), finding.line),
        (Some("config/prod.env"), Some(2))
    );
    let shown = serde_json::to_string(&report).unwrap();
    assert!(!shown.contains(&AWS_KEY[4..]), "{shown}");
    let log = serde_json::to_string(&sarif::to_sarif(&[report])).unwrap();
    assert!(!log.contains(&AWS_KEY[4..]));
}

#[tokio::test]
async fn a_key_committed_and_removed_later_still_fails_until_the_history_is_rewritten() {
    let dir = workspace(&[]);
    let d = dir.path();
    git(d, &["checkout", "-q", "-b", "work"]);
    std::fs::write(
        d.join("deploy.env"),
        format!("REGION=eu\nAWS_KEY={AWS_KEY}\n"),
    )
    .unwrap();
    git(d, &["add", "-A"]);
    git(d, &["commit", "-q", "-m", "deploy settings"]);
    std::fs::write(d.join("deploy.env"), "REGION=eu\n").unwrap();
    git(d, &["commit", "-q", "-am", "remove the key"]);
    let change = ChangeSet::from_workspace(d, "main", Duration::from_secs(30))
        .await
        .unwrap();
    assert_eq!(change.history.len(), 2, "{change:?}");
    assert!(
        change
            .file("deploy.env")
            .unwrap()
            .added
            .iter()
            .all(|l| !l.text.contains("AKIA")),
        "the final files are clean"
    );
    let report = judge(d, GateSettings::new("secrets")).await;
    assert_eq!(report.status, GateStatus::Fail, "{report:?}");
    assert_eq!(report.findings.len(), 1);
    let finding = &report.findings[0];
    assert_eq!(
        (finding.rule.as_str(), finding.file.as_deref(), finding.line),
        ("aws-access-key-id", Some("deploy.env"), Some(2))
    );
    assert!(
        finding.message.contains("branch history"),
        "{}",
        finding.message
    );
    assert!(!finding.message.contains(&AWS_KEY[4..]));

    // Squashed into one clean commit: nothing in the history carries it any more.
    git(d, &["reset", "-q", "--soft", "main"]);
    git(d, &["commit", "-q", "-m", "deploy settings"]);
    let report = judge(d, GateSettings::new("secrets")).await;
    assert_eq!(report.status, GateStatus::Pass, "{report:?}");
}

#[tokio::test]
async fn a_slow_gate_times_out_as_an_error() {
    // A limit too short to scan anything: an error, which blocks.
    let big: String = (0..200_000)
        .map(|i| format!("token_{i} = \"value\"\n"))
        .collect();
    let repo = workspace(&[("big.txt", &big)]);
    let mut settings = GateSettings::new("secrets");
    settings.timeout = Duration::from_nanos(1);
    let report = judge(repo.path(), settings).await;
    assert_eq!(report.status, GateStatus::Error, "{report:?}");
    assert!(report.blocks());
}

#[tokio::test]
async fn sarif_output_validates_against_the_sarif_2_1_0_schema() {
    let dir = workspace(&[
        ("a.env", &format!("AWS_ACCESS_KEY_ID={AWS_KEY}\n")),
        ("b.txt", "nothing\n"),
    ]);
    let failing = judge(dir.path(), GateSettings::new("secrets")).await;
    let clean = workspace(&[("b.txt", "nothing\n")]);
    let passing = judge(clean.path(), GateSettings::new("secrets-2")).await;
    let mut erroring = passing.clone();
    erroring.status = GateStatus::Error;
    erroring.summary = "timed out".into();
    let log = sarif::to_sarif(&[failing, passing, erroring]);
    let schema: serde_json::Value =
        serde_json::from_str(include_str!("fixtures/sarif-schema-2.1.0.json")).unwrap();
    let validator = jsonschema::draft7::new(&schema).expect("the SARIF schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(&log)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{}", errors.join("\n"));
    // And the validator does catch a broken log.
    let mut broken = log.clone();
    broken["runs"][0]["results"][0]["level"] = serde_json::json!("catastrophic");
    assert!(!validator.is_valid(&broken));
}
