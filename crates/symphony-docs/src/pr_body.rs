//! The proof-of-work pull-request body: a Liquid template over what the run did. The default
//! carries the issue link, what changed, a gate table, diff stats, tokens and time, decision
//! records, and a `Symphony-Run:` reference into the audit log.

use serde::Serialize;
use serde_json::Value;
use symphony_core::Usage;

use crate::DocsError;

/// The default template. Variables: `issue` (`identifier`, `title`, `url`), `summary`,
/// `gates` (`gate`, `status`, `summary`), `diff` (`files`, `added`, `removed`), `tokens`
/// (`input`, `output`, `total`, `cache_read`, `cache_write`), `cost` (the agent's own price,
/// or the workflow's price table's, e.g. `$0.42`; nil when neither priced it), `budget` (what
/// the issue used of each budget, one line each; empty without budgets), `duration`, `adrs`, `run`, `review_rounds` (the
/// review rounds this change has answered; 0 on its first hand-off).
pub const DEFAULT_TEMPLATE: &str = "{% if issue.url %}Closes {{ issue.url }}{% else %}Resolves {{ issue.identifier }}{% endif %}: {{ issue.title }}

## What changed

{{ summary }}

## Quality gates

| Gate | Verdict | Summary |
| --- | --- | --- |
{% for g in gates %}| {{ g.gate }} | {{ g.status }} | {{ g.summary }} |
{% endfor %}
## Diff

{{ diff.files }} file(s) changed, +{{ diff.added }} −{{ diff.removed }} lines.

## Cost

{{ tokens.total }} tokens ({{ tokens.input }} in{% if tokens.cache_read > 0 %}, {{ tokens.cache_read }} of them from the prompt cache{% endif %}, {{ tokens.output }} out){% if cost %}, {{ cost }},{% endif %} over {{ duration }}.
{% if budget.size > 0 %}
Budget used by the issue so far: {{ budget | join: \"; \" }}.
{% endif %}{% if review_rounds > 0 %}
## Review

This change answers review round {{ review_rounds }}: the feedback went back to the agent, and the gates above judged the result.
{% endif %}{% if adrs.size > 0 %}
## Decisions

{% for adr in adrs %}- [{{ adr }}]({{ adr }})
{% endfor %}{% endif %}
Symphony-Run: {{ run }}
";

/// The issue the change is for.
#[derive(Debug, Clone, Serialize)]
pub struct IssueRef {
    /// Human key.
    pub identifier: String,
    /// Title.
    pub title: String,
    /// Link, if the tracker has one.
    pub url: Option<String>,
}

/// One gate's line in the table.
#[derive(Debug, Clone, Serialize)]
pub struct GateLine {
    /// Gate name.
    pub gate: String,
    /// `pass`, `fail`, ...
    pub status: String,
    /// One line.
    pub summary: String,
}

/// Diff size.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct DiffStats {
    /// Files changed.
    pub files: usize,
    /// Lines added.
    pub added: usize,
    /// Lines removed.
    pub removed: usize,
}

/// Tokens spent.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Tokens {
    /// Input tokens, cached ones included.
    pub input: u64,
    /// Output tokens.
    pub output: u64,
    /// Total.
    pub total: u64,
    /// Of the input, tokens read from the prompt cache.
    pub cache_read: u64,
    /// Of the input, tokens written to the prompt cache.
    pub cache_write: u64,
}

impl From<&Usage> for Tokens {
    fn from(usage: &Usage) -> Self {
        Self {
            input: usage.input_tokens,
            output: usage.output_tokens,
            total: usage.total_tokens,
            cache_read: usage.cache_read_tokens,
            cache_write: usage.cache_write_tokens,
        }
    }
}

/// Everything the body reports.
#[derive(Debug, Clone, Serialize)]
pub struct PrFacts {
    /// The issue.
    pub issue: IssueRef,
    /// What changed, in the agent's or the run's words.
    pub summary: String,
    /// The gate table.
    pub gates: Vec<GateLine>,
    /// Diff size.
    pub diff: DiffStats,
    /// Tokens.
    pub tokens: Tokens,
    /// The run's price (`$0.42`): the agents' own, or the workflow's price table's.
    pub cost: Option<String>,
    /// What the issue used of each budget, earlier runs included (one line each).
    pub budget: Vec<String>,
    /// Agent time, for people (`4m 12s`).
    pub duration: String,
    /// Paths of decision records in the change.
    pub adrs: Vec<String>,
    /// The audit reference (`<instance>/<run id>`).
    pub run: String,
    /// The review rounds the change has answered (0 on its first hand-off).
    pub review_rounds: u32,
}

/// `252` seconds → `4m 12s`.
pub fn human_duration(seconds: u64) -> String {
    match seconds {
        s if s < 60 => format!("{s}s"),
        s if s < 3600 => format!("{}m {:02}s", s / 60, s % 60),
        s => format!("{}h {:02}m", s / 3600, (s % 3600) / 60),
    }
}

/// Table cells must not break the table.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace(['\n', '\r'], " ")
}

/// Parses `template` without rendering it: a configuration check.
pub fn check_template(template: &str) -> Result<(), DocsError> {
    let parser = liquid::ParserBuilder::with_stdlib()
        .build()
        .map_err(|e| DocsError::Invalid(e.to_string()))?;
    parser
        .parse(template)
        .map(drop)
        .map_err(|e| DocsError::Invalid(format!("pull-request template: {e}")))
}

