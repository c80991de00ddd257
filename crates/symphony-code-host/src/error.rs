//! Code-host errors, with categories in the style of SPEC §11.4.

use std::fmt;

/// The portable category of a code-host failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CodeHostErrorCategory {
    /// The configured kind has no implementation in this build.
    UnsupportedKind,
    /// The code host's configuration is invalid.
    InvalidConfig,
    /// A required credential is missing.
    MissingSecret,
    /// The request could not be made or completed (I/O, connection, timeout).
    Request,
    /// The host answered with a non-success status.
    Status,
    /// The answer was malformed.
    Response,
    /// The host is rate limiting us.
    RateLimited,
}

impl CodeHostErrorCategory {
    /// The category's name, as logs, audit entries and metrics show it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::UnsupportedKind => "unsupported_code_host_kind",
            Self::InvalidConfig => "invalid_code_host_config",
            Self::MissingSecret => "missing_code_host_secret",
            Self::Request => "code_host_request",
            Self::Status => "code_host_status",
            Self::Response => "code_host_response",
            Self::RateLimited => "code_host_rate_limited",
        }
    }
}

impl fmt::Display for CodeHostErrorCategory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A code-host operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{category}: {message}")]
#[non_exhaustive]
pub struct CodeHostError {
    /// Portable category.
    pub category: CodeHostErrorCategory,
    /// Human-readable explanation.
    pub message: String,
}

impl CodeHostError {
    /// An error of `category`.
    pub fn new(category: CodeHostErrorCategory, message: impl Into<String>) -> Self {
        Self {
            category,
            message: message.into(),
        }
    }

    /// The category's name.
    pub fn category_name(&self) -> &'static str {
        self.category.as_str()
    }
}
