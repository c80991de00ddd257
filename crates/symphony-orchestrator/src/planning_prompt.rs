//! The plan stage's words (ADR 0020): the `plan` variable, the sections appended to a
//! planning run's and the coding run's prompts, what a planning run is told when its round
//! cannot be proposed, and the comment that puts a proposed plan before a person.

use serde::Serialize;
use serde_json::{json, Value};
use symphony_core::Issue;
use symphony_workflow::TemplateError;

use crate::prompt_section;

/// The section appended to a planning run's prompt when the workflow sets none.
pub const DEFAULT_PROMPT: &str = "\
## Plan before code (round {{ plan.round }} of at most {{ plan.max_rounds }})

This issue is planned before it is coded, and this run writes the plan only: do not change \
the code yet. Write the plan as an architecture decision record in Markdown at \
`{{ plan.suggested_path }}` and change nothing else in the repository. Say what will change \
and where, why, the alternatives you considered and why not them, the risks, and how the \
change will be tested; use the sections Context, Decision, Alternatives and Consequences, \
with the status \"proposed\".

Symphony commits the draft, posts it on the issue and waits for a person to approve it; the \
code is written in a later run, with the approved plan.
{% if plan.drafts.size > 0 %}
The plan of round {{ plan.previous_round }} was not approved. Read the issue's latest comments \
for what the reviewer asked, and revise the draft in place:
{% for d in plan.drafts %}
`{{ d.path }}`:
~~~markdown
{{ d.text }}
~~~
{% endfor %}{% endif %}";

/// The section appended to the coding run's prompt when the workflow sets none.
pub const DEFAULT_APPROVED: &str = "\
## Approved plan

A person approved the plan of round {{ plan.round }}. It is on the branch \
({% for d in plan.drafts %}`{{ d.path }}`{% unless forloop.last %}, {% endunless %}{% endfor %}) \
and ships with the change. Implement it, and set the record's status to \"accepted\"; where you \
must depart from the plan, update the record to say how and why.
{% for d in plan.drafts %}
~~~markdown
{{ d.text }}
~~~
{% endfor %}";

/// The longest plan text a comment carries; the branch has the whole file.
const MAX_COMMENT_TEXT: usize = 56 * 1024;

/// One file of a plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Draft {
    /// Relative to the repository.
    pub path: String,
    /// Its text (lossily decoded).
    pub text: String,
}

/// The `plan` variable: `round` (the round proposed, or the approved one), `previous_round`,
/// `max_rounds`, `adr_dir`, `suggested_path` (where the draft goes), `approved`, and `drafts[]`
/// (`path`, `text`: the previous round's when proposing, the approved plan when coding).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PlanVariable {
    /// The round proposed, or the approved one.
    pub round: u32,
    /// `plan.max_rounds`.
    pub max_rounds: u32,
    /// The folder of decision records.
    pub adr_dir: String,
    /// Where the draft goes: the previous round's file, else the next free number.
    pub suggested_path: String,
    /// Whether this is the approved plan (a coding run).
    pub approved: bool,
    /// The previous round's drafts when proposing; the approved plan when coding.
    pub drafts: Vec<Draft>,
}

impl PlanVariable {
    fn value(&self) -> Value {
        json!({
            "round": self.round,
            "previous_round": self.round.saturating_sub(1),
            "max_rounds": self.max_rounds,
            "adr_dir": self.adr_dir,
            "suggested_path": self.suggested_path,
            "approved": self.approved,
            "drafts": self.drafts,
        })
    }

    /// The run's prompt: the workflow's `prompt`, then `section` (the planning section when
    /// proposing, the approved-plan section when coding).
    pub fn render(
        &self,
        prompt: &str,
        section: &str,
        issue: &Issue,
        attempt: Option<u32>,
    ) -> Result<String, TemplateError> {
        prompt_section::render(prompt, section, issue, attempt, ("plan", self.value()))
    }
}

