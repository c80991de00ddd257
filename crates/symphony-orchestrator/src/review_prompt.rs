//! A review round as the agent sees it (ADR 0018): the feedback the watch took, kept in the
//! store as [`PendingRound`] JSON, becomes the `review` variable of the prompt and the text of
//! the feedback template appended to it.

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use symphony_code_host::{Feedback, FeedbackKind};
use symphony_core::Issue;
use symphony_workflow::{PromptTemplate, TemplateError};

/// The feedback template used when the workflow sets none.
pub const DEFAULT_FEEDBACK: &str = "\
## Review round {{ review.round }}

The change you handed off{% if review.url %} ({{ review.url }}){% endif %} came back from review. \
Address the feedback below on the same branch: keep your earlier commits (do not rewrite \
history), change what is asked, and say what you changed. Symphony runs the gates again and \
updates the same pull request.
{% if review.conflict %}
The branch no longer merges cleanly into `{{ review.base_branch }}`. Merge \
`origin/{{ review.base_branch }}` into it and resolve the conflicts.
{% endif %}{% if review.comments.size > 0 %}
Comments:
{% for c in review.comments %}- {{ c.author }}{% if c.path %} on `{{ c.path }}{% if c.line %}:{{ c.line }}{% endif %}`{% endif %}: {{ c.body }}
{% endfor %}{% endif %}{% if review.checks.size > 0 %}
Checks that did not pass on the head:
{% for check in review.checks %}- `{{ check.name }}` ({{ check.conclusion }}, by {{ check.author }}){% if check.summary != \"\" %}:
{{ check.summary }}{% endif %}
{% endfor %}{% endif %}";

/// Feedback taken for a round and not yet addressed, as the store keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PendingRound {
    /// The round (1 for the first feedback after the hand-off).
    pub round: u32,
    /// The feedback that asks for work, oldest first.
    pub feedback: Vec<Feedback>,
    /// Whether the change conflicts with its base.
    pub conflict: bool,
}

impl PendingRound {
    /// Round `round` of `feedback`, with or without a conflict.
    pub fn new(round: u32, feedback: Vec<Feedback>, conflict: bool) -> Self {
        Self {
            round,
            feedback,
            conflict,
        }
    }

    /// The JSON the store keeps (plain data: it always serializes; were it ever not to, the
    /// empty text is refused when read, failing the round rather than dropping feedback).
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Reads what the store keeps; `None` for JSON this build cannot read.
    pub fn from_json(text: &str) -> Option<Self> {
        serde_json::from_str(text).ok()
    }

    /// The `review` variable of the prompt: `round`, `url`, `branch`, `base_branch`,
    /// `conflict`, `comments[]` (`id`, `kind`, `author`, `body`, `path`, `line`, `thread`) and
    /// `checks[]` (`name`, `conclusion`, `author`, `summary`).
    pub fn variable(&self, url: Option<&str>, branch: &str, base_branch: &str) -> Value {
        let mut comments = Vec::new();
        let mut checks = Vec::new();
        for f in &self.feedback {
            match &f.kind {
                FeedbackKind::CheckFailed { check, conclusion } => checks.push(json!({
                    "name": check, "conclusion": conclusion, "author": f.author, "summary": f.body,
                })),
                kind => comments.push(json!({
                    "id": f.id,
                    "kind": match kind {
                        FeedbackKind::ChangesRequested => "changes_requested",
                        FeedbackKind::Approved => "approved",
                        _ => "comment",
                    },
                    "author": f.author,
                    "body": f.body,
                    "path": f.place.as_ref().map(|p| p.path.clone()),
                    "line": f.place.as_ref().and_then(|p| p.line),
                    "thread": f.place.as_ref().and_then(|p| p.thread.clone()),
                })),
            }
        }
        json!({
            "round": self.round,
            "url": url,
            "branch": branch,
            "base_branch": base_branch,
            "conflict": self.conflict,
            "comments": comments,
            "checks": checks,
        })
    }
}

