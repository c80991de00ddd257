//! Why the change could not be read.

/// Why the change of a workspace could not be read. Nothing is judged or handed off then.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ChangeError {
    /// A `git` command could not run or failed.
    #[error("`{command}` failed: {reason}")]
    Git {
        /// The command, as `git <args>`.
        command: String,
        /// git's own message (its stderr), or why it could not start.
        reason: String,
    },
    /// A `git` command gave no answer in time (it was killed).
    #[error("`{command}` gave no answer within {after_ms} ms")]
    TimedOut {
        /// The command, as `git <args>`.
        command: String,
        /// The time limit.
        after_ms: u128,
    },
    /// The workspace's index records an unresolved merge conflict: what the change is cannot
    /// be decided (the conflict markers are not a change anyone meant).
    #[error("unresolved merge conflict in {}", paths.join(", "))]
    Unmerged {
        /// The conflicted paths.
        paths: Vec<String>,
    },
    /// A file operation on the scratch copy of the index failed.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: &'static str,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
}

impl ChangeError {
    /// The error's category name.
    pub fn category(&self) -> &'static str {
        match self {
            Self::Git { .. } => "change_git_error",
            Self::TimedOut { .. } => "change_timeout",
            Self::Unmerged { .. } => "change_unmerged",
            Self::Io { .. } => "change_io_error",
        }
    }
}
