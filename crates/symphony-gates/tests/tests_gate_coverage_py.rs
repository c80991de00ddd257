//! The `tests` gate against a real coverage tool: coverage.py (pinned, installed by
//! `.ci/run`) measures a small Python project's test and writes its lcov and Cobertura
//! reports; the gate finds exactly the added line the test did not run, in both formats.
//! Reported ignored, with the reason, where coverage.py is not installed (never under CI).

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::git;
use symphony_gates::coverage::CoverageFormat;
use symphony_gates::{
    ChangeSet, CoverageSettings, GateContext, GateRunner, GateSettings, GateStatus, TestsGate,
    TestsSettings,
};
use symphony_testkit::requires::{block_on, coverage_py, run, trial, Tool};

/// `src/calc.py` with `add`; the change adds `sub` and `mul` (lines 4-5 and 7-8) and a test
/// that runs `sub` only.
fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    git(d, &["init", "-q", "-b", "main"]);
    std::fs::create_dir_all(d.join("src")).unwrap();
    std::fs::write(d.join("src/calc.py"), "def add(a, b):\n    return a + b\n").unwrap();
    std::fs::write(
        d.join(".gitignore"),
        "lcov.info\ncoverage.xml\n.coverage\n__pycache__/\n",
    )
    .unwrap();
    git(d, &["add", "-A"]);
    git(d, &["commit", "-q", "-m", "base"]);
    std::fs::write(
        d.join("src/calc.py"),
        "def add(a, b):\n    return a + b\n\ndef sub(a, b):\n    return a - b\n\ndef mul(a, b):\n    return a * b\n",
    )
    .unwrap();
    std::fs::create_dir_all(d.join("tests")).unwrap();
    std::fs::write(
        d.join("tests/test_calc.py"),
        "import sys\nsys.path.insert(0, '.')\nfrom src.calc import sub\n\nassert sub(3, 1) == 2\n",
    )
    .unwrap();
    dir
}

fn uncovered_lines_in(format: CoverageFormat, report: &str, write: &str) {
    let dir = project();
    let tools = coverage_py();
    let settings = TestsSettings {
        coverage: Some(CoverageSettings {
            run: format!(
                "export PYTHONPATH={tools}; python3 -m coverage run --source=src tests/test_calc.py \
                 && python3 -m coverage {write}",
                tools = tools.display()
            ),
            report: report.to_owned(),
            format,
            timeout: Duration::from_secs(120),
        }),
        ..TestsSettings::default()
    };
    block_on(async {
        let change = ChangeSet::from_workspace(dir.path(), "main", Duration::from_secs(30))
            .await
            .expect("change");
        let runner = GateRunner::new(
            Arc::new(TestsGate::new(settings).unwrap()),
            GateSettings::new("tests"),
        )
        .unwrap();
        let report = runner
            .run(&GateContext::new(
                dir.path().to_path_buf(),
                Arc::new(change),
            ))
            .await;
        assert_eq!(report.status, GateStatus::Fail, "{report:?}");
        let lines: Vec<(Option<&str>, Option<u32>)> = report
            .findings
            .iter()
            .map(|f| (f.file.as_deref(), f.line))
            .collect();
        assert_eq!(
            lines,
            [(Some("src/calc.py"), Some(8))],
            "only `mul`'s body did not run: {report:?}"
        );
        // `def` lines run at import; 3 of the 4 added executable lines ran.
        assert!(report.summary.contains("75%"), "{}", report.summary);
    });
}

fn lcov_from_coverage_py() {
    uncovered_lines_in(CoverageFormat::Lcov, "lcov.info", "lcov -o lcov.info");
}

fn cobertura_from_coverage_py() {
    uncovered_lines_in(
        CoverageFormat::Cobertura,
        "coverage.xml",
        "xml -o coverage.xml",
    );
}

fn main() -> std::process::ExitCode {
    run(vec![
        trial(
            "lcov_from_coverage_py",
            Tool::CoveragePy,
            lcov_from_coverage_py,
        ),
        trial(
            "cobertura_from_coverage_py",
            Tool::CoveragePy,
            cobertura_from_coverage_py,
        ),
    ])
}
