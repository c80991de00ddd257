//! Shared fixtures: a tracker profile like a real adapter's, and workflow files on disk.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use symphony_workflow::{ProviderConfig, TrackerProfile, TrackerRegistry};

/// A profile shaped like a hosted tracker's: a secret token with an env fallback, a path key,
/// a required `project` key and default states.
pub struct TestProfile;

impl TrackerProfile for TestProfile {
    fn kind(&self) -> &'static str {
        "test"
    }
    fn secret_keys(&self) -> &'static [&'static str] {
        &["api_key"]
    }
    fn path_keys(&self) -> &'static [&'static str] {
        &["cache_dir"]
    }
    fn env_fallbacks(&self) -> &'static [(&'static str, &'static str)] {
        &[("api_key", "TEST_TRACKER_TOKEN")]
    }
    fn default_active_states(&self) -> Option<Vec<String>> {
        Some(vec!["Todo".into(), "In Progress".into()])
    }
    /// With `mode: simple` the tracker only knows open and closed.
    fn default_active_states_for(&self, provider: &ProviderConfig) -> Option<Vec<String>> {
        match provider.get_str("mode") {
            Some("simple") => Some(vec!["open".into()]),
            _ => self.default_active_states(),
        }
    }
    fn default_terminal_states_for(&self, provider: &ProviderConfig) -> Option<Vec<String>> {
        match provider.get_str("mode") {
            Some("simple") => Some(vec!["closed".into()]),
            _ => self.default_terminal_states(),
        }
    }
    fn default_terminal_states(&self) -> Option<Vec<String>> {
        Some(vec!["Done".into(), "Cancelled".into()])
    }
    fn validate_provider(&self, provider: &ProviderConfig) -> Result<(), String> {
        match provider.get_str("project") {
            Some(p) if !p.trim().is_empty() => Ok(()),
            _ => Err("`project` is required (the project to read issues from)".into()),
        }
    }
}

pub fn registry() -> TrackerRegistry {
    TrackerRegistry::new().with(Arc::new(TestProfile))
}

pub fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

pub fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

pub const MINIMAL: &str = "---\ntracker:\n  kind: test\n  provider:\n    project: demo\n---\nWork on {{ issue.identifier }}.\n";
