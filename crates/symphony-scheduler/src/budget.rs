//! Budgets (ADR 0023): limits on what an issue and a UTC day may use, as plain data, and the
//! pure checks the scheduler makes on every usage report, turn start and tick. The worker asks
//! the same [`IssueLimits::check`] before it starts an agent, so one rule decides both.

use std::fmt;

use serde::Serialize;
pub use symphony_core::Spend;
use symphony_core::{normalize_state, usd_of_micros, Issue, Usage};

/// What a budget limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum BudgetKind {
    /// An issue's tokens, over all its runs.
    Tokens,
    /// An issue's cost, over all its runs.
    Cost,
    /// An issue's agent turns (Symphony's, feedback turns included).
    Turns,
    /// An issue's wall-clock agent time.
    AgentTime,
    /// An issue's gate feedback and review rounds.
    Rounds,
    /// An issue's runs.
    Attempts,
    /// Everyone's tokens in one UTC day.
    DailyTokens,
    /// Everyone's cost in one UTC day.
    DailyCost,
}

impl BudgetKind {
    /// Every kind, in display order.
    pub const ALL: [Self; 8] = [
        Self::Tokens,
        Self::Cost,
        Self::Turns,
        Self::AgentTime,
        Self::Rounds,
        Self::Attempts,
        Self::DailyTokens,
        Self::DailyCost,
    ];

    /// The snake-case name, as in metrics labels, the audit log and run errors.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Tokens => "tokens",
            Self::Cost => "cost",
            Self::Turns => "turns",
            Self::AgentTime => "agent_time",
            Self::Rounds => "rounds",
            Self::Attempts => "attempts",
            Self::DailyTokens => "daily_tokens",
            Self::DailyCost => "daily_cost",
        }
    }

    /// Whether it limits a UTC day rather than one issue.
    pub fn is_daily(self) -> bool {
        matches!(self, Self::DailyTokens | Self::DailyCost)
    }

    /// The key of its setting within its section (`tokens`, `cost_usd`, `agent_minutes`).
    pub fn key(self) -> &'static str {
        self.setting().rsplit('.').next().unwrap_or("")
    }

    /// The workflow setting that sets it.
    pub fn setting(self) -> &'static str {
        match self {
            Self::Tokens => "budgets.per_issue.tokens",
            Self::Cost => "budgets.per_issue.cost_usd",
            Self::Turns => "budgets.per_issue.turns",
            Self::AgentTime => "budgets.per_issue.agent_minutes",
            Self::Rounds => "budgets.per_issue.rounds",
            Self::Attempts => "budgets.per_issue.attempts",
            Self::DailyTokens => "budgets.per_day.tokens",
            Self::DailyCost => "budgets.per_day.cost_usd",
        }
    }

    /// An amount of this kind for people: tokens, dollars, minutes, counts.
    pub fn amount(self, value: u64) -> String {
        match self {
            Self::Cost | Self::DailyCost => format!("${:.2}", usd_of_micros(value)),
            Self::AgentTime => format!("{:.1} min", value as f64 / 60_000.0),
            Self::Tokens | Self::DailyTokens => format!("{value} tokens"),
            Self::Turns => format!("{value} turns"),
            Self::Rounds => format!("{value} rounds"),
            Self::Attempts => format!("{value} runs"),
        }
    }
}

impl fmt::Display for BudgetKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One limit: a soft threshold (warn once) and a hard one (stop), in the kind's unit (tokens,
/// millionths of a dollar, milliseconds, counts). A limit is passed when the amount used is
/// above it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Limit {
    /// Warn above this.
    pub soft: Option<u64>,
    /// Stop above this.
    pub hard: Option<u64>,
}

impl Limit {
    /// A hard limit only.
    pub fn hard(hard: u64) -> Self {
        Self {
            soft: None,
            hard: Some(hard),
        }
    }

    /// Whether neither threshold is set.
    pub fn is_unset(&self) -> bool {
        self.soft.is_none() && self.hard.is_none()
    }