/// Renders `template` (the default when `None`) over `facts`.
pub fn render(template: Option<&str>, facts: &PrFacts) -> Result<String, DocsError> {
    let mut value = serde_json::to_value(facts).map_err(|e| DocsError::Invalid(e.to_string()))?;
    if let Some(Value::Array(gates)) = value.get_mut("gates") {
        for gate in gates {
            for key in ["gate", "status", "summary"] {
                if let Some(text) = gate.get(key).and_then(Value::as_str).map(cell) {
                    gate[key] = Value::String(text);
                }
            }
        }
    }
    let parser = liquid::ParserBuilder::with_stdlib()
        .build()
        .map_err(|e| DocsError::Invalid(e.to_string()))?;
    let template = parser
        .parse(template.unwrap_or(DEFAULT_TEMPLATE))
        .map_err(|e| DocsError::Invalid(format!("pull-request template: {e}")))?;
    let globals =
        liquid::model::to_object(&value).map_err(|e| DocsError::Invalid(e.to_string()))?;
    template
        .render(&globals)
        .map_err(|e| DocsError::Invalid(format!("pull-request template: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts() -> PrFacts {
        PrFacts {
            issue: IssueRef {
                identifier: "widgets#7".into(),
                title: "Add a greeting".into(),
                url: Some("https://github.com/acme/widgets/issues/7".into()),
            },
            summary: "Adds `greet()` and its test.".into(),
            gates: vec![
                GateLine {
                    gate: "secrets".into(),
                    status: "pass".into(),
                    summary: "no secrets in changed lines".into(),
                },
                GateLine {
                    gate: "tests".into(),
                    status: "pass".into(),
                    summary: "`cargo test | tail` succeeded".into(),
                },
            ],
            diff: DiffStats {
                files: 2,
                added: 30,
                removed: 1,
            },
            tokens: Tokens {
                input: 1200,
                output: 300,
                total: 1500,
                ..Tokens::default()
            },
            cost: None,
            budget: Vec::new(),
            duration: human_duration(252),
            adrs: vec!["docs/adr/0004-greeting-format.md".into()],
            run: "vm-1-abc/42".into(),
            review_rounds: 0,
        }
    }

    #[test]
    fn the_default_body_carries_the_proof_of_work() {
        let body = render(None, &facts()).unwrap();
        assert!(
            body.starts_with("Closes https://github.com/acme/widgets/issues/7: Add a greeting"),
            "{body}"
        );
        assert!(
            body.contains("| secrets | pass | no secrets in changed lines |"),
            "{body}"
        );
        assert!(
            body.contains("`cargo test \\| tail` succeeded"),
            "pipes escaped: {body}"
        );
        assert!(body.contains("2 file(s) changed, +30 −1 lines."), "{body}");
        assert!(
            body.contains("1500 tokens (1200 in, 300 out) over 4m 12s."),
            "{body}"
        );
        assert!(
            body.contains("- [docs/adr/0004-greeting-format.md]"),
            "{body}"
        );
        assert!(
            body.trim_end().ends_with("Symphony-Run: vm-1-abc/42"),
            "{body}"
        );
        let mut local = facts();
        local.issue.url = None;
        local.adrs.clear();
        let body = render(None, &local).unwrap();
        assert!(body.starts_with("Resolves widgets#7"), "{body}");
        assert!(!body.contains("## Decisions"), "{body}");
        assert!(
            !body.contains("## Review"),
            "no review section before a round: {body}"
        );
        local.review_rounds = 2;
        let body = render(None, &local).unwrap();
        assert!(
            body.contains("## Review\n\nThis change answers review round 2:"),
            "{body}"
        );
    }

    #[test]
    fn the_cost_section_names_the_cache_and_the_agents_price_when_there_are_some() {
        let mut priced = facts();
        priced.tokens = Tokens::from(
            &Usage::tokens(1200, 300, 1500)
                .with_cache(800, 100)
                .with_cost_usd(0.4213),
        );
        priced.cost = Usage::tokens(0, 0, 0)
            .with_cost_usd(0.4213)
            .cost_micros
            .map(symphony_core::dollars);
        let body = render(None, &priced).unwrap();
        assert!(
            body.contains(
                "1500 tokens (1200 in, 800 of them from the prompt cache, 300 out), \
                 $0.42, over 4m 12s."
            ),
            "{body}"
        );
        assert!(!body.contains("Budget used"), "no budgets, no line: {body}");
        priced.budget = vec![
            "tokens: 1500 tokens of 10000 tokens (15%)".into(),
            "cost: $0.42 of $5.00 (8%)".into(),
        ];
        let body = render(None, &priced).unwrap();
        assert!(
            body.contains(
                "Budget used by the issue so far: tokens: 1500 tokens of 10000 tokens (15%); \
                 cost: $0.42 of $5.00 (8%)."
            ),
            "{body}"
        );
    }

    #[test]
    fn custom_templates_render_and_broken_ones_are_errors() {
        assert_eq!(
            render(Some("{{ issue.identifier }} / {{ diff.files }}"), &facts()).unwrap(),
            "widgets#7 / 2"
        );
        let error = render(Some("{% if %}"), &facts()).unwrap_err();
        assert_eq!(error.category(), "invalid_document");
        assert_eq!(human_duration(59), "59s");
        assert_eq!(human_duration(3725), "1h 02m");
    }
}
