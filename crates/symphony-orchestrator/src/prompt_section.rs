//! A run's prompt with a section of Symphony's appended: the workflow's prompt and the
//! section's template both see one more variable (a review round's `review`, a plan's `plan`).

use serde_json::{Map, Value};
use symphony_core::Issue;
use symphony_workflow::{PromptTemplate, TemplateError};

/// The workflow's `prompt` (which may use the variable `name` too), then `section`'s text,
/// both rendered with `name` set to `value`.
pub fn render(
    prompt: &str,
    section: &str,
    issue: &Issue,
    attempt: Option<u32>,
    (name, value): (&str, Value),
) -> Result<String, TemplateError> {
    let mut extra = Map::new();
    extra.insert(name.to_owned(), value);
    let task = PromptTemplate::compile(prompt)?.render_with(issue, attempt, &extra)?;
    let asks = PromptTemplate::compile(section)?.render_with(issue, attempt, &extra)?;
    Ok(format!("{}\n\n{}", task.trim_end(), asks.trim()))
}

/// A sample issue for checking templates at load, so a misspelt variable is found then.
pub fn sample_issue() -> Issue {
    Issue::new("sample", "SAMPLE-1", "A sample", "todo")
}
