//! The workspace root and the containment rules of SPEC §9.5.

use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use symphony_core::WorkspaceKey;

use crate::error::WorkspaceError;

/// Where a workspace path points, once checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Occupant {
    /// Nothing is there yet.
    Vacant,
    /// A directory strictly inside the root (possibly reached through an in-root symlink).
    Directory,
}

/// A workspace root that exists, in canonical form (symlinks resolved), so that "inside the
/// root" can be decided by comparing path prefixes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkspaceRoot {
    canonical: PathBuf,
}

impl WorkspaceRoot {
    /// Creates the root if needed and canonicalizes it.
    pub fn prepare(root: &Path) -> Result<Self, WorkspaceError> {
        std::fs::create_dir_all(root)
            .map_err(|e| WorkspaceError::io("create workspace root", root, e))?;
        let canonical = root
            .canonicalize()
            .map_err(|e| WorkspaceError::io("resolve workspace root", root, e))?;
        Ok(Self { canonical })
    }

    /// The canonical root.
    pub fn path(&self) -> &Path {
        &self.canonical
    }

    /// The workspace path for a key: always a direct child of the root, because a key never
    /// contains `/` and is never `.` or `..`.
    pub fn workspace_path(&self, key: &WorkspaceKey) -> PathBuf {
        self.canonical.join(key.as_str())
    }

    /// Checks that `path` (resolving symlinks) is strictly inside the root; returns it resolved.
    pub fn contain(&self, path: &Path) -> Result<PathBuf, WorkspaceError> {
        let resolved = path
            .canonicalize()
            .map_err(|e| WorkspaceError::io("resolve workspace path", path, e))?;
        if resolved != self.canonical && resolved.starts_with(&self.canonical) {
            Ok(resolved)
        } else {
            Err(WorkspaceError::OutsideRoot {
                path: resolved,
                root: self.canonical.clone(),
            })
        }
    }

    /// Looks at what occupies a workspace path without following anything outside the root.
    pub(crate) fn inspect(&self, path: &Path) -> Result<Occupant, WorkspaceError> {
        let meta = match std::fs::symlink_metadata(path) {
            Ok(meta) => meta,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(Occupant::Vacant),
            Err(e) => return Err(WorkspaceError::io("inspect", path, e)),
        };
        if meta.file_type().is_symlink() {
            // A symlink is tolerated only when it stays inside the root; one that escapes
            // (or dangles) is refused, never followed.
            let resolved = match path.canonicalize() {
                Ok(resolved) => resolved,
                Err(_) => {
                    return Err(WorkspaceError::NotADirectory {
                        path: path.to_path_buf(),
                    })
                }
            };
            self.contain(path)?;
            return if resolved.is_dir() {
                Ok(Occupant::Directory)
            } else {
                Err(WorkspaceError::NotADirectory {
                    path: path.to_path_buf(),
                })
            };
        }
        if meta.is_dir() {
            Ok(Occupant::Directory)
        } else {
            Err(WorkspaceError::NotADirectory {
                path: path.to_path_buf(),
            })
        }
    }
}
