//! The code-host seam: where a change is proposed for review (a pull request on GitHub, the
//! issue file locally) and its gate verdicts are published, separate from the tracker where
//! issues live. [`CodeHost`] is the trait, [`CodeHostRegistry`] the kinds a build knows and
//! which one a workflow selects (`code_host:`, else the tracker's own host), and
//! [`conformance`] the kit every implementation's tests run ([`review_conformance`] for hosts
//! that report reviews, ADR 0018).

mod code_host;
pub mod conformance;
mod error;
mod line_comments;
mod proposal;
mod registry;
mod review;
pub mod review_conformance;
mod section;

pub use code_host::CodeHost;
pub use error::{CodeHostError, CodeHostErrorCategory};
pub use line_comments::{CommentsPosted, LineComment, LineComments};
pub use proposal::{
    ChangeProposal, CheckAnnotation, CheckConclusion, CheckResult, ProposalOutcome,
};
pub use registry::{CodeHostContext, CodeHostFactory, CodeHostRegistry, Selection, SECTION};
pub use review::{
    Feedback, FeedbackKind, FeedbackPlace, ReviewReport, ReviewReports, ReviewState, RoundAnswer,
    WatchedChange,
};
pub use section::CodeHostSection;
