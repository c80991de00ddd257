//! `diff_budget`, `docs` and `command`: pass, fail, error and timeout each.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use symphony_gates::{
    AddedLine, BudgetSettings, ChangeSet, ChangedFile, CommandGate, CommandSettings,
    DiffBudgetGate, DocKind, DocsGate, DocsSettings, FileChange, Gate, GateContext, GateRunner,
    GateSettings, GateStatus,
};

fn file(path: &str, change: FileChange, added: usize, removed: u32) -> ChangedFile {
    {
        let mut changed_file = ChangedFile::new(path.to_owned(), change);
        changed_file.added = (1..=added)
            .map(|line| AddedLine::new(line as u32, format!("line {line}")))
            .collect();
        changed_file.removed = removed;
        changed_file
    }
}

fn context(files: Vec<ChangedFile>, workspace: PathBuf) -> GateContext {
    GateContext::new(workspace, Arc::new(ChangeSet::new("0".repeat(40), files)))
}

fn here() -> PathBuf {
    PathBuf::from(".")
}

async fn run(
    gate: impl Gate + 'static,
    settings: GateSettings,
    ctx: &GateContext,
) -> symphony_gates::GateReport {
    GateRunner::new(Arc::new(gate), settings)
        .unwrap()
        .run(ctx)
        .await
}

#[tokio::test]
async fn diff_budget_pass_fail_and_bad_configuration() {
    let gate = || {
        DiffBudgetGate::new(BudgetSettings {
            max_files: Some(3),
            max_lines: Some(100),
            protected: vec![".github/workflows/**".into()],
            lockfiles_need_manifest: true,
        })
        .unwrap()
    };
    let small = context(vec![file("src/a.rs", FileChange::Modified, 10, 2)], here());
    let report = run(gate(), GateSettings::new("budget"), &small).await;
    assert_eq!(report.status, GateStatus::Pass, "{report:?}");

    let big = context(
        vec![
            file("src/a.rs", FileChange::Modified, 90, 20),
            file(".github/workflows/ci.yml", FileChange::Modified, 1, 1),
            file("Cargo.lock", FileChange::Modified, 5, 5),
            file("web/package-lock.json", FileChange::Modified, 5, 5),
            file("web/package.json", FileChange::Modified, 1, 1),
        ],
        here(),
    );
    let report = run(gate(), GateSettings::new("budget"), &big).await;
    assert_eq!(report.status, GateStatus::Fail);
    let rules: Vec<&str> = report.findings.iter().map(|f| f.rule.as_str()).collect();
    assert_eq!(
        rules,
        [
            "max-files",
            "max-lines",
            "protected-path",
            "lockfile-without-manifest"
        ],
        "web/package-lock.json came with its manifest"
    );
    assert!(report.findings[3].message.contains("Cargo.toml"));

    let error = DiffBudgetGate::new(BudgetSettings {
        protected: vec!["src/[".into()],
        ..BudgetSettings::default()
    })
    .unwrap_err();
    assert_eq!(error.category(), "invalid_gate_config");
}

#[tokio::test]
async fn docs_pass_fail_skip_and_bad_configuration() {
    let gate = || {
        DocsGate::new(DocsSettings {
            paths: vec!["src/**".into()],
            require: vec![DocKind::Changelog, DocKind::Adr],
            ..DocsSettings::default()
        })
        .unwrap()
    };
    let mut settings = GateSettings::new("docs");
    settings.paths = vec!["src/**".into()];
    let documented = context(
        vec![
            file("src/lib.rs", FileChange::Modified, 3, 0),
            file("changelog.d/ABC-1.md", FileChange::Added, 2, 0),
            file("docs/adr/0009-gates.md", FileChange::Added, 20, 0),
        ],
        here(),
    );
    assert_eq!(
        run(gate(), settings.clone(), &documented).await.status,
        GateStatus::Pass
    );

    let bare = context(
        vec![
            file("src/lib.rs", FileChange::Modified, 3, 0),
            file("docs/adr/notes.md", FileChange::Added, 2, 0),
        ],
        here(),
    );
    let report = run(gate(), settings.clone(), &bare).await;
    assert_eq!(report.status, GateStatus::Fail);
    let rules: Vec<&str> = report.findings.iter().map(|f| f.rule.as_str()).collect();
    assert_eq!(
        rules,
        ["changelog-fragment-missing", "adr-missing"],
        "notes.md is not an ADR"
    );

    let readme_only = context(vec![file("README.md", FileChange::Modified, 1, 1)], here());
    let report = run(gate(), settings, &readme_only).await;
    assert_eq!(report.status, GateStatus::Skipped, "not a documented path");
    assert!(
        !report.blocks(),
        "a gate that does not apply does not block"
    );

    assert!(DocsGate::new(DocsSettings {
        require: Vec::new(),
        ..DocsSettings::default()
    })
    .is_err());
}

fn command(run: &str, timeout: Duration) -> CommandGate {
    CommandGate::new(CommandSettings {
        run: run.to_owned(),
        timeout,
        sarif: None,
    })
}

