//! A session's token counts, as the hand-off's proof of work reports them.

use std::sync::atomic::{AtomicU64, Ordering};

use symphony_docs::pr_body::Tokens;

/// Cumulative token counts of the session, kept up to date by the event forwarder.
#[derive(Debug, Default)]
pub(crate) struct TokenTally {
    input: AtomicU64,
    output: AtomicU64,
    total: AtomicU64,
}

impl TokenTally {
    /// Records a cumulative report (counts never go down).
    pub fn record(&self, input: u64, output: u64, total: u64) {
        self.input.fetch_max(input, Ordering::Relaxed);
        self.output.fetch_max(output, Ordering::Relaxed);
        self.total.fetch_max(total, Ordering::Relaxed);
    }

    pub(crate) fn tokens(&self) -> Tokens {
        Tokens {
            input: self.input.load(Ordering::Relaxed),
            output: self.output.load(Ordering::Relaxed),
            total: self.total.load(Ordering::Relaxed),
        }
    }
}