/// Checks a plan template at load against a sample proposal and a sample approved plan.
pub fn check_template(template: &str) -> Result<(), TemplateError> {
    let issue = prompt_section::sample_issue();
    for approved in [false, true] {
        let sample = PlanVariable {
            round: 2,
            max_rounds: 3,
            adr_dir: "docs/adr".to_owned(),
            suggested_path: "docs/adr/0007-a-sample.md".to_owned(),
            approved,
            drafts: vec![Draft {
                path: "docs/adr/0007-a-sample.md".to_owned(),
                text: "# A sample".to_owned(),
            }],
        };
        prompt_section::render("", template, &issue, None, ("plan", sample.value()))?;
    }
    Ok(())
}

/// What a planning run is told when its round cannot be proposed yet: `outside` lists the
/// files it changed besides the plan; empty, it wrote no draft.
pub fn fix_guidance(outside: &[String], suggested_path: &str, turn: u32, max: u32) -> String {
    let what = if outside.is_empty() {
        format!(
            "Symphony found no plan draft. Write the plan as a Markdown decision record at \
             `{suggested_path}`, and change nothing else."
        )
    } else {
        let listed: Vec<String> = outside.iter().map(|p| format!("- `{p}`")).collect();
        format!(
            "A planning round may only write the plan's decision record, and these files \
             changed besides it:\n{}\nUndo those changes (the code is written once the plan \
             is approved) and keep the draft.",
            listed.join("\n")
        )
    };
    format!("{what} Fix turn {turn} of at most {max}; say when it is done.")
}

/// Where a proposed plan is, for its comment.
#[non_exhaustive]
pub struct ProposedPlan<'a> {
    /// Its round.
    pub round: u32,
    /// `plan.max_rounds`.
    pub max_rounds: u32,
    /// How a person approves it ("move this issue to **Approved**").
    pub approve: &'a str,
    /// Where a person sends it back for another round.
    pub rework_state: &'a str,
    /// Its files.
    pub drafts: &'a [Draft],
    /// The issue's branch.
    pub branch: &'a str,
    /// The round's commit.
    pub commit: &'a str,
}

