//! Faults the fake serves instead of (or before) a normal answer, armed by tests.

use std::time::Duration;

/// A fault served instead of (or before) the normal answer.
#[derive(Debug, Clone, PartialEq)]
pub enum Fault {
    /// Answer with this status and GitHub's error body.
    Status(u16),
    /// `403` "secondary rate limit" with `retry-after: <seconds>`.
    SecondaryRateLimit {
        /// The `retry-after` value.
        retry_after_s: u64,
    },
    /// `403` with `x-ratelimit-remaining: 0` and a reset this far ahead; the budget is back
    /// for the next request.
    PrimaryRateLimit {
        /// Seconds until `x-ratelimit-reset`.
        reset_in_s: u64,
    },
    /// Wait this long, then answer normally.
    Slow(Duration),
    /// `200` with a body that is not JSON.
    MalformedJson,
    /// Do what was asked, then answer with this status instead: the client cannot tell
    /// whether its write happened (a lost answer).
    LostAnswer(u16),
    /// Answer normally, then file an issue (with this title and labels) dated before every
    /// other, so the next page of a created-ascending list repeats an entry.
    BackdatedIssueAfter {
        /// Title of the new issue.
        title: String,
        /// Its labels.
        labels: Vec<String>,
    },
}
