//! What agent sessions used: tokens by kind and, when the agent prices its own work, money.
//!
//! One type from the agent's report to the PR body, so a count added here reaches every
//! surface (scheduler totals, store, API, metrics, budgets) without a translation that could
//! drop it. Money is kept in millionths of a US dollar: sums are exact, and the budgets
//! compare integers.

use serde::{Deserialize, Serialize};

/// Millionths of a US dollar in one dollar.
pub const MICROS_PER_USD: u64 = 1_000_000;

/// Tokens and cost, as an agent reports them (cumulative for its session) or summed over
/// sessions.
///
/// `input_tokens` counts every input token, cached or not; `cache_read_tokens` and
/// `cache_write_tokens` say how many of them were read from or written to the provider's
/// prompt cache (both are part of `input_tokens`, priced differently). `cost_micros` is the
/// agent's own price of the work, when it reports one (Claude Code does; Codex does not):
/// `None` means "not reported", never "free".
///
/// `#[non_exhaustive]`: build one with [`Usage::tokens`] and the `with_*` methods.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Usage {
    /// Input tokens, cached ones included.
    pub input_tokens: u64,
    /// Of the input, tokens read from the prompt cache.
    #[serde(default)]
    pub cache_read_tokens: u64,
    /// Of the input, tokens written to the prompt cache.
    #[serde(default)]
    pub cache_write_tokens: u64,
    /// Output tokens (reasoning included).
    pub output_tokens: u64,
    /// All tokens, as the agent counts them.
    pub total_tokens: u64,
    /// The agent's price of the work in millionths of a US dollar, when it reports one.
    #[serde(default)]
    pub cost_micros: Option<u64>,
}

impl Usage {
    /// `input` in, `output` out, `total` in all; no cache counts, no cost.
    pub fn tokens(input: u64, output: u64, total: u64) -> Self {
        Self {
            input_tokens: input,
            output_tokens: output,
            total_tokens: total,
            ..Self::default()
        }
    }

    /// With `read` and `written` of the input tokens served from and written to the cache.
    #[must_use]
    pub fn with_cache(mut self, read: u64, written: u64) -> Self {
        self.cache_read_tokens = read;
        self.cache_write_tokens = written;
        self
    }

    /// With a cost of `usd` US dollars (a negative, infinite or NaN price is no price).
    #[must_use]
    pub fn with_cost_usd(mut self, usd: f64) -> Self {
        self.cost_micros = micros_of_usd(usd);
        self
    }

    /// The cost in US dollars, when known.
    pub fn cost_usd(&self) -> Option<f64> {
        self.cost_micros.map(usd_of_micros)
    }

    /// Whether nothing was used (and no cost reported).
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// Both together (sessions' uses added). A cost is known when either side knows one.
    #[must_use]
    pub fn plus(&self, other: &Self) -> Self {
        Self {
            input_tokens: self.input_tokens.saturating_add(other.input_tokens),
            cache_read_tokens: self
                .cache_read_tokens
                .saturating_add(other.cache_read_tokens),
            cache_write_tokens: self
                .cache_write_tokens
                .saturating_add(other.cache_write_tokens),
            output_tokens: self.output_tokens.saturating_add(other.output_tokens),
            total_tokens: self.total_tokens.saturating_add(other.total_tokens),
            cost_micros: match (self.cost_micros, other.cost_micros) {
                (None, None) => None,
                (a, b) => Some(a.unwrap_or(0).saturating_add(b.unwrap_or(0))),
            },
        }
    }

    /// The larger of each count: a session's reports are cumulative, so a report that arrives
    /// late (or repeats) never takes a count back.
    #[must_use]
    pub fn at_least(&self, other: &Self) -> Self {
        Self {
            input_tokens: self.input_tokens.max(other.input_tokens),
            cache_read_tokens: self.cache_read_tokens.max(other.cache_read_tokens),
            cache_write_tokens: self.cache_write_tokens.max(other.cache_write_tokens),
            output_tokens: self.output_tokens.max(other.output_tokens),
            total_tokens: self.total_tokens.max(other.total_tokens),
            cost_micros: self.cost_micros.max(other.cost_micros),
        }
    }

    /// What this session-cumulative report adds to `earlier`, the same session's previous
    /// one. A count below its earlier value means a new session began (the agent restarted):
    /// all of it is new.
    #[must_use]
    pub fn since(&self, earlier: &Self) -> Self {
        let delta = |now: u64, before: u64| now.checked_sub(before).unwrap_or(now);
        Self {
            input_tokens: delta(self.input_tokens, earlier.input_tokens),
            cache_read_tokens: delta(self.cache_read_tokens, earlier.cache_read_tokens),
            cache_write_tokens: delta(self.cache_write_tokens, earlier.cache_write_tokens),
            output_tokens: delta(self.output_tokens, earlier.output_tokens),
            total_tokens: delta(self.total_tokens, earlier.total_tokens),
            cost_micros: self
                .cost_micros
                .map(|now| delta(now, earlier.cost_micros.unwrap_or(0))),
        }
    }
}

