//! The `budgets:` section of WORKFLOW.md (ADR 0023): what an issue and a UTC day may use,
//! read into the scheduler's [`Budgets`], and the price table that prices what an agent
//! reports without a price.
//!
//! ```yaml
//! budgets:
//!   per_issue:
//!     tokens: 2000000                  # a number is the hard limit
//!     cost_usd: { soft: 4, hard: 5 }   # soft: warn once; hard: stop
//!     turns: 30
//!     agent_minutes: 120
//!     rounds: 6                        # gate feedback and review rounds
//!     attempts: 5
//!   per_day:                           # every run of this state directory, per UTC day
//!     cost_usd: { soft: 40, hard: 50 }
//!     stop_running: false              # default: only new dispatch waits for the next day
//!   overrides:                         # later entries win
//!     - labels: [size:large]
//!       per_issue: { tokens: 6000000, cost_usd: 15 }
//!   needs_human_state: Needs Human     # default: handoff's, then gates'
//!   prices:                            # US dollars per million tokens
//!     version: "2026-12-01"            # when they were copied from the provider's page
//!     model: gpt-5.1-codex             # whose price applies to unpriced reports
//!     models:
//!       gpt-5.1-codex: { input: 1.25, cached_input: 0.125, output: 10 }
//! ```

use std::collections::BTreeMap;
use std::sync::Arc;

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;
use symphony_core::{micros_of_usd, normalize_state, Usage};
use symphony_scheduler::{BudgetOverride, Budgets, DayLimits, IssueLimits, Limit};
use symphony_workflow::{ConfigSection, SectionContext, SectionError, ServiceConfig};

/// A limit as written: a number (the hard limit) or `{soft, hard}`.
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(untagged, deny_unknown_fields)]
enum LimitSpec {
    /// The hard limit.
    Hard(f64),
    /// A warning threshold and a stop.
    Both {
        /// Warn once above this.
        soft: Option<f64>,
        /// Stop above this.
        hard: Option<f64>,
    },
}

/// Per-issue limits, over every run of the issue.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct PerIssue {
    /// Total tokens.
    tokens: Option<LimitSpec>,
    /// Cost in US dollars.
    cost_usd: Option<LimitSpec>,
    /// Agent turns (feedback turns included).
    turns: Option<LimitSpec>,
    /// Wall-clock agent time in minutes.
    agent_minutes: Option<LimitSpec>,
    /// Gate feedback and review rounds.
    rounds: Option<LimitSpec>,
    /// Runs.
    attempts: Option<LimitSpec>,
}

/// Limits on every run of one UTC day.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct PerDay {
    /// Total tokens.
    tokens: Option<LimitSpec>,
    /// Cost in US dollars.
    cost_usd: Option<LimitSpec>,
    /// Stop running work too when a hard daily limit is passed (default: only new dispatch
    /// waits for the next UTC day).
    #[serde(default)]
    stop_running: bool,
}

/// Other per-issue limits for issues with a label or in a state.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct OverrideSpec {
    /// Applies to issues with any of these labels.
    #[serde(default)]
    labels: Vec<String>,
    /// Applies to issues in any of these states.
    #[serde(default)]
    states: Vec<String>,
    /// The limits it sets; the others stay the defaults'.
    per_issue: PerIssue,
}

/// One model's prices in US dollars per million tokens.
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct ModelPrice {
    /// Uncached input.
    input: f64,
    /// Input read from the prompt cache (default: `input`).
    cached_input: Option<f64>,
    /// Input written to the prompt cache (default: `input`).
    cache_write: Option<f64>,
    /// Output.
    output: f64,
}

/// The price table, versioned in the workflow; never looked up on the network.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct PricesSpec {
    /// When the prices were taken from the provider (free text, for people).
    version: Option<String>,
    /// The model whose price applies to what an agent reports without a price.
    model: String,
    /// Prices by model name.
    models: BTreeMap<String, ModelPrice>,
}

