//! Strict Liquid rendering of the prompt template (SPEC §5.4, §12).

use std::fmt;
use std::sync::{Arc, OnceLock};

use symphony_core::Issue;

use crate::error::TemplateError;

/// The prompt used when the workflow body is empty (SPEC §5.4).
pub const DEFAULT_PROMPT: &str = "You are working on an issue from the configured tracker.";

/// A compiled prompt template.
///
/// Strict: an unknown variable, index or filter is an error, never an empty string. The
/// template sees `issue` (every normalized field; `labels` and `blocked_by` iterable) and, from
/// the second run on, `attempt`. On the first run `attempt` is absent, so test it with
/// `{% if attempt %}`.
#[derive(Clone)]
pub struct PromptTemplate {
    source: Arc<str>,
    template: Arc<liquid::Template>,
}

impl fmt::Debug for PromptTemplate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PromptTemplate")
            .field("source", &self.source)
            .finish_non_exhaustive()
    }
}

fn parser() -> &'static liquid::Parser {
    static PARSER: OnceLock<liquid::Parser> = OnceLock::new();
    PARSER.get_or_init(|| {
        liquid::ParserBuilder::with_stdlib()
            .build()
            .unwrap_or_else(|e| panic!("the Liquid standard library always builds: {e}"))
    })
}

impl PromptTemplate {
    /// Compiles `source`; an empty body compiles the default prompt.
    pub fn compile(source: &str) -> Result<Self, TemplateError> {
        let source = source.trim();
        let source = if source.is_empty() {
            DEFAULT_PROMPT
        } else {
            source
        };
        let template = parser().parse(source).map_err(|e| {
            let message = stable_message(&e);
            // liquid resolves filters while parsing; the SPEC files an unknown filter under
            // rendering (strict filter checking), so classify it by its message.
            if message.contains("Unknown filter") {
                TemplateError::Render { message }
            } else {
                TemplateError::Parse { message }
            }
        })?;
        Ok(Self {
            source: source.into(),
            template: Arc::new(template),
        })
    }

    /// The template text (the default prompt when the body was empty).
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Renders the prompt for one issue; `attempt` is `None` on the first run.
    pub fn render(&self, issue: &Issue, attempt: Option<u32>) -> Result<String, TemplateError> {
        self.render_with(issue, attempt, &serde_json::Map::new())
    }

    /// Renders the prompt with more variables beside `issue` and `attempt` (a run's
    /// `review`, say); absent ones stay absent, so a template tests them with `{% if %}`.
    pub fn render_with(
        &self,
        issue: &Issue,
        attempt: Option<u32>,
        extra: &serde_json::Map<String, serde_json::Value>,
    ) -> Result<String, TemplateError> {
        let render_error = |e: &dyn fmt::Display| TemplateError::Render {
            message: stable_message(e),
        };
        let issue = liquid::model::to_value(issue).map_err(|e| render_error(&e))?;
        let mut globals = liquid::Object::new();
        globals.insert("issue".into(), issue);
        for (name, value) in extra {
            let value = liquid::model::to_value(value).map_err(|e| render_error(&e))?;
            globals.insert(name.clone().into(), value);
        }
        if let Some(attempt) = attempt {
            globals.insert(
                "attempt".into(),
                liquid::model::Value::scalar(i64::from(attempt)),
            );
        }
        self.template.render(&globals).map_err(|e| render_error(&e))
    }
}

