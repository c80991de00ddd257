//! Resolution of the front matter into a [`ServiceConfig`] (SPEC §6.1, §6.3): defaults
//! applied, `$VAR` and `~` resolved, values validated.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde_json::{Map, Value};

use super::model::*;
use super::raw::{self, FrontMatter};
use crate::definition::WorkflowDefinition;
use crate::environment::{whole_reference, Environment};
use crate::error::ConfigError;
use crate::paths::{normalize, resolve_path};
use crate::profile::ConfigRegistry;
use crate::provider::ProviderConfig;
use crate::section::SectionContext;
use crate::top_level::{check_top_level_keys, CORE_SECTIONS};

impl ServiceConfig {
    /// Applies defaults, resolves the environment and validates (SPEC §6.1, §6.3).
    pub fn resolve(
        definition: &WorkflowDefinition,
        registry: &ConfigRegistry,
        env: &dyn Environment,
    ) -> Result<Self, ConfigError> {
        let mut map = definition.config.clone();
        check_top_level_keys(&map, &registry.top_level_keys())?;
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
        let mut raw = raw;
        let aliased = move_flat_aliases(&mut raw.tracker, registry);
        let mut warnings = raw.unknown_key_warnings();
        warnings.extend(aliased);
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
            backend: raw.agent.backend.trim().to_lowercase(),
            command: non_blank(raw.agent.command),
        };
        let known = registry.agent_backends();
        if !known.contains(&agent.backend) {
            return Err(ConfigError::invalid(
                "agent.backend",
                format!(
                    "{:?} is not an agent backend of this build (known: {})",
                    agent.backend,
                    known.join(", ")
                ),
            ));
        }
        if agent.backend == COMMAND_BACKEND && agent.command.is_none() {
            return Err(ConfigError::invalid(
                "agent.command",
                "required when agent.backend is `command`: the shell command each turn runs",
            ));
        }
        let run_limits = RunLimits {
            turn_timeout_ms: positive_u64("codex.turn_timeout_ms", raw.codex.turn_timeout_ms)?,
            read_timeout_ms: positive_u64("codex.read_timeout_ms", raw.codex.read_timeout_ms)?,
            stall_timeout_ms: raw.codex.stall_timeout_ms,
        };
        let mut extensions = raw.extensions;
        // One YAML map, two owners: the core took the run limits; the rest is the section
        // registered under `codex` (the Codex backend's), which always sees it — empty when
        // the workflow sets nothing, so its defaults (and checks) apply.
        if registry.section(CODEX_BACKEND).is_some() {
            extensions.insert(CODEX_BACKEND.to_owned(), Value::Object(raw.codex.backend));
        } else if let Some(key) = raw.codex.backend.keys().next() {
            return Err(ConfigError::invalid(
                format!("codex.{key}"),
                "not a setting of this build: only the run limits (turn_timeout_ms, \
                 read_timeout_ms, stall_timeout_ms) are read without the Codex backend",
            ));
        }
        let state = StateConfig {
            dir: match raw.state.dir.as_deref().map(str::trim) {
                Some(text) if !text.is_empty() => resolve_path("state.dir", text, env, dir)?,
                _ => normalize(&dir.join(".symphony")),
            },
            lease_ms: positive_u64("state.lease_ms", raw.state.lease_ms)?.max(1_000),
            events_per_run: positive_u64("state.events_per_run", raw.state.events_per_run)?,
        };
        let mut config = Self {
            tracker,
            state,
            polling: PollingConfig {
                interval_ms: positive_u64("polling.interval_ms", raw.polling.interval_ms)?,
                read_batch_ms: u64::try_from(raw.polling.read_batch_ms)
                    .ok()
                    .filter(|ms| *ms <= 100)
                    .ok_or_else(|| {
                        ConfigError::invalid(
                            "polling.read_batch_ms",
                            format!(
                                "must be 0 to 100 (milliseconds), got {}",
                                raw.polling.read_batch_ms
                            ),
                        )
                    })?,
            },
            workspace,
            hooks,
            agent,
            run_limits,
            extensions,
            warnings,
        };
        let mut resolved = BTreeMap::new();
        {
            let context = SectionContext::new(&config, dir, env);
            for (key, value) in &config.extensions {
                // check_top_level_keys let only registered sections through.
                let Some(section) = registry.section(key) else {
                    continue;
                };
                let value = section.resolve(value, &context).map_err(|e| {
                    let message = if e.message.starts_with(key.as_str()) {
                        e.message
                    } else {
                        format!("{key}: {}", e.message)
                    };
                    ConfigError::InvalidSection {
                        section: key.clone(),
                        category: e.category.unwrap_or_else(|| section.error_category()),
                        message,
                    }
                })?;
                resolved.insert(key.clone(), value);
            }
        }
        config.extensions.extend(resolved);
        Ok(config)
    }
}

/// Moves the reference implementation's flat tracker keys its profile names into the
/// provider block; a warning for each.
fn move_flat_aliases(tracker: &mut raw::TrackerSection, registry: &ConfigRegistry) -> Vec<String> {
    let kind = tracker
        .kind
        .as_deref()
        .unwrap_or_default()
        .trim()
        .to_lowercase();
    let Some(profile) = registry.get(&kind) else {
        return Vec::new();
    };
    let mut warnings = Vec::new();
    for &key in profile.flat_aliases() {
        let Some(value) = tracker.unknown.remove(key) else {
            continue;
        };
        if tracker.provider.contains_key(key) {
            warnings.push(format!(
                "tracker.{key} is ignored: tracker.provider.{key} is set (the flat form is the \
                 reference implementation's alias)"
            ));
        } else {
            tracker.provider.insert(key.to_owned(), value);
            warnings.push(format!(
                "tracker.{key} is read as tracker.provider.{key} (the reference \
                 implementation's flat alias); move it under tracker.provider"
            ));
        }
    }
    warnings
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
    let provider = ProviderConfig::resolved(values, secret_keys, secret_variables);
    profile
        .validate_provider(&provider)
        .map_err(|e| ConfigError::InvalidTrackerProvider {
            kind: kind.clone(),
            message: e.message,
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
#[path = "tests.rs"]
mod tests;
