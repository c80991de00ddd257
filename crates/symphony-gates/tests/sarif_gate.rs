//! The `sarif` gate with a scripted analyzer (bash writing SARIF for every line holding
//! `BAD`): what is compared with the base and how, and every way of failing to judge being an
//! `error`. The same gate against a real analyzer is `sarif_gate_ruff.rs`.

mod common;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use common::git;
use symphony_gates::{
    ChangeSet, GateContext, GateReport, GateRunner, GateSettings, GateStatus, SarifBaseline,
    SarifGate, SarifSettings,
};

/// One result per line holding `BAD <word>`, the word as its partial fingerprint when
/// `FINGERPRINT` is set; then the exit code in `EXIT` (default 1, as linters with findings).
const ANALYZER: &str = r#"{
  printf '{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"grep-bad"}},"results":['
  grep -rn --include='*.txt' 'BAD' . | sort | {
    sep=''
    while IFS=: read -r file line text; do
      word=$(printf '%s' "$text" | sed -n 's/.*BAD \([a-z]*\).*/\1/p')
      fp=''
      [ -n "${FINGERPRINT:-}" ] && fp=",\"partialFingerprints\":{\"word/v1\":\"$word\"}"
      printf '%s{"ruleId":"bad","level":"error","message":{"text":"BAD %s"},"locations":[{"physicalLocation":{"artifactLocation":{"uri":"%s"},"region":{"startLine":%s}}}]%s}' \
        "$sep" "$word" "${file#./}" "$line" "$fp"
      sep=','
    done
  }
  printf ']}]}'
} > out.sarif
exit "${EXIT:-1}""#;

