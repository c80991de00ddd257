//! Store failures, each naming the database file so an operator knows where to look.

use std::path::PathBuf;

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The file is not a Symphony state database (or is damaged).
    #[error("state database {path} is corrupt or not a database: {message}")]
    Corrupt {
        /// The database file.
        path: PathBuf,
        /// SQLite's explanation.
        message: String,
    },
    /// Another process holds a lock on the database for longer than the busy timeout.
    #[error("state database {path} is locked by another process: {message}")]
    Locked {
        /// The database file.
        path: PathBuf,
        /// SQLite's explanation.
        message: String,
    },
    /// The disk (or the database's size limit) is full; nothing of this write was kept.
    #[error("state database {path} could not be written, the disk is full: {message}")]
    Full {
        /// The database file.
        path: PathBuf,
        /// SQLite's explanation.
        message: String,
    },
    /// The database was written by a newer Symphony.
    #[error(
        "state database {path} has schema version {found}, newer than this Symphony knows \
         ({known}); upgrade Symphony or point state.dir elsewhere"
    )]
    TooNew {
        /// The database file.
        path: PathBuf,
        /// Its schema version.
        found: i64,
        /// The newest version this build knows.
        known: i64,
    },
    /// The state directory or file cannot be created or opened.
    #[error("state database {path} cannot be opened: {message}")]
    Open {
        /// The database file.
        path: PathBuf,
        /// Why.
        message: String,
    },
    /// Any other database failure.
    #[error("state database {path}: {message}")]
    Database {
        /// The database file.
        path: PathBuf,
        /// SQLite's explanation.
        message: String,
    },
}

impl StoreError {
    /// A stable category for logs and exit messages.
    pub fn category(&self) -> &'static str {
        match self {
            Self::Corrupt { .. } => "store_corrupt",
            Self::Locked { .. } => "store_locked",
            Self::Full { .. } => "store_full",
            Self::TooNew { .. } => "store_too_new",
            Self::Open { .. } => "store_open_failed",
            Self::Database { .. } => "store_error",
        }
    }

    pub(crate) fn from_sqlite(path: &std::path::Path, error: rusqlite::Error) -> Self {
        use rusqlite::ErrorCode;
        let path = path.to_owned();
        let message = error.to_string();
        match error.sqlite_error_code() {
            Some(ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt) => {
                Self::Corrupt { path, message }
            }
            Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => {
                Self::Locked { path, message }
            }
            Some(ErrorCode::DiskFull) => Self::Full { path, message },
            Some(ErrorCode::CannotOpen | ErrorCode::PermissionDenied | ErrorCode::ReadOnly) => {
                Self::Open { path, message }
            }
            _ => Self::Database { path, message },
        }
    }
}
