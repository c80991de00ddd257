//! `docs/ARCHITECTURE.md` names real files. Every path its code map and crate graph mention
//! must exist: a path from the repository root, or a file or folder of the package the bullet
//! is about (`session.rs` under `crates/symphony-agent-codex`). A map that names a file which
//! was moved or never existed misleads the next reader; this test says which.

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Every file and folder under `dir`, relative to it, with `/` separators.
fn tree(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(current) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&current) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path
                .file_name()
                .is_some_and(|n| n == "target" || n == ".git")
            {
                continue;
            }
            if let Ok(relative) = path.strip_prefix(dir) {
                out.push(relative.to_string_lossy().replace('\\', "/"));
            }
            if path.is_dir() {
                stack.push(path);
            }
        }
    }
    out
}

/// Backticked text that names a path: has a `/` or a file extension, and is not a pattern,
/// a Rust path, a URL route or a command.
fn path_like(token: &str) -> bool {
    let is_path = token.contains('/')
        || [".rs", ".md", ".json", ".toml", ".yml"]
            .iter()
            .any(|ext| token.ends_with(ext));
    let is_other = token.starts_with('/')
        || token.starts_with('.')
        || token.contains(char::is_whitespace)
        || ["<", "{", "*", "::", "(", "$", "@", "#"]
            .iter()
            .any(|c| token.contains(c));
    is_path && !is_other
}

/// The paths `section` of the document mentions that do not exist, with the line they are on.
fn missing_paths(document: &str, root: &Path) -> Vec<String> {
    let mut missing = Vec::new();
    // The package the current top-level bullet is about.
    let mut package: Option<PathBuf> = None;
    for (number, line) in document.lines().enumerate() {
        let tokens: Vec<&str> = line.split('`').skip(1).step_by(2).collect();
        if line.starts_with("- ") {
            package = tokens
                .first()
                .filter(|t| {
                    ["crates/", "bins/", "examples/"]
                        .iter()
                        .any(|p| t.starts_with(p))
                        || **t == "xtask"
                        || **t == "tests"
                })
                .map(|t| root.join(t.trim_end_matches('/')));
        } else if !line.starts_with(' ') {
            package = None;
        }
        let files = package.as_deref().map(tree).unwrap_or_default();
        for token in tokens.into_iter().filter(|t| path_like(t)) {
            let wanted = token.trim_end_matches('/');
            let found = root.join(wanted).exists()
                || files
                    .iter()
                    .any(|f| f == wanted || f.ends_with(&format!("/{wanted}")));
            if !found {
                missing.push(format!("line {}: `{token}`", number + 1));
            }
        }
    }
    missing
}

/// The parts of the document that map the code: the crate graph and the code map.
fn map_sections(document: &str) -> String {
    let mut out = String::new();
    let mut inside = false;
    for line in document.lines() {
        if let Some(heading) = line.strip_prefix("## ") {
            inside = heading == "Code map" || heading == "Crate graph";
        }
        // Keep line numbers: blank out what is outside.
        out.push_str(if inside { line } else { "" });
        out.push('\n');
    }
    out
}

#[test]
fn every_path_in_the_code_map_exists() {
    let root = root();
    let document = std::fs::read_to_string(root.join("docs/ARCHITECTURE.md")).unwrap();
    let missing = missing_paths(&map_sections(&document), &root);
    assert!(
        missing.is_empty(),
        "docs/ARCHITECTURE.md names paths that do not exist:\n  {}",
        missing.join("\n  ")
    );
}

#[test]
fn a_file_the_package_does_not_have_is_reported() {
    // What the map once said: the workspace crate's `process.rs` (it lives in
    // symphony-process).
    let document = "## Code map\n\n- `crates/symphony-workspace` — per-issue workspaces.\n  \
                    - `manager.rs` and `process.rs`;\n- `docs/nowhere.md` and `Cargo.toml`\n";
    let missing = missing_paths(&map_sections(document), &root());
    assert_eq!(
        missing,
        ["line 4: `process.rs`", "line 5: `docs/nowhere.md`"],
        "{missing:?}"
    );
}