/// A repository on `main` holding `files`, then `edit` applied to its working tree.
fn repo(files: &[(&str, &str)], edit: &[(&str, Option<&str>)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    git(d, &["init", "-q", "-b", "main"]);
    std::fs::write(d.join(".gitignore"), "out.sarif\n").unwrap();
    for (path, text) in files {
        write(d, path, text);
    }
    git(d, &["add", "-A"]);
    git(d, &["commit", "-q", "-m", "base"]);
    for (path, text) in edit {
        match text {
            Some(text) => write(d, path, text),
            None => std::fs::remove_file(d.join(path)).unwrap(),
        }
    }
    dir
}

fn write(dir: &Path, path: &str, text: &str) {
    let path = dir.join(path);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

async fn judge(dir: &Path, settings: SarifSettings) -> GateReport {
    let change = ChangeSet::from_workspace(dir, "main", Duration::from_secs(30))
        .await
        .expect("change");
    GateRunner::new(
        Arc::new(SarifGate::new(settings).unwrap()),
        GateSettings::new("sarif"),
    )
    .unwrap()
    .run(&GateContext::new(dir.to_path_buf(), Arc::new(change)))
    .await
}

fn analyzer(env: &str) -> SarifSettings {
    SarifSettings::new(format!("{env}\n{ANALYZER}"), "out.sarif")
}

fn blocking(report: &GateReport) -> Vec<(String, u32)> {
    report
        .findings
        .iter()
        .filter(|f| f.in_change)
        .map(|f| (f.file.clone().unwrap_or_default(), f.line.unwrap_or(0)))
        .collect()
}

#[tokio::test]
async fn only_new_results_in_changed_lines_block_even_after_lines_moved() {
    let base = "one\nBAD alpha\ntwo\n";
    // Three lines added above: the existing result moves from line 2 to 5; a new one at 7.
    let head = "new 1\nnew 2\nnew 3\none\nBAD alpha\ntwo\nBAD beta\n";
    let dir = repo(&[("src/a.txt", base)], &[("src/a.txt", Some(head))]);
    let report = judge(dir.path(), analyzer("")).await;
    assert_eq!(report.status, GateStatus::Fail, "{report:?}");
    assert_eq!(blocking(&report), [("src/a.txt".to_owned(), 7)]);
    assert!(
        report.summary.contains("1 already at the base"),
        "{}",
        report.summary
    );
}

#[tokio::test]
async fn a_copy_of_an_existing_result_in_the_change_is_new() {
    // The same line again: matched once at the base, the copy in the change is new.
    let dir = repo(
        &[("a.txt", "BAD alpha\n")],
        &[("a.txt", Some("BAD alpha\nok\nBAD alpha\n"))],
    );
    let report = judge(dir.path(), analyzer("")).await;
    assert_eq!(blocking(&report), [("a.txt".to_owned(), 3)], "{report:?}");
}

#[tokio::test]
async fn a_new_result_outside_the_changed_lines_is_reported_without_blocking() {
    // A generated (ignored) file is not at the base and not in the change.
    let dir = repo(
        &[("a.txt", "BAD alpha\n")],
        &[("b.txt", Some("new file\n"))],
    );
    std::fs::write(dir.path().join(".gitignore"), "out.sarif\ngen/\n").unwrap();
    write(dir.path(), "gen/out.txt", "BAD gamma\n");
    let report = judge(dir.path(), analyzer("")).await;
    assert_eq!(report.status, GateStatus::Pass, "{report:?}");
    let found: Vec<_> = report
        .findings
        .iter()
        .map(|f| (f.file.as_deref(), f.line, f.in_change))
        .collect();
    assert_eq!(found, [(Some("gen/out.txt"), Some(1), false)], "{report:?}");
}

#[tokio::test]
async fn a_renamed_file_keeps_its_results_through_a_reindent() {
    // Moved and re-indented: the result's line is an added line, its text the same but for
    // whitespace, under the file's old name at the base.
    let text = "one\ntwo\nthree\nfour\nBAD alpha\nsix\n";
    let dir = repo(&[("old/a.txt", text)], &[]);
    std::fs::create_dir(dir.path().join("new")).unwrap();
    git(dir.path(), &["mv", "old/a.txt", "new/a.txt"]);
    write(
        dir.path(),
        "new/a.txt",
        &text.replace("BAD alpha", "    BAD  alpha"),
    );
    let report = judge(dir.path(), analyzer("")).await;
    assert_eq!(report.status, GateStatus::Pass, "{report:?}");
}

#[tokio::test]
async fn tool_fingerprints_decide_when_both_logs_have_them() {
    // The line's text changes but the tool says it is the same result (same `word`).
    let dir = repo(
        &[("a.txt", "BAD alpha one\n")],
        &[("a.txt", Some("BAD alpha two\n"))],
    );
    let report = judge(dir.path(), analyzer("export FINGERPRINT=1")).await;
    assert_eq!(report.status, GateStatus::Pass, "{report:?}");
    // Without fingerprints the changed text is a new result.
    let report = judge(dir.path(), analyzer("")).await;
    assert_eq!(report.status, GateStatus::Fail, "{report:?}");
}

#[tokio::test]
async fn without_a_baseline_every_result_in_changed_lines_blocks() {
    let dir = repo(
        &[("a.txt", "BAD alpha\n")],
        &[("a.txt", Some("BAD alpha\nBAD beta\n"))],
    );
    let mut settings = analyzer("");
    settings.baseline = SarifBaseline::None;
    let report = judge(dir.path(), settings).await;
    assert_eq!(blocking(&report), [("a.txt".to_owned(), 2)]);
}

#[tokio::test]
async fn what_cannot_be_judged_is_an_error() {
    let dir = repo(&[("a.txt", "ok\n")], &[("a.txt", Some("BAD alpha\n"))]);
    let cases = [
        ("echo 'Found 1 error' > out.sarif; exit 1", "not a SARIF log"),
        ("exit 1", "wrote no out.sarif"),
        (
            "printf '{\"version\":\"2.1.0\",\"runs\":[]}' > out.sarif; exit 2",
            "exit code 2",
        ),
        (
            r#"printf '{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"t"}},"invocations":[{"executionSuccessful":false,"toolExecutionNotifications":[{"message":{"text":"parse error"}}]}],"results":[]}]}' > out.sarif"#,
            "parse error",
        ),
        // The analyzer fails on the base only (its marker file is in the change).
        (
            "[ -f a.txt ] && grep -q BAD a.txt || exit 3; printf '{\"version\":\"2.1.0\",\"runs\":[]}' > out.sarif",
            "on the base",
        ),
    ];
    for (run, expected) in cases {
        let report = judge(dir.path(), SarifSettings::new(run, "out.sarif")).await;
        assert_eq!(report.status, GateStatus::Error, "{run}: {report:?}");
        assert!(
            report.summary.contains(expected),
            "{run}: {}",
            report.summary
        );
    }
}

#[tokio::test]
async fn a_log_left_by_an_earlier_run_is_not_read() {
    let dir = repo(&[("a.txt", "ok\n")], &[("a.txt", Some("BAD alpha\n"))]);
    std::fs::write(
        dir.path().join("out.sarif"),
        r#"{"version":"2.1.0","runs":[]}"#,
    )
    .unwrap();
    let report = judge(dir.path(), SarifSettings::new("true", "out.sarif")).await;
    assert_eq!(report.status, GateStatus::Error, "{report:?}");
}