    /// Whether `used` is at or below both thresholds (nothing to warn about or stop).
    #[inline]
    pub(crate) fn clear(&self, used: u64) -> bool {
        self.soft.is_none_or(|s| used <= s) && self.hard.is_none_or(|h| used <= h)
    }
}

/// What an issue may use over all its runs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct IssueLimits {
    /// Total tokens.
    pub tokens: Limit,
    /// Cost in millionths of a US dollar.
    pub cost_micros: Limit,
    /// Agent turns.
    pub turns: Limit,
    /// Wall-clock agent time in milliseconds.
    pub agent_ms: Limit,
    /// Gate feedback and review rounds.
    pub rounds: Limit,
    /// Runs.
    pub attempts: Limit,
}

/// What everyone may use in one UTC day.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct DayLimits {
    /// Total tokens.
    pub tokens: Limit,
    /// Cost in millionths of a US dollar.
    pub cost_micros: Limit,
    /// Whether a hard daily limit also stops running work (default: only new dispatch waits).
    pub stop_running: bool,
}

/// Other per-issue limits for the issues that carry a label or sit in a state: the limits it
/// sets replace the defaults'; later overrides win over earlier ones.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BudgetOverride {
    /// Applies to issues with any of these labels (normalized).
    pub labels: Vec<String>,
    /// Applies to issues in any of these states (normalized).
    pub states: Vec<String>,
    /// The limits it sets (unset ones keep the default's).
    pub per_issue: IssueLimits,
}

impl BudgetOverride {
    fn applies(&self, issue: &Issue) -> bool {
        self.labels
            .iter()
            .any(|l| issue.labels.iter().any(|have| normalize_state(have) == *l))
            || self
                .states
                .iter()
                .any(|s| normalize_state(&issue.state) == *s)
    }
}

/// Every budget of a workflow (none by default).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Budgets {
    /// The default per-issue limits.
    pub per_issue: IssueLimits,
    /// The daily limits.
    pub per_day: DayLimits,
    /// Per-label and per-state overrides of the per-issue limits.
    pub overrides: Vec<BudgetOverride>,
    /// Where an issue goes when a per-issue hard limit stops it.
    pub needs_human_state: Option<String>,
}

impl Budgets {
    /// The per-issue limits of `issue`, overrides applied.
    pub fn for_issue(&self, issue: &Issue) -> IssueLimits {
        let mut limits = self.per_issue;
        for o in self.overrides.iter().filter(|o| o.applies(issue)) {
            let set = |mine: &mut Limit, theirs: Limit| {
                if !theirs.is_unset() {
                    *mine = theirs;
                }
            };
            set(&mut limits.tokens, o.per_issue.tokens);
            set(&mut limits.cost_micros, o.per_issue.cost_micros);
            set(&mut limits.turns, o.per_issue.turns);
            set(&mut limits.agent_ms, o.per_issue.agent_ms);
            set(&mut limits.rounds, o.per_issue.rounds);
            set(&mut limits.attempts, o.per_issue.attempts);
        }
        limits
    }
}

/// A limit passed (or, for the daily hold, reached).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Exceeded {
    /// Which budget.
    pub kind: BudgetKind,
    /// How much was used (`None`: the cost is unknown, which a cost limit refuses).
    pub used: Option<u64>,
    /// The threshold.
    pub limit: u64,
    /// Whether it is the hard threshold.
    pub hard: bool,
}

impl fmt::Display for Exceeded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let threshold = if self.hard {
            "limit"
        } else {
            "warning threshold"
        };
        match self.used {
            Some(used) => write!(
                f,
                "{} budget: used {} of a {threshold} of {} ({})",
                self.kind,
                self.kind.amount(used),
                self.kind.amount(self.limit),
                self.kind.setting()
            ),
            None => write!(
                f,
                "{} budget: the cost is unknown (the agent reported no price and no price \
                 applies), and a {threshold} of {} is set ({})",
                self.kind,
                self.kind.amount(self.limit),
                self.kind.setting()
            ),
        }
    }
}

