//! A candidate read's answer: every candidate, or only what changed since an earlier answer.

use symphony_core::Issue;

/// What [`crate::Tracker::fetch_candidates`] answers.
///
/// A *complete* answer lists every issue in the requested states. An *incremental* one lists
/// the issues in scope that changed since the mark it was asked with, whatever their state
/// now (an issue that left the requested states is there, so the reader drops it); an empty
/// list means nothing changed. An incremental answer cannot show an issue deleted or moved out
/// of scope: a tracker that gives them answers completely often enough to bound that (the
/// scheduler also re-reads each issue before a run starts).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct CandidateRead {
    /// The issues, as described above.
    pub issues: Vec<Issue>,
    /// Whether `issues` is every candidate.
    pub complete: bool,
    /// This answer's mark, to hand back with the next read; `None` when the tracker cannot
    /// answer incrementally.
    pub mark: Option<String>,
}

impl CandidateRead {
    /// Every candidate, with no mark.
    pub fn complete(issues: Vec<Issue>) -> Self {
        Self {
            issues,
            complete: true,
            mark: None,
        }
    }

    /// Only what changed since the mark the read was given.
    pub fn changed(issues: Vec<Issue>, mark: String) -> Self {
        Self {
            issues,
            complete: false,
            mark: Some(mark),
        }
    }

    /// This answer with `mark`.
    pub fn with_mark(mut self, mark: Option<String>) -> Self {
        self.mark = mark;
        self
    }
}
