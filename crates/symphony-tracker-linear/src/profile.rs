//! The `linear` tracker's configuration profile.

use symphony_workflow::{ProviderConfig, SectionError, TrackerProfile};

use crate::config::{LinearConfig, API_KEY_VARIABLE};

/// The `tracker.kind` value.
pub const KIND: &str = "linear";

/// Configuration contract of `tracker.kind: linear` (see `docs/trackers/linear.md`): a team
/// key or project slug, `api_key` secret (default `$LINEAR_API_KEY`), Linear's default state
/// names (those of the reference implementation).
#[derive(Debug, Default, Clone, Copy)]
pub struct LinearProfile;

impl TrackerProfile for LinearProfile {
    fn kind(&self) -> &'static str {
        KIND
    }

    fn secret_keys(&self) -> &'static [&'static str] {
        &["api_key", "webhook_secret"]
    }

    fn env_fallbacks(&self) -> &'static [(&'static str, &'static str)] {
        &[("api_key", API_KEY_VARIABLE)]
    }

    /// The reference implementation's flat `tracker.endpoint`, `api_key`, `project_slug` and
    /// `assignee`, so its Linear workflows load unchanged.
    fn flat_aliases(&self) -> &'static [&'static str] {
        &["endpoint", "api_key", "project_slug", "assignee"]
    }

    fn default_active_states(&self) -> Option<Vec<String>> {
        Some(vec!["Todo".into(), "In Progress".into()])
    }

    fn default_terminal_states(&self) -> Option<Vec<String>> {
        Some(
            ["Done", "Canceled", "Cancelled", "Duplicate", "Closed"]
                .map(String::from)
                .to_vec(),
        )
    }

    fn validate_provider(&self, provider: &ProviderConfig) -> Result<(), SectionError> {
        LinearConfig::from_provider(provider, Vec::new())
            .map(|_| ())
            .map_err(|e| SectionError::new(e.message))
    }
}
