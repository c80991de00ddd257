//! How Claude Code sessions are launched, from a workflow's `claude` section.

use std::path::{Path, PathBuf};

/// How sessions are launched.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ClaudeOptions {
    /// Shell command that runs the CLI (`bash -lc`, in the workspace); Symphony's flags follow.
    pub command: String,
    /// `--model`, when set.
    pub model: Option<String>,
    /// The environment variable holding the API key (from `api_key: $NAME`).
    pub api_key_var: String,
    /// `ANTHROPIC_BASE_URL`, when set (a gateway, or a mock in tests).
    pub base_url: Option<String>,
    /// Whether each session gets its own configuration folder.
    pub isolated_home: bool,
    /// The built-in tools offered (`--tools`).
    pub tools: Vec<String>,
    /// Whether network tools may be used.
    pub allow_network: bool,
    /// `CLAUDE_CODE_MAX_RETRIES`.
    pub max_retries: u32,
    /// `API_TIMEOUT_MS`.
    pub api_timeout_ms: u64,
    /// `CLAUDE_BYTE_STREAM_IDLE_TIMEOUT_MS`.
    pub stream_idle_timeout_ms: u64,
    /// `--max-turns`: model round trips per Symphony turn, when limited.
    pub max_round_trips: Option<u32>,
}

impl ClaudeOptions {
    /// The launch plan in one line, for `symphony check`: what runs, with what, allowed to do
    /// what; and whether the key's variable is set in `env` (never the key).
    pub fn describe(&self, env: impl Fn(&str) -> Option<String>) -> String {
        let key = match env(&self.api_key_var) {
            Some(_) => "set",
            None => "NOT SET: sessions will not start",
        };
        format!(
            "`{}` over stream-json, model {}, API {}; tools {} (writes in the workspace only, \
             network tools {}), permissions answered by Symphony; configuration {}; retries {}, \
             request limit {} ms, stream idle limit {} ms, round trips per turn {}; API key \
             from ${} ({key})",
            self.command,
            self.model.as_deref().unwrap_or("the CLI's default"),
            self.base_url.as_deref().unwrap_or("the CLI's default"),
            self.tools.join(", "),
            if self.allow_network { "on" } else { "off" },
            if self.isolated_home {
                "isolated per session"
            } else {
                "the operator's"
            },
            self.max_retries,
            self.api_timeout_ms,
            self.stream_idle_timeout_ms,
            self.max_round_trips
                .map_or_else(|| "unlimited".to_owned(), |n| n.to_string()),
            self.api_key_var,
        )
    }

    /// Per-session stderr logs: `<workspace root>/.symphony/logs/`.
    pub fn log_dir(&self, workspace: &Path) -> PathBuf {
        symphony_dir(workspace).join("logs")
    }

    /// Isolated configuration folders: `<workspace root>/.symphony/claude/`, outside every
    /// workspace. Short on purpose: the CLI's control socket lives under it and a Unix socket
    /// path has at most 103 bytes (longer, and the CLI falls back to a shared `/tmp` folder).
    pub fn homes_dir(&self, workspace: &Path) -> PathBuf {
        symphony_dir(workspace).join("claude")
    }
}

fn symphony_dir(workspace: &Path) -> PathBuf {
    workspace.parent().unwrap_or(workspace).join(".symphony")
}
