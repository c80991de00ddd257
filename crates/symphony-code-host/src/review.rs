//! What a code host reports about a change under review that Symphony watches after hand-off
//! (ADR 0018): where the review stands, the branch's head, conflicts, and the feedback since
//! the last report Symphony acted on.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use symphony_core::Issue;

use crate::error::CodeHostError;

/// A code host's reports on the reviews of changes it holds ([`crate::CodeHost::review_reports`]).
#[async_trait]
pub trait ReviewReports: Send + Sync {
    /// Reports on `watched`, the change proposed for `issue`: where its review stands, its
    /// head, conflicts, and the feedback since `watched.seen`.
    async fn review_report(
        &self,
        issue: &Issue,
        watched: &WatchedChange,
    ) -> Result<ReviewReport, CodeHostError>;

    /// Answers the feedback a round addressed on `watched` (at the round's new head): in
    /// each inline thread among `addressed`, `reply` is posted and the thread resolved, and
    /// the people who asked for changes are asked to review again. A host whose reviews have
    /// no threads or reviewers to ask answers what it has and says so in the answer.
    async fn answer_round(
        &self,
        issue: &Issue,
        watched: &WatchedChange,
        addressed: &[Feedback],
        reply: &str,
    ) -> Result<RoundAnswer, CodeHostError>;
}

/// What answering a round did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct RoundAnswer {
    /// Threads replied in.
    pub replied: u32,
    /// Threads resolved.
    pub resolved: u32,
    /// Reviewers asked to review again.
    pub rerequested: Vec<String>,
}

impl RoundAnswer {
    /// `replied` threads replied in, `resolved` resolved, `rerequested` asked again.
    pub fn new(replied: u32, resolved: u32, rerequested: Vec<String>) -> Self {
        Self {
            replied,
            resolved,
            rerequested,
        }
    }
}

/// A handed-off change Symphony watches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct WatchedChange {
    /// The branch holding the change.
    pub branch: String,
    /// The branch it should merge into.
    pub base_branch: String,
    /// The host's number for the review (a pull request's), when it numbers them.
    pub number: Option<u64>,
    /// The head Symphony last proposed: another head on the host means someone else pushed.
    pub head_sha: String,
    /// The mark of the last report Symphony acted on (opaque, the host's own); `None` asks
    /// for everything since the review opened.
    pub seen: Option<String>,
    /// The mention that addresses Symphony in a conversation comment (`@symphony`); `None`:
    /// such comments are not feedback.
    pub mention: Option<String>,
}

impl WatchedChange {
    /// A change on `branch` into `base_branch` at `head_sha`, nothing seen yet.
    pub fn new(
        branch: impl Into<String>,
        base_branch: impl Into<String>,
        number: Option<u64>,
        head_sha: impl Into<String>,
    ) -> Self {
        Self {
            branch: branch.into(),
            base_branch: base_branch.into(),
            number,
            head_sha: head_sha.into(),
            seen: None,
            mention: None,
        }
    }

    /// The same change, with comments that contain `mention` (any case) addressed to Symphony.
    pub fn mentioning(mut self, mention: impl Into<String>) -> Self {
        self.mention = Some(mention.into());
        self
    }

    /// The same change with `seen` as the last mark acted on.
    pub fn seen(mut self, mark: impl Into<String>) -> Self {
        self.seen = Some(mark.into());
        self
    }
}

/// Where a review stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ReviewState {
    /// Open: feedback may come.
    Open,
    /// Merged into its base: the work is done.
    Merged,
    /// Closed without a merge.
    Closed,
}

/// What one piece of feedback is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
#[non_exhaustive]
pub enum FeedbackKind {
    /// A review asking for changes.
    ChangesRequested,
    /// A review approving the change.
    Approved,
    /// A comment addressed to Symphony, or a review without a verdict, or one inline comment
    /// of a review (with its place).
    Comment,
    /// A check or status of someone else's that did not pass on the head.
    CheckFailed {
        /// The check's name.
        check: String,
        /// How it ended, in the host's words (`failure`, `timed_out`, `action_required`).
        conclusion: String,
    },
}

impl FeedbackKind {
    /// Whether it asks for work: everything but an approval.
    pub fn is_actionable(&self) -> bool {
        !matches!(self, Self::Approved)
    }
}

