//! What a build can be configured with: tracker adapter profiles (what core config resolution
//! needs to know about an adapter's `tracker.provider` block, SPEC §5.3.1, §11.2) and the
//! extension sections it owns, without depending on the crates that implement them.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::Arc;

use crate::config::{CODEX_BACKEND, COMMAND_BACKEND};
use crate::provider::ProviderConfig;
use crate::section::{ConfigSection, SectionError};

/// An adapter's description of its configuration, registered by the binary that wires it in.
pub trait TrackerProfile: Send + Sync {
    /// The `tracker.kind` value that selects this adapter (lowercase).
    fn kind(&self) -> &'static str;

    /// `tracker.provider` keys holding secrets: resolved from `$VAR`, masked in every output.
    fn secret_keys(&self) -> &'static [&'static str] {
        &[]
    }

    /// `tracker.provider` keys holding local paths: `~`/`$VAR` expanded, relative to the
    /// workflow file's folder.
    fn path_keys(&self) -> &'static [&'static str] {
        &[]
    }

    /// Provider keys the reference implementation also accepts directly under `tracker` (its
    /// legacy flat aliases, such as Linear's `tracker.project_slug`), so its workflows load
    /// unchanged: each is read as `tracker.provider.<key>` when the provider block does not
    /// set it, with a warning saying where it belongs.
    fn flat_aliases(&self) -> &'static [&'static str] {
        &[]
    }

    /// Documented host-side fallbacks: `(provider key, environment variable)` used when the key
    /// is omitted (SPEC §6.1 step 4).
    fn env_fallbacks(&self) -> &'static [(&'static str, &'static str)] {
        &[]
    }

    /// `tracker.active_states` when the workflow omits it; `None` makes it required.
    fn default_active_states(&self) -> Option<Vec<String>> {
        None
    }

    /// `tracker.terminal_states` when the workflow omits it; `None` makes it required.
    fn default_terminal_states(&self) -> Option<Vec<String>> {
        None
    }

    /// Like [`TrackerProfile::default_active_states`], for adapters whose defaults depend on
    /// the (resolved) provider block — a GitHub adapter reading states from labels has other
    /// states than one reading open/closed. Config resolution calls this one.
    fn default_active_states_for(&self, provider: &ProviderConfig) -> Option<Vec<String>> {
        let _ = provider;
        self.default_active_states()
    }

    /// Like [`TrackerProfile::default_terminal_states`], given the provider block.
    fn default_terminal_states_for(&self, provider: &ProviderConfig) -> Option<Vec<String>> {
        let _ = provider;
        self.default_terminal_states()
    }

    /// Checks the resolved provider block; the error says what to fix (reported as
    /// `invalid_tracker_provider`, naming the kind).
    fn validate_provider(&self, provider: &ProviderConfig) -> Result<(), SectionError>;
}

/// What this build accepts in WORKFLOW.md beyond the core sections: the tracker kinds, by
/// `tracker.kind`, and the extension sections, by top-level key. A top-level key that is
/// neither core nor registered here is refused at load.
#[derive(Clone, Default)]
pub struct ConfigRegistry {
    profiles: BTreeMap<&'static str, Arc<dyn TrackerProfile>>,
    sections: BTreeMap<String, Arc<dyn ConfigSection>>,
    /// Agent backend kinds beyond the built-in `codex` and `command`.
    agent_backends: BTreeSet<String>,
}

impl ConfigRegistry {
    /// An empty registry: every `tracker.kind` is unsupported and only core sections load.
    pub fn new() -> Self {
        Self::default()
    }

    /// Declares agent backend `kind` (`agent.backend` may name it).
    pub fn register_agent_backend(&mut self, kind: &str) {
        self.agent_backends.insert(kind.trim().to_lowercase());
    }

    /// Builder form of [`ConfigRegistry::register_agent_backend`].
    pub fn with_agent_backend(mut self, kind: &str) -> Self {
        self.register_agent_backend(kind);
        self
    }

    /// Every `agent.backend` this registry accepts: the built-in `codex` and `command`, then the
    /// registered ones.
    pub fn agent_backends(&self) -> Vec<String> {
        let mut kinds = vec![CODEX_BACKEND.to_owned(), COMMAND_BACKEND.to_owned()];
        kinds.extend(
            self.agent_backends
                .iter()
                .filter(|k| !kinds.contains(k))
                .cloned()
                .collect::<Vec<_>>(),
        );
        kinds
    }

    /// Adds (or replaces) the extension section for its key.
    pub fn register_section(&mut self, section: Arc<dyn ConfigSection>) {
        self.sections.insert(section.key().to_owned(), section);
    }

    /// Builder form of [`ConfigRegistry::register_section`].
    pub fn with_section(mut self, section: Arc<dyn ConfigSection>) -> Self {
        self.register_section(section);
        self
    }

    /// The extension section registered for top-level `key`.
    pub fn section(&self, key: &str) -> Option<&Arc<dyn ConfigSection>> {
        self.sections.get(key)
    }

    /// Every registered extension section, by key.
    pub fn sections(&self) -> impl Iterator<Item = &Arc<dyn ConfigSection>> {
        self.sections.values()
    }

    /// Every top-level key the loader accepts with this registry: the core sections, then the
    /// registered ones. Anything else is refused at load.
    pub fn top_level_keys(&self) -> Vec<&str> {
        crate::top_level::CORE_SECTIONS
            .iter()
            .copied()
            .chain(
                self.sections
                    .keys()
                    .map(String::as_str)
                    .filter(|key| !crate::top_level::CORE_SECTIONS.contains(key)),
            )
            .collect()
    }

    /// Adds (or replaces) the profile for its kind.
    pub fn register(&mut self, profile: Arc<dyn TrackerProfile>) {
        self.profiles.insert(profile.kind(), profile);
    }

    /// Builder form of [`ConfigRegistry::register`].
    pub fn with(mut self, profile: Arc<dyn TrackerProfile>) -> Self {
        self.register(profile);
        self
    }

    /// The profile for `kind`, compared after trimming and lowercasing.
    pub fn get(&self, kind: &str) -> Option<&Arc<dyn TrackerProfile>> {
        self.profiles.get(kind.trim().to_lowercase().as_str())
    }

    /// Supported kinds, comma-separated, for error messages.
    pub fn supported(&self) -> String {
        if self.profiles.is_empty() {
            return "(none registered)".to_owned();
        }
        self.profiles.keys().copied().collect::<Vec<_>>().join(", ")
    }
}

impl fmt::Debug for ConfigRegistry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConfigRegistry")
            .field("kinds", &self.profiles.keys().collect::<Vec<_>>())
            .field("sections", &self.sections.keys().collect::<Vec<_>>())
            .finish()
    }
}
