//! What Symphony does about a watched change's review report (ADR 0018): a pure decision, with
//! no I/O, so every case is tested deterministically. The review watch performs it.
//!
//! Order matters and is fixed: a merge or a close ends the watch whatever else the report says
//! (a close may queue the issue again, as a round); a head someone else pushed is never worked
//! over (it goes to a person, or is taken as the change's own, by policy); then feedback that
//! asks for work starts a round, unless the rounds are spent, when a person takes over.

use symphony_code_host::{Feedback, ReviewReport, ReviewState, WatchedChange};

/// Default of `review.max_rounds`.
pub const DEFAULT_MAX_ROUNDS: u32 = 3;

/// What to do with a change closed without a merge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum OnClosed {
    /// The issue goes back to the queue, the closing feedback its context.
    Requeue,
    /// A person decides (the needs-human state).
    Person,
}

/// What to do when someone else pushed to the change's branch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum OnHeadMoved {
    /// A person decides (the needs-human state).
    Person,
    /// Their commits become the change's: the watch moves to their head and the next round's
    /// workspace is rebased onto it (a push that rewrote the branch still goes to a person).
    Rebase,
}

/// The rules a review watch follows.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReviewPolicy {
    /// Feedback rounds before a person takes over (a requeue after a close counts as one).
    pub max_rounds: u32,
    /// A change closed without a merge.
    pub on_closed: OnClosed,
    /// A branch someone else pushed to.
    pub on_head_moved: OnHeadMoved,
}

impl Default for ReviewPolicy {
    fn default() -> Self {
        Self {
            max_rounds: DEFAULT_MAX_ROUNDS,
            on_closed: OnClosed::Person,
            on_head_moved: OnHeadMoved::Person,
        }
    }
}

/// What the watch does about one report.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ReviewDecision {
    /// Nothing asks for work: keep watching. `mark` is the report's when it moved past
    /// feedback that asks for none (an approval), to record so it is not reported again.
    Wait {
        /// The mark to record, if it moved.
        mark: Option<String>,
    },
    /// Another round: the issue goes back to work with this feedback (and the conflict, if
    /// the change no longer merges), recorded with the report's mark in one step.
    Round {
        /// The round this is (1 for the first feedback after the hand-off).
        round: u32,
        /// The feedback that asks for work, oldest first.
        feedback: Vec<Feedback>,
        /// Whether the change conflicts with its base.
        conflict: bool,
        /// The report's mark.
        mark: String,
    },
    /// Merged: the issue is done, the watch ends.
    Merged,
    /// Closed without a merge, and a person decides what comes next: the watch ends.
    Closed(OnClosed),
    /// Closed without a merge and queued again (`on_closed: requeue`): a round whose
    /// feedback is what the report says (the closing remarks among it), recorded with the
    /// report's mark; its hand-off proposes the change anew.
    Requeue {
        /// The round this is.
        round: u32,
        /// Everything the report says, oldest first.
        feedback: Vec<Feedback>,
        /// The report's mark.
        mark: String,
    },
    /// Someone else pushed to the branch: Symphony never overwrites a person's push, so a
    /// person takes over.
    HeadMoved {
        /// The head on the host.
        head: String,
    },
    /// Someone else pushed to the branch and the policy takes their commits as the
    /// change's: the watch moves to `head`, then the report is decided again.
    Adopt {
        /// The head on the host.
        head: String,
    },
    /// Feedback asks for work but the rounds are spent: a person takes over, told what is
    /// still open.
    RoundsSpent {
        /// The open feedback.
        open: Vec<Feedback>,
        /// Whether the change conflicts with its base.
        conflict: bool,
    },
}

