//! The `claude` WORKFLOW.md section (`agent.backend: claude`): how Claude Code is launched and
//! what it may do unattended. The run limits (`codex.turn_timeout_ms`, ...) stay the core's;
//! every backend obeys them.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use symphony_workflow::{ConfigSection, SectionContext, SectionError};

use crate::options::ClaudeOptions;

/// The section's key and the backend's kind.
pub const CLAUDE_BACKEND: &str = "claude";
/// The default `claude.command`.
pub const DEFAULT_CLAUDE_COMMAND: &str = "claude";

/// Which configuration the CLI runs with (`claude.home`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ClaudeHomeMode {
    /// A fresh configuration folder per session (`CLAUDE_CONFIG_DIR`, `CLAUDE_CODE_TMPDIR`),
    /// removed at its end: the operator's `~/.claude*` is never read or written.
    #[default]
    Isolated,
    /// The operator's own configuration, with its settings, hooks and MCP servers.
    Inherit,
}

/// How Claude Code is launched and what it may do (`agent.backend: claude`).
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
struct ClaudeKeys {
    /// Shell command that runs the CLI, started with `bash -lc` in the workspace; Symphony
    /// adds the stream-json, permission and MCP flags.
    command: String,
    /// The model (`--model`); default: the CLI's.
    #[serde(skip_serializing_if = "Option::is_none")]
    model: Option<String>,
    /// The API key, as `$VAR` (never the key itself): passed to the CLI only.
    api_key: String,
    /// The API's base URL (`ANTHROPIC_BASE_URL`), e.g. a gateway; default: the CLI's.
    #[serde(skip_serializing_if = "Option::is_none")]
    base_url: Option<String>,
    /// `isolated` (default): a configuration folder per session; `inherit`: the operator's.
    home: ClaudeHomeMode,
    /// The built-in tools the model is offered (`--tools`).
    tools: Vec<String>,
    /// Whether `WebFetch`/`WebSearch` may be used (they must also be in `tools`).
    allow_network: bool,
    /// Retries of a failed model request inside one turn (`CLAUDE_CODE_MAX_RETRIES`, 0..=15).
    max_retries: u32,
    /// Limit for one model request, in ms (`API_TIMEOUT_MS`, at least 1000).
    api_timeout_ms: u64,
    /// Longest silence of a model response stream, in ms
    /// (`CLAUDE_BYTE_STREAM_IDLE_TIMEOUT_MS`, at least 10000).
    stream_idle_timeout_ms: u64,
    /// Most model round trips (a request and its tool calls) in one Symphony turn, the CLI's
    /// `--max-turns`; reaching it fails the turn as `turn_max_turns`. Default: no limit of the
    /// CLI's own (the turn's silence limit and the budgets still apply).
    #[serde(skip_serializing_if = "Option::is_none")]
    max_round_trips: Option<u32>,
}

impl Default for ClaudeKeys {
    fn default() -> Self {
        Self {
            command: DEFAULT_CLAUDE_COMMAND.to_owned(),
            model: None,
            api_key: "$ANTHROPIC_API_KEY".to_owned(),
            base_url: None,
            home: ClaudeHomeMode::default(),
            tools: ["Bash", "Read", "Write", "Edit"]
                .map(str::to_owned)
                .to_vec(),
            allow_network: false,
            max_retries: 2,
            api_timeout_ms: 600_000,
            stream_idle_timeout_ms: 120_000,
            max_round_trips: None,
        }
    }
}

fn invalid(message: impl Into<String>) -> SectionError {
    SectionError::new(message)
}

