//! A session's token counts, as the hand-off's proof of work reports them.

use std::sync::atomic::{AtomicU64, Ordering};

use symphony_docs::pr_body::Tokens;

/// Cumulative token counts of the session, kept up to date by the event forwarder, plus what
/// other sessions of the run (gates' reviewers) used.
#[derive(Debug, Default)]
pub(crate) struct TokenTally {
    input: AtomicU64,
    output: AtomicU64,
    total: AtomicU64,
    /// Other sessions' tokens, added (each of them reports its own whole use once).
    extra_input: AtomicU64,
    extra_output: AtomicU64,
    extra_total: AtomicU64,
}

impl TokenTally {
    /// Records a cumulative report (counts never go down).
    pub fn record(&self, input: u64, output: u64, total: u64) {
        self.input.fetch_max(input, Ordering::Relaxed);
        self.output.fetch_max(output, Ordering::Relaxed);
        self.total.fetch_max(total, Ordering::Relaxed);
    }

    /// Adds another session's whole use (a reviewer's).
    pub fn add(&self, input: u64, output: u64, total: u64) {
        self.extra_input.fetch_add(input, Ordering::Relaxed);
        self.extra_output.fetch_add(output, Ordering::Relaxed);
        self.extra_total.fetch_add(total, Ordering::Relaxed);
    }

    pub(crate) fn tokens(&self) -> Tokens {
        let sum = |own: &AtomicU64, extra: &AtomicU64| {
            own.load(Ordering::Relaxed)
                .saturating_add(extra.load(Ordering::Relaxed))
        };
        Tokens {
            input: sum(&self.input, &self.extra_input),
            output: sum(&self.output, &self.extra_output),
            total: sum(&self.total, &self.extra_total),
        }
    }
}
