//! The `local` tracker's configuration profile.

use symphony_workflow::{ProviderConfig, TrackerProfile};

/// The `tracker.kind` value.
pub const KIND: &str = "local";

/// Configuration contract of `tracker.kind: local`: `provider.path` (required) is the issues
/// folder, relative to the WORKFLOW.md's folder; no secrets; default states
/// `todo`/`in progress` (active) and `done`/`cancelled` (terminal).
#[derive(Debug, Default, Clone, Copy)]
pub struct LocalProfile;

impl TrackerProfile for LocalProfile {
    fn kind(&self) -> &'static str {
        KIND
    }

    fn path_keys(&self) -> &'static [&'static str] {
        &["path"]
    }

    fn default_active_states(&self) -> Option<Vec<String>> {
        Some(vec!["todo".into(), "in progress".into()])
    }

    fn default_terminal_states(&self) -> Option<Vec<String>> {
        Some(vec!["done".into(), "cancelled".into()])
    }

    fn validate_provider(
        &self,
        provider: &ProviderConfig,
    ) -> Result<(), symphony_workflow::SectionError> {
        match provider.get("path") {
            Some(serde_json::Value::String(path)) if !path.trim().is_empty() => Ok(()),
            Some(_) => Err("`path` must be a folder path".into()),
            None => Err("`path` is required: the folder holding the issue files".into()),
        }
    }
}