/// What to do about `report` on `watched`, after `rounds` rounds taken, under `policy`.
pub fn decide(
    watched: &WatchedChange,
    rounds: u32,
    report: &ReviewReport,
    policy: &ReviewPolicy,
) -> ReviewDecision {
    match report.state {
        ReviewState::Merged => return ReviewDecision::Merged,
        ReviewState::Closed => {
            return match policy.on_closed {
                OnClosed::Requeue if rounds < policy.max_rounds => ReviewDecision::Requeue {
                    round: rounds + 1,
                    feedback: report.feedback.clone(),
                    mark: report.mark.clone(),
                },
                // Queued again as often as the rounds allow, then a person decides.
                _ => ReviewDecision::Closed(OnClosed::Person),
            };
        }
        _ => {}
    }
    if report.head_moved(watched) {
        let head = report.head_sha.clone().unwrap_or_default();
        return match policy.on_head_moved {
            OnHeadMoved::Rebase => ReviewDecision::Adopt { head },
            OnHeadMoved::Person => ReviewDecision::HeadMoved { head },
        };
    }
    let open: Vec<Feedback> = report
        .feedback
        .iter()
        .filter(|f| f.kind.is_actionable())
        .cloned()
        .collect();
    if open.is_empty() && !report.conflict {
        let moved = watched.seen.as_deref() != Some(report.mark.as_str());
        return ReviewDecision::Wait {
            mark: moved.then(|| report.mark.clone()),
        };
    }
    if rounds >= policy.max_rounds {
        return ReviewDecision::RoundsSpent {
            open,
            conflict: report.conflict,
        };
    }
    ReviewDecision::Round {
        round: rounds + 1,
        feedback: open,
        conflict: report.conflict,
        mark: report.mark.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use symphony_code_host::FeedbackKind;

    fn watched() -> WatchedChange {
        WatchedChange::new("symphony/a-1", "main", Some(7), "aaa").seen("m0")
    }

    fn report(state: ReviewState, head: &str, feedback: Vec<Feedback>) -> ReviewReport {
        let mut report = ReviewReport::new(state, Some(head.to_owned()), "m1");
        report.feedback = feedback;
        report
    }

    fn changes() -> Feedback {
        Feedback::new("r1", FeedbackKind::ChangesRequested, "ada", "Fix it.")
    }

    fn approval() -> Feedback {
        Feedback::new("r2", FeedbackKind::Approved, "ada", "Good.")
    }

    #[test]
    fn feedback_that_asks_for_work_starts_the_next_round_with_its_mark() {
        let decision = decide(
            &watched(),
            1,
            &report(ReviewState::Open, "aaa", vec![approval(), changes()]),
            &ReviewPolicy::default(),
        );
        assert_eq!(
            decision,
            ReviewDecision::Round {
                round: 2,
                feedback: vec![changes()],
                conflict: false,
                mark: "m1".into()
            }
        );
    }

    #[test]
    fn a_conflict_alone_is_a_round() {
        let mut conflicted = report(ReviewState::Open, "aaa", Vec::new());
        conflicted.conflict = true;
        let decision = decide(&watched(), 0, &conflicted, &ReviewPolicy::default());
        assert!(
            matches!(decision, ReviewDecision::Round { round: 1, conflict: true, ref feedback, .. } if feedback.is_empty()),
            "{decision:?}"
        );
    }

    #[test]
    fn approvals_move_the_mark_and_nothing_else() {
        let policy = ReviewPolicy::default();
        let approved = report(ReviewState::Open, "aaa", vec![approval()]);
        assert_eq!(
            decide(&watched(), 0, &approved, &policy),
            ReviewDecision::Wait {
                mark: Some("m1".into())
            }
        );
        let unchanged = ReviewReport::new(ReviewState::Open, Some("aaa".into()), "m0");
        assert_eq!(
            decide(&watched(), 0, &unchanged, &policy),
            ReviewDecision::Wait { mark: None },
            "nothing new: nothing to record"
        );
    }

    #[test]
    fn merges_and_closes_end_the_watch_whatever_else_is_said() {
        let policy = ReviewPolicy {
            on_closed: OnClosed::Requeue,
            ..ReviewPolicy::default()
        };
        let merged = report(ReviewState::Merged, "bbb", vec![changes()]);
        assert_eq!(
            decide(&watched(), 9, &merged, &policy),
            ReviewDecision::Merged
        );
        let closed = report(ReviewState::Closed, "aaa", vec![approval(), changes()]);
        assert_eq!(
            decide(&watched(), 0, &closed, &policy),
            ReviewDecision::Requeue {
                round: 1,
                feedback: vec![approval(), changes()],
                mark: "m1".into()
            },
            "queued again with everything said, as a round"
        );
        assert_eq!(
            decide(&watched(), 3, &closed, &policy),
            ReviewDecision::Closed(OnClosed::Person),
            "no rounds left: a person decides"
        );
        assert_eq!(
            decide(&watched(), 0, &closed, &ReviewPolicy::default()),
            ReviewDecision::Closed(OnClosed::Person)
        );
    }

    #[test]
    fn a_head_someone_else_pushed_is_never_worked_over() {
        let pushed = report(ReviewState::Open, "bbb", vec![changes()]);
        assert_eq!(
            decide(&watched(), 0, &pushed, &ReviewPolicy::default()),
            ReviewDecision::HeadMoved { head: "bbb".into() }
        );
        let rebase = ReviewPolicy {
            on_head_moved: OnHeadMoved::Rebase,
            ..ReviewPolicy::default()
        };
        assert_eq!(
            decide(&watched(), 0, &pushed, &rebase),
            ReviewDecision::Adopt { head: "bbb".into() },
            "taken as the change's own, before the feedback is decided"
        );
        let adopted = WatchedChange::new("symphony/a-1", "main", Some(7), "bbb").seen("m0");
        assert!(matches!(
            decide(&adopted, 0, &pushed, &rebase),
            ReviewDecision::Round { round: 1, .. }
        ));
    }

    #[test]
    fn when_the_rounds_are_spent_a_person_takes_over_with_what_is_open() {
        let policy = ReviewPolicy {
            max_rounds: 2,
            ..ReviewPolicy::default()
        };
        let asked = report(ReviewState::Open, "aaa", vec![approval(), changes()]);
        assert!(matches!(
            decide(&watched(), 1, &asked, &policy),
            ReviewDecision::Round { round: 2, .. }
        ));
        assert_eq!(
            decide(&watched(), 2, &asked, &policy),
            ReviewDecision::RoundsSpent {
                open: vec![changes()],
                conflict: false
            }
        );
    }
}
