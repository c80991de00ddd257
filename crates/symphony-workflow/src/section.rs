//! Extension sections: top-level front-matter keys the core does not own (`gates`, `handoff`,
//! `server`, a plugin's), declared by whoever implements them so the loader can validate them
//! at load and on every reload, document them in the JSON Schema, and refuse a key nobody owns.

use std::path::{Path, PathBuf};

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

impl<'a> SectionContext<'a> {
    /// A context over a resolved configuration.
    pub fn new(
        config: &'a ServiceConfig,
        workflow_dir: &'a Path,
        env: &'a dyn Environment,
    ) -> Self {
        Self {
            config,
            workflow_dir,
            env,
        }
    }

    /// A local path setting as the core resolves its own (SPEC §6.1): `~` and `$VAR` expanded,
    /// relative to the workflow's folder, lexically normalized. `field` names the setting in
    /// the error.
    pub fn resolve_path(&self, field: &str, text: &str) -> Result<PathBuf, SectionError> {
        crate::paths::resolve_path(field, text, self.env, self.workflow_dir)
            .map_err(|e| SectionError::new(e.to_string()))
    }
}

/// Why a section was refused: what to fix, naming the setting.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
#[non_exhaustive]
pub struct SectionError {
    /// What is wrong and what to do about it.
    pub message: String,
    /// A category more precise than the section's own (`ConfigSection::error_category`).
    pub category: Option<&'static str>,
}

impl SectionError {
    /// An error in the section's own category.
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            category: None,
        }
    }

    /// The same error under a more precise category.
    pub fn with_category(mut self, category: &'static str) -> Self {
        self.category = Some(category);
        self
    }
}

impl From<String> for SectionError {
    fn from(message: String) -> Self {
        Self::new(message)
    }
}

impl From<&str> for SectionError {
    fn from(message: &str) -> Self {
        Self::new(message)
    }
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
    fn validate(&self, value: &Value, context: &SectionContext<'_>) -> Result<(), SectionError>;

    /// The value the configuration keeps for the section (`ServiceConfig::extensions`): by
    /// default the value as written, once [`Self::validate`] accepts it. A section with
    /// `$VAR`s or paths resolves them here, at load, as the core resolves its own — so the
    /// code reading it later needs neither the environment nor the workflow's folder.
    fn resolve(&self, value: &Value, context: &SectionContext<'_>) -> Result<Value, SectionError> {
        self.validate(value, context)?;
        Ok(value.clone())
    }
}
