//! How a SQLite store is opened.

use std::time::Duration;

/// Settings of a [`SqliteStore`](super::SqliteStore).
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// How long a claim lasts without renewal.
    pub lease: Duration,
    /// Agent events kept per run; older ones are dropped first (their count is kept).
    pub events_per_run: u64,
    /// How long to wait for another process's lock before failing.
    pub busy_timeout: Duration,
    /// Largest size the database may grow to, in bytes (`None`: as large as the disk allows).
    /// Past it, writes fail as on a full disk and nothing committed is lost.
    pub max_size_bytes: Option<u64>,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self {
            lease: Duration::from_secs(30),
            events_per_run: 500,
            busy_timeout: Duration::from_secs(5),
            max_size_bytes: None,
        }
    }
}
