//! The front matter as written, with the SPEC §6.4 defaults. These types define the JSON Schema
//! (`symphony schema`); their doc comments are the schema's descriptions.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Map, Value};

/// Symphony WORKFLOW.md front matter. Top-level keys other than these core sections belong to
/// extensions registered by the build; any other key is an error.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(default)]
#[schemars(title = "Symphony WORKFLOW.md front matter")]
pub(crate) struct FrontMatter {
    /// Which issue tracker to read and how.
    pub tracker: TrackerSection,
    /// Poll cadence.
    pub polling: PollingSection,
    /// Where per-issue workspaces live and how they are populated.
    pub workspace: WorkspaceSection,
    /// Shell scripts run at workspace lifecycle points, with `bash -lc` in the workspace.
    pub hooks: HooksSection,
    /// Concurrency, turn and retry limits.
    pub agent: AgentSection,
    /// The run limits (SPEC §5.3.6), and the Codex backend's settings when the build has it.
    pub codex: CodexSection,
    /// Extension: where durable state (runs, retry queue, claims, audit log) is kept.
    pub state: StateSection,
    /// Extension sections (`server`, `gates`, `docs`, `handoff`, ...), kept verbatim for the
    /// extensions that registered them (they validate them).
    #[serde(flatten)]
    #[schemars(skip)]
    pub extensions: BTreeMap<String, Value>,
}

/// `tracker`: which adapter reads issues, its settings, and the states the scheduler compares.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(default)]
pub(crate) struct TrackerSection {
    /// Adapter kind, e.g. `local` or `github`. Required.
    pub kind: Option<String>,
    /// Adapter-owned settings (endpoint, scope, credentials); see the adapter's profile. Secrets
    /// must be `$VAR` references.
    pub provider: Map<String, Value>,
    /// Labels an issue must all carry to be dispatched (case-insensitive).
    pub required_labels: Vec<String>,
    /// Provider-native states that make an issue eligible. Default: the adapter's.
    pub active_states: Option<Vec<String>>,
    /// Provider-native states that end an issue. Default: the adapter's.
    pub terminal_states: Option<Vec<String>>,
    #[serde(flatten)]
    #[schemars(skip)]
    pub unknown: BTreeMap<String, Value>,
}

/// `polling`: how often the tracker is read.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(default)]
pub(crate) struct PollingSection {
    /// Milliseconds between polls of the tracker. Applied live on reload.
    #[schemars(range(min = 1))]
    pub interval_ms: i64,
    /// Milliseconds tracker reads by id (the checks before a run and after each turn, retry
    /// refreshes, hints) wait for others to share one request; `0` sends each alone. The
    /// poll's own refresh never waits.
    #[schemars(range(min = 0, max = 100))]
    pub read_batch_ms: i64,
    #[serde(flatten)]
    #[schemars(skip)]
    pub unknown: BTreeMap<String, Value>,
}

impl Default for PollingSection {
    fn default() -> Self {
        Self {
            interval_ms: 30_000,
            read_batch_ms: 5,
            unknown: BTreeMap::new(),
        }
    }
}

/// `workspace`: where per-issue workspaces live and how they are populated.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(default)]
pub(crate) struct WorkspaceSection {
    /// Root folder of all workspaces. `~` and `$VAR` are expanded; relative paths start at the
    /// WORKFLOW.md's folder. Default: `<system temp>/symphony_workspaces`.
    pub root: Option<String>,
    /// Extension: repository each workspace is checked out from (URL or local path). Symphony
    /// keeps one shared mirror of it under the root and gives each issue its own checkout on
    /// branch `symphony/<workspace_key>`. Unset: workspaces start empty.
    pub repo: Option<String>,
    /// Extension: branch new workspace branches start from. Default: the repository's default
    /// branch.
    pub base_branch: Option<String>,
    #[serde(flatten)]
    #[schemars(skip)]
    pub unknown: BTreeMap<String, Value>,
}

/// `hooks`: shell scripts run with `bash -lc` in the workspace at lifecycle points.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(default)]
pub(crate) struct HooksSection {
    /// Runs once when a workspace is newly created; failure or timeout aborts the creation.
    pub after_create: Option<String>,
    /// Runs before each agent attempt; failure or timeout aborts the attempt.
    pub before_run: Option<String>,
    /// Runs after each agent attempt, whatever its outcome; failure is logged and ignored.
    pub after_run: Option<String>,
    /// Runs before a workspace is deleted; failure is logged and ignored.
    pub before_remove: Option<String>,
    /// Time limit of each hook in milliseconds; the hook's whole process group is killed past it.
    #[schemars(range(min = 1))]
    pub timeout_ms: i64,
    #[serde(flatten)]
    #[schemars(skip)]
    pub unknown: BTreeMap<String, Value>,
}

