//! How Codex sessions are launched and answered, from a workflow's `codex` section.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::policy::{ApprovalAnswer, UserInputAnswer};

/// How sessions are launched and answered.
#[derive(Debug, Clone)]
pub struct CodexOptions {
    /// Shell command, run with `bash -lc` in the workspace.
    pub command: String,
    /// `approvalPolicy` for `thread/start` (default `never`).
    pub approval_policy: Option<Value>,
    /// `sandbox` for `thread/start` (default `workspace-write`).
    pub thread_sandbox: Option<Value>,
    /// `sandboxPolicy` for `turn/start` (default: workspace-write limited to the workspace).
    pub turn_sandbox_policy: Option<Value>,
    /// Approval answers.
    pub approvals: ApprovalAnswer,
    /// User-input answers.
    pub user_input: UserInputAnswer,
    /// Whether each session gets its own `CODEX_HOME`.
    pub isolated_home: bool,
    /// `config.toml` for isolated homes.
    pub home_config: Option<PathBuf>,
}

impl CodexOptions {
    /// Per-session stderr logs: `<workspace root>/.symphony/logs/` (dot-names under the root
    /// are Symphony's, never an issue's workspace).
    pub fn log_dir(&self, workspace: &Path) -> PathBuf {
        symphony_dir(workspace).join("logs")
    }

    /// Isolated homes: `<workspace root>/.symphony/codex-homes/`, outside every workspace so
    /// an agent cannot read another run's credentials through its own folder.
    pub fn homes_dir(&self, workspace: &Path) -> PathBuf {
        symphony_dir(workspace).join("codex-homes")
    }
}

fn symphony_dir(workspace: &Path) -> PathBuf {
    workspace.parent().unwrap_or(workspace).join(".symphony")
}
