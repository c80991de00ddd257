//! Quality gates: Symphony checks an agent's change itself instead of trusting the agent's
//! word. A [`Gate`] judges a [`ChangeSet`] (the workspace against its base) and returns a
//! [`GateReport`]; [`GateRunner`] applies the rules every gate shares (path filters, a time
//! limit, "an error, a timeout or a skip is never a pass"); [`sarif`] exports reports as
//! SARIF 2.1.0.

pub mod ai_review;
mod base_checkout;
mod budget;
pub mod command_gate;
mod config;
pub mod coverage;
mod dependencies;
mod docs_gate;
mod error;
pub mod feedback;
mod gate;
pub mod lockfiles;
mod options;
pub mod osv;
mod registry;
mod report;
pub mod reviewer;
pub mod sarif;
mod sarif_gate;
pub mod sarif_log;
pub mod secrets;
mod shell;
mod tests_gate;

pub use ai_review::{AiReviewGate, AiReviewSettings};
pub use budget::{BudgetSettings, DiffBudgetGate};
pub use command_gate::{CommandGate, CommandSettings};
pub use config::{CheckConfig, GatesConfig, DEFAULT_MAX_ROUNDS, DEFAULT_TIMEOUT_MS};
pub use dependencies::{DatabaseInfo, DependenciesGate, DependencySettings};
pub use docs_gate::{DocKind, DocsGate, DocsSettings};
pub use error::GateError;
pub use gate::{Gate, GateContext, GateIssue, GateRunner, GateSettings};
pub use registry::{GateFactory, GateRegistry};
pub use report::{fingerprint, Finding, GateReport, GateStatus, Severity};
pub use reviewer::{
    ReviewRequest, ReviewTool, ReviewerAgent, ReviewerError, ReviewerRun, SubmissionCheck,
};
pub use sarif_gate::{SarifBaseline, SarifGate, SarifSettings};
pub use sarif_log::{read_sarif, AnalyzerResult, SarifError, SarifReading};
pub use secrets::SecretsGate;
/// The change a gate judges, read once for the gates and the hand-off alike.
pub use symphony_change as change;
pub use symphony_change::{
    AddedLine, ChangeError, ChangeSet, ChangedFile, CommitPatch, FileChange, MAX_HISTORY_COMMITS,
};
pub use tests_gate::{CoverageSettings, TestsGate, TestsSettings};
