//! How the CLI is launched: its version checked first, its flags, and the environment it runs
//! in (the operator's steering variables out, the session's own in).

use std::time::Duration;

use symphony_agent::AgentError;

use crate::home::IsolatedHome;
use crate::mcp;
use crate::options::ClaudeOptions;

/// Exit status of `bash -lc` when the command is not found.
pub(crate) const COMMAND_NOT_FOUND: i32 = 127;
/// The CLI versions this backend speaks: the stream-json and control protocol of 2.1.x
/// (tested with the pinned 2.1.332).
pub const SUPPORTED_VERSIONS: &str = "2.1.";
/// Prefixes of the operator's variables that would steer the CLI; the session sets its own.
const CLI_VARIABLES: [&str; 2] = ["ANTHROPIC_", "CLAUDE_"];

pub(crate) fn cannot_start(message: String) -> AgentError {
    AgentError::NotFound { message }
}

/// Asks the CLI its version (`--version`, within `limit`) and refuses one this backend does
/// not speak, before anything is sent to it.
pub(crate) async fn check_version(
    options: &ClaudeOptions,
    workspace: &std::path::Path,
    limit: Duration,
) -> Result<String, AgentError> {
    let mut command = symphony_process::child_command("bash");
    command
        .arg("-lc")
        .arg(format!("exec {} --version", options.command))
        .current_dir(workspace);
    let finished = symphony_process::run_bounded(command, limit)
        .await
        .map_err(|e| match e {
            symphony_process::RunError::TimedOut { .. } => AgentError::ResponseTimeout {
                request: format!("{} --version", options.command),
                timeout: limit,
            },
            symphony_process::RunError::Spawn(e) => cannot_start(format!("cannot run bash: {e}")),
        })?;
    if finished.status.code() == Some(COMMAND_NOT_FOUND) {
        return Err(cannot_start(format!(
            "{:?} not found: {}",
            options.command,
            finished.output.trim()
        )));
    }
    let found = version_in(&finished.output).unwrap_or_default();
    if !finished.status.success() || !found.starts_with(SUPPORTED_VERSIONS) {
        return Err(AgentError::VersionUnsupported {
            program: options.command.clone(),
            found: if found.is_empty() {
                finished.output.trim().chars().take(200).collect()
            } else {
                found
            },
            supported: format!("{SUPPORTED_VERSIONS}x"),
        });
    }
    Ok(found)
}

/// The version in what `--version` printed: the one on the `(Claude Code)` line, else the first
/// that looks like one. A login shell may print its own lines around it (a profile's warnings,
/// a tool manager's), so the first word is not it.
fn version_in(output: &str) -> Option<String> {
    let looks_like = |word: &&str| {
        let parts: Vec<&str> = word.split('.').collect();
        parts.len() >= 3
            && parts
                .iter()
                .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
    };
    let line = output
        .lines()
        .find(|l| l.contains("(Claude Code)"))
        .unwrap_or(output);
    line.split_whitespace()
        .find(looks_like)
        .or_else(|| output.split_whitespace().find(looks_like))
        .map(str::to_owned)
}

/// The CLI's flags: stream-json both ways, permissions asked of Symphony over stdio,
/// Symphony's tools as the in-process MCP server, the built-in tools limited.
pub(crate) fn arguments(
    options: &ClaudeOptions,
    read_only: bool,
    with_tools: bool,
    session_id: &str,
    resume: bool,
) -> Vec<String> {
    let mut args: Vec<String> = [
        "-p",
        "--input-format",
        "stream-json",
        "--output-format",
        "stream-json",
        "--verbose",
        "--permission-mode",
        "default",
        "--permission-prompt-tool",
        "stdio",
    ]
    .map(str::to_owned)
    .to_vec();
    let tools: Vec<&str> = options
        .tools
        .iter()
        .map(String::as_str)
        .filter(|t| !read_only || matches!(*t, "Read" | "Glob" | "Grep" | "LS"))
        .collect();
    args.extend(["--tools".to_owned(), tools.join(",")]);
    if with_tools {
        let config =
            serde_json::json!({"mcpServers": {mcp::SERVER: {"type": "sdk", "name": mcp::SERVER}}});
        args.extend([
            "--mcp-config".to_owned(),
            config.to_string(),
            "--strict-mcp-config".to_owned(),
        ]);
    }
    if let Some(model) = &options.model {
        args.extend(["--model".to_owned(), model.clone()]);
    }
    if let Some(round_trips) = options.max_round_trips {
        args.extend(["--max-turns".to_owned(), round_trips.to_string()]);
    }
    let id = session_id.to_owned();
    if resume {
        args.extend(["--resume".to_owned(), id]);
    } else {
        args.extend(["--session-id".to_owned(), id]);
    }
    args
}

/// The session's environment on `command`: tracker secrets (`remove_env`) and the operator's
/// `ANTHROPIC_*`/`CLAUDE_*` variables removed, then the key, the limits, the switches that keep
/// the CLI offline but for its API, and the isolated configuration.
pub(crate) fn environment(
    command: &mut tokio::process::Command,
    options: &ClaudeOptions,
    remove_env: &[String],
    api_key: &str,
    home: Option<&IsolatedHome>,
) {
    for name in remove_env {
        command.env_remove(name);
    }
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy();
        if CLI_VARIABLES.iter().any(|p| name.starts_with(p)) {
            command.env_remove(name.as_ref());
        }
    }
    command
        .env("ANTHROPIC_API_KEY", api_key)
        // The one variable that stops every call home (feature flags, telemetry, ...).
        .env("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1")
        .env("DISABLE_TELEMETRY", "1")
        .env("DISABLE_ERROR_REPORTING", "1")
        .env("DISABLE_AUTOUPDATER", "1")
        .env("CLAUDE_CODE_MAX_RETRIES", options.max_retries.to_string())
        .env("API_TIMEOUT_MS", options.api_timeout_ms.to_string())
        .env(
            "CLAUDE_BYTE_STREAM_IDLE_TIMEOUT_MS",
            options.stream_idle_timeout_ms.to_string(),
        )
        // A hung stream costs one idle period, not a second one in a fallback request.
        .env("CLAUDE_CODE_DISABLE_NONSTREAMING_FALLBACK", "1")
        // Symphony's few tools are listed to the model, not found through a search.
        .env("ENABLE_TOOL_SEARCH", "false");
    if let Some(url) = &options.base_url {
        command.env("ANTHROPIC_BASE_URL", url);
    }
    if let Some(home) = home {
        command
            .env("CLAUDE_CONFIG_DIR", home.config())
            .env("CLAUDE_CODE_TMPDIR", home.tmp());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_version_is_found_among_a_login_shells_noise() {
        assert_eq!(
            version_in("2.1.332 (Claude Code)\n").as_deref(),
            Some("2.1.332")
        );
        assert_eq!(
            version_in("rm: cannot remove '/root/.pyenv/shims/.pyenv-shim': No such file\n2.1.332 (Claude Code)").as_deref(),
            Some("2.1.332")
        );
        assert_eq!(
            version_in("pyenv 2.4.1 warning\n2.1.332 (Claude Code)").as_deref(),
            Some("2.1.332"),
            "the Claude Code line wins"
        );
        assert_eq!(version_in("1.0.9").as_deref(), Some("1.0.9"));
        assert_eq!(version_in("segfault"), None);
        assert_eq!(version_in("v2.1"), None);
    }
}
