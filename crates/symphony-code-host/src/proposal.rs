//! A finished change offered for review: what Symphony's hand-off stage asks a code host to
//! publish (a pull request on a forge, a section in the issue file locally), with the gate
//! verdicts as checks. Kept free of the gates crate so code hosts depend only on this one.

use serde::Serialize;

/// A change ready for review.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ChangeProposal {
    /// The branch holding the change (`symphony/<key>`).
    pub branch: String,
    /// The branch it should merge into.
    pub base_branch: String,
    /// The commit the checks are about (the branch's head).
    pub head_sha: String,
    /// One line: `<identifier>: <title>`.
    pub title: String,
    /// The proof-of-work body (Markdown).
    pub body: String,
    /// Open it as a draft where the forge has drafts.
    pub draft: bool,
}

/// How one check ended, in the vocabulary forges share.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum CheckConclusion {
    /// Passed.
    Success,
    /// Found problems.
    Failure,
    /// Could not decide (tool error, timeout).
    Error,
    /// Did not apply to this change.
    Skipped,
}

impl CheckConclusion {
    /// The snake-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::Failure => "failure",
            Self::Error => "error",
            Self::Skipped => "skipped",
        }
    }
}

/// A problem a check found at a place in the change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct CheckAnnotation {
    /// Path relative to the repository root.
    pub path: String,
    /// 1-based line.
    pub line: u32,
    /// `notice`, `warning` or `failure`.
    pub level: String,
    /// The rule that fired.
    pub title: String,
    /// What is wrong (never a secret: gates redact before this point).
    pub message: String,
}

/// One gate's verdict as a check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct CheckResult {
    /// The gate's name (`secrets`, `tests`, ...).
    pub name: String,
    /// How it ended.
    pub conclusion: CheckConclusion,
    /// One line.
    pub summary: String,
    /// Findings with a place.
    pub annotations: Vec<CheckAnnotation>,
}

/// Where the proposal was published.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ProposalOutcome {
    /// A link people follow (the PR's page), when there is one.
    pub url: Option<String>,
    /// The forge's number for it, when there is one.
    pub number: Option<u64>,
    /// Whether this call created it (false: an existing one was updated).
    pub created: bool,
}

impl ChangeProposal {
    /// A ready (not draft) proposal of `branch` onto `base_branch` at `head_sha`.
    pub fn new(
        branch: impl Into<String>,
        base_branch: impl Into<String>,
        head_sha: impl Into<String>,
        title: impl Into<String>,
        body: impl Into<String>,
    ) -> Self {
        Self {
            branch: branch.into(),
            base_branch: base_branch.into(),
            head_sha: head_sha.into(),
            title: title.into(),
            body: body.into(),
            draft: false,
        }
    }
}

impl CheckAnnotation {
    /// A note on `line` of `path`.
    pub fn new(
        path: impl Into<String>,
        line: u32,
        level: impl Into<String>,
        title: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            path: path.into(),
            line,
            level: level.into(),
            title: title.into(),
            message: message.into(),
        }
    }
}

impl CheckResult {
    /// A check without annotations.
    pub fn new(
        name: impl Into<String>,
        conclusion: CheckConclusion,
        summary: impl Into<String>,
    ) -> Self {
        Self {
            name: name.into(),
            conclusion,
            summary: summary.into(),
            annotations: Vec::new(),
        }
    }
}

impl ProposalOutcome {
    /// Where the proposal is (`url`, `number` when the host numbers them) and whether this
    /// call created it (`false`: an existing one was updated).
    pub fn new(url: Option<String>, number: Option<u64>, created: bool) -> Self {
        Self {
            url,
            number,
            created,
        }
    }
}