/// Checks `used` (an amount of `kind`) against `limit`: the hard threshold first.
fn judge(kind: BudgetKind, limit: Limit, used: Option<u64>) -> Option<Exceeded> {
    [(limit.hard, true), (limit.soft, false)]
        .into_iter()
        .find_map(|(threshold, hard)| {
            let threshold = threshold?;
            used.is_none_or(|used| used > threshold)
                .then_some(Exceeded {
                    kind,
                    used,
                    limit: threshold,
                    hard,
                })
        })
}

/// The limits passed, at most one per kind: checked on every usage report, so no allocation.
pub type Passed<const N: usize> = std::iter::Flatten<std::array::IntoIter<Option<Exceeded>, N>>;

/// The cost of `usage` as a budget sees it: `None` only when tokens were used and nobody
/// priced them (the agent, or the workflow's price table on the way in).
pub(crate) fn cost(usage: &Usage) -> Option<u64> {
    match usage.cost_micros {
        Some(cost) => Some(cost),
        None if usage.total_tokens == 0 && usage.input_tokens == 0 => Some(0),
        None => None,
    }
}

/// What `spend` used of `kind`, in its unit (`None`: an unknown cost). Daily kinds read the
/// spend's usage as the day's.
pub fn used(spend: &Spend, kind: BudgetKind) -> Option<u64> {
    match kind {
        BudgetKind::Tokens | BudgetKind::DailyTokens => Some(spend.usage.total_tokens),
        BudgetKind::Cost | BudgetKind::DailyCost => cost(&spend.usage),
        BudgetKind::Turns => Some(spend.turns.into()),
        BudgetKind::AgentTime => Some(spend.agent_ms),
        BudgetKind::Rounds => Some(spend.rounds.into()),
        BudgetKind::Attempts => Some(spend.attempts.into()),
    }
}

impl IssueLimits {
    /// Whether no limit is set.
    pub fn is_unset(&self) -> bool {
        *self == Self::default()
    }

    /// Each per-issue kind with its limit, in [`BudgetKind`] order.
    pub fn by_kind(&self) -> [(BudgetKind, Limit); 6] {
        [
            (BudgetKind::Tokens, self.tokens),
            (BudgetKind::Cost, self.cost_micros),
            (BudgetKind::Turns, self.turns),
            (BudgetKind::AgentTime, self.agent_ms),
            (BudgetKind::Rounds, self.rounds),
            (BudgetKind::Attempts, self.attempts),
        ]
    }

    /// The limits `spend` passed: at most one per kind (its hard threshold when both are
    /// passed), in [`BudgetKind`] order; empty when none.
    pub fn check(&self, spend: &Spend) -> Passed<6> {
        self.by_kind()
            .map(|(kind, limit)| judge(kind, limit, used(spend, kind)))
            .into_iter()
            .flatten()
    }

    /// Whether `spend` passes no threshold: [`Self::check`] would find nothing. The check of
    /// every usage report starts here, with comparisons only.
    pub fn clear(&self, spend: &Spend) -> bool {
        self.tokens.clear(spend.usage.total_tokens)
            && (self.cost_micros.is_unset()
                || cost(&spend.usage).is_some_and(|c| self.cost_micros.clear(c)))
            && self.turns.clear(spend.turns.into())
            && self.agent_ms.clear(spend.agent_ms)
            && self.rounds.clear(spend.rounds.into())
            && self.attempts.clear(spend.attempts.into())
    }

    /// The first hard limit `spend` passed, if any.
    pub fn stop(&self, spend: &Spend) -> Option<Exceeded> {
        self.check(spend).find(|e| e.hard)
    }
}

impl DayLimits {
    /// Whether no limit is set.
    pub fn is_unset(&self) -> bool {
        self.tokens.is_unset() && self.cost_micros.is_unset()
    }

