//! The `sarif` gate against a real analyzer: ruff (pinned, installed by `.ci/run`) writes SARIF
//! for a small Python project and for its base. Its logs carry absolute `file://` URIs and no
//! fingerprints, so results match by the text of their lines. Reported ignored, with the
//! reason, where ruff is not installed (never under CI).

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::git;
use symphony_gates::{
    ChangeSet, GateContext, GateReport, GateRunner, GateSettings, GateStatus, SarifGate,
    SarifSettings,
};
use symphony_testkit::requires::{block_on, ruff, run, trial, Tool};

/// `app/core.py` at the base holds two results: an unused import (F401) and an `eval` (S307).
const BASE: &str = "import os\n\n\ndef run(expr):\n    return eval(expr)\n";

fn judge(head: &str) -> GateReport {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    git(d, &["init", "-q", "-b", "main"]);
    std::fs::create_dir_all(d.join("app")).unwrap();
    std::fs::write(d.join("app/core.py"), BASE).unwrap();
    std::fs::write(d.join(".gitignore"), "ruff.sarif\n").unwrap();
    git(d, &["add", "-A"]);
    git(d, &["commit", "-q", "-m", "base"]);
    std::fs::write(d.join("app/core.py"), head).unwrap();
    let run = format!(
        "{} check --no-cache --select F,S --output-format sarif --output-file ruff.sarif .",
        ruff().display()
    );
    let mut report = None;
    block_on(async {
        let change = ChangeSet::from_workspace(d, "main", Duration::from_secs(30))
            .await
            .expect("change");
        let gate = SarifGate::new(SarifSettings::new(run, "ruff.sarif")).unwrap();
        let runner = GateRunner::new(Arc::new(gate), GateSettings::new("sarif")).unwrap();
        report = Some(
            runner
                .run(&GateContext::new(d.to_path_buf(), Arc::new(change)))
                .await,
        );
    });
    report.unwrap()
}

fn blocking(report: &GateReport) -> Vec<(&str, Option<&str>, Option<u32>)> {
    report
        .findings
        .iter()
        .filter(|f| f.in_change)
        .map(|f| (f.rule.as_str(), f.file.as_deref(), f.line))
        .collect()
}

fn existing_results_that_moved_do_not_block() {
    // A docstring and blank lines above: both base results move down three lines.
    let report = judge(&format!("\"\"\"Core.\"\"\"\n\n\n{BASE}"));
    assert_eq!(report.status, GateStatus::Pass, "{report:?}");
    assert!(
        report.summary.contains("2 already at the base"),
        "{}",
        report.summary
    );
}

fn a_new_result_in_changed_lines_blocks_even_after_lines_moved() {
    let head = format!(
        "\"\"\"Core.\"\"\"\n\n\n{BASE}\n\ndef load(text):\n    return eval(text)\n\n\ndef again(expr):\n    return eval(expr)\n"
    );
    let report = judge(&head);
    assert_eq!(report.status, GateStatus::Fail, "{report:?}");
    // The new `eval` at line 12, and line 16 repeating the base's `return eval(expr)`: the
    // base's one moved to line 8 and is not new; its copy is.
    assert_eq!(
        blocking(&report),
        [
            ("ruff/S307", Some("app/core.py"), Some(12)),
            ("ruff/S307", Some("app/core.py"), Some(16)),
        ],
        "{report:?}"
    );
}

fn main() -> std::process::ExitCode {
    run(vec![
        trial(
            "existing_results_that_moved_do_not_block",
            Tool::Ruff,
            existing_results_that_moved_do_not_block,
        ),
        trial(
            "a_new_result_in_changed_lines_blocks_even_after_lines_moved",
            Tool::Ruff,
            a_new_result_in_changed_lines_blocks_even_after_lines_moved,
        ),
    ])
}
