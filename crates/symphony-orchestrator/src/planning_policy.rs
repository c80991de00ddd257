//! What the plan stage does next (ADR 0020), decided from plain data: the issue, the plan
//! settings, the plan rounds the branch records, and what a planning run changed. No I/O, so
//! every rule is tested here; `service::planning` reads and writes around it.

use symphony_core::Issue;
use symphony_gates::{ChangedFile, FileChange};
use symphony_workspace::BranchCommit;

use crate::planning_config::PlanningConfig;

/// The trailer that marks a plan round's commit (its value: the round).
pub const ROUND_TRAILER: &str = "Symphony-Plan-Round";
/// The trailer naming one file of the plan (one per file).
pub const FILE_TRAILER: &str = "Symphony-Plan-File";

/// A plan round as its commit on the issue's branch records it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PlanRound {
    /// Its place among the branch's plan rounds, from 1 (counted, not read from the trailer).
    pub round: u32,
    /// The commit (hex).
    pub commit: String,
    /// The commit's tree: what the branch held once the plan was written.
    pub tree: String,
    /// The plan's files.
    pub files: Vec<String>,
}

/// The trailers of a commit message: `Key: value` lines of its last paragraph, in order.
pub fn trailers(message: &str) -> Vec<(&str, &str)> {
    let last = message.trim_end().rsplit("\n\n").next().unwrap_or_default();
    let lines: Vec<Option<(&str, &str)>> = last
        .lines()
        .map(|line| {
            let (key, value) = line.split_once(": ")?;
            let key = key.trim();
            let is_key =
                !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
            is_key.then(|| (key, value.trim()))
        })
        .collect();
    // A paragraph is a trailer block only when every line of it is a trailer.
    if lines.iter().all(Option::is_some) {
        lines.into_iter().flatten().collect()
    } else {
        Vec::new()
    }
}

/// The plan rounds among `commits` (oldest first): the commits with a round trailer that name
/// at least one plan file.
pub fn plan_rounds(commits: &[BranchCommit]) -> Vec<PlanRound> {
    let mut rounds = Vec::new();
    for commit in commits {
        let trailers = trailers(&commit.message);
        if !trailers.iter().any(|(k, _)| *k == ROUND_TRAILER) {
            continue;
        }
        let files: Vec<String> = trailers
            .iter()
            .filter(|(k, v)| *k == FILE_TRAILER && !v.is_empty())
            .map(|(_, v)| (*v).to_owned())
            .collect();
        if files.is_empty() {
            continue;
        }
        rounds.push(PlanRound {
            round: u32::try_from(rounds.len() + 1).unwrap_or(u32::MAX),
            commit: commit.id.clone(),
            tree: commit.tree.clone(),
            files,
        });
    }
    rounds
}

/// What a run of a planned issue does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlanStep {
    /// Propose plan round `round`, revising `previous` when there is one.
    Propose {
        /// The round to propose, from 1.
        round: u32,
        /// The round before it, whose drafts are revised.
        previous: Option<PlanRound>,
    },
    /// The plan is approved: code it.
    Code {
        /// The approved round: the branch's last.
        approved: PlanRound,
    },
    /// Only a person can go on.
    ToPerson {
        /// Why, as a category.
        category: &'static str,
        /// Why, in words.
        why: String,
    },
}

/// The step for `issue`, which the plan stage applies to, given the rounds on its branch.
pub fn next_step(config: &PlanningConfig, issue: &Issue, rounds: &[PlanRound]) -> PlanStep {
    let last = rounds.last().cloned();
    if config.approved(issue) {
        return match last {
            Some(approved) => PlanStep::Code { approved },
            None => PlanStep::ToPerson {
                category: "plan_missing_on_approval",
                why: "the issue is marked approved, but its branch holds no plan Symphony \
                      proposed, so there is nothing approved to code; move it to a planning \
                      state to get a plan first"
                    .to_owned(),
            },
        };
    }
    let done = u32::try_from(rounds.len()).unwrap_or(u32::MAX);
    if done >= config.max_rounds {
        return PlanStep::ToPerson {
            category: "plan_rounds_exhausted",
            why: format!(
                "{done} plan(s) were proposed and none was approved (plan.max_rounds is {})",
                config.max_rounds
            ),
        };
    }
    PlanStep::Propose {
        round: done + 1,
        previous: last,
    }
}

/// What a planning run left, judged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DraftCheck {
    /// The plan's files: added or edited Markdown directly in the ADR folder, nothing else.
    Drafts(Vec<String>),
    /// No draft was written.
    Missing,
    /// Files outside the drafts changed (a plan comes before code).
    Outside(Vec<String>),
}

impl DraftCheck {
    /// The category of a round that cannot be proposed.
    pub fn category(&self) -> &'static str {
        match self {
            Self::Drafts(_) => "plan_ready",
            Self::Missing => "plan_missing",
            Self::Outside(_) => "plan_touched_code",
        }
    }
}

/// Judges the files a planning run changed against `adr_dir`.
pub fn check_drafts(adr_dir: &str, files: &[ChangedFile]) -> DraftCheck {
    let prefix = format!("{}/", adr_dir.trim_start_matches("./"));
    let is_draft = |path: &str| {
        path.strip_prefix(&prefix)
            .is_some_and(|name| name.ends_with(".md") && !name.contains('/') && name.len() > 3)
    };
    let mut drafts = Vec::new();
    let mut outside = Vec::new();
    for file in files {
        let ok = match &file.change {
            FileChange::Added | FileChange::Modified => is_draft(&file.path),
            FileChange::Renamed { from } => is_draft(&file.path) && is_draft(from),
            _ => false,
        };
        if ok {
            drafts.push(file.path.clone());
        } else {
            outside.push(file.path.clone());
        }
    }
    if !outside.is_empty() {
        DraftCheck::Outside(outside)
    } else if drafts.is_empty() {
        DraftCheck::Missing
    } else {
        DraftCheck::Drafts(drafts)
    }
}

