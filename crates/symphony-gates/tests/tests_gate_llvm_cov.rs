//! The `tests` gate against a real LLVM coverage export: `rustc -C instrument-coverage` builds a
//! small program, it runs, and the toolchain's `llvm-profdata` and `llvm-cov export
//! -format=text` (the `llvm-tools` component, installed by `.ci/run`) write the JSON report;
//! the gate finds exactly the lines of the added function the program never ran. Reported
//! ignored, with the reason, where the component is missing (never under CI).

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::git;
use symphony_gates::coverage::CoverageFormat;
use symphony_gates::{
    ChangeSet, CoverageSettings, GateContext, GateRunner, GateSettings, GateStatus, TestsGate,
    TestsSettings,
};
use symphony_testkit::requires::{block_on, llvm_tools, run, trial, Tool};

const BASE: &str = "fn add(a: i32, b: i32) -> i32 {\n    a + b\n}\n\nfn main() {\n    println!(\"{}\", add(1, 2));\n}\n";

/// The change adds `sub` (run by `main`) at lines 5-7 and `mul` (never run) at lines 9-11, and
/// a test file.
const HEAD: &str = "fn add(a: i32, b: i32) -> i32 {\n    a + b\n}\n\nfn sub(a: i32, b: i32) -> i32 {\n    a - b\n}\n\nfn mul(a: i32, b: i32) -> i32 {\n    a * b\n}\n\nfn main() {\n    println!(\"{} {}\", add(1, 2), sub(3, 1));\n    let _ = mul as fn(i32, i32) -> i32;\n}\n";

fn llvm_json_from_llvm_cov() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    git(d, &["init", "-q", "-b", "main"]);
    std::fs::create_dir_all(d.join("src")).unwrap();
    std::fs::write(d.join("src/main.rs"), BASE).unwrap();
    std::fs::write(d.join(".gitignore"), "cov/\n").unwrap();
    git(d, &["add", "-A"]);
    git(d, &["commit", "-q", "-m", "base"]);
    std::fs::write(d.join("src/main.rs"), HEAD).unwrap();
    std::fs::create_dir_all(d.join("tests")).unwrap();
    std::fs::write(d.join("tests/calc.rs"), "// run by `main`\n").unwrap();
    let bin = llvm_tools().expect("the toolchain's sysroot");
    let run_coverage = format!(
        "mkdir -p cov && rustc -C instrument-coverage src/main.rs -o cov/calc \
         && LLVM_PROFILE_FILE=cov/calc.profraw ./cov/calc \
         && {bin}/llvm-profdata merge -sparse cov/calc.profraw -o cov/calc.profdata \
         && {bin}/llvm-cov export -format=text -instr-profile=cov/calc.profdata cov/calc > cov/coverage.json",
        bin = bin.display()
    );
    let settings = TestsSettings {
        coverage: Some(CoverageSettings {
            run: run_coverage,
            report: "cov/coverage.json".to_owned(),
            format: CoverageFormat::LlvmJson,
            timeout: Duration::from_secs(300),
        }),
        ..TestsSettings::default()
    };
    block_on(async {
        let change = ChangeSet::from_workspace(d, "main", Duration::from_secs(30))
            .await
            .expect("change");
        let runner = GateRunner::new(
            Arc::new(TestsGate::new(settings).unwrap()),
            GateSettings::new("tests"),
        )
        .unwrap();
        let report = runner
            .run(&GateContext::new(d.to_path_buf(), Arc::new(change)))
            .await;
        assert_eq!(report.status, GateStatus::Fail, "{report:?}");
        let lines: Vec<(Option<&str>, Option<u32>)> = report
            .findings
            .iter()
            .map(|f| (f.file.as_deref(), f.line))
            .collect();
        assert_eq!(
            lines,
            [
                (Some("src/main.rs"), Some(9)),
                (Some("src/main.rs"), Some(10)),
                (Some("src/main.rs"), Some(11)),
            ],
            "only `mul` never ran: {report:?}"
        );
    });
}

fn main() -> std::process::ExitCode {
    run(vec![trial(
        "llvm_json_from_llvm_cov",
        Tool::LlvmCov,
        llvm_json_from_llvm_cov,
    )])
}
