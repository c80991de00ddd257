//! Every built-in gate, on changes nobody would write by hand: any Unicode in paths (spaces,
//! newlines, quotes, ` b/`, very long names), names that are not UTF-8, binary and invalid
//! UTF-8 content, huge lines, deleted, renamed and symlinked files. Each gives a verdict — never
//! a panic. A panic here used to repeat on every retry, since workspaces are reused (the docs
//! gate sliced a file name by bytes).
//!
//! Two levels: change sets built directly (many cases, fast), and real git workspaces read by
//! the real change reader (fewer cases, every git quirk included). Gates are called directly,
//! not through `GateRunner`, which turns a panic into an `error` verdict and would hide one.

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use proptest::prelude::*;
use symphony_gates::{
    AddedLine, BudgetSettings, ChangeSet, ChangedFile, CommandGate, CommandSettings,
    DependenciesGate, DependencySettings, DiffBudgetGate, DocKind, DocsGate, DocsSettings,
    FileChange, Gate, GateContext, SecretsGate,
};

/// Folders that make gates look twice: the docs gate's, lockfile homes, odd names.
const FOLDERS: &[&str] = &[
    "",
    "docs/adr/",
    "changelog.d/",
    "src/",
    "a b/",
    "x b/c/",
    "é/",
    "new\nline/",
    "\"quoted\"/",
];

/// Names the gates treat specially, among the arbitrary ones.
const SPECIAL: &[&str] = &[
    "Cargo.lock",
    "Cargo.toml",
    "package-lock.json",
    "requirements.txt",
    "go.sum",
    "yarn.lock",
    "é123-x.md",
    "123é-x.md",
    "a😀-b.md",
    "0001-é.md",
    "12345.md",
    "ü.md",
    ".env",
    "-rf",
    "a\\b",
    "tab\there",
    "trailing space ",
];

fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[^/\u{0}]{1,40}",
        2 => proptest::sample::select(SPECIAL).prop_map(str::to_owned),
        1 => "[a-zé€😀]{100,200}",
    ]
    .prop_filter("a usable file name", |n| {
        !matches!(n.as_str(), "." | ".." | ".git") && n.len() <= 250
    })
}

fn path() -> impl Strategy<Value = String> {
    (proptest::sample::select(FOLDERS), name()).prop_map(|(dir, name)| format!("{dir}{name}"))
}

fn content() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        4 => proptest::collection::vec(any::<u8>(), 0..400),
        2 => "[^\u{0}]{0,200}".prop_map(String::into_bytes),
        1 => Just(b"AWS_ACCESS_KEY_ID=AKIAQ3EGRT5YK2PJZW4X\n".to_vec()),
        1 => Just(br#"{"lockfileVersion": 3, "packages": {"node_modules/x": {"version": "1.x", "license": "GPL-3.0-only AND (MIT"}}}"#.to_vec()),
        1 => (0usize..3).prop_map(|n| vec![b'x'; 300_000 + n]),
    ]
}