/// Liquid's message with its "available ..." lists sorted: they come from hash maps, and a
/// message that changes from run to run is hard to read, compare or snapshot.
fn stable_message(error: &dyn fmt::Display) -> String {
    error
        .to_string()
        .lines()
        .map(|line| match line.split_once('=') {
            Some((key, list)) if key.trim_start().starts_with("available ") => {
                let mut items: Vec<&str> = list.split(", ").collect();
                items.sort_unstable();
                format!("{key}={}", items.join(", "))
            }
            _ => line.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use symphony_core::BlockerRef;

    fn issue() -> Issue {
        serde_json::from_value(serde_json::json!({
            "id": "id-1", "identifier": "ABC-1", "title": "Fix the flux capacitor",
            "state": "Todo", "labels": ["bug", "p1"], "priority": 2,
            "blocked_by": [{"id": "id-0", "identifier": "ABC-0", "state": "Done"}],
            "native_ref": {"number": 1}
        }))
        .unwrap()
    }

    #[test]
    fn prompt_template_renders_issue_and_attempt() {
        let t = PromptTemplate::compile(
            "{{ issue.identifier }}: {{ issue.title }}\n\
             {% for l in issue.labels %}[{{ l }}]{% endfor %}\n\
             {% for b in issue.blocked_by %}{{ b.identifier }}={{ b.state }}{% endfor %}\n\
             {% if attempt %}attempt {{ attempt }}{% else %}first run{% endif %}",
        )
        .unwrap();
        assert_eq!(
            t.render(&issue(), None).unwrap(),
            "ABC-1: Fix the flux capacitor\n[bug][p1]\nABC-0=Done\nfirst run"
        );
        assert!(t.render(&issue(), Some(3)).unwrap().ends_with("attempt 3"));
    }

    #[test]
    fn extra_variables_render_beside_the_issue_and_stay_absent_otherwise() {
        let t = PromptTemplate::compile(
            "{% if review %}round {{ review.round }}: \
             {% for c in review.comments %}{{ c.path }}:{{ c.line }} {{ c.body }}{% endfor %}\
             {% else %}no review{% endif %}",
        )
        .unwrap();
        let mut extra = serde_json::Map::new();
        extra.insert(
            "review".into(),
            serde_json::json!({"round": 2, "comments": [{"path": "a.rs", "line": 3, "body": "why?"}]}),
        );
        assert_eq!(
            t.render_with(&issue(), None, &extra).unwrap(),
            "round 2: a.rs:3 why?"
        );
        assert_eq!(t.render(&issue(), None).unwrap(), "no review");
    }

    #[test]
    fn nested_and_null_fields_are_reachable() {
        let t = PromptTemplate::compile(
            "{{ issue.native_ref.number }}|{{ issue.description }}|{{ issue.dispatchable }}",
        )
        .unwrap();
        assert_eq!(t.render(&issue(), None).unwrap(), "1||true");
        let mut with_blocker = issue();
        with_blocker
            .blocked_by
            .push(BlockerRef::new(None, None, None));
        assert_eq!(with_blocker.blocked_by.len(), 2);
    }

    #[test]
    fn prompt_rendering_fails_on_unknown_variables() {
        let t = PromptTemplate::compile("{{ issue.nope }}").unwrap();
        let err = t.render(&issue(), None).unwrap_err();
        assert_eq!(err.category(), "template_render_error");
        let t = PromptTemplate::compile("{{ tracker }}").unwrap();
        assert_eq!(
            t.render(&issue(), None).unwrap_err().category(),
            "template_render_error"
        );
    }

    #[test]
    fn unknown_filter_is_a_render_error() {
        let err = PromptTemplate::compile("{{ issue.title | shout }}").unwrap_err();
        assert_eq!(err.category(), "template_render_error");
        assert!(err.to_string().contains("shout"), "{err}");
    }

    #[test]
    fn unknown_index_lists_the_available_fields_in_order() {
        let err = PromptTemplate::compile("{{ issue.nope }}")
            .unwrap()
            .render(&issue(), None)
            .unwrap_err()
            .to_string();
        let list = err
            .lines()
            .find(|l| l.contains("available indexes="))
            .unwrap();
        let items: Vec<&str> = list.split_once('=').unwrap().1.split(", ").collect();
        let mut sorted = items.clone();
        sorted.sort_unstable();
        assert_eq!(items, sorted);
        assert!(items.contains(&"identifier"));
    }

    #[test]
    fn unclosed_tag_is_a_parse_error() {
        let err = PromptTemplate::compile("{% if issue.title %}never closed").unwrap_err();
        assert_eq!(err.category(), "template_parse_error");
        let err = PromptTemplate::compile("{{ issue.title").unwrap_err();
        assert_eq!(err.category(), "template_parse_error");
    }

    #[test]
    fn empty_body_uses_the_default_prompt() {
        let t = PromptTemplate::compile("  \n ").unwrap();
        assert_eq!(t.render(&issue(), None).unwrap(), DEFAULT_PROMPT);
    }
}