/// The prompt of a review round: the workflow's prompt (which may use `review` too), then the
/// feedback template's text.
pub fn render_round(
    prompt: &str,
    feedback: Option<&str>,
    issue: &Issue,
    attempt: Option<u32>,
    review: Value,
) -> Result<String, TemplateError> {
    let mut extra = Map::new();
    extra.insert("review".to_owned(), review);
    let task = PromptTemplate::compile(prompt)?.render_with(issue, attempt, &extra)?;
    let asks = PromptTemplate::compile(feedback.unwrap_or(DEFAULT_FEEDBACK))?
        .render_with(issue, attempt, &extra)?;
    Ok(format!("{}\n\n{}", task.trim_end(), asks.trim()))
}

/// Checks a feedback template at load: it parses, and renders a sample round, so a misspelt
/// variable is found then, not in a round.
pub fn check_template(template: &str) -> Result<(), TemplateError> {
    let issue: Issue = serde_json::from_value(json!({
        "id": "sample", "identifier": "SAMPLE-1", "title": "A sample", "state": "todo",
    }))
    .map_err(|e| TemplateError::Render {
        message: e.to_string(),
    })?;
    let sample = PendingRound::new(
        1,
        vec![Feedback::new(
            "1",
            FeedbackKind::Comment,
            "someone",
            "a remark",
        )],
        true,
    );
    render_round(
        "",
        Some(template),
        &issue,
        None,
        sample.variable(
            Some("https://example.invalid/1"),
            "symphony/SAMPLE-1",
            "main",
        ),
    )
    .map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;
    use symphony_code_host::FeedbackPlace;

    fn issue() -> Issue {
        Issue::new("1", "ABC-1", "Fix it", "todo")
    }

    fn round() -> PendingRound {
        PendingRound::new(
            2,
            vec![
                Feedback::new(
                    "r1",
                    FeedbackKind::ChangesRequested,
                    "ada",
                    "Not like this.",
                ),
                Feedback::new("c1", FeedbackKind::Comment, "ada", "Rename `x`.").at(
                    FeedbackPlace::new("src/lib.rs", Some(7), Some("T_1".into())),
                ),
                Feedback::new(
                    "k1",
                    FeedbackKind::CheckFailed {
                        check: "ci/test".into(),
                        conclusion: "failure".into(),
                    },
                    "ci-bot",
                    "test foo ... FAILED",
                ),
            ],
            true,
        )
    }

    #[test]
    fn the_default_feedback_lists_comments_checks_and_the_conflict() {
        let review = round().variable(
            Some("https://example.test/pull/3"),
            "symphony/ABC-1",
            "main",
        );
        let prompt = render_round(
            "Work on {{ issue.identifier }}.",
            None,
            &issue(),
            None,
            review,
        )
        .unwrap();
        insta::assert_snapshot!(prompt, @r"
        Work on ABC-1.

        ## Review round 2

        The change you handed off (https://example.test/pull/3) came back from review. Address the feedback below on the same branch: keep your earlier commits (do not rewrite history), change what is asked, and say what you changed. Symphony runs the gates again and updates the same pull request.

        The branch no longer merges cleanly into `main`. Merge `origin/main` into it and resolve the conflicts.

        Comments:
        - ada: Not like this.
        - ada on `src/lib.rs:7`: Rename `x`.

        Checks that did not pass on the head:
        - `ci/test` (failure, by ci-bot):
        test foo ... FAILED
        ");
    }

    #[test]
    fn the_workflow_prompt_and_a_custom_template_see_the_round() {
        let review = round().variable(None, "symphony/ABC-1", "main");
        let prompt = render_round(
            "{% if review %}Round {{ review.round }} of {{ issue.identifier }}{% endif %}",
            Some("{% for c in review.comments %}[{{ c.thread }}]{% endfor %}{{ review.checks[0].name }}"),
            &issue(),
            Some(1),
            review,
        )
        .unwrap();
        assert_eq!(prompt, "Round 2 of ABC-1\n\n[][T_1]ci/test");
    }

    #[test]
    fn the_round_round_trips_through_the_store_and_bad_json_is_refused() {
        let round = round();
        assert_eq!(PendingRound::from_json(&round.to_json()), Some(round));
        assert_eq!(PendingRound::from_json(""), None);
        assert_eq!(PendingRound::from_json("{\"round\": \"x\"}"), None);
    }

    #[test]
    fn a_template_with_an_unknown_variable_is_refused_at_load() {
        assert!(check_template("{{ review.round }} {{ review.comments.size }}").is_ok());
        assert!(check_template("{{ review.nope }}").is_err());
        assert!(check_template("{{ reviews }}").is_err());
    }
}