    /// The limits the day's `usage` passed: at most one per kind, its hard threshold when
    /// both are passed.
    pub fn check(&self, usage: &Usage) -> Passed<2> {
        [
            judge(
                BudgetKind::DailyTokens,
                self.tokens,
                Some(usage.total_tokens),
            ),
            judge(BudgetKind::DailyCost, self.cost_micros, cost(usage)),
        ]
        .into_iter()
        .flatten()
    }

    /// Whether `usage` reaches no threshold: nothing to warn about, no hold. The check of every
    /// usage increase starts here.
    pub fn clear(&self, usage: &Usage) -> bool {
        let below = |limit: Limit, used: u64| {
            limit.soft.is_none_or(|s| used <= s) && limit.hard.is_none_or(|h| used < h)
        };
        below(self.tokens, usage.total_tokens)
            && (self.cost_micros.is_unset()
                || cost(usage).is_some_and(|c| below(self.cost_micros, c)))
    }

    /// Whether new dispatch waits for the next day: a hard limit is reached (nothing is left
    /// to spend), or the cost is unknown.
    pub fn holds_dispatch(&self, usage: &Usage) -> Option<Exceeded> {
        let reached = |kind, limit: Limit, used: Option<u64>| {
            let hard = limit.hard?;
            used.is_none_or(|used| used >= hard).then_some(Exceeded {
                kind,
                used,
                limit: hard,
                hard: true,
            })
        };
        reached(
            BudgetKind::DailyTokens,
            self.tokens,
            Some(usage.total_tokens),
        )
        .or_else(|| reached(BudgetKind::DailyCost, self.cost_micros, cost(usage)))
    }
}

/// The day's use as the scheduler knows it: the store's figure at the last report, plus the
/// increases of this instance's runs since.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct DayBook {
    /// The UTC day.
    pub day: u64,
    /// What was used in it.
    pub usage: Usage,
    /// Soft thresholds warned about today.
    pub warned: Vec<BudgetKind>,
    /// The hard limit holding dispatch, while one does.
    pub held: Option<Exceeded>,
}

/// What an issue used of each limit set, for people: `tokens: 7000 tokens of 10000 tokens
/// (70%)`, one line per limit with a hard threshold (or a soft one alone).
pub fn usage_lines(limits: &IssueLimits, spend: &Spend) -> Vec<String> {
    limits
        .by_kind()
        .into_iter()
        .filter_map(|(kind, limit)| {
            let used = used(spend, kind);
            let of = limit.hard.or(limit.soft)?;
            Some(match used {
                Some(used) => format!(
                    "{kind}: {} of {} ({}%)",
                    kind.amount(used),
                    kind.amount(of),
                    used.saturating_mul(100) / of.max(1)
                ),
                None => format!("{kind}: unknown of {}", kind.amount(of)),
            })
        })
        .collect()
}

