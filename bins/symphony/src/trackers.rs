//! The tracker kinds this binary supports, as configuration profiles.

use std::sync::Arc;

use symphony_workflow::{ProviderConfig, TrackerProfile, TrackerRegistry};

/// Every tracker kind `symphony` can be configured with.
pub fn registry() -> TrackerRegistry {
    TrackerRegistry::new().with(Arc::new(LocalProfile))
}

/// `tracker.kind: local` — issues as Markdown files in a folder (the embedded default).
///
/// The adapter itself arrives with the scheduler; its configuration contract is fixed here so
/// workflows written today stay valid. Provider keys: `path` (required), the issues folder,
/// relative to the WORKFLOW.md's folder. No secrets.
struct LocalProfile;

impl TrackerProfile for LocalProfile {
    fn kind(&self) -> &'static str {
        "local"
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

    fn validate_provider(&self, provider: &ProviderConfig) -> Result<(), String> {
        match provider.get("path") {
            Some(serde_json::Value::String(path)) if !path.trim().is_empty() => Ok(()),
            Some(_) => Err("`path` must be a folder path".to_owned()),
            None => Err("`path` is required: the folder holding the issue files".to_owned()),
        }
    }
}