#[tokio::test]
async fn command_pass_fail_error_and_timeout() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("src")).unwrap();
    std::fs::write(dir.path().join("src/main.c"), "int main() { return x; }\n").unwrap();
    let ctx = context(
        vec![file("src/main.c", FileChange::Added, 1, 0)],
        dir.path().to_path_buf(),
    );
    let limit = Duration::from_secs(30);

    let report = run(
        command("echo all good", limit),
        GateSettings::new("tests"),
        &ctx,
    )
    .await;
    assert_eq!(report.status, GateStatus::Pass, "{report:?}");
    assert!(report
        .output
        .as_deref()
        .unwrap_or_default()
        .contains("all good"));

    // A compiler-style failure: exit code decides, the location becomes a finding in the change.
    let script = "echo \"src/main.c:1:21: error: use of undeclared identifier 'x'\"; echo \"Compiling: 3:4\"; exit 1";
    let report = run(command(script, limit), GateSettings::new("build"), &ctx).await;
    assert_eq!(report.status, GateStatus::Fail, "{report:?}");
    assert_eq!(
        report.findings.len(),
        1,
        "only real files are locations: {:?}",
        report.findings
    );
    let finding = &report.findings[0];
    assert_eq!(
        (finding.file.as_deref(), finding.line, finding.in_change),
        (Some("src/main.c"), Some(1), true)
    );

    let report = run(
        command("no-such-tool-anywhere --check", limit),
        GateSettings::new("lint"),
        &ctx,
    )
    .await;
    assert_eq!(report.status, GateStatus::Error, "{report:?}");
    assert!(report.summary.contains("not found"));

    let started = std::time::Instant::now();
    let report = run(
        command("sleep 30", Duration::from_millis(300)),
        GateSettings::new("slow"),
        &ctx,
    )
    .await;
    assert_eq!(report.status, GateStatus::Error, "{report:?}");
    assert!(report.summary.contains("never a pass"));
    assert!(
        started.elapsed() < Duration::from_secs(25),
        "the sleeping group was stopped"
    );
}

#[tokio::test]
async fn command_findings_come_from_rustc_output_and_sarif_files() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("src")).unwrap();
    std::fs::write(dir.path().join("src/lib.rs"), "fn f() {}\n").unwrap();
    let ctx = context(
        vec![file("src/lib.rs", FileChange::Modified, 5, 0)],
        dir.path().to_path_buf(),
    );
    let rustc = "printf 'warning: unused variable: `x`\\n  --> src/lib.rs:3:9\\nerror[E0425]: cannot find value `y`\\n  --> src/lib.rs:40:5\\n'; exit 101";
    let report = run(
        command(rustc, Duration::from_secs(30)),
        GateSettings::new("clippy"),
        &ctx,
    )
    .await;
    let seen: Vec<(String, Option<u32>, bool)> = report
        .findings
        .iter()
        .map(|f| (f.rule.clone(), f.line, f.in_change))
        .collect();
    assert_eq!(
        seen,
        [
            ("command/warning".to_owned(), Some(3), true),
            ("command/E0425".to_owned(), Some(40), false),
        ]
    );

    let sarif = r#"{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"ruff"}},"results":[{"ruleId":"F401","level":"warning","message":{"text":"unused import"},"locations":[{"physicalLocation":{"artifactLocation":{"uri":"src/lib.rs"},"region":{"startLine":2}}}]}]}]}"#;
    std::fs::write(dir.path().join("ruff.sarif"), sarif).unwrap();
    let gate = CommandGate::new(CommandSettings {
        run: "true".into(),
        timeout: Duration::from_secs(30),
        sarif: Some("ruff.sarif".into()),
    });
    let report = run(gate, GateSettings::new("ruff"), &ctx).await;
    assert_eq!(report.status, GateStatus::Pass);
    assert_eq!(report.findings[0].rule, "command/F401");
    assert!(report.findings[0].in_change);

    let gate = CommandGate::new(CommandSettings {
        run: "true".into(),
        timeout: Duration::from_secs(30),
        sarif: Some("missing.sarif".into()),
    });
    let report = run(gate, GateSettings::new("ruff"), &ctx).await;
    assert_eq!(
        report.status,
        GateStatus::Error,
        "a promised report that is missing is an error"
    );
}

#[tokio::test]
async fn commands_run_without_the_trackers_secrets() {
    // cargo sets CARGO_MANIFEST_DIR for test processes: a stand-in for a tracker token.
    assert!(std::env::var_os("CARGO_MANIFEST_DIR").is_some());
    let dir = tempfile::tempdir().unwrap();
    let check = "[ -z \"${CARGO_MANIFEST_DIR:-}\" ]";
    let mut ctx = context(
        vec![file("a.txt", FileChange::Added, 1, 0)],
        dir.path().to_path_buf(),
    );
    let limit = Duration::from_secs(30);
    let report = run(command(check, limit), GateSettings::new("env"), &ctx).await;
    assert_eq!(report.status, GateStatus::Fail, "inherited when not listed");
    ctx.remove_env = vec!["CARGO_MANIFEST_DIR".into()];
    let report = run(command(check, limit), GateSettings::new("env"), &ctx).await;
    assert_eq!(report.status, GateStatus::Pass, "{report:?}");
}
