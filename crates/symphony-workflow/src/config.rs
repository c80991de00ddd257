//! The typed configuration: raw front matter sections with the SPEC §6.4 defaults, and their
//! resolution into a [`ServiceConfig`] (SPEC §6.1).

mod raw;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Component, Path, PathBuf};
use std::time::Duration;

use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};
use serde_json::{Map, Value};

use crate::definition::WorkflowDefinition;
use crate::environment::{expand_path, whole_reference, Environment};
use crate::error::ConfigError;
use crate::profile::ConfigRegistry;
use crate::section::SectionContext;

pub(crate) use raw::FrontMatter;

/// The default `codex.command` (SPEC §5.3.6).
pub const DEFAULT_CODEX_COMMAND: &str = "codex app-server";

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
    /// How the coding agent is launched.
    pub codex: CodexConfig,
    /// Where durable state is kept.
    pub state: StateConfig,
    /// The extension sections (`server`, `gates`, ...), verbatim; each was validated by the
    /// extension that registered it.
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

/// `tracker.provider` after resolution; secret values never appear in `Debug` or serialization.
#[derive(Clone, PartialEq, Default)]
pub struct ProviderConfig {
    values: Map<String, Value>,
    secret_keys: BTreeSet<String>,
    /// Secret key -> the environment variable its value came from.
    secret_variables: BTreeMap<String, String>,
}

impl ProviderConfig {
    /// A provider block from raw values, with no key marked secret.
    pub fn new(values: Map<String, Value>) -> Self {
        Self {
            values,
            secret_keys: BTreeSet::new(),
            secret_variables: BTreeMap::new(),
        }
    }

    /// The environment variable the secret `key` was read from (`$VAR` or a documented
    /// fallback), so adapters can keep it out of agent environments.
    pub fn secret_variable(&self, key: &str) -> Option<&str> {
        self.secret_variables.get(key).map(String::as_str)
    }

    /// The value of `key`, if set.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.values.get(key)
    }

    /// The string value of `key`, if set and a string.
    pub fn get_str(&self, key: &str) -> Option<&str> {
        self.values.get(key).and_then(Value::as_str)
    }

    /// Every key and value, secrets included: for the adapter only.
    pub fn values(&self) -> &Map<String, Value> {
        &self.values
    }

    /// Whether `key` holds a secret.
    pub fn is_secret(&self, key: &str) -> bool {
        self.secret_keys.contains(key)
    }

    fn masked(&self) -> impl Iterator<Item = (&String, Value)> {
        self.values.iter().map(|(k, v)| {
            if self.secret_keys.contains(k) {
                (k, Value::String("********".to_owned()))
            } else {
                (k, v.clone())
            }
        })
    }
}

impl Serialize for ProviderConfig {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.values.len()))?;
        for (k, v) in self.masked() {
            map.serialize_entry(k, &v)?;
        }
        map.end()
    }
}

impl fmt::Debug for ProviderConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.masked()).finish()
    }
}

/// `polling`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PollingConfig {
    /// Milliseconds between ticks.
    pub interval_ms: u64,
}