/// The comment that puts a proposed plan before a person, with how to approve or reject it.
pub fn proposal_comment(plan: &ProposedPlan<'_>) -> String {
    let short = &plan.commit[..plan.commit.len().min(10)];
    let files: Vec<String> = plan
        .drafts
        .iter()
        .map(|d| format!("`{}`", d.path))
        .collect();
    let mut text = format!(
        "**Plan for review** (round {} of at most {}), written before any code. It is \
         committed on branch `{}` ({short}) as {}.\n",
        plan.round,
        plan.max_rounds,
        plan.branch,
        files.join(", ")
    );
    let mut room = MAX_COMMENT_TEXT;
    for draft in plan.drafts {
        let mut body = draft.text.trim().to_owned();
        if body.len() > room {
            let mut end = room;
            while !body.is_char_boundary(end) {
                end -= 1;
            }
            body.truncate(end);
            body.push_str("\n\n… (cut here; the whole draft is on the branch)");
        }
        room = room.saturating_sub(body.len());
        text.push_str(&format!("\n---\n\n{body}\n"));
    }
    text.push_str(&format!(
        "\n---\n\nTo approve this plan, {}: the coding run starts then, with this plan. \
         To ask for a different one, say what to change in a comment and move this issue to \
         **{}**: the next round revises the draft.",
        plan.approve, plan.rework_state
    ));
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn variable(approved: bool, drafts: bool) -> PlanVariable {
        PlanVariable {
            round: if approved { 1 } else { 2 },
            max_rounds: 3,
            adr_dir: "docs/adr".to_owned(),
            suggested_path: "docs/adr/0004-cache-the-index.md".to_owned(),
            approved,
            drafts: if drafts {
                vec![Draft {
                    path: "docs/adr/0004-cache-the-index.md".to_owned(),
                    text: "# 4. Cache the index\n\nStatus: proposed".to_owned(),
                }]
            } else {
                Vec::new()
            },
        }
    }

    fn issue() -> Issue {
        Issue::new("1", "ABC-1", "Cache the index", "todo")
    }

    #[test]
    fn the_planning_prompt_asks_for_a_draft_and_carries_the_rejected_one() {
        let first = PlanVariable {
            round: 1,
            ..variable(false, false)
        };
        let text = first
            .render(
                "Work on {{ issue.identifier }}.",
                DEFAULT_PROMPT,
                &issue(),
                None,
            )
            .unwrap();
        insta::assert_snapshot!(text, @r#"
        Work on ABC-1.

        ## Plan before code (round 1 of at most 3)

        This issue is planned before it is coded, and this run writes the plan only: do not change the code yet. Write the plan as an architecture decision record in Markdown at `docs/adr/0004-cache-the-index.md` and change nothing else in the repository. Say what will change and where, why, the alternatives you considered and why not them, the risks, and how the change will be tested; use the sections Context, Decision, Alternatives and Consequences, with the status "proposed".

        Symphony commits the draft, posts it on the issue and waits for a person to approve it; the code is written in a later run, with the approved plan.
        "#);
        let again = variable(false, true)
            .render("", DEFAULT_PROMPT, &issue(), Some(1))
            .unwrap();
        assert!(
            again.contains("The plan of round 1 was not approved")
                && again.contains(
                    "`docs/adr/0004-cache-the-index.md`:\n~~~markdown\n# 4. Cache the index"
                ),
            "{again}"
        );
    }

    #[test]
    fn the_coding_prompt_carries_the_approved_plan() {
        let text = variable(true, true)
            .render(
                "Work on {{ issue.identifier }}{% if plan %} (planned){% endif %}.",
                DEFAULT_APPROVED,
                &issue(),
                None,
            )
            .unwrap();
        insta::assert_snapshot!(text, @r#"
        Work on ABC-1 (planned).

        ## Approved plan

        A person approved the plan of round 1. It is on the branch (`docs/adr/0004-cache-the-index.md`) and ships with the change. Implement it, and set the record's status to "accepted"; where you must depart from the plan, update the record to say how and why.

        ~~~markdown
        # 4. Cache the index

        Status: proposed
        ~~~
        "#);
    }

    #[test]
    fn the_comment_shows_the_plan_and_says_how_to_answer_it() {
        let drafts = variable(false, true).drafts;
        let plan = ProposedPlan {
            round: 2,
            max_rounds: 3,
            approve: "move this issue to **approved**",
            rework_state: "todo",
            drafts: &drafts,
            branch: "symphony/ABC-1",
            commit: "0123456789abcdef",
        };
        insta::assert_snapshot!(proposal_comment(&plan), @r"
        **Plan for review** (round 2 of at most 3), written before any code. It is committed on branch `symphony/ABC-1` (0123456789) as `docs/adr/0004-cache-the-index.md`.

        ---

        # 4. Cache the index

        Status: proposed

        ---

        To approve this plan, move this issue to **approved**: the coding run starts then, with this plan. To ask for a different one, say what to change in a comment and move this issue to **todo**: the next round revises the draft.
        ");
        let huge = vec![Draft {
            path: "docs/adr/0001-x.md".to_owned(),
            text: "é".repeat(MAX_COMMENT_TEXT),
        }];
        let plan = ProposedPlan {
            drafts: &huge,
            ..plan
        };
        let comment = proposal_comment(&plan);
        assert!(comment.len() < MAX_COMMENT_TEXT + 1024, "{}", comment.len());
        assert!(comment.contains("the whole draft is on the branch"));
    }

    #[test]
    fn fix_turns_say_what_is_wrong() {
        let outside = fix_guidance(&["src/lib.rs".to_owned()], "docs/adr/0004-x.md", 1, 2);
        assert!(outside.contains("- `src/lib.rs`") && outside.contains("Fix turn 1 of at most 2"));
        let missing = fix_guidance(&[], "docs/adr/0004-x.md", 2, 2);
        assert!(missing.contains("`docs/adr/0004-x.md`"), "{missing}");
    }

    #[test]
    fn templates_with_unknown_variables_are_refused() {
        assert!(check_template("{{ plan.round }} {{ plan.drafts[0].text }}").is_ok());
        assert!(check_template("{{ plan.rounds }}").is_err());
    }
}