fn gates() -> Vec<Arc<dyn Gate>> {
    vec![
        Arc::new(SecretsGate::builtin()),
        Arc::new(
            DiffBudgetGate::new(BudgetSettings {
                max_files: Some(3),
                max_lines: Some(50),
                protected: vec!["src/**".to_owned(), "**/*.lock".to_owned()],
                lockfiles_need_manifest: true,
            })
            .unwrap(),
        ),
        Arc::new(
            DocsGate::new(DocsSettings {
                paths: vec!["**".to_owned()],
                require: vec![DocKind::Changelog, DocKind::Adr],
                ..DocsSettings::default()
            })
            .unwrap(),
        ),
        Arc::new(DependenciesGate::new(DependencySettings {
            osv_db: Some(PathBuf::from("/nonexistent/osv")),
            rustsec_db: Some(PathBuf::from("/nonexistent/rustsec")),
            deny_licenses: vec!["GPL-3.0".to_owned()],
            ..DependencySettings::default()
        })),
    ]
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// Runs every gate on `change`; a panic fails the test with the gate's kind.
fn run_all(
    runtime: &tokio::runtime::Runtime,
    workspace: &Path,
    change: ChangeSet,
    extra: &[Arc<dyn Gate>],
) {
    let context = GateContext::new(workspace.to_path_buf(), Arc::new(change));
    for gate in gates().iter().chain(extra) {
        let report = runtime.block_on(gate.run(&context));
        // A verdict, with a summary a person can read.
        assert!(
            !report.summary.is_empty(),
            "{} gave an empty summary",
            gate.kind()
        );
    }
}

fn change_file() -> impl Strategy<Value = ChangedFile> {
    let how = prop_oneof![
        Just(FileChange::Added),
        Just(FileChange::Modified),
        Just(FileChange::Deleted),
        path().prop_map(|from| FileChange::Renamed { from }),
    ];
    (
        path(),
        how,
        any::<bool>(),
        proptest::collection::vec(
            prop_oneof![
                4 => "[^\u{0}]{0,120}",
                1 => Just("AKIAQ3EGRT5YK2PJZW4X password = \"hunter2hunter2\"".to_owned()),
                1 => (0usize..2).prop_map(|n| "y".repeat(200_000 + n)),
            ],
            0..6,
        ),
        any::<u32>(),
    )
        .prop_map(|(path, change, binary, lines, removed)| {
            let mut changed_file = ChangedFile::new(path, change);
            changed_file.binary = binary;
            changed_file.added = lines
                .into_iter()
                .enumerate()
                .map(|(i, text)| AddedLine::new(i as u32 + 1, text))
                .collect();
            changed_file.removed = removed;
            changed_file
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn no_gate_panics_on_any_change_set(files in proptest::collection::vec(change_file(), 0..8)) {
        let runtime = runtime();
        let workspace = tempfile::tempdir().unwrap();
        run_all(&runtime, workspace.path(), ChangeSet::new("0".repeat(40), files), &[]);
    }
}

fn git(dir: &Path, args: &[&str]) {
    let output = Command::new("git")
        .args([
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@example.com",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("git is required for these tests: {e}"));
    assert!(
        output.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// What a case does to a workspace after its base commit.
#[derive(Debug, Clone)]
enum Edit {
    Write(String, Vec<u8>),
    /// A file whose name is not UTF-8.
    WriteRaw(Vec<u8>, Vec<u8>),
    Delete(usize),
    Rename(usize, String),
    Symlink(String, String),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        4 => (path(), content()).prop_map(|(p, c)| Edit::Write(p, c)),
        1 => (proptest::collection::vec(128u8..=255, 1..8), content()).prop_map(|(n, c)| Edit::WriteRaw(n, c)),
        1 => any::<usize>().prop_map(Edit::Delete),
        1 => (any::<usize>(), path()).prop_map(|(i, p)| Edit::Rename(i, p)),
        1 => (path(), prop_oneof![Just("../../../etc/passwd".to_owned()), Just("/".to_owned()), path()])
            .prop_map(|(p, t)| Edit::Symlink(p, t)),
    ]
}

fn write(root: &Path, path: &str, bytes: &[u8]) -> bool {
    let target = root.join(path);
    if let Some(parent) = target.parent() {
        if std::fs::create_dir_all(parent).is_err() {
            return false;
        }
    }
    !target.is_dir() && std::fs::write(&target, bytes).is_ok()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// Real workspaces: the change reader sees every file by its exact name, and no gate
    /// panics on what it reads.
    #[test]
    fn no_gate_panics_on_a_real_workspace(
        base in proptest::collection::vec((path(), content()), 1..5),
        edits in proptest::collection::vec(edit(), 1..8),
    ) {
        let runtime = runtime();
        let dir = tempfile::tempdir().unwrap();
        let ws = dir.path();
        git(ws, &["init", "-q", "-b", "main"]);
        let mut present: Vec<String> = Vec::new();
        for (path, bytes) in &base {
            if write(ws, path, bytes) && !present.contains(path) {
                present.push(path.clone());
            }
        }
        git(ws, &["add", "-A"]);
        git(ws, &["commit", "-q", "--allow-empty", "-m", "base"]);
        let mut expected: Vec<String> = Vec::new();
        for edit in edits {
            match edit {
                Edit::Write(path, bytes) => {
                    if write(ws, &path, &bytes) {
                        expected.push(path);
                    }
                }
                Edit::WriteRaw(name, bytes) => {
                    let _ = std::fs::write(ws.join(PathBuf::from(OsString::from_vec(name))), bytes);
                }
                Edit::Delete(i) if !present.is_empty() => {
                    let path = present.remove(i % present.len());
                    let _ = std::fs::remove_file(ws.join(&path));
                }
                Edit::Rename(i, to) if !present.is_empty() => {
                    let from = present.remove(i % present.len());
                    if let Some(parent) = ws.join(&to).parent() {
                        let _ = std::fs::create_dir_all(parent);
                    }
                    if std::fs::rename(ws.join(&from), ws.join(&to)).is_ok() {
                        expected.push(to);
                    }
                }
                Edit::Symlink(path, target) => {
                    if let Some(parent) = ws.join(&path).parent() {
                        let _ = std::fs::create_dir_all(parent);
                    }
                    if std::os::unix::fs::symlink(&target, ws.join(&path)).is_ok() {
                        expected.push(path);
                    }
                }
                Edit::Delete(_) | Edit::Rename(..) => {}
            }
        }
        let change = runtime
            .block_on(ChangeSet::from_workspace(ws, "main", Duration::from_secs(60)))
            .expect("git reads any workspace");
        // Later edits may have replaced a file with a folder; only what is a file now counts.
        for path in expected.iter().filter(|p| ws.join(p).symlink_metadata().is_ok_and(|m| !m.is_dir())) {
            prop_assert!(
                change.files.iter().any(|f| &f.path == path),
                "{path:?} is missing from the change: {:?}",
                change.files.iter().map(|f| &f.path).collect::<Vec<_>>()
            );
        }
        std::fs::write(ws.join(".symphony-gate-out"), b"src/\xffbad.rs:1:1: error: \xe9\n\
            error[E0001]: x\n --> \"weird\npath\".rs:99999999999:1\n").unwrap();
        let command: Arc<dyn Gate> = Arc::new(CommandGate::new(CommandSettings {
            run: "cat .symphony-gate-out; exit 1".to_owned(),
            timeout: Duration::from_secs(30),
            sarif: Some("Cargo.lock".to_owned()),
        }));
        run_all(&runtime, ws, change, &[command]);
    }
}