/// Where an inline comment sits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct FeedbackPlace {
    /// Path relative to the repository root.
    pub path: String,
    /// 1-based line, when the comment is on a line (not on the whole file).
    pub line: Option<u32>,
    /// The thread it belongs to, to reply in and resolve.
    pub thread: Option<String>,
}

impl FeedbackPlace {
    /// `path`, `line`, in `thread`.
    pub fn new(path: impl Into<String>, line: Option<u32>, thread: Option<String>) -> Self {
        Self {
            path: path.into(),
            line,
            thread,
        }
    }
}

/// One piece of feedback.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Feedback {
    /// The host's stable id for it: the same feedback is never acted on twice.
    pub id: String,
    /// What it is.
    pub kind: FeedbackKind,
    /// Who gave it (a login, a name, an app).
    pub author: String,
    /// What it says (for a check: a bounded tail of its summary or log).
    pub body: String,
    /// For an inline comment: where.
    pub place: Option<FeedbackPlace>,
}

impl Feedback {
    /// Feedback `id` of `kind` by `author` saying `body`, not on a line.
    pub fn new(
        id: impl Into<String>,
        kind: FeedbackKind,
        author: impl Into<String>,
        body: impl Into<String>,
    ) -> Self {
        Self {
            id: id.into(),
            kind,
            author: author.into(),
            body: body.into(),
            place: None,
        }
    }

    /// The same feedback at `place`.
    pub fn at(mut self, place: FeedbackPlace) -> Self {
        self.place = Some(place);
        self
    }
}

/// What a code host reports about a watched change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ReviewReport {
    /// Where the review stands.
    pub state: ReviewState,
    /// The branch's head on the host now (`None` when the host cannot say, or the branch is
    /// gone).
    pub head_sha: Option<String>,
    /// Whether the change no longer merges cleanly into its base.
    pub conflict: bool,
    /// Feedback since the watched change's `seen` mark, oldest first.
    pub feedback: Vec<Feedback>,
    /// The mark to record as `seen` once this report is acted on. Asking again with the old
    /// mark gives the same feedback (and whatever came since): a report is never lost by a
    /// crash between reading and acting.
    pub mark: String,
}

impl ReviewReport {
    /// A report of `state` at `head_sha`, without conflict or feedback, marked `mark`.
    pub fn new(state: ReviewState, head_sha: Option<String>, mark: impl Into<String>) -> Self {
        Self {
            state,
            head_sha,
            conflict: false,
            feedback: Vec::new(),
            mark: mark.into(),
        }
    }

    /// Whether someone other than Symphony moved the branch: its head on the host is not the
    /// one Symphony proposed.
    pub fn head_moved(&self, watched: &WatchedChange) -> bool {
        self.head_sha
            .as_deref()
            .is_some_and(|head| head != watched.head_sha)
    }

    /// Whether anything in it asks for another round of work.
    pub fn wants_work(&self) -> bool {
        self.state == ReviewState::Open
            && (self.conflict || self.feedback.iter().any(|f| f.kind.is_actionable()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn watched() -> WatchedChange {
        WatchedChange::new("symphony/a-1", "main", Some(7), "aaa")
    }

    #[test]
    fn approvals_alone_ask_for_no_work_and_a_closed_review_never_does() {
        let mut report = ReviewReport::new(ReviewState::Open, Some("aaa".into()), "m1");
        assert!(!report.wants_work());
        report
            .feedback
            .push(Feedback::new("1", FeedbackKind::Approved, "ada", "LGTM"));
        assert!(!report.wants_work(), "an approval is no work");
        report.feedback.push(Feedback::new(
            "2",
            FeedbackKind::CheckFailed {
                check: "ci".into(),
                conclusion: "failure".into(),
            },
            "ci-app",
            "test failed",
        ));
        assert!(report.wants_work());
        report.state = ReviewState::Merged;
        assert!(!report.wants_work(), "merged: nothing left to do");
        let conflicted = ReviewReport {
            conflict: true,
            ..ReviewReport::new(ReviewState::Open, None, "m2")
        };
        assert!(conflicted.wants_work(), "a conflict is work");
    }

    #[test]
    fn a_head_other_than_symphonys_is_a_moved_head() {
        let report =
            |head: Option<&str>| ReviewReport::new(ReviewState::Open, head.map(str::to_owned), "m");
        assert!(!report(Some("aaa")).head_moved(&watched()));
        assert!(report(Some("bbb")).head_moved(&watched()));
        assert!(!report(None).head_moved(&watched()), "unknown is not moved");
    }
}
