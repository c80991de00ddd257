//! Every child program Symphony starts goes through `symphony_process::child_command`, which
//! removes the tracker's secrets from its environment. A `Command` built any other way in
//! library code would inherit them (hooks did, until they were moved over): this test reads
//! the sources and names any such place.

use std::path::{Path, PathBuf};

/// Where building a command directly is the point, or happens before any secret exists.
const ALLOWED: &[&str] = &[
    // The one place that builds them, removing the hidden variables.
    "crates/symphony-process/src/environment.rs",
];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn no_library_code_starts_a_child_that_could_inherit_a_secret() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut files = Vec::new();
    for parent in ["crates", "bins"] {
        for package in std::fs::read_dir(root.join(parent)).unwrap().flatten() {
            // Test support starts browsers and fakes, never with Symphony's secrets.
            if package.file_name() == "symphony-testkit" {
                continue;
            }
            rust_files(&package.path().join("src"), &mut files);
        }
    }
    assert!(
        files.len() > 50,
        "the sources were not found: {}",
        files.len()
    );
    let mut offenders = Vec::new();
    for file in &files {
        let relative = file
            .strip_prefix(&root)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        if ALLOWED.contains(&relative.as_str()) {
            continue;
        }
        let text = std::fs::read_to_string(file).unwrap();
        // Unit tests may run programs as they like.
        let code = text.split("#[cfg(test)]").next().unwrap_or(&text);
        for (number, line) in code.lines().enumerate() {
            if line.contains("Command::new(") {
                offenders.push(format!("{relative}:{}: {}", number + 1, line.trim()));
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "start children with symphony_process::child_command, which hides tracker secrets:\n{}",
        offenders.join("\n")
    );
}