/// What issues and days may use (ADR 0023).
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct BudgetsSpec {
    /// Limits per issue, over all its runs, restarts and instances.
    #[serde(default)]
    per_issue: PerIssue,
    /// Limits per UTC day.
    #[serde(default)]
    per_day: PerDay,
    /// Per-label and per-state overrides of `per_issue`.
    #[serde(default)]
    overrides: Vec<OverrideSpec>,
    /// Where an issue stopped by a per-issue limit goes (default: `handoff.needs_human_state`,
    /// then `gates.needs_human_state`).
    needs_human_state: Option<String>,
    /// Prices of unpriced usage.
    prices: Option<PricesSpec>,
}

/// A model's price in millionths of a dollar per million tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Price {
    input: u64,
    cached_input: u64,
    cache_write: u64,
    output: u64,
}

impl Price {
    /// `usage` with a cost: the agent's own when it reported one, else this price's.
    pub fn priced(&self, usage: Usage) -> Usage {
        if usage.cost_micros.is_some() {
            return usage;
        }
        let cached = usage.cache_read_tokens.min(usage.input_tokens);
        let written = usage
            .cache_write_tokens
            .min(usage.input_tokens.saturating_sub(cached));
        let plain = usage.input_tokens - cached - written;
        let sum: u128 = [
            (plain, self.input),
            (cached, self.cached_input),
            (written, self.cache_write),
            (usage.output_tokens, self.output),
        ]
        .iter()
        .map(|&(tokens, per_million)| u128::from(tokens) * u128::from(per_million))
        .sum();
        let mut priced = usage;
        priced.cost_micros = Some(u64::try_from(sum.div_ceil(1_000_000)).unwrap_or(u64::MAX));
        priced
    }
}

/// The section read: the scheduler's budgets and the price of unpriced usage.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BudgetsConfig {
    /// The limits.
    pub budgets: Budgets,
    /// The price applied to usage an agent reports without one.
    pub price: Option<Price>,
    /// The price table's version, as written (for people: when it was copied).
    pub prices_version: Option<String>,
    /// The model whose price applies, when there is a table.
    pub priced_model: Option<String>,
}

/// What a budget setting must be: a finite amount above zero, soft at most hard.
fn limit(setting: &str, spec: Option<LimitSpec>, unit: f64) -> Result<Limit, String> {
    let Some(spec) = spec else {
        return Ok(Limit::default());
    };
    let (soft, hard) = match spec {
        LimitSpec::Hard(hard) => (None, Some(hard)),
        LimitSpec::Both { soft, hard } => (soft, hard),
    };
    let amount = |value: Option<f64>| -> Result<Option<u64>, String> {
        value
            .map(|v| {
                (v.is_finite() && v > 0.0)
                    .then(|| (v * unit).round() as u64)
                    .ok_or_else(|| format!("{setting}: expected an amount above 0, got {v}"))
            })
            .transpose()
    };
    let (soft, hard) = (amount(soft)?, amount(hard)?);
    if soft.is_none() && hard.is_none() {
        return Err(format!("{setting}: set `soft`, `hard` or both"));
    }
    if let (Some(s), Some(h)) = (soft, hard) {
        if s > h {
            return Err(format!("{setting}: soft ({s}) is above hard ({h})"));
        }
    }
    Ok(Limit { soft, hard })
}

fn per_issue(prefix: &str, spec: PerIssue) -> Result<IssueLimits, String> {
    let setting = |key: &str| format!("{prefix}.{key}");
    Ok(IssueLimits {
        tokens: limit(&setting("tokens"), spec.tokens, 1.0)?,
        cost_micros: limit(&setting("cost_usd"), spec.cost_usd, 1_000_000.0)?,
        turns: limit(&setting("turns"), spec.turns, 1.0)?,
        agent_ms: limit(&setting("agent_minutes"), spec.agent_minutes, 60_000.0)?,
        rounds: limit(&setting("rounds"), spec.rounds, 1.0)?,
        attempts: limit(&setting("attempts"), spec.attempts, 1.0)?,
    })
}

