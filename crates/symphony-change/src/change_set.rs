//! The vocabulary: a change set, its files, their added lines, the branch's commits.

use serde::Serialize;

/// How a file changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
#[non_exhaustive]
pub enum FileChange {
    /// New file.
    Added,
    /// Changed in place.
    Modified,
    /// Removed.
    Deleted,
    /// Moved (and maybe changed).
    Renamed {
        /// The old path.
        from: String,
    },
}

/// A line the change adds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct AddedLine {
    /// 1-based line number in the new file.
    pub line: u32,
    /// The text, without the newline.
    pub text: String,
}

/// One changed file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ChangedFile {
    /// Path in the new tree (the old one for deletions), relative to the workspace.
    pub path: String,
    /// How it changed.
    pub change: FileChange,
    /// Whether git considers it binary (no lines then).
    pub binary: bool,
    /// Lines added, in order.
    pub added: Vec<AddedLine>,
    /// How many lines were removed.
    pub removed: u32,
}

/// What one commit of the branch added, for gates that care about history (a secret
/// committed and removed later is still pushed with the branch).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct CommitPatch {
    /// The commit id.
    pub commit: String,
    /// Its changed files.
    pub files: Vec<ChangedFile>,
}

/// Every changed file between a base commit and the working tree.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ChangeSet {
    /// The base commit id.
    pub base: String,
    /// Changed files, in git's order (by path).
    pub files: Vec<ChangedFile>,
    /// The branch's own commits since `base` (newest first), each with what it added.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub history: Vec<CommitPatch>,
    /// The git tree id of the working tree as it was read (what `git add -A` would record):
    /// the snapshot the files describe, which the hand-off commits. Empty for a change built
    /// by hand rather than read from a workspace.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub tree: String,
}

impl AddedLine {
    /// Line `line` (1-based) of the new file, reading `text`.
    pub fn new(line: u32, text: impl Into<String>) -> Self {
        Self {
            line,
            text: text.into(),
        }
    }
}

impl ChangedFile {
    /// A text file at `path` that changed as `change`, with no lines yet.
    pub fn new(path: impl Into<String>, change: FileChange) -> Self {
        Self {
            path: path.into(),
            change,
            binary: false,
            added: Vec::new(),
            removed: 0,
        }
    }
}

impl CommitPatch {
    /// What commit `commit` changed.
    pub fn new(commit: impl Into<String>, files: Vec<ChangedFile>) -> Self {
        Self {
            commit: commit.into(),
            files,
        }
    }
}

impl ChangeSet {
    /// The change of `files` against commit `base`, without history or tree (built by hand,
    /// not read from a workspace).
    pub fn new(base: impl Into<String>, files: Vec<ChangedFile>) -> Self {
        Self {
            base: base.into(),
            files,
            ..Self::default()
        }
    }

    /// Lines added over all files.
    pub fn lines_added(&self) -> usize {
        self.files.iter().map(|f| f.added.len()).sum()
    }

    /// Lines removed over all files.
    pub fn lines_removed(&self) -> usize {
        self.files.iter().map(|f| f.removed as usize).sum()
    }

    /// The changed file at `path`, if any.
    pub fn file(&self, path: &str) -> Option<&ChangedFile> {
        self.files.iter().find(|f| f.path == path)
    }

    /// Whether nothing changed.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }
}