impl PollingConfig {
    /// The poll interval.
    pub fn interval(&self) -> Duration {
        Duration::from_millis(self.interval_ms)
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

/// Which agent runner drives the turns (`agent.backend`).
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum AgentBackendKind {
    /// The Codex app-server, configured by the `codex` section.
    #[default]
    Codex,
    /// A shell command per turn (`agent.command`), prompt on stdin.
    Command,
}

/// How the Codex runner answers command and file-change approval requests (`codex.approvals`).
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ApprovalAnswer {
    /// Accept when the command runs in, or the change stays in, the workspace;
    /// otherwise refuse and fail the attempt (`approval_refused`).
    #[default]
    Workspace,
    /// Accept everything for the rest of the session (high trust).
    Accept,
    /// Refuse everything and fail the attempt.
    Fail,
}

/// How the Codex runner answers user-input requests (`codex.user_input`).
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum UserInputAnswer {
    /// Fail the attempt with `turn_input_required` (nobody is there to answer).
    #[default]
    Fail,
    /// Answer each question with its first offered option (the agent's own recommendation).
    FirstOption,
}

/// Which `CODEX_HOME` the app-server runs with (`codex.home`).
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum CodexHomeMode {
    /// The operator's (`$CODEX_HOME`, else `~/.codex`), with its plugins and MCP servers.
    #[default]
    Inherit,
    /// A fresh folder per run holding only `codex.home_config` and the operator's
    /// `auth.json`: personal plugins and MCP servers cannot stall or steer runs.
    Isolated,
}

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
    /// What drives the turns.
    pub backend: AgentBackendKind,
    /// The per-turn command of the `command` backend.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
}

/// `codex`: how the coding agent is launched and timed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CodexConfig {
    /// Shell command launched with `bash -lc` in the workspace, kept verbatim.
    pub command: String,
    /// Codex `AskForApproval` value, passed through.
    pub approval_policy: Option<Value>,
    /// Codex `SandboxMode` value, passed through.
    pub thread_sandbox: Option<Value>,
    /// Codex `SandboxPolicy` value, passed through.
    pub turn_sandbox_policy: Option<Value>,
    /// Limit of one turn, in milliseconds.
    pub turn_timeout_ms: u64,
    /// Limit of one protocol read during start-up, in milliseconds.
    pub read_timeout_ms: u64,
    /// Inactivity limit before a run counts as stalled, in milliseconds; `<= 0` disables.
    pub stall_timeout_ms: i64,
    /// Extension: answers to approval requests.
    pub approvals: ApprovalAnswer,
    /// Extension: answers to user-input requests.
    pub user_input: UserInputAnswer,
    /// Extension: which `CODEX_HOME` runs use.
    pub home: CodexHomeMode,
    /// Extension: the `config.toml` copied into each isolated home.
    pub home_config: Option<PathBuf>,
}

impl CodexConfig {
    /// The stall timeout, or `None` when stall detection is disabled.
    pub fn stall_timeout(&self) -> Option<Duration> {
        u64::try_from(self.stall_timeout_ms)
            .ok()
            .filter(|&ms| ms > 0)
            .map(Duration::from_millis)
    }
}

/// The sections the core owns (SPEC §5.3, plus durable `state`).
pub(crate) const CORE_SECTIONS: [&str; 7] = [
    "tracker",
    "polling",
    "workspace",
    "hooks",
    "agent",
    "codex",
    "state",
];

/// Sections of features this build knows of but does not implement: refused, never ignored,
/// unless an extension registers them.
const UNSUPPORTED_SECTIONS: [(&str, &str); 1] = [(
    "worker",
    "agents on SSH worker hosts (SPEC Appendix A) are not implemented, and ignoring the section \
     would run every agent on this machine instead; remove it to run agents locally",
)];

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

