//! Adapter errors with the portable categories of SPEC §11.4.

use std::fmt;
use std::time::Duration;

/// The portable category of a tracker failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TrackerErrorCategory {
    /// The configured kind has no adapter.
    UnsupportedTrackerKind,
    /// The adapter's configuration is invalid.
    InvalidTrackerConfig,
    /// A required credential is missing.
    MissingTrackerSecret,
    /// The request could not be made or completed (I/O, connection, timeout).
    Request,
    /// The provider answered with a non-success status.
    Status,
    /// The payload was malformed or semantically invalid.
    Response,
    /// Pagination lost integrity (a cursor vanished, pages overlapped).
    Pagination,
    /// The provider is rate limiting us.
    RateLimited,
    /// The adapter does not have the capability asked for (moving issues, say).
    UnsupportedOperation,
}

impl TrackerErrorCategory {
    /// The SPEC category name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::UnsupportedTrackerKind => "unsupported_tracker_kind",
            Self::InvalidTrackerConfig => "invalid_tracker_config",
            Self::MissingTrackerSecret => "missing_tracker_secret",
            Self::Request => "tracker_request",
            Self::Status => "tracker_status",
            Self::Response => "tracker_response",
            Self::Pagination => "tracker_pagination",
            Self::RateLimited => "tracker_rate_limited",
            Self::UnsupportedOperation => "unsupported_tracker_operation",
        }
    }
}

impl fmt::Display for TrackerErrorCategory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A tracker operation failed. The orchestrator only relies on failure versus success; the
/// category and message are for people and metrics.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{category}: {message}")]
pub struct TrackerError {
    /// Portable category.
    pub category: TrackerErrorCategory,
    /// Human-readable explanation.
    pub message: String,
    /// When the provider said to come back, if it did.
    pub retry_after: Option<Duration>,
}

impl TrackerError {
    /// An error of `category`.
    pub fn new(category: TrackerErrorCategory, message: impl Into<String>) -> Self {
        Self {
            category,
            message: message.into(),
            retry_after: None,
        }
    }

    /// The SPEC category name.
    pub fn category_name(&self) -> &'static str {
        self.category.as_str()
    }
}