impl Default for HooksSection {
    fn default() -> Self {
        Self {
            after_create: None,
            before_run: None,
            after_run: None,
            before_remove: None,
            timeout_ms: 60_000,
            unknown: BTreeMap::new(),
        }
    }
}

/// `agent`: concurrency, turn and retry limits.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(default)]
pub(crate) struct AgentSection {
    /// Global limit of agents running at once.
    #[schemars(range(min = 1))]
    pub max_concurrent_agents: i64,
    /// Agent turns within one worker session.
    #[schemars(range(min = 1))]
    pub max_turns: i64,
    /// Cap of the exponential failure backoff, in milliseconds.
    #[schemars(range(min = 1))]
    pub max_retry_backoff_ms: i64,
    /// Per-state concurrency limits (state names compared case-insensitively); entries that are
    /// not positive integers are ignored.
    pub max_concurrent_agents_by_state: Map<String, Value>,
    /// Extension: what drives the turns. `codex` (default) is the Codex app-server of the
    /// `codex` section; `command` runs `agent.command` once per turn; a build may register
    /// more (a plugin's backend).
    pub backend: String,
    /// Extension: for `backend: command`, the shell command run with `bash -lc` in the workspace
    /// for each turn, with the prompt on stdin; a non-zero exit fails the turn.
    pub command: Option<String>,
    #[serde(flatten)]
    #[schemars(skip)]
    pub unknown: BTreeMap<String, Value>,
}

impl Default for AgentSection {
    fn default() -> Self {
        Self {
            max_concurrent_agents: 10,
            max_turns: 20,
            max_retry_backoff_ms: 300_000,
            max_concurrent_agents_by_state: Map::new(),
            backend: super::model::CODEX_BACKEND.to_owned(),
            command: None,
            unknown: BTreeMap::new(),
        }
    }
}

/// `codex`: the SPEC's run limits, which every agent backend and the orchestrator obey. The
/// section's other keys (how Codex is launched, sandboxed and answered) belong to the Codex
/// backend, which registers them as the `codex` extension section.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(default)]
pub(crate) struct CodexSection {
    /// Longest silence of one agent turn, in milliseconds, whichever backend runs it.
    #[schemars(range(min = 1))]
    pub turn_timeout_ms: i64,
    /// Time limit of one protocol read during start-up, in milliseconds.
    #[schemars(range(min = 1))]
    pub read_timeout_ms: i64,
    /// Inactivity, in milliseconds, after which a run counts as stalled and is stopped and
    /// retried (SPEC §8.5); `<= 0` disables.
    pub stall_timeout_ms: i64,
    /// The keys the core does not read: the Codex backend's (or, in a build without it,
    /// refused).
    #[serde(flatten)]
    #[schemars(skip)]
    pub backend: Map<String, Value>,
}

impl Default for CodexSection {
    fn default() -> Self {
        Self {
            turn_timeout_ms: 3_600_000,
            read_timeout_ms: 5_000,
            stall_timeout_ms: 300_000,
            backend: Map::new(),
        }
    }
}

/// `state`: durable state, so a restart resumes where the last process stopped and several
/// instances can share one backlog.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(default)]
pub(crate) struct StateSection {
    /// Folder of the state database (`state.db`) and the audit head copy. `~` and `$VAR` are
    /// expanded; relative paths start at the WORKFLOW.md's folder. Default: `.symphony` next
    /// to WORKFLOW.md. Instances that share a folder share the backlog without running an
    /// issue twice.
    pub dir: Option<String>,
    /// How long an instance's claim on an issue lasts without renewal, in milliseconds; claims
    /// are renewed every third of it while the instance runs.
    #[schemars(range(min = 1000))]
    pub lease_ms: i64,
    /// Agent events kept per run (oldest dropped first; the count is kept).
    #[schemars(range(min = 1))]
    pub events_per_run: i64,
    #[serde(flatten)]
    #[schemars(skip)]
    pub unknown: BTreeMap<String, Value>,
}

impl Default for StateSection {
    fn default() -> Self {
        Self {
            dir: None,
            lease_ms: 30_000,
            events_per_run: 500,
            unknown: BTreeMap::new(),
        }
    }
}

impl FrontMatter {
    /// One warning per key inside a core section that no setting reads (likely a typo).
    pub fn unknown_key_warnings(&self) -> Vec<String> {
        // `codex`'s other keys are the Codex backend's section: it validates them.
        let sections: [(&str, &BTreeMap<String, Value>); 6] = [
            ("tracker", &self.tracker.unknown),
            ("polling", &self.polling.unknown),
            ("workspace", &self.workspace.unknown),
            ("hooks", &self.hooks.unknown),
            ("agent", &self.agent.unknown),
            ("state", &self.state.unknown),
        ];
        sections
            .into_iter()
            .flat_map(|(section, unknown)| {
                unknown.keys().map(move |key| {
                    format!("{section}.{key} is not a known setting; it is ignored")
                })
            })
            .collect()
    }
}