impl ServiceConfig {
    /// Applies defaults, resolves the environment and validates (SPEC §6.1, §6.3).
    pub fn resolve(
        definition: &WorkflowDefinition,
        registry: &ConfigRegistry,
        env: &dyn Environment,
    ) -> Result<Self, ConfigError> {
        let mut map = definition.config.clone();
        check_top_level_keys(&map, registry)?;
        // `hooks:` with nothing under it is YAML null: treat an empty section as absent.
        for section in CORE_SECTIONS {
            if map.get(section).is_some_and(Value::is_null) {
                map.remove(section);
            }
        }
        let raw: FrontMatter =
            serde_path_to_error::deserialize(Value::Object(map)).map_err(|e| {
                let field = e.path().to_string();
                ConfigError::invalid(
                    if field == "." {
                        "front matter".to_owned()
                    } else {
                        field
                    },
                    e.into_inner().to_string(),
                )
            })?;
        let mut warnings = raw.unknown_key_warnings();
        let dir = definition.dir();

        let tracker = resolve_tracker(raw.tracker, registry, env, dir, &mut warnings)?;
        let workspace = resolve_workspace(raw.workspace, env, dir, &mut warnings)?;
        let hooks = HooksConfig {
            after_create: non_blank(raw.hooks.after_create),
            before_run: non_blank(raw.hooks.before_run),
            after_run: non_blank(raw.hooks.after_run),
            before_remove: non_blank(raw.hooks.before_remove),
            timeout_ms: positive_u64("hooks.timeout_ms", raw.hooks.timeout_ms)?,
        };
        let agent = AgentConfig {
            max_concurrent_agents: positive_u32(
                "agent.max_concurrent_agents",
                raw.agent.max_concurrent_agents,
            )?,
            max_turns: positive_u32("agent.max_turns", raw.agent.max_turns)?,
            max_retry_backoff_ms: positive_u64(
                "agent.max_retry_backoff_ms",
                raw.agent.max_retry_backoff_ms,
            )?,
            max_concurrent_agents_by_state: per_state_limits(
                raw.agent.max_concurrent_agents_by_state,
                &mut warnings,
            ),
            backend: raw.agent.backend,
            command: non_blank(raw.agent.command),
        };
        if agent.backend == AgentBackendKind::Command && agent.command.is_none() {
            return Err(ConfigError::invalid(
                "agent.command",
                "required when agent.backend is `command`: the shell command each turn runs",
            ));
        }
        if raw.codex.command.trim().is_empty() {
            return Err(ConfigError::MissingCodexCommand);
        }
        let codex = CodexConfig {
            command: raw.codex.command,
            approval_policy: raw.codex.approval_policy,
            thread_sandbox: raw.codex.thread_sandbox,
            turn_sandbox_policy: raw.codex.turn_sandbox_policy,
            turn_timeout_ms: positive_u64("codex.turn_timeout_ms", raw.codex.turn_timeout_ms)?,
            read_timeout_ms: positive_u64("codex.read_timeout_ms", raw.codex.read_timeout_ms)?,
            stall_timeout_ms: raw.codex.stall_timeout_ms,
            approvals: raw.codex.approvals,
            user_input: raw.codex.user_input,
            home: raw.codex.home,
            home_config: match raw.codex.home_config.as_deref().map(str::trim) {
                Some(text) if !text.is_empty() => {
                    Some(resolve_path("codex.home_config", text, env, dir)?)
                }
                _ => None,
            },
        };
        let state = StateConfig {
            dir: match raw.state.dir.as_deref().map(str::trim) {
                Some(text) if !text.is_empty() => resolve_path("state.dir", text, env, dir)?,
                _ => normalize(&dir.join(".symphony")),
            },
            lease_ms: positive_u64("state.lease_ms", raw.state.lease_ms)?.max(1_000),
            events_per_run: positive_u64("state.events_per_run", raw.state.events_per_run)?,
        };
        let config = Self {
            tracker,
            state,
            polling: PollingConfig {
                interval_ms: positive_u64("polling.interval_ms", raw.polling.interval_ms)?,
            },
            workspace,
            hooks,
            agent,
            codex,
            extensions: raw.extensions,
            warnings,
        };
        let context = SectionContext {
            config: &config,
            workflow_dir: dir,
            env,
        };
        for (key, value) in &config.extensions {
            // check_top_level_keys let only registered sections through.
            let Some(section) = registry.section(key) else {
                continue;
            };
            section.validate(value, &context).map_err(|message| {
                let message = if message.starts_with(key.as_str()) {
                    message
                } else {
                    format!("{key}: {message}")
                };
                ConfigError::InvalidSection {
                    section: key.clone(),
                    category: section.error_category(),
                    message,
                }
            })?;
        }
        Ok(config)
    }
}

/// Refuses a top-level key nobody owns, suggesting the section it most resembles.
fn check_top_level_keys(
    map: &Map<String, Value>,
    registry: &ConfigRegistry,
) -> Result<(), ConfigError> {
    let known = registry.top_level_keys();
    for key in map.keys() {
        if known.contains(&key.as_str()) {
            continue;
        }
        if let Some((_, reason)) = UNSUPPORTED_SECTIONS.iter().find(|(k, _)| k == key) {
            return Err(ConfigError::UnsupportedSection {
                key: key.clone(),
                reason: (*reason).to_owned(),
            });
        }
        return Err(ConfigError::UnknownSection {
            key: key.clone(),
            suggestion: closest(key, &known).map(str::to_owned),
            known: known.join(", "),
        });
    }
    Ok(())
}