fn price(spec: ModelPrice, model: &str) -> Result<Price, String> {
    let usd = |name: &str, v: f64| {
        micros_of_usd(v).ok_or_else(|| {
            format!("budgets.prices.models.{model}.{name}: expected dollars per million tokens")
        })
    };
    Ok(Price {
        input: usd("input", spec.input)?,
        cached_input: usd("cached_input", spec.cached_input.unwrap_or(spec.input))?,
        cache_write: usd("cache_write", spec.cache_write.unwrap_or(spec.input))?,
        output: usd("output", spec.output)?,
    })
}

impl BudgetsConfig {
    /// The JSON Schema (2020-12) of the section.
    pub fn schema() -> Value {
        let mut generator = schemars::generate::SchemaSettings::draft2020_12()
            .with(|settings| settings.inline_subschemas = true)
            .into_generator();
        let mut schema = generator.root_schema_for::<BudgetsSpec>().to_value();
        if let Some(map) = schema.as_object_mut() {
            map.remove("$schema");
            map.remove("title");
        }
        schema
    }

    /// Reads the section (`None`: no budgets). `needs_human` is the hand-off's (or gates')
    /// needs-human state; `self_pricing` says whether the configured agent prices its own
    /// usage (then a cost limit needs no price table).
    pub fn from_section(
        section: Option<&Value>,
        needs_human: Option<&str>,
        self_pricing: bool,
    ) -> Result<Self, String> {
        let Some(section) = section.filter(|v| !v.is_null()) else {
            return Ok(Self::default());
        };
        if let Some(unknown) = symphony_workflow::unknown_key(section, &Self::schema(), BUDGETS) {
            return Err(unknown);
        }
        let spec: BudgetsSpec =
            serde_json::from_value(section.clone()).map_err(|e| format!("budgets: {e}"))?;
        let mut budgets = Budgets {
            per_issue: per_issue("budgets.per_issue", spec.per_issue)?,
            per_day: DayLimits {
                tokens: limit("budgets.per_day.tokens", spec.per_day.tokens, 1.0)?,
                cost_micros: limit(
                    "budgets.per_day.cost_usd",
                    spec.per_day.cost_usd,
                    1_000_000.0,
                )?,
                stop_running: spec.per_day.stop_running,
            },
            ..Budgets::default()
        };
        for (n, o) in spec.overrides.into_iter().enumerate() {
            if o.labels.is_empty() && o.states.is_empty() {
                return Err(format!(
                    "budgets.overrides[{n}]: name the `labels` or `states` it applies to"
                ));
            }
            budgets.overrides.push(BudgetOverride {
                labels: o.labels.iter().map(|l| normalize_state(l)).collect(),
                states: o.states.iter().map(|s| normalize_state(s)).collect(),
                per_issue: per_issue(&format!("budgets.overrides[{n}].per_issue"), o.per_issue)?,
            });
        }
        let any_issue_limit = !budgets.per_issue.is_unset()
            || budgets.overrides.iter().any(|o| !o.per_issue.is_unset());
        budgets.needs_human_state = spec
            .needs_human_state
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .or(needs_human.map(str::to_owned));
        if any_issue_limit && budgets.needs_human_state.is_none() {
            return Err(
                "budgets.needs_human_state (or handoff/gates.needs_human_state) is \
                        required with per-issue limits: the state an issue stopped by its \
                        budget goes to (without one it would be dispatched again and again)"
                    .to_owned(),
            );
        }
        let prices_version = spec.prices.as_ref().and_then(|p| p.version.clone());
        let priced_model = spec.prices.as_ref().map(|p| p.model.clone());
        let price = match spec.prices {
            Some(prices) => {
                let Some(model) = prices.models.get(&prices.model) else {
                    return Err(format!(
                        "budgets.prices.model {:?} has no price in budgets.prices.models \
                         (priced: {}); a model without a price is never counted as free",
                        prices.model,
                        prices.models.keys().cloned().collect::<Vec<_>>().join(", ")
                    ));
                };
                Some(price(*model, &prices.model)?)
            }
            None => None,
        };
        let cost_limit = !budgets.per_issue.cost_micros.is_unset()
            || !budgets.per_day.cost_micros.is_unset()
            || budgets
                .overrides
                .iter()
                .any(|o| !o.per_issue.cost_micros.is_unset());
        if cost_limit && price.is_none() && !self_pricing {
            return Err(
                "a cost budget is set, and this agent reports no price of its own: \
                        add budgets.prices with the model's price (model and models), so \
                        no usage is counted as free"
                    .to_owned(),
            );
        }
        Ok(Self {
            budgets,
            price,
            prices_version,
            priced_model,
        })
    }
}

