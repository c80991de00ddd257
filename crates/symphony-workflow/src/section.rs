//! Extension sections: top-level front-matter keys the core does not own (`gates`, `handoff`,
//! `server`, a plugin's), declared by whoever implements them so the loader can validate them
//! at load and on every reload, document them in the JSON Schema, and refuse a key nobody owns.

use std::path::Path;

use serde_json::Value;

use crate::config::ServiceConfig;
use crate::environment::Environment;

/// What a section's validation may look at besides its own value.
#[non_exhaustive]
pub struct SectionContext<'a> {
    /// The resolved core configuration (its `extensions` hold every section verbatim).
    pub config: &'a ServiceConfig,
    /// The folder of the workflow file; relative paths in a section start there.
    pub workflow_dir: &'a Path,
    /// Where `$VAR` references are resolved.
    pub env: &'a dyn Environment,
}

/// A top-level WORKFLOW.md section owned by an extension.
pub trait ConfigSection: Send + Sync {
    /// The top-level key, e.g. `gates`.
    fn key(&self) -> &str;

    /// Who implements it, in a few words, shown by `symphony check` (e.g. "quality gates").
    fn owner(&self) -> &str;

    /// The error category of an invalid section, e.g. `invalid_gate_config`.
    fn error_category(&self) -> &'static str {
        "invalid_config"
    }

    /// The JSON Schema (2020-12) of the section's value. Unknown keys the section refuses
    /// should be `additionalProperties: false` here too, so editors flag them.
    fn schema(&self) -> Value;

    /// Checks the section as the service would use it; the error says what to fix. Called at
    /// load and on every reload, so a bad section never reaches a run.
    fn validate(&self, value: &Value, context: &SectionContext<'_>) -> Result<(), String>;
}
