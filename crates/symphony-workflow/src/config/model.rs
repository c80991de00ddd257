//! The resolved configuration's types: what the service runs with.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use serde::Serialize;
use serde_json::Value;

use crate::provider::ProviderConfig;

/// The effective configuration the service runs with: defaults applied, environment resolved,
/// values validated. Serializing it gives the operator view, with secrets masked.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ServiceConfig {
    /// Which tracker, and how to reach it.
    pub tracker: TrackerConfig,
    /// Poll cadence.
    pub polling: PollingConfig,
    /// Where workspaces live and how they are populated.
    pub workspace: WorkspaceConfig,
    /// Workspace lifecycle hooks.
    pub hooks: HooksConfig,
    /// Concurrency, turns and retry limits.
    pub agent: AgentConfig,
    /// Time limits every agent backend and the orchestrator obey.
    pub run_limits: RunLimits,
    /// Where durable state is kept.
    pub state: StateConfig,
    /// The extension sections (`server`, `gates`, `codex`, ...), each as the extension that
    /// registered it validated and resolved it (`ConfigSection::resolve`).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub extensions: BTreeMap<String, Value>,
    /// Non-fatal findings (ignored keys, plain-text secrets) for the operator.
    #[serde(skip)]
    pub warnings: Vec<String>,
}

/// `tracker`: adapter selection, scope and the states the scheduler compares against.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrackerConfig {
    /// The adapter kind, lowercased.
    pub kind: String,
    /// Adapter-owned settings, with `$VAR` secrets and paths resolved.
    pub provider: ProviderConfig,
    /// Labels an issue must all carry to dispatch, trimmed and lowercased.
    pub required_labels: Vec<String>,
    /// States that make an issue eligible, as configured (compared case-insensitively).
    pub active_states: Vec<String>,
    /// States that end an issue, as configured (compared case-insensitively).
    pub terminal_states: Vec<String>,
}

/// `polling`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PollingConfig {
    /// Milliseconds between ticks.
    pub interval_ms: u64,
    /// Milliseconds reads by id wait to share one request (0: none wait).
    pub read_batch_ms: u64,
}

impl PollingConfig {
    /// The poll interval.
    pub fn interval(&self) -> Duration {
        Duration::from_millis(self.interval_ms)
    }

    /// How long reads by id wait to share one request.
    pub fn read_batch(&self) -> Duration {
        Duration::from_millis(self.read_batch_ms)
    }
}

/// Where a workspace's git checkout comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum RepoSource {
    /// A remote URL (`https://…`, `ssh://…`, `file://…` or scp-like `git@host:path`), verbatim.
    Url(String),
    /// A local repository, resolved to an absolute path.
    Path(PathBuf),
}

impl RepoSource {
    /// The string `git` is given to clone it.
    pub fn as_git_arg(&self) -> String {
        match self {
            Self::Url(url) => url.clone(),
            Self::Path(path) => path.display().to_string(),
        }
    }
}

/// `workspace`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WorkspaceConfig {
    /// Absolute, normalized root under which every workspace lives.
    pub root: PathBuf,
    /// Repository each workspace is checked out from (extension); `None` leaves workspaces empty
    /// for hooks to populate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repo: Option<RepoSource>,
    /// Branch new workspace branches start from; `None` means the repository's default branch.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base_branch: Option<String>,
}

/// `hooks`: shell scripts run with `bash -lc` in the workspace.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HooksConfig {
    /// Runs once when a workspace is created; failure aborts creation.
    pub after_create: Option<String>,
    /// Runs before every attempt; failure aborts the attempt.
    pub before_run: Option<String>,
    /// Runs after every attempt; failure is logged and ignored.
    pub after_run: Option<String>,
    /// Runs before a workspace is removed; failure is logged and ignored.
    pub before_remove: Option<String>,
    /// Time limit for each hook, in milliseconds.
    pub timeout_ms: u64,
}

impl Default for HooksConfig {
    /// No hooks, and the SPEC default time limit of 60 s.
    fn default() -> Self {
        Self {
            after_create: None,
            before_run: None,
            after_run: None,
            before_remove: None,
            timeout_ms: 60_000,
        }
    }
}

impl HooksConfig {
    /// The per-hook time limit.
    pub fn timeout(&self) -> Duration {
        Duration::from_millis(self.timeout_ms)
    }
}

/// The agent backend every build knows by name, and the default (SPEC §5.3.6): the Codex
/// app-server, configured by the `codex` section its crate registers.
pub const CODEX_BACKEND: &str = "codex";
/// The agent backend every build knows by name: a shell command per turn (`agent.command`).
pub const COMMAND_BACKEND: &str = "command";

/// `agent`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AgentConfig {
    /// Global limit of concurrently running agents.
    pub max_concurrent_agents: u32,
    /// Turns per worker session.
    pub max_turns: u32,
    /// Cap of the failure backoff, in milliseconds.
    pub max_retry_backoff_ms: u64,
    /// Per-state concurrency limits, keyed by normalized state name.
    pub max_concurrent_agents_by_state: BTreeMap<String, u32>,
    /// What drives the turns: a backend kind this build registers (`codex`, `command`, or a
    /// plugin's), lowercase.
    pub backend: String,
    /// The per-turn command of the `command` backend.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
}

/// The run limits (SPEC §5.3.6 spells them `codex.turn_timeout_ms`, `codex.read_timeout_ms`,
/// `codex.stall_timeout_ms`): every backend times its turns and start-up by them, and the
/// orchestrator detects stalls by them (SPEC §8.5), whichever backend runs. The rest of the
/// `codex` section belongs to the Codex backend.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunLimits {
    /// Longest silence of a turn, in milliseconds.
    pub turn_timeout_ms: u64,
    /// Limit of one protocol read during start-up, in milliseconds.
    pub read_timeout_ms: u64,
    /// Inactivity limit before a run counts as stalled, in milliseconds; `<= 0` disables.
    pub stall_timeout_ms: i64,
}

impl RunLimits {
    /// The per-turn silence limit.
    pub fn turn_timeout(&self) -> Duration {
        Duration::from_millis(self.turn_timeout_ms)
    }

    /// The start-up read limit.
    pub fn read_timeout(&self) -> Duration {
        Duration::from_millis(self.read_timeout_ms)
    }

    /// The stall timeout, or `None` when stall detection is disabled.
    pub fn stall_timeout(&self) -> Option<Duration> {
        u64::try_from(self.stall_timeout_ms)
            .ok()
            .filter(|&ms| ms > 0)
            .map(Duration::from_millis)
    }
}

/// Durable state settings (extension section `state`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StateConfig {
    /// Folder of the state database.
    pub dir: PathBuf,
    /// Claim lease, in milliseconds (at least 1 s).
    pub lease_ms: u64,
    /// Agent events kept per run.
    pub events_per_run: u64,
}
