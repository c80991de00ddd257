//! A review round as the agent sees it (ADR 0018): the feedback the watch took, kept in the
//! store as [`PendingRound`] JSON, becomes the `review` variable of the prompt and the text of
//! the feedback template appended to it.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use symphony_code_host::{Feedback, FeedbackKind};
use symphony_core::Issue;
use symphony_workflow::TemplateError;

/// The feedback template used when the workflow sets none.
pub const DEFAULT_FEEDBACK: &str = "\
## Review round {{ review.round }}
{% if review.closed %}
The change you handed off{% if review.url %} ({{ review.url }}){% endif %} was closed without a \
merge, and the issue was queued again. Take what was said below into account and hand off a \
change that answers it, on the same branch: Symphony runs the gates again and proposes it anew.
{% else %}
The change you handed off{% if review.url %} ({{ review.url }}){% endif %} came back from review. \
Address the feedback below on the same branch: keep your earlier commits (do not rewrite \
history), change what is asked, and say what you changed. Symphony runs the gates again and \
updates the same pull request.
{% endif %}{% if review.conflict %}{% if review.conflict_files.size > 0 %}
The branch no longer merged cleanly into `{{ review.base_branch }}`. Symphony started merging \
`origin/{{ review.base_branch }}` into it; git could not merge these files, which now hold \
conflict markers. Resolve each conflict (keep what both sides meant) and remove the markers; \
Symphony commits the merge:
{% for file in review.conflict_files %}- `{{ file }}`
{% endfor %}{% else %}
The branch no longer merged cleanly into `{{ review.base_branch }}`, so Symphony brought \
`origin/{{ review.base_branch }}` into it before this round. Check that the change still \
builds and works on top of it.
{% endif %}{% endif %}{% if review.comments.size > 0 %}
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
    /// Whether the change was closed without a merge and the issue queued again: the round's
    /// hand-off proposes the change anew. Absent in rounds recorded before it existed.
    #[serde(default)]
    pub closed: bool,
}

impl PendingRound {
    /// Round `round` of `feedback`, with or without a conflict.
    pub fn new(round: u32, feedback: Vec<Feedback>, conflict: bool) -> Self {
        Self {
            round,
            feedback,
            conflict,
            closed: false,
        }
    }

    /// A round after the change was closed without a merge: `feedback` is what was said.
    pub fn requeued(round: u32, feedback: Vec<Feedback>) -> Self {
        Self {
            closed: true,
            ..Self::new(round, feedback, false)
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
    /// `conflict`, `conflict_files[]` (what git could not merge when Symphony merged the base
    /// before the round), `closed`, `comments[]` (`id`, `kind`, `author`, `body`, `path`,
    /// `line`, `thread`) and `checks[]` (`name`, `conclusion`, `author`, `summary`).
    pub fn variable(
        &self,
        url: Option<&str>,
        branch: &str,
        base_branch: &str,
        conflict_files: &[String],
    ) -> Value {
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
            "conflict_files": conflict_files,
            "closed": self.closed,
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
    crate::prompt_section::render(
        prompt,
        feedback.unwrap_or(DEFAULT_FEEDBACK),
        issue,
        attempt,
        ("review", review),
    )
}

/// Checks a feedback template at load: it parses, and renders a sample round, so a misspelt
/// variable is found then, not in a round.
pub fn check_template(template: &str) -> Result<(), TemplateError> {
    let issue = crate::prompt_section::sample_issue();
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
            &["src/sample.rs".to_owned()],
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
            &["src/lib.rs".to_owned(), "README.md".to_owned()],
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

        The branch no longer merged cleanly into `main`. Symphony started merging `origin/main` into it; git could not merge these files, which now hold conflict markers. Resolve each conflict (keep what both sides meant) and remove the markers; Symphony commits the merge:
        - `src/lib.rs`
        - `README.md`

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
        let review = round().variable(None, "symphony/ABC-1", "main", &[]);
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
    fn a_clean_merge_and_a_requeue_are_said_as_such() {
        let mut merged = round();
        merged.feedback.clear();
        let prompt = |round: &PendingRound| {
            render_round(
                "",
                None,
                &issue(),
                None,
                round.variable(None, "symphony/ABC-1", "main", &[]),
            )
            .unwrap()
        };
        let text = prompt(&merged);
        assert!(
            text.contains("Symphony brought `origin/main` into it before this round")
                && !text.contains("conflict markers"),
            "{text}"
        );
        let requeued = PendingRound::requeued(
            1,
            vec![Feedback::new(
                "9",
                FeedbackKind::Comment,
                "ada",
                "Wrong approach: use the cache.",
            )],
        );
        let text = prompt(&requeued);
        assert!(
            text.contains("was closed without a merge")
                && text.contains("proposes it anew")
                && text.contains("- ada: Wrong approach: use the cache.")
                && !text.contains("came back from review"),
            "{text}"
        );
    }

    #[test]
    fn the_round_round_trips_through_the_store_and_bad_json_is_refused() {
        let round = round();
        assert_eq!(PendingRound::from_json(&round.to_json()), Some(round));
        let before_requeues = r#"{"round":1,"feedback":[],"conflict":false}"#;
        assert_eq!(
            PendingRound::from_json(before_requeues),
            Some(PendingRound::new(1, Vec::new(), false)),
            "a round recorded by an earlier build still reads"
        );
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
