//! The one shape every report is read into: for each file, its executable lines and how
//! often each ran.

use std::collections::BTreeMap;
use std::path::Path;

/// Executable lines per file and their execution counts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Coverage {
    files: BTreeMap<String, BTreeMap<u32, u64>>,
}

impl Coverage {
    /// Records that `line` of `path` ran `count` times (counts of the same line add up, as
    /// when one file appears in several records).
    pub(crate) fn record(&mut self, path: &str, line: u32, count: u64) {
        let lines = self.files.entry(path.to_owned()).or_default();
        let hits = lines.entry(line).or_insert(0);
        *hits = hits.saturating_add(count);
    }

    /// Makes sure `path` is known even with no executable line.
    pub(crate) fn file(&mut self, path: &str) {
        self.files.entry(path.to_owned()).or_default();
    }

    /// The executable lines of `path` and their counts, if the report covers the file.
    pub fn lines(&self, path: &str) -> Option<&BTreeMap<u32, u64>> {
        self.files.get(path)
    }

    /// The same coverage with paths relative to `workspace` where they are under it.
    pub(crate) fn relative_to(self, workspace: &Path) -> Self {
        Self {
            files: self
                .files
                .into_iter()
                .map(|(path, lines)| (relative(&path, workspace), lines))
                .collect(),
        }
    }

    /// How many files the report covers.
    pub fn file_count(&self) -> usize {
        self.files.len()
    }
}

/// `path` relative to `workspace` when it is under it (reports often carry absolute paths),
/// without a leading `./`.
fn relative(path: &str, workspace: &Path) -> String {
    let stripped = Path::new(path)
        .strip_prefix(workspace)
        .map(Path::to_path_buf)
        .ok()
        .or_else(|| {
            let canonical = workspace.canonicalize().ok()?;
            Path::new(path)
                .strip_prefix(canonical)
                .ok()
                .map(Path::to_path_buf)
        })
        .map(|p| p.to_string_lossy().into_owned());
    let path = stripped.unwrap_or_else(|| path.to_owned());
    path.trim_start_matches("./").to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absolute_paths_under_the_workspace_become_relative() {
        let ws = Path::new("/work/ws/A-1");
        assert_eq!(relative("/work/ws/A-1/src/lib.rs", ws), "src/lib.rs");
        assert_eq!(relative("./src/lib.rs", ws), "src/lib.rs");
        assert_eq!(relative("/elsewhere/lib.rs", ws), "/elsewhere/lib.rs");
    }
}
