//! What the client counts about its requests and GitHub's rate-limit budget.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

/// What the client sent and what GitHub said about our budget.
#[derive(Debug, Default)]
pub struct RequestStats {
    pub(crate) requests: AtomicU64,
    pub(crate) not_modified: AtomicU64,
    pub(crate) retries: AtomicU64,
    pub(crate) rate_limited: AtomicU64,
    pub(crate) remaining: AtomicI64,
}

impl RequestStats {
    /// HTTP requests sent (retries included).
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }
    /// Requests answered `304 Not Modified` (free of rate-limit cost).
    pub fn not_modified(&self) -> u64 {
        self.not_modified.load(Ordering::Relaxed)
    }
    /// Requests sent again after a transient failure or a rate limit.
    pub fn retries(&self) -> u64 {
        self.retries.load(Ordering::Relaxed)
    }
    /// Responses that were a primary or secondary rate limit.
    pub fn rate_limited(&self) -> u64 {
        self.rate_limited.load(Ordering::Relaxed)
    }
    /// The last `x-ratelimit-remaining` seen, or -1.
    pub fn rate_limit_remaining(&self) -> i64 {
        self.remaining.load(Ordering::Relaxed)
    }
}
