//! The documentation that travels with a change: an architecture decision record in MADR
//! format when the agent records a decision ([`adr`]), a Keep-a-Changelog fragment per issue
//! ([`changelog`]), and the proof-of-work pull-request body ([`pr_body`]).

pub mod adr;
pub mod changelog;
pub mod pr_body;

/// Why a document could not be written.
#[derive(Debug, thiserror::Error)]
pub enum DocsError {
    /// The input cannot make a document (empty title, unknown category, bad template).
    #[error("invalid document input: {0}")]
    Invalid(String),
    /// The file system refused.
    #[error("cannot write {path}: {source}")]
    Io {
        /// The file or folder.
        path: String,
        /// Why.
        source: std::io::Error,
    },
}

impl DocsError {
    /// The error's category name.
    pub fn category(&self) -> &'static str {
        match self {
            Self::Invalid(_) => "invalid_document",
            Self::Io { .. } => "document_write_error",
        }
    }

    fn io(path: &std::path::Path, source: std::io::Error) -> Self {
        Self::Io {
            path: path.display().to_string(),
            source,
        }
    }
}

/// One line of plain text: trimmed, control characters removed, at most `max` characters.
pub(crate) fn one_line(text: &str, max: usize) -> String {
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .filter(|c| !c.is_control())
        .take(max)
        .collect()
}
