//! The `tests` gate on real git workspaces: a change to source without tests fails, one with a
//! test passes; with a coverage report (written by the configured command) exactly the added
//! lines the report says did not run are findings on their lines, the threshold decides, and a
//! command that fails or a report that cannot be read is an error, never a pass.

mod common;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use common::git;
use symphony_gates::coverage::CoverageFormat;
use symphony_gates::{
    ChangeSet, CoverageSettings, GateContext, GateReport, GateRunner, GateSettings, GateStatus,
    TestsGate, TestsSettings,
};

/// `src/calc.py` committed on `main`, then `files` written on top.
fn workspace(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    git(dir.path(), &["init", "-q", "-b", "main"]);
    std::fs::create_dir_all(dir.path().join("src")).unwrap();
    std::fs::write(
        dir.path().join("src/calc.py"),
        "def add(a, b):\n    return a + b\n",
    )
    .unwrap();
    std::fs::write(dir.path().join(".gitignore"), "lcov.info\n").unwrap();
    git(dir.path(), &["add", "-A"]);
    git(dir.path(), &["commit", "-q", "-m", "base"]);
    for (path, text) in files {
        let path = dir.path().join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    dir
}

/// The change adds `sub` (lines 4-5) and `mul` (lines 7-8) to `src/calc.py`.
const CALC: &str = "def add(a, b):\n    return a + b\n\ndef sub(a, b):\n    return a - b\n\ndef mul(a, b):\n    return a * b\n";

async fn judge(dir: &Path, settings: TestsSettings) -> GateReport {
    let change = ChangeSet::from_workspace(dir, "main", Duration::from_secs(30))
        .await
        .expect("change");
    let runner = GateRunner::new(
        Arc::new(TestsGate::new(settings).unwrap()),
        GateSettings::new("tests"),
    )
    .unwrap();
    runner
        .run(&GateContext::new(dir.to_path_buf(), Arc::new(change)))
        .await
}

/// A coverage command writing `lcov` (as a coverage tool would) to `lcov.info`.
fn lcov(report: &str, min: u8) -> TestsSettings {
    TestsSettings {
        coverage: Some(CoverageSettings {
            run: format!("printf '{report}' > lcov.info"),
            report: "lcov.info".to_owned(),
            format: CoverageFormat::Lcov,
            timeout: Duration::from_secs(30),
        }),
        min_changed_line_coverage: min,
        ..TestsSettings::default()
    }
}

#[tokio::test]
async fn source_without_tests_fails_and_a_test_makes_it_pass() {
    let untested = workspace(&[("src/calc.py", CALC)]);
    let report = judge(untested.path(), TestsSettings::default()).await;
    assert_eq!(report.status, GateStatus::Fail, "{report:?}");
    assert_eq!(report.findings[0].rule, "tests-missing");
    assert!(report.findings[0].message.contains("src/calc.py"));

    let tested = workspace(&[
        ("src/calc.py", CALC),
        (
            "tests/test_calc.py",
            "from src.calc import sub\n\ndef test_sub():\n    assert sub(2, 1) == 1\n",
        ),
    ]);
    let report = judge(tested.path(), TestsSettings::default()).await;
    assert_eq!(report.status, GateStatus::Pass, "{report:?}");

    let docs_only = workspace(&[("README.md", "# calc\n")]);
    let report = judge(docs_only.path(), TestsSettings::default()).await;
    assert_eq!(
        report.status,
        GateStatus::Pass,
        "no source changed: {report:?}"
    );

    let inline = workspace(&[(
        "src/lib.rs",
        "pub fn one() -> u8 { 1 }\n\n#[cfg(test)]\nmod tests {\n    #[test]\n    fn one() { assert_eq!(super::one(), 1); }\n}\n",
    )]);
    let report = judge(inline.path(), TestsSettings::default()).await;
    assert_eq!(
        report.status,
        GateStatus::Pass,
        "an inline test module is a test: {report:?}"
    );
}

#[tokio::test]
async fn exactly_the_uncovered_added_lines_are_findings_and_the_threshold_decides() {
    let files = [
        ("src/calc.py", CALC),
        ("tests/test_calc.py", "def test_sub():\n    pass\n"),
    ];
    // Lines 1, 2, 4, 5, 7, 8 are executable; the tests ran `sub` but not `mul`.
    let ran =
        "SF:src/calc.py\\nDA:1,1\\nDA:2,3\\nDA:4,1\\nDA:5,1\\nDA:7,1\\nDA:8,0\\nend_of_record\\n";
    let dir = workspace(&files);
    let report = judge(dir.path(), lcov(ran, 100)).await;
    assert_eq!(report.status, GateStatus::Fail, "{report:?}");
    let uncovered: Vec<(Option<&str>, Option<u32>, bool)> = report
        .findings
        .iter()
        .map(|f| (f.file.as_deref(), f.line, f.in_change))
        .collect();
    assert_eq!(
        uncovered,
        [(Some("src/calc.py"), Some(8), true)],
        "only line 8: {report:?}"
    );
    assert!(report.summary.contains("75%"), "{}", report.summary);

    // At 75% the same report passes; the uncovered line stays a finding, not blocking.
    let report = judge(dir.path(), lcov(ran, 75)).await;
    assert_eq!(report.status, GateStatus::Pass, "{report:?}");
    assert_eq!(report.findings.len(), 1);
    assert!(!report.findings[0].in_change);

    // A changed source file the report leaves out cannot be judged.
    let elsewhere = "SF:src/other.py\\nDA:1,1\\nend_of_record\\n";
    let report = judge(dir.path(), lcov(elsewhere, 0)).await;
    assert_eq!(report.status, GateStatus::Fail, "{report:?}");
    assert_eq!(report.findings[0].rule, "coverage-missing-file");
}

#[tokio::test]
async fn no_report_is_an_error_never_a_pass() {
    let dir = workspace(&[
        ("src/calc.py", CALC),
        ("tests/test_calc.py", "def test():\n    pass\n"),
    ]);
    // An old report must not stand in for this run's.
    std::fs::write(
        dir.path().join("lcov.info"),
        "SF:src/calc.py\nDA:4,1\nend_of_record\n",
    )
    .unwrap();
    for (run, says) in [
        ("exit 3", "failed"),
        ("true", "could not be read"),
        ("echo garbage > lcov.info", "no SF record"),
    ] {
        let mut settings = lcov("", 100);
        settings.coverage.as_mut().unwrap().run = run.to_owned();
        let report = judge(dir.path(), settings).await;
        assert_eq!(report.status, GateStatus::Error, "{run}: {report:?}");
        assert!(report.summary.contains(says), "{run}: {}", report.summary);
    }
}

#[test]
fn the_workflow_options_are_strict() {
    let build = |options: serde_json::Value| {
        let mut check = serde_json::json!({"kind": "tests"});
        check
            .as_object_mut()
            .unwrap()
            .extend(options.as_object().unwrap().clone());
        let config = symphony_gates::GatesConfig::from_section(Some(
            &serde_json::json!({"checks": [check]}),
        ))
        .unwrap();
        symphony_gates::GateRegistry::builtin()
            .build(&config, Path::new("."))
            .map(drop)
            .map_err(|e| e.to_string())
    };
    assert!(build(serde_json::json!({})).is_ok());
    assert!(build(serde_json::json!({
        "coverage_run": "make cov", "coverage_report": "cov.xml",
        "coverage_format": "cobertura", "min_changed_line_coverage": 90,
        "source": ["lib/**"], "tests": "spec/**",
    }))
    .is_ok());
    for (bad, says) in [
        (
            serde_json::json!({"coverage_run": "make cov"}),
            "go together",
        ),
        (
            serde_json::json!({"coverage_format": "lcov"}),
            "need `coverage_run`",
        ),
        (
            serde_json::json!({"min_changed_line_coverage": 50}),
            "need `coverage_run`",
        ),
        (
            serde_json::json!({"coverage_run": "x", "coverage_report": "y", "coverage_format": "gcov"}),
            "lcov, cobertura or llvm-json",
        ),
        (
            serde_json::json!({"coverage_run": "x", "coverage_report": "y", "min_changed_line_coverage": 150}),
            "0 to 100",
        ),
        (serde_json::json!({"source": ["src/["]}), "glob"),
        (serde_json::json!({"coverage": "x"}), "not an option"),
    ] {
        let error = build(bad.clone()).unwrap_err();
        assert!(error.contains(says), "{bad}: {error}");
    }
}

#[tokio::test]
async fn an_inline_test_module_does_not_take_its_files_lines_out_of_coverage() {
    let lib = "pub fn one() -> u8 { 1 }\npub fn two() -> u8 { 2 }\n\n#[cfg(test)]\nmod tests {\n    #[test]\n    fn one() { assert_eq!(super::one(), 1); }\n}\n";
    let dir = workspace(&[("src/lib.rs", lib)]);
    let ran = "SF:src/lib.rs\\nDA:1,1\\nDA:2,0\\nDA:7,1\\nend_of_record\\n";
    let report = judge(dir.path(), lcov(ran, 100)).await;
    assert_eq!(report.status, GateStatus::Fail, "{report:?}");
    let lines: Vec<Option<u32>> = report.findings.iter().map(|f| f.line).collect();
    assert_eq!(lines, [Some(2)], "{report:?}");
}
