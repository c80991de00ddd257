//! Remarks on the lines of a proposed change: what a reviewer found that did not block (the
//! `ai_review` gate's findings below its bar) posted where people read the change — review
//! comments on a pull request's diff. A capability, like [`crate::ReviewReports`]: a host
//! without it says so (`CodeHost::line_comments` is `None`), and the orchestrator records that
//! the remarks were not posted.

use async_trait::async_trait;
use serde::Serialize;
use symphony_core::Issue;

use crate::error::CodeHostError;
use crate::proposal::{ChangeProposal, ProposalOutcome};

/// One remark on one line of the proposed change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct LineComment {
    /// Path relative to the repository root.
    pub path: String,
    /// 1-based line in the changed file; a line the change added (it is in the diff).
    pub line: u32,
    /// The remark (Markdown).
    pub body: String,
    /// A stable identity (the finding's fingerprint): a remark already posted on the change is
    /// not posted again when the change is proposed again.
    pub key: String,
}

impl LineComment {
    /// A remark `body` on `line` of `path`, known as `key`.
    pub fn new(
        path: impl Into<String>,
        line: u32,
        body: impl Into<String>,
        key: impl Into<String>,
    ) -> Self {
        Self {
            path: path.into(),
            line,
            body: body.into(),
            key: key.into(),
        }
    }
}

/// What posting did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct CommentsPosted {
    /// Remarks posted now.
    pub posted: u32,
    /// Remarks that were already on the change (by key).
    pub already: u32,
}

impl CommentsPosted {
    /// `posted` new, `already` there before.
    pub fn new(posted: u32, already: u32) -> Self {
        Self { posted, already }
    }
}

/// Posting remarks on a proposed change's lines.
#[async_trait]
pub trait LineComments: Send + Sync {
    /// Posts `comments` on the change `proposal` opened as `outcome`, as one review headed by
    /// `summary`; skips those whose key is already there. Safe to call again.
    async fn comment_lines(
        &self,
        issue: &Issue,
        proposal: &ChangeProposal,
        outcome: &ProposalOutcome,
        summary: &str,
        comments: &[LineComment],
    ) -> Result<CommentsPosted, CodeHostError>;
}
