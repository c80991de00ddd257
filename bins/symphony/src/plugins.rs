//! Third-party adapters added to the CLI through [`crate::main_with`].

use std::sync::{Arc, OnceLock};

use symphony_tracker::Tracker;
use symphony_workflow::{ConfigSection, ServiceConfig, TrackerProfile};

/// A tracker adapter added to the CLI by a third party: its configuration profile and a way
/// to build it from a resolved configuration.
pub trait TrackerPlugin: Send + Sync {
    /// The profile (its `kind()` is the `tracker.kind` it serves).
    fn profile(&self) -> Arc<dyn TrackerProfile>;
    /// Builds the tracker for `config` (already validated against the profile).
    fn build(&self, config: &ServiceConfig) -> Result<Arc<dyn Tracker>, String>;
    /// Top-level WORKFLOW.md sections the plugin owns (validated at load, in the schema);
    /// any key no one declares is refused.
    fn sections(&self) -> Vec<Arc<dyn ConfigSection>> {
        Vec::new()
    }
}

static PLUGINS: OnceLock<Vec<Arc<dyn TrackerPlugin>>> = OnceLock::new();

/// Installs the plugins for this process (the first call wins).
pub(crate) fn install(plugins: Vec<Arc<dyn TrackerPlugin>>) {
    let _ = PLUGINS.set(plugins);
}

/// The installed plugins.
pub(crate) fn plugins() -> &'static [Arc<dyn TrackerPlugin>] {
    PLUGINS.get().map_or(&[], Vec::as_slice)
}