/// The needs-human state the hand-off (or the gates) would use, as written.
fn fallback_needs_human(config: &ServiceConfig) -> Option<String> {
    ["handoff", "gates"].iter().find_map(|section| {
        config
            .extensions
            .get(*section)
            .and_then(|s| s.get("needs_human_state"))
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    })
}

/// The budgets of a loaded workflow. Its section was validated at load (the loader refuses a
/// bad one), so reading it again cannot fail; were it to, no budget is not an option: every
/// hard limit becomes zero-tolerance by failing the run plan instead (see `RunPlan`).
pub fn budgets_of(config: &ServiceConfig) -> Result<BudgetsConfig, String> {
    BudgetsConfig::from_section(
        config.extensions.get(BUDGETS),
        fallback_needs_human(config).as_deref(),
        // The price requirement was checked at load, against the agent registry.
        true,
    )
}

/// The section's key.
pub const BUDGETS: &str = "budgets";

/// The `budgets` section, for a build's registry; `self_pricing` are the agent backend kinds
/// that price their own usage ([`symphony_agent::AgentBackendRegistry::self_pricing_kinds`]).
pub fn budgets_section(self_pricing: Vec<String>) -> Arc<dyn ConfigSection> {
    Arc::new(BudgetsSection { self_pricing })
}

struct BudgetsSection {
    self_pricing: Vec<String>,
}