/// The message of plan round `round`'s commit.
pub fn round_message(
    subject: &str,
    identifier: &str,
    run: &str,
    round: u32,
    files: &[String],
) -> String {
    let mut message = format!(
        "{subject}\n\nSymphony-Issue: {identifier}\nSymphony-Run: {run}\n{ROUND_TRAILER}: {round}\n"
    );
    for file in files {
        message.push_str(&format!("{FILE_TRAILER}: {file}\n"));
    }
    message
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn commit(id: &str, message: &str) -> BranchCommit {
        BranchCommit::new(id, format!("t{id}"), message)
    }

    fn config() -> PlanningConfig {
        crate::test_config::planning(json!({
            "labels": ["plan"], "review_state": "plan review",
            "approved_state": "approved", "max_rounds": 2,
        }))
    }

    fn issue(state: &str) -> Issue {
        let mut issue = Issue::new("1", "X-1", "T", state);
        issue.labels = vec!["plan".to_owned()];
        issue
    }

    #[test]
    fn rounds_are_the_commits_symphony_marked_counted_in_order() {
        let one = round_message("Plan", "X-1", "run-1", 1, &["docs/adr/0001-a.md".into()]);
        let commits = [
            commit("a", &one),
            commit("b", "Agent's own work\n\nSymphony-Plan-Round: 7\n"),
            commit(
                "c",
                "Prose that mentions Symphony-Plan-Round: 2 in passing\n",
            ),
            commit(
                "d",
                &round_message(
                    "Plan",
                    "X-1",
                    "run-2",
                    9,
                    &["docs/adr/0001-a.md".into(), "docs/adr/0002-b.md".into()],
                ),
            ),
        ];
        let rounds = plan_rounds(&commits);
        assert_eq!(rounds.len(), 2, "{rounds:?}");
        assert_eq!((rounds[0].round, rounds[0].commit.as_str()), (1, "a"));
        assert_eq!(rounds[0].tree, "ta");
        assert_eq!(
            (rounds[1].round, rounds[1].files.len()),
            (2, 2),
            "counted, whatever the trailer says"
        );
        assert_eq!(trailers("Subject only"), Vec::new());
        assert_eq!(
            trailers("S\n\nBody line\nKey: v"),
            Vec::new(),
            "a paragraph with prose is not a trailer block"
        );
    }

    #[test]
    fn the_step_follows_approval_and_the_round_limit() {
        let config = config();
        let round = |n: u32| PlanRound {
            round: n,
            commit: format!("c{n}"),
            tree: format!("t{n}"),
            files: vec!["docs/adr/0001-a.md".into()],
        };
        assert_eq!(
            next_step(&config, &issue("todo"), &[]),
            PlanStep::Propose {
                round: 1,
                previous: None
            }
        );
        assert_eq!(
            next_step(&config, &issue("todo"), &[round(1)]),
            PlanStep::Propose {
                round: 2,
                previous: Some(round(1))
            }
        );
        assert!(matches!(
            next_step(&config, &issue("todo"), &[round(1), round(2)]),
            PlanStep::ToPerson {
                category: "plan_rounds_exhausted",
                ..
            }
        ));
        assert_eq!(
            next_step(&config, &issue("Approved"), &[round(1), round(2)]),
            PlanStep::Code { approved: round(2) },
            "the last round is the approved one, even at the limit"
        );
        assert!(matches!(
            next_step(&config, &issue("approved"), &[]),
            PlanStep::ToPerson {
                category: "plan_missing_on_approval",
                ..
            }
        ));
    }

    #[test]
    fn a_planning_run_may_write_only_drafts_in_the_folder() {
        let file = |path: &str, change: FileChange| ChangedFile::new(path, change);
        let check = |files: &[ChangedFile]| check_drafts("docs/adr", files);
        assert_eq!(
            check(&[file("docs/adr/0003-cache.md", FileChange::Added)]),
            DraftCheck::Drafts(vec!["docs/adr/0003-cache.md".into()])
        );
        assert_eq!(check(&[]), DraftCheck::Missing);
        for outside in [
            file("src/lib.rs", FileChange::Added),
            file("docs/adr/0001-old.md", FileChange::Deleted),
            file("docs/adr/sub/0001-x.md", FileChange::Added),
            file("docs/adr/0003-x.txt", FileChange::Added),
            file("docs/adrx/0003-x.md", FileChange::Added),
            file(
                "docs/adr/0003-x.md",
                FileChange::Renamed {
                    from: "README.md".into(),
                },
            ),
        ] {
            let path = outside.path.clone();
            assert_eq!(
                check(&[
                    file("docs/adr/0003-cache.md", FileChange::Modified),
                    outside
                ]),
                DraftCheck::Outside(vec![path.clone()]),
                "{path}"
            );
        }
        assert_eq!(
            check_drafts("./adr", &[file("adr/0001-a.md", FileChange::Added)]).category(),
            "plan_ready"
        );
    }

    proptest! {
        #[test]
        fn any_round_message_reads_back_as_one_round(
            subject in "[^\n]{1,60}",
            files in proptest::collection::vec("[a-z0-9/._-]{1,40}", 1..4),
            round in 1u32..50,
        ) {
            let message = round_message(&subject, "X-1", "run-3", round, &files);
            let rounds = plan_rounds(&[commit("z", &message)]);
            prop_assert_eq!(rounds.len(), 1);
            prop_assert_eq!(&rounds[0].files, &files);
        }
    }
}
