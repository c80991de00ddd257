//! The `github` tracker's configuration profile.

use symphony_workflow::{ProviderConfig, TrackerProfile};

use crate::config::{GithubConfig, StateSource, CLOSED, OPEN, TOKEN_VARIABLE};

/// The `tracker.kind` value.
pub const KIND: &str = "github";

/// Configuration contract of `tracker.kind: github` (see `docs/trackers/github.md`): `repo`
/// required, `token` secret (default `$GITHUB_TOKEN`), default states by state source.
#[derive(Debug, Default, Clone, Copy)]
pub struct GithubProfile;

fn source(provider: &ProviderConfig) -> Option<StateSource> {
    GithubConfig::from_provider(provider, Vec::new())
        .ok()
        .map(|c| c.state_source)
}

impl TrackerProfile for GithubProfile {
    fn kind(&self) -> &'static str {
        KIND
    }

    fn secret_keys(&self) -> &'static [&'static str] {
        &["token"]
    }

    fn env_fallbacks(&self) -> &'static [(&'static str, &'static str)] {
        &[("token", TOKEN_VARIABLE)]
    }

    fn default_active_states_for(&self, provider: &ProviderConfig) -> Option<Vec<String>> {
        Some(match source(provider)? {
            StateSource::Labels { .. } => vec!["todo".into(), "in-progress".into()],
            StateSource::Issue => vec![OPEN.into()],
            StateSource::Project(_) => vec!["Todo".into(), "In Progress".into()],
        })
    }

    fn default_terminal_states_for(&self, provider: &ProviderConfig) -> Option<Vec<String>> {
        Some(match source(provider)? {
            StateSource::Labels { .. } | StateSource::Issue => vec![CLOSED.into()],
            StateSource::Project(_) => vec!["Done".into()],
        })
    }

    fn validate_provider(
        &self,
        provider: &ProviderConfig,
    ) -> Result<(), symphony_workflow::SectionError> {
        GithubConfig::from_provider(provider, Vec::new())
            .map(|_| ())
            .map_err(|e| symphony_workflow::SectionError::new(e.message))
    }
}