/// The candidate `word` is most likely a misspelling of, if any is close enough.
fn closest<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let word = word.trim().to_lowercase().replace(['-', ' '], "_");
    candidates
        .iter()
        .map(|c| (strsim::jaro_winkler(&word, c), *c))
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

fn resolve_tracker(
    raw: raw::TrackerSection,
    registry: &ConfigRegistry,
    env: &dyn Environment,
    dir: &Path,
    warnings: &mut Vec<String>,
) -> Result<TrackerConfig, ConfigError> {
    let kind = raw.kind.unwrap_or_default().trim().to_lowercase();
    if kind.is_empty() {
        return Err(ConfigError::MissingTrackerKind {
            supported: registry.supported(),
        });
    }
    let Some(profile) = registry.get(&kind) else {
        return Err(ConfigError::UnsupportedTrackerKind {
            kind,
            supported: registry.supported(),
        });
    };
    let mut values = raw.provider;
    let mut secret_keys = BTreeSet::new();
    let mut secret_variables = BTreeMap::new();
    for &key in profile.secret_keys() {
        let field = format!("tracker.provider.{key}");
        secret_keys.insert(key.to_owned());
        let fallback = profile
            .env_fallbacks()
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, var)| *var);
        match values.get(key).cloned() {
            Some(Value::String(text)) => {
                if let Some(var) = whole_reference(&text) {
                    match env.var(var).filter(|v| !v.is_empty()) {
                        Some(secret) => {
                            values.insert(key.to_owned(), Value::String(secret));
                            secret_variables.insert(key.to_owned(), var.to_owned());
                        }
                        None => {
                            return Err(ConfigError::MissingSecret {
                                field,
                                variable: var.to_owned(),
                            })
                        }
                    }
                } else if text.is_empty() {
                    // An empty secret is a missing secret (SPEC §5.3.1).
                    values.remove(key);
                } else {
                    warnings.push(format!(
                        "{field} holds a secret in plain text; reference an environment variable \
                         instead (e.g. {key}: $MY_SECRET)"
                    ));
                }
            }
            Some(Value::Null) | None => {
                values.remove(key);
                if let Some((var, secret)) = fallback
                    .and_then(|var| Some((var, env.var(var)?)))
                    .filter(|(_, v)| !v.is_empty())
                {
                    values.insert(key.to_owned(), Value::String(secret));
                    secret_variables.insert(key.to_owned(), var.to_owned());
                }
            }
            Some(other) => {
                return Err(ConfigError::invalid(
                    field,
                    format!(
                        "expected a string or $VAR reference, found {}",
                        json_kind(&other)
                    ),
                ))
            }
        }
    }
    for &key in profile.path_keys() {
        let field = format!("tracker.provider.{key}");
        match values.get(key) {
            Some(Value::String(text)) => {
                let path = resolve_path(&field, text, env, dir)?;
                values.insert(key.to_owned(), Value::String(path.display().to_string()));
            }
            None | Some(Value::Null) => {}
            Some(other) => {
                return Err(ConfigError::invalid(
                    field,
                    format!("expected a path, found {}", json_kind(other)),
                ))
            }
        }
    }
    let provider = ProviderConfig {
        values,
        secret_keys,
        secret_variables,
    };
    profile.validate_provider(&provider).map_err(|message| {
        ConfigError::InvalidTrackerProvider {
            kind: kind.clone(),
            message,
        }
    })?;
    let active_states = raw
        .active_states
        .or_else(|| profile.default_active_states_for(&provider))
        .ok_or_else(|| {
            ConfigError::invalid(
                "tracker.active_states",
                format!("required: tracker kind {kind:?} has no default"),
            )
        })?;
    let terminal_states = raw
        .terminal_states
        .or_else(|| profile.default_terminal_states_for(&provider))
        .ok_or_else(|| {
            ConfigError::invalid(
                "tracker.terminal_states",
                format!("required: tracker kind {kind:?} has no default"),
            )
        })?;
    if active_states.iter().all(|s| s.trim().is_empty()) {
        warnings
            .push("tracker.active_states is empty: no issue will ever be dispatched".to_owned());
    }
    Ok(TrackerConfig {
        kind,
        provider,
        required_labels: raw
            .required_labels
            .iter()
            .map(|l| l.trim().to_lowercase())
            .collect(),
        active_states,
        terminal_states,
    })
}