impl ConfigSection for BudgetsSection {
    fn key(&self) -> &str {
        BUDGETS
    }
    fn owner(&self) -> &str {
        "budgets"
    }
    fn error_category(&self) -> &'static str {
        "invalid_budgets_config"
    }
    fn schema(&self) -> Value {
        BudgetsConfig::schema()
    }
    fn validate(&self, value: &Value, context: &SectionContext<'_>) -> Result<(), SectionError> {
        let backend = &context.config.agent.backend;
        BudgetsConfig::from_section(
            Some(value),
            fallback_needs_human(context.config).as_deref(),
            self.self_pricing.iter().any(|k| k == backend),
        )
        .map(drop)
        .map_err(SectionError::new)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn read(section: Value) -> Result<BudgetsConfig, String> {
        BudgetsConfig::from_section(Some(&section), Some("Needs Human"), false)
    }

    #[test]
    fn limits_are_read_in_their_units_with_overrides_and_a_price() {
        let config = read(json!({
            "per_issue": {
                "tokens": 2_000_000,
                "cost_usd": {"soft": 4, "hard": 5.5},
                "agent_minutes": 90,
                "attempts": {"soft": 3},
            },
            "per_day": {"cost_usd": 50, "stop_running": true},
            "overrides": [{"labels": ["Size:Large"], "per_issue": {"tokens": 6_000_000}}],
            "prices": {
                "version": "2026-12-01",
                "model": "m",
                "models": {"m": {"input": 1.25, "cached_input": 0.125, "output": 10}},
            },
        }))
        .expect("valid");
        let issue = &config.budgets.per_issue;
        assert_eq!(issue.tokens, Limit::hard(2_000_000));
        assert_eq!(
            issue.cost_micros,
            Limit {
                soft: Some(4_000_000),
                hard: Some(5_500_000)
            }
        );
        assert_eq!(issue.agent_ms, Limit::hard(5_400_000));
        assert_eq!(issue.attempts.soft, Some(3));
        assert_eq!(config.budgets.per_day.cost_micros, Limit::hard(50_000_000));
        assert!(config.budgets.per_day.stop_running);
        assert_eq!(config.budgets.overrides[0].labels, ["size:large"]);
        assert_eq!(
            config.budgets.needs_human_state.as_deref(),
            Some("Needs Human")
        );
        assert_eq!(config.prices_version.as_deref(), Some("2026-12-01"));
        assert_eq!(
            config.describe(),
            "# Budgets: per issue: tokens ≤ 2000000 tokens, cost ≤ $5.50 (warn above $4.00), \
             agent_time ≤ 90.0 min, attempts: warn above 3 runs; per UTC day: daily_cost ≤ \
             $50.00; passing a limit stops running work too; with label \"size:large\": tokens \
             ≤ 6000000 tokens; a stopped issue goes to \"Needs Human\"; unpriced usage is \
             priced as \"m\" (prices of 2026-12-01)\n"
        );
        assert_eq!(BudgetsConfig::default().describe(), "");
        // 1000 plain in at $1.25/M, 1000 cached at $0.125/M, 1000 out at $10/M: $0.011375.
        let priced = config
            .price
            .expect("price")
            .priced(Usage::tokens(2_000, 1_000, 3_000).with_cache(1_000, 0));
        assert_eq!(priced.cost_micros, Some(11_375));
        // The agent's own price stands.
        let own = Usage::tokens(1, 1, 2).with_cost_usd(0.5);
        assert_eq!(config.price.unwrap().priced(own), own);
    }

    #[test]
    fn what_is_refused_says_what_to_fix() {
        for (section, expected) in [
            (json!({"per_isue": {}}), "did you mean `per_issue`?"),
            (json!({"per_issue": {"token": 5}}), "did you mean `tokens`?"),
            (
                json!({"per_issue": {"cost_usd": {"hrad": 5}}}),
                "did you mean `hard`?",
            ),
            (
                json!({"prices": {"model": "m", "models": {"m": {"input": 1, "outptu": 2}}}}),
                "budgets.prices.models.m.outptu is not a setting (did you mean `output`?",
            ),
            (
                json!({"per_issue": {"tokens": {"soft": 9, "hard": 5}}}),
                "soft (9) is above hard (5)",
            ),
            (
                json!({"per_issue": {"tokens": 0}}),
                "expected an amount above 0",
            ),
            (
                json!({"per_issue": {"tokens": {}}}),
                "set `soft`, `hard` or both",
            ),
            (json!({"per_day": {"cost_usd": 10}}), "add budgets.prices"),
            (
                json!({"per_day": {"cost_usd": 10}, "prices": {"model": "gpt", "models": {"other": {"input": 1, "output": 2}}}}),
                "budgets.prices.model \"gpt\" has no price",
            ),
            (
                json!({"overrides": [{"per_issue": {"tokens": 5}}]}),
                "name the `labels` or `states`",
            ),
        ] {
            let refused = read(section.clone()).expect_err(&section.to_string());
            assert!(refused.contains(expected), "{section}: {refused}");
        }
        // Per-issue limits need somewhere to send a stopped issue.
        let refused =
            BudgetsConfig::from_section(Some(&json!({"per_issue": {"turns": 5}})), None, false)
                .expect_err("no needs-human state");
        assert!(refused.contains("needs_human_state"), "{refused}");
        // An agent that prices its own usage needs no table for a cost limit.
        assert!(BudgetsConfig::from_section(
            Some(&json!({"per_day": {"cost_usd": 10}})),
            None,
            true
        )
        .is_ok());
    }
}
