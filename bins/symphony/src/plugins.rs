//! Third-party adapters added to the CLI through [`crate::main_with`]: trackers, gate kinds,
//! code hosts and agent backends.

use std::sync::{Arc, OnceLock};

use symphony_agent::AgentBackendFactory;
use symphony_code_host::CodeHostFactory;
use symphony_gates::GateFactory;
use symphony_tracker::{Tracker, TrackerError, WebhookReceiver};
use symphony_workflow::{ConfigSection, ServiceConfig, TrackerProfile};

/// A tracker adapter added to the CLI by a third party: its configuration profile and a way
/// to build it from a resolved configuration.
pub trait TrackerPlugin: Send + Sync {
    /// The profile (its `kind()` is the `tracker.kind` it serves).
    fn profile(&self) -> Arc<dyn TrackerProfile>;
    /// Builds the tracker for `config` (already validated against the profile).
    fn build(&self, config: &ServiceConfig) -> Result<Arc<dyn Tracker>, TrackerError>;
    /// Top-level WORKFLOW.md sections the plugin owns (validated at load, in the schema);
    /// any key no one declares is refused.
    fn sections(&self) -> Vec<Arc<dyn ConfigSection>> {
        Vec::new()
    }
    /// The receiver of the adapter's webhook deliveries (`POST /webhooks/<kind>`) for
    /// `config`, when it has one and its secret is set; none by default.
    fn webhook_receiver(&self, config: &ServiceConfig) -> Option<Arc<dyn WebhookReceiver>> {
        let _ = config;
        None
    }
}

/// What a third party adds to the CLI: tracker adapters, gate kinds, code hosts and agent
/// backends, beside the built-in ones. Built with [`Plugins::new`] and its adders; handed to
/// [`crate::main_with`].
#[derive(Clone, Default)]
#[non_exhaustive]
pub struct Plugins {
    trackers: Vec<Arc<dyn TrackerPlugin>>,
    gates: Vec<Arc<dyn GateFactory>>,
    code_hosts: Vec<Arc<dyn CodeHostFactory>>,
    agents: Vec<Arc<dyn AgentBackendFactory>>,
}

impl Plugins {
    /// No plugins: the CLI as built.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a tracker adapter (`tracker.kind` is its profile's kind).
    pub fn tracker(mut self, plugin: Arc<dyn TrackerPlugin>) -> Self {
        self.trackers.push(plugin);
        self
    }

    /// Adds a gate kind `gates.checks` may name (a built-in kind of the same name is replaced).
    pub fn gate(mut self, factory: Arc<dyn GateFactory>) -> Self {
        self.gates.push(factory);
        self
    }

    /// Adds an agent backend kind `agent.backend` may name (with the sections holding its
    /// settings; a built-in kind of the same name is replaced).
    pub fn agent(mut self, factory: Arc<dyn AgentBackendFactory>) -> Self {
        self.agents.push(factory);
        self
    }

    /// Adds a code-host kind `code_host.kind` may name (a built-in one of the same name is
    /// replaced).
    pub fn code_host(mut self, factory: Arc<dyn CodeHostFactory>) -> Self {
        self.code_hosts.push(factory);
        self
    }
}

static PLUGINS: OnceLock<Plugins> = OnceLock::new();

/// Installs the plugins for this process (the first call wins).
pub(crate) fn install(plugins: Plugins) {
    let _ = PLUGINS.set(plugins);
}

fn installed() -> Option<&'static Plugins> {
    PLUGINS.get()
}

/// The installed tracker plugins.
pub(crate) fn plugins() -> &'static [Arc<dyn TrackerPlugin>] {
    installed().map_or(&[], |p| p.trackers.as_slice())
}

/// The installed gate kinds.
pub(crate) fn gates() -> &'static [Arc<dyn GateFactory>] {
    installed().map_or(&[], |p| p.gates.as_slice())
}

/// The installed agent backend kinds.
pub(crate) fn agents() -> &'static [Arc<dyn AgentBackendFactory>] {
    installed().map_or(&[], |p| p.agents.as_slice())
}

/// The installed code-host kinds.
pub(crate) fn code_hosts() -> &'static [Arc<dyn CodeHostFactory>] {
    installed().map_or(&[], |p| p.code_hosts.as_slice())
}