impl ClaudeKeys {
    fn parse(value: &Value) -> Result<Self, SectionError> {
        if let Some(unknown) =
            symphony_workflow::unknown_key(value, &ClaudeSection.schema(), CLAUDE_BACKEND)
        {
            return Err(invalid(unknown));
        }
        let keys: Self = match value {
            Value::Null => Self::default(),
            value => serde_json::from_value(value.clone())
                .map_err(|e| invalid(format!("claude: {e}")))?,
        };
        if keys.command.trim().is_empty() {
            return Err(invalid("claude.command must be a non-empty shell command"));
        }
        let var = keys.api_key.trim().strip_prefix('$').unwrap_or("");
        if var.is_empty() || !var.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(invalid(
                "claude.api_key must name an environment variable as $VAR (a key is never \
                 written in the workflow)",
            ));
        }
        if let Some(url) = &keys.base_url {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return Err(invalid(format!(
                    "claude.base_url {url:?} must be an http:// or https:// URL"
                )));
            }
        }
        if keys
            .tools
            .iter()
            .any(|t| t.trim().is_empty() || t.contains(','))
        {
            return Err(invalid("claude.tools: each entry is one tool name"));
        }
        if keys.max_retries > 15 {
            return Err(invalid(
                "claude.max_retries: at most 15 (the CLI's own limit)",
            ));
        }
        if keys.api_timeout_ms < 1_000 {
            return Err(invalid("claude.api_timeout_ms: at least 1000"));
        }
        if keys.max_round_trips == Some(0) {
            return Err(invalid("claude.max_round_trips: at least 1"));
        }
        if keys.stream_idle_timeout_ms < 10_000 {
            return Err(invalid(
                "claude.stream_idle_timeout_ms: at least 10000 (the CLI raises anything lower)",
            ));
        }
        Ok(keys)
    }
}

impl ClaudeOptions {
    /// The options of a `claude` section (`None`: the defaults).
    pub fn from_section(value: Option<&Value>) -> Result<Self, SectionError> {
        let keys = ClaudeKeys::parse(value.unwrap_or(&Value::Null))?;
        Ok(Self {
            command: keys.command,
            model: keys.model,
            api_key_var: keys.api_key.trim().trim_start_matches('$').to_owned(),
            base_url: keys.base_url,
            isolated_home: keys.home == ClaudeHomeMode::Isolated,
            tools: keys.tools,
            allow_network: keys.allow_network,
            max_retries: keys.max_retries,
            api_timeout_ms: keys.api_timeout_ms,
            stream_idle_timeout_ms: keys.stream_idle_timeout_ms,
            max_round_trips: keys.max_round_trips,
        })
    }
}

/// The `claude` section, registered by [`crate::ClaudeBackendFactory`].
#[derive(Debug, Default, Clone, Copy)]
pub struct ClaudeSection;

impl ConfigSection for ClaudeSection {
    fn key(&self) -> &str {
        CLAUDE_BACKEND
    }

    fn owner(&self) -> &str {
        "the Claude Code agent backend"
    }

    fn error_category(&self) -> &'static str {
        "invalid_claude_config"
    }

    fn schema(&self) -> Value {
        let mut generator = schemars::generate::SchemaSettings::draft2020_12()
            .with(|settings| settings.inline_subschemas = true)
            .into_generator();
        let mut schema = generator.root_schema_for::<ClaudeKeys>().to_value();
        if let Some(map) = schema.as_object_mut() {
            map.remove("$schema");
            map.remove("title");
        }
        schema
    }

    fn validate(&self, value: &Value, _context: &SectionContext<'_>) -> Result<(), SectionError> {
        ClaudeKeys::parse(value).map(drop)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn defaults_and_what_is_refused() {
        let options = ClaudeOptions::from_section(None).unwrap();
        assert_eq!(options.command, "claude");
        assert_eq!(options.api_key_var, "ANTHROPIC_API_KEY");
        assert!(options.isolated_home && !options.allow_network);
        assert_eq!(options.tools, ["Bash", "Read", "Write", "Edit"]);
        let set = ClaudeOptions::from_section(Some(&json!({
            "model": "claude-sonnet", "api_key": "$MY_KEY", "base_url": "http://127.0.0.1:9",
            "home": "inherit", "max_retries": 0,
        })))
        .unwrap();
        assert_eq!(set.api_key_var, "MY_KEY");
        assert!(!set.isolated_home);
        for (bad, says) in [
            (json!({"api_key": "sk-ant-literal"}), "as $VAR"),
            (json!({"api_key": "$"}), "as $VAR"),
            (json!({"base_url": "ftp://x"}), "http:// or https://"),
            (json!({"max_retries": 99}), "at most 15"),
            (json!({"stream_idle_timeout_ms": 5}), "at least 10000"),
            (json!({"tools": ["Bash,Write"]}), "one tool name"),
            (json!({"comand": "x"}), "did you mean `command`?"),
            (json!({"command": " "}), "non-empty"),
            (json!({"max_round_trips": 0}), "at least 1"),
        ] {
            let error = ClaudeOptions::from_section(Some(&bad))
                .unwrap_err()
                .to_string();
            assert!(error.contains(says), "{bad}: {error}");
        }
    }
}
