//! The `codex` WORKFLOW.md section as the Codex backend owns it: how the app-server is launched,
//! sandboxed and answered. The run limits in the same YAML map (`turn_timeout_ms`,
//! `read_timeout_ms`, `stall_timeout_ms`) are the core's — every backend obeys them — and
//! never reach this section.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use symphony_workflow::{ConfigSection, SectionContext, SectionError, CODEX_BACKEND};

use crate::options::CodexOptions;
use crate::policy::{ApprovalAnswer, UserInputAnswer};

/// The default `codex.command` (SPEC §5.3.6).
pub const DEFAULT_CODEX_COMMAND: &str = "codex app-server";

/// Which `CODEX_HOME` the app-server runs with (`codex.home`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CodexHomeMode {
    /// The operator's (`$CODEX_HOME`, else `~/.codex`), with its plugins and MCP servers.
    #[default]
    Inherit,
    /// A fresh folder per run holding only `codex.home_config` and the operator's
    /// `auth.json`: personal plugins and MCP servers cannot stall or steer runs.
    Isolated,
}

/// How the Codex app-server is launched and answered (`agent.backend: codex`, the default).
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
struct CodexKeys {
    /// Shell command started with `bash -lc` in the workspace; must speak the app-server protocol.
    command: String,
    /// Codex `AskForApproval` value, passed through to the app-server.
    #[serde(skip_serializing_if = "Option::is_none")]
    approval_policy: Option<Value>,
    /// Codex `SandboxMode` value for the thread, passed through.
    #[serde(skip_serializing_if = "Option::is_none")]
    thread_sandbox: Option<Value>,
    /// Codex `SandboxPolicy` value for each turn, passed through.
    #[serde(skip_serializing_if = "Option::is_none")]
    turn_sandbox_policy: Option<Value>,
    /// Extension: how command and file-change approval requests are answered: `workspace`
    /// (default; accept inside the workspace, else fail the attempt), `accept` (accept
    /// for the session) or `fail`.
    approvals: ApprovalAnswer,
    /// Extension: how user-input requests are answered: `fail` (default; the attempt fails
    /// with `turn_input_required`) or `first_option`.
    user_input: UserInputAnswer,
    /// Extension: `inherit` (default) runs Codex with the operator's `CODEX_HOME`; `isolated`
    /// gives each run a fresh one holding only `home_config` and the operator's `auth.json`.
    home: CodexHomeMode,
    /// Extension: `config.toml` for isolated homes (`~`, `$VAR`, relative to WORKFLOW.md).
    #[serde(skip_serializing_if = "Option::is_none")]
    home_config: Option<String>,
}

impl Default for CodexKeys {
    fn default() -> Self {
        Self {
            command: DEFAULT_CODEX_COMMAND.to_owned(),
            approval_policy: None,
            thread_sandbox: None,
            turn_sandbox_policy: None,
            approvals: ApprovalAnswer::default(),
            user_input: UserInputAnswer::default(),
            home: CodexHomeMode::default(),
            home_config: None,
        }
    }
}

impl CodexKeys {
    fn parse(value: &Value) -> Result<Self, SectionError> {
        let keys: Self = match value {
            Value::Null => Self::default(),
            value => serde_json::from_value(value.clone())
                .map_err(|e| SectionError::new(format!("codex: {e}")))?,
        };
        if keys.command.trim().is_empty() {
            return Err(
                SectionError::new("codex.command must be a non-empty shell command")
                    .with_category("missing_codex_command"),
            );
        }
        Ok(keys)
    }
}

impl CodexOptions {
    /// The options of a `codex` section as [`CodexSection`] resolved it at load (`None`: the
    /// defaults).
    pub fn from_section(value: Option<&Value>) -> Result<Self, SectionError> {
        let keys = CodexKeys::parse(value.unwrap_or(&Value::Null))?;
        Ok(Self {
            command: keys.command,
            approval_policy: keys.approval_policy,
            thread_sandbox: keys.thread_sandbox,
            turn_sandbox_policy: keys.turn_sandbox_policy,
            approvals: keys.approvals,
            user_input: keys.user_input,
            isolated_home: keys.home == CodexHomeMode::Isolated,
            home_config: keys.home_config.map(Into::into),
        })
    }
}

/// The Codex backend's part of the `codex` section, registered by
/// [`crate::CodexBackendFactory`].
#[derive(Debug, Default, Clone, Copy)]
pub struct CodexSection;

impl ConfigSection for CodexSection {
    fn key(&self) -> &str {
        CODEX_BACKEND
    }

    fn owner(&self) -> &str {
        "the Codex app-server agent backend"
    }

    fn error_category(&self) -> &'static str {
        "invalid_codex_config"
    }

    fn schema(&self) -> Value {
        let mut generator = schemars::generate::SchemaSettings::draft2020_12()
            .with(|settings| settings.inline_subschemas = true)
            .into_generator();
        let mut schema = generator.root_schema_for::<CodexKeys>().to_value();
        if let Some(map) = schema.as_object_mut() {
            map.remove("$schema");
            map.remove("title");
        }
        schema
    }

    fn validate(&self, value: &Value, context: &SectionContext<'_>) -> Result<(), SectionError> {
        self.resolve(value, context).map(drop)
    }

    fn resolve(&self, value: &Value, context: &SectionContext<'_>) -> Result<Value, SectionError> {
        let mut keys = CodexKeys::parse(value)?;
        if let Some(text) = keys.home_config.take() {
            let text = text.trim();
            if !text.is_empty() {
                let path = context.resolve_path("codex.home_config", text)?;
                keys.home_config = Some(path.display().to_string());
            }
        }
        serde_json::to_value(&keys).map_err(|e| SectionError::new(format!("codex: {e}")))
    }
}
