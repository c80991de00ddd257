//! A run's usage (tokens and cost), as the hand-off's proof of work reports it.

use std::sync::Mutex;

use symphony_core::Usage;

/// The session's cumulative usage, kept up to date by the event forwarder, plus what other
/// sessions of the run (gates' reviewers) used.
#[derive(Debug, Default)]
pub(crate) struct TokenTally {
    /// `(the session's latest report, other sessions' uses added)`.
    used: Mutex<(Usage, Usage)>,
}

impl TokenTally {
    /// Records a cumulative report of the run's session (counts never go down).
    pub fn record(&self, usage: &Usage) {
        let mut used = self.used.lock().unwrap_or_else(|e| e.into_inner());
        used.0 = used.0.at_least(usage);
    }

    /// Adds another session's whole use (a reviewer's).
    pub fn add(&self, usage: &Usage) {
        let mut used = self.used.lock().unwrap_or_else(|e| e.into_inner());
        used.1 = used.1.plus(usage);
    }

    /// Everything the run used so far.
    pub(crate) fn usage(&self) -> Usage {
        let used = self.used.lock().unwrap_or_else(|e| e.into_inner());
        used.0.plus(&used.1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_session_counts_once_and_reviewers_add_up() {
        let tally = TokenTally::default();
        tally.record(&Usage::tokens(10, 5, 15).with_cost_usd(0.01));
        tally.record(&Usage::tokens(30, 9, 39).with_cost_usd(0.03));
        tally.record(&Usage::tokens(20, 7, 27));
        tally.add(&Usage::tokens(4, 1, 5).with_cache(2, 0));
        tally.add(&Usage::tokens(4, 1, 5));
        assert_eq!(
            tally.usage(),
            Usage::tokens(38, 11, 49)
                .with_cache(2, 0)
                .with_cost_usd(0.03)
        );
    }
}
