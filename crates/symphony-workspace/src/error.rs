//! Typed workspace errors.

use std::path::PathBuf;

use crate::hooks::HookError;

/// A workspace could not be prepared, reused or removed.
#[derive(Debug, thiserror::Error)]
pub enum WorkspaceError {
    /// A path resolved outside the workspace root (or to the root itself).
    #[error("workspace path {path} is not strictly inside the workspace root {root}")]
    OutsideRoot {
        /// The offending path (after resolving symlinks).
        path: PathBuf,
        /// The canonical root.
        root: PathBuf,
    },
    /// Something other than a directory occupies the workspace path; it is left alone.
    #[error("{path} exists but is not a directory; remove it or choose another workspace.root")]
    NotADirectory {
        /// The occupied path.
        path: PathBuf,
    },
    /// A file-system operation failed.
    #[error("cannot {action} {path}: {source}")]
    Io {
        /// What was being done, e.g. "create".
        action: &'static str,
        /// On what.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// Filling the workspace from git failed.
    #[error("workspace population failed: {message}")]
    Population {
        /// What failed, with git's own words.
        message: String,
    },
    /// `after_create` failed, so the new workspace was removed again.
    #[error(transparent)]
    Hook(#[from] HookError),
}

impl WorkspaceError {
    /// The category name, for logs and run records.
    pub fn category(&self) -> &'static str {
        match self {
            Self::OutsideRoot { .. } => "workspace_outside_root",
            Self::NotADirectory { .. } => "workspace_not_a_directory",
            Self::Io { .. } => "workspace_io_error",
            Self::Population { .. } => "workspace_population_error",
            Self::Hook(hook) => hook.category(),
        }
    }

    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
        source: std::io::Error,
    ) -> Self {
        Self::Io {
            action,
            path: path.into(),
            source,
        }
    }
}