fn resolve_workspace(
    raw: raw::WorkspaceSection,
    env: &dyn Environment,
    dir: &Path,
    warnings: &mut Vec<String>,
) -> Result<WorkspaceConfig, ConfigError> {
    let root = match raw.root.as_deref().map(str::trim) {
        Some(text) if !text.is_empty() => resolve_path("workspace.root", text, env, dir)?,
        _ => normalize(&std::env::temp_dir().join("symphony_workspaces")),
    };
    let repo = match raw.repo.as_deref().map(str::trim) {
        Some(text) if !text.is_empty() => Some(if looks_like_url(text) {
            RepoSource::Url(text.to_owned())
        } else {
            RepoSource::Path(resolve_path("workspace.repo", text, env, dir)?)
        }),
        _ => None,
    };
    let base_branch = non_blank(raw.base_branch).map(|b| b.trim().to_owned());
    if let Some(branch) = &base_branch {
        if repo.is_none() {
            warnings.push(
                "workspace.base_branch is ignored because workspace.repo is not set".to_owned(),
            );
        }
        if branch.starts_with('-')
            || branch.contains("..")
            || branch.chars().any(|c| c.is_whitespace() || c.is_control())
        {
            return Err(ConfigError::invalid(
                "workspace.base_branch",
                format!("{branch:?} is not a valid branch name"),
            ));
        }
    }
    Ok(WorkspaceConfig {
        root,
        repo,
        base_branch,
    })
}

/// A URL or scp-like remote (`user@host:path`) is handed to git verbatim; anything else is a path.
fn looks_like_url(text: &str) -> bool {
    if text.contains("://") {
        return true;
    }
    match (text.find('@'), text.find(':'), text.find('/')) {
        (Some(at), Some(colon), slash) => at < colon && slash.is_none_or(|s| colon < s),
        _ => false,
    }
}

fn resolve_path(
    field: &str,
    text: &str,
    env: &dyn Environment,
    dir: &Path,
) -> Result<PathBuf, ConfigError> {
    let expanded = expand_path(text, env).map_err(|var| {
        ConfigError::invalid(field, format!("${var} is unset or empty (in {text:?})"))
    })?;
    let path = PathBuf::from(expanded);
    Ok(normalize(&if path.is_absolute() {
        path
    } else {
        dir.join(path)
    }))
}

/// Lexically normalizes an absolute path: drops `.`, applies `..` (never above `/`).
pub(crate) fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other.as_os_str()),
        }
    }
    out
}

fn non_blank(value: Option<String>) -> Option<String> {
    value.filter(|s| !s.trim().is_empty())
}

fn positive_u64(field: &str, value: i64) -> Result<u64, ConfigError> {
    u64::try_from(value).ok().filter(|&v| v > 0).ok_or_else(|| {
        ConfigError::invalid(field, format!("must be a positive integer, got {value}"))
    })
}

fn positive_u32(field: &str, value: i64) -> Result<u32, ConfigError> {
    u32::try_from(value).ok().filter(|&v| v > 0).ok_or_else(|| {
        ConfigError::invalid(field, format!("must be a positive integer, got {value}"))
    })
}

fn per_state_limits(raw: Map<String, Value>, warnings: &mut Vec<String>) -> BTreeMap<String, u32> {
    let mut limits = BTreeMap::new();
    for (state, value) in raw {
        let key = state.trim().to_lowercase();
        let limit = value
            .as_u64()
            .filter(|&v| v > 0)
            .and_then(|v| u32::try_from(v).ok());
        match limit {
            Some(limit) if !key.is_empty() => {
                limits.insert(key, limit);
            }
            _ => warnings.push(format!(
                "agent.max_concurrent_agents_by_state.{state}: {value} is not a positive integer; entry ignored"
            )),
        }
    }
    limits
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a map",
    }
}

#[cfg(test)]
mod tests;