/// What an issue used: over its earlier runs (from the store), or those plus the running one.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Spend {
    /// Tokens and cost.
    pub usage: Usage,
    /// Agent turns.
    pub turns: u32,
    /// Gate feedback and review rounds.
    pub rounds: u32,
    /// Runs.
    pub attempts: u32,
    /// Wall-clock agent time in milliseconds.
    pub agent_ms: u64,
}

impl Spend {
    /// Both together.
    #[must_use]
    pub fn plus(&self, other: &Self) -> Self {
        Self {
            usage: self.usage.plus(&other.usage),
            turns: self.turns.saturating_add(other.turns),
            rounds: self.rounds.saturating_add(other.rounds),
            attempts: self.attempts.saturating_add(other.attempts),
            agent_ms: self.agent_ms.saturating_add(other.agent_ms),
        }
    }

    /// The larger of each amount (two readings of the same history).
    #[must_use]
    pub fn at_least(&self, other: &Self) -> Self {
        Self {
            usage: self.usage.at_least(&other.usage),
            turns: self.turns.max(other.turns),
            rounds: self.rounds.max(other.rounds),
            attempts: self.attempts.max(other.attempts),
            agent_ms: self.agent_ms.max(other.agent_ms),
        }
    }
}

/// `usd` in millionths, rounded to the nearest; `None` for a value that is no price.
pub fn micros_of_usd(usd: f64) -> Option<u64> {
    // The cast saturates at u64::MAX for absurdly large values, which is what a budget wants.
    (usd.is_finite() && usd >= 0.0).then(|| (usd * MICROS_PER_USD as f64).round() as u64)
}

/// Millionths of a dollar as dollars.
pub fn usd_of_micros(micros: u64) -> f64 {
    micros as f64 / MICROS_PER_USD as f64
}

/// Millionths of a dollar for people: cents from a cent up (`$1.25`), four places below one
/// (`$0.0003`), so a small run does not read as free.
pub fn dollars(micros: u64) -> String {
    let usd = usd_of_micros(micros);
    if micros >= MICROS_PER_USD / 100 {
        format!("${usd:.2}")
    } else {
        format!("${usd:.4}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn costs_are_exact_millionths_and_a_non_price_is_none() {
        assert_eq!(micros_of_usd(0.00028), Some(280));
        assert_eq!(micros_of_usd(1.5), Some(1_500_000));
        assert_eq!(micros_of_usd(-0.1), None);
        assert_eq!(micros_of_usd(f64::NAN), None);
        assert_eq!(Usage::default().with_cost_usd(0.25).cost_usd(), Some(0.25));
        assert_eq!(dollars(280), "$0.0003");
        assert_eq!(dollars(1_254_999), "$1.25");
        assert_eq!(dollars(0), "$0.0000");
    }

    #[test]
    fn a_smaller_report_is_a_new_session_and_counts_whole() {
        let first = Usage::tokens(100, 10, 110)
            .with_cache(40, 5)
            .with_cost_usd(0.01);
        let later = Usage::tokens(150, 20, 170)
            .with_cache(60, 5)
            .with_cost_usd(0.03);
        assert_eq!(
            later.since(&first),
            Usage::tokens(50, 10, 60)
                .with_cache(20, 0)
                .with_cost_usd(0.02)
        );
        let restarted = Usage::tokens(7, 3, 10);
        assert_eq!(restarted.since(&later), restarted);
        assert_eq!(
            Usage::default().with_cost_usd(0.5).since(&Usage::default()),
            Usage::default().with_cost_usd(0.5),
            "a first cost counts whole"
        );
    }

    #[test]
    fn an_unknown_cost_stays_unknown_and_a_known_one_is_kept() {
        let tokens_only = Usage::tokens(1, 1, 2);
        assert_eq!(tokens_only.plus(&tokens_only).cost_micros, None);
        let priced = Usage::tokens(1, 1, 2).with_cost_usd(0.1);
        assert_eq!(tokens_only.plus(&priced).cost_micros, Some(100_000));
        assert_eq!(priced.at_least(&tokens_only).cost_micros, Some(100_000));
    }

    fn usage() -> impl Strategy<Value = Usage> {
        (
            0..1u64 << 40,
            0..1u64 << 40,
            0..1u64 << 40,
            0..1u64 << 40,
            proptest::option::of(0..1u64 << 40),
        )
            .prop_map(|(input, read, write, output, cost)| {
                let mut u = Usage::tokens(input, output, input + output).with_cache(read, write);
                u.cost_micros = cost;
                u
            })
    }

    proptest! {
        /// Summing the increases of a growing session's reports gives its last report.
        #[test]
        fn increases_add_up_to_the_last_report(start in usage(), steps in proptest::collection::vec(usage(), 0..8)) {
            let mut last = start;
            let mut sum = start.since(&Usage::default());
            for step in steps {
                let grown = last.plus(&step);
                sum = sum.plus(&grown.since(&last));
                last = grown;
            }
            prop_assert_eq!(sum.input_tokens, last.input_tokens);
            prop_assert_eq!(sum.cache_read_tokens, last.cache_read_tokens);
            prop_assert_eq!(sum.output_tokens, last.output_tokens);
            prop_assert_eq!(sum.total_tokens, last.total_tokens);
            prop_assert_eq!(sum.cost_micros.unwrap_or(0), last.cost_micros.unwrap_or(0));
        }
    }
}
