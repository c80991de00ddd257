//! Shared fixtures: a tracker profile like a real adapter's, and workflow files on disk.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::{json, Value};
use symphony_workflow::{
    ConfigRegistry, ConfigSection, ProviderConfig, SectionContext, SectionError, TrackerProfile,
};

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
    fn validate_provider(
        &self,
        provider: &ProviderConfig,
    ) -> Result<(), symphony_workflow::SectionError> {
        match provider.get_str("project") {
            Some(p) if !p.trim().is_empty() => Ok(()),
            _ => Err("`project` is required (the project to read issues from)".into()),
        }
    }
}

/// An extension section like a real one: `notify: { url }`, strict, and only valid when the
/// workflow sets `workspace.repo` (it reads the core configuration).
pub struct NotifySection;

impl ConfigSection for NotifySection {
    fn key(&self) -> &str {
        "notify"
    }
    fn owner(&self) -> &str {
        "test notifications"
    }
    fn error_category(&self) -> &'static str {
        "invalid_notify_config"
    }
    fn schema(&self) -> Value {
        json!({
            "type": "object",
            "properties": {"url": {"type": "string"}},
            "required": ["url"],
            "additionalProperties": false,
        })
    }
    fn validate(&self, value: &Value, context: &SectionContext<'_>) -> Result<(), SectionError> {
        if context.config.workspace.repo.is_none() {
            return Err("notify needs workspace.repo".into());
        }
        match value.as_object() {
            Some(map)
                if map.keys().all(|k| k == "url")
                    && map.get("url").is_some_and(Value::is_string) =>
            {
                Ok(())
            }
            _ => Err("notify.url: expected { url: <string> } and nothing else".into()),
        }
    }
}

pub fn registry() -> ConfigRegistry {
    ConfigRegistry::new()
        .with(Arc::new(TestProfile))
        .with_section(Arc::new(NotifySection))
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