/// The comment an issue stopped by a per-issue budget gets: which budget, how much was used,
/// what to change.
pub fn stop_comment(exceeded: &Exceeded, spend: &Spend) -> String {
    let usage = &spend.usage;
    let cost = usage
        .cost_micros
        .map(|c| format!(", ${:.2}", usd_of_micros(c)))
        .unwrap_or_default();
    format!(
        "Symphony stopped the agent on this issue: its {}. Over {} run(s) it used {} tokens{cost} \
         in {} turn(s), {} round(s) and {:.1} minutes of agent time. The workspace is kept.\n\n\
         To go on, raise `{}` in WORKFLOW.md (or give the issue a label with a larger budget \
         under `budgets.overrides`), or make the issue smaller, then move it back to an \
         active state.",
        exceeded,
        spend.attempts,
        usage.total_tokens,
        spend.turns,
        spend.rounds,
        spend.agent_ms as f64 / 60_000.0,
        exceeded.kind.setting(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spend(tokens: u64) -> Spend {
        Spend {
            usage: Usage::tokens(tokens, 0, tokens),
            ..Spend::default()
        }
    }

    #[test]
    fn hard_comes_before_soft_and_only_above_the_threshold() {
        let limits = IssueLimits {
            tokens: Limit {
                soft: Some(80),
                hard: Some(100),
            },
            ..IssueLimits::default()
        };
        assert_eq!(limits.check(&spend(80)).count(), 0);
        let soft: Vec<Exceeded> = limits.check(&spend(81)).collect();
        assert_eq!((soft.len(), soft[0].hard, soft[0].limit), (1, false, 80));
        assert!(limits.stop(&spend(100)).is_none());
        let hard = limits.stop(&spend(101)).expect("hard");
        assert_eq!(
            (hard.kind, hard.used, hard.limit),
            (BudgetKind::Tokens, Some(101), 100)
        );
    }

    #[test]
    fn an_unpriced_cost_under_a_cost_limit_stops() {
        let limits = IssueLimits {
            cost_micros: Limit::hard(5_000_000),
            ..IssueLimits::default()
        };
        assert!(limits.stop(&Spend::default()).is_none());
        let unknown = limits.stop(&spend(10)).expect("unknown cost stops");
        assert_eq!(unknown.used, None);
        let priced = Spend {
            usage: Usage::tokens(10, 0, 10).with_cost_usd(4.0),
            ..Spend::default()
        };
        assert!(limits.stop(&priced).is_none());
    }

    #[test]
    fn the_daily_hold_starts_when_nothing_is_left() {
        let day = DayLimits {
            cost_micros: Limit::hard(1_000_000),
            ..DayLimits::default()
        };
        assert!(day
            .holds_dispatch(&Usage::tokens(1, 0, 1).with_cost_usd(0.99))
            .is_none());
        let held = day
            .holds_dispatch(&Usage::tokens(1, 0, 1).with_cost_usd(1.0))
            .expect("held");
        assert_eq!(held.kind, BudgetKind::DailyCost);
    }

    #[test]
    fn overrides_replace_only_what_they_set_and_later_ones_win() {
        let issue: Issue = serde_json::from_value(serde_json::json!({
            "id": "1", "identifier": "A-1", "title": "t", "state": "Todo",
            "labels": ["Size:Large"],
        }))
        .expect("issue");
        let budgets = Budgets {
            per_issue: IssueLimits {
                tokens: Limit::hard(100),
                turns: Limit::hard(5),
                ..IssueLimits::default()
            },
            overrides: vec![
                BudgetOverride {
                    labels: vec!["size:large".into()],
                    per_issue: IssueLimits {
                        tokens: Limit::hard(1_000),
                        ..IssueLimits::default()
                    },
                    ..BudgetOverride::default()
                },
                BudgetOverride {
                    states: vec!["todo".into()],
                    per_issue: IssueLimits {
                        tokens: Limit::hard(2_000),
                        ..IssueLimits::default()
                    },
                    ..BudgetOverride::default()
                },
                BudgetOverride {
                    labels: vec!["other".into()],
                    per_issue: IssueLimits {
                        turns: Limit::hard(1),
                        ..IssueLimits::default()
                    },
                    ..BudgetOverride::default()
                },
            ],
            ..Budgets::default()
        };
        let limits = budgets.for_issue(&issue);
        assert_eq!(limits.tokens, Limit::hard(2_000));
        assert_eq!(limits.turns, Limit::hard(5));
    }

    #[test]
    fn the_comment_names_the_budget_the_use_and_the_setting() {
        let exceeded = Exceeded {
            kind: BudgetKind::Tokens,
            used: Some(1_200),
            limit: 1_000,
            hard: true,
        };
        let comment = stop_comment(
            &exceeded,
            &Spend {
                usage: Usage::tokens(1_000, 200, 1_200).with_cost_usd(0.5),
                turns: 3,
                rounds: 1,
                attempts: 2,
                agent_ms: 90_000,
            },
        );
        assert!(
            comment.contains("used 1200 tokens of a limit of 1000 tokens"),
            "{comment}"
        );
        assert!(comment.contains("`budgets.per_issue.tokens`"), "{comment}");
        assert!(
            comment.contains("2 run(s)") && comment.contains("$0.50"),
            "{comment}"
        );
    }
}
