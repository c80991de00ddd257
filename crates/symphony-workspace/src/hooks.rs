//! Workspace hooks (SPEC §9.4): `bash -lc <script>` in the workspace, with a time limit.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;
use std::time::Instant;

use symphony_core::WorkspaceKey;
use symphony_workflow::HooksConfig;

use symphony_process::{describe_status, run_bounded, RunError};

/// A hook did not succeed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HookError {
    /// The hook exited non-zero (or was killed by a signal).
    #[error("hook {hook} failed ({status}); output: {output}")]
    Failed {
        /// Which hook.
        hook: HookKind,
        /// Exit status, in words.
        status: String,
        /// The end of its combined output.
        output: String,
    },
    /// The hook ran past `hooks.timeout_ms`; its process group was killed.
    #[error("hook {hook} timed out after {} ms and was killed; output: {output}", timeout.as_millis())]
    TimedOut {
        /// Which hook.
        hook: HookKind,
        /// The limit it ran past.
        timeout: Duration,
        /// The end of its combined output.
        output: String,
    },
    /// `bash` could not be started.
    #[error("hook {hook} could not start: {message}")]
    Spawn {
        /// Which hook.
        hook: HookKind,
        /// The OS error.
        message: String,
    },
}

impl HookError {
    /// The category name, for logs and run records.
    pub fn category(&self) -> &'static str {
        match self {
            Self::Failed { .. } => "hook_failed",
            Self::TimedOut { .. } => "hook_timeout",
            Self::Spawn { .. } => "hook_spawn_error",
        }
    }
}

/// The four lifecycle hooks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HookKind {
    /// After a workspace is newly created; fatal to the creation.
    AfterCreate,
    /// Before each agent attempt; fatal to the attempt.
    BeforeRun,
    /// After each agent attempt; logged and ignored.
    AfterRun,
    /// Before a workspace is removed; logged and ignored.
    BeforeRemove,
}

impl HookKind {
    /// The hook's name in `WORKFLOW.md`.
    pub fn name(self) -> &'static str {
        match self {
            Self::AfterCreate => "after_create",
            Self::BeforeRun => "before_run",
            Self::AfterRun => "after_run",
            Self::BeforeRemove => "before_remove",
        }
    }

    /// Whether a failure of this hook stops what it guards (SPEC §9.4).
    pub fn is_fatal(self) -> bool {
        matches!(self, Self::AfterCreate | Self::BeforeRun)
    }
}

impl fmt::Display for HookKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What a hook is told about the workspace it runs in (also exported to its environment as
/// `SYMPHONY_ISSUE_IDENTIFIER`, `SYMPHONY_ISSUE_ID` when known, `SYMPHONY_WORKSPACE_KEY`,
/// `SYMPHONY_WORKSPACE_PATH`, `SYMPHONY_HOOK`).
#[derive(Debug, Clone)]
pub struct HookContext {
    /// The issue identifier.
    pub identifier: String,
    /// The tracker's id of the issue, when the caller knows it (also `SYMPHONY_ISSUE_ID`).
    pub issue_id: Option<String>,
    /// The workspace key.
    pub key: WorkspaceKey,
    /// The workspace directory, which is the hook's working directory.
    pub path: PathBuf,
}

/// Runs the configured hooks.
#[derive(Debug, Clone)]
pub struct HookRunner {
    config: HooksConfig,
}

impl HookRunner {
    /// A runner for the hooks of one (possibly reloaded) configuration.
    pub fn new(config: HooksConfig) -> Self {
        Self { config }
    }

    fn script(&self, kind: HookKind) -> Option<&str> {
        match kind {
            HookKind::AfterCreate => self.config.after_create.as_deref(),
            HookKind::BeforeRun => self.config.before_run.as_deref(),
            HookKind::AfterRun => self.config.after_run.as_deref(),
            HookKind::BeforeRemove => self.config.before_remove.as_deref(),
        }
    }

    /// Runs one hook if configured. Every outcome is logged; the result says whether it
    /// succeeded, and callers apply the hook's failure semantics (see [`HookKind::is_fatal`]).
    pub async fn run(&self, kind: HookKind, ctx: &HookContext) -> Result<(), HookError> {
        let Some(script) = self.script(kind) else {
            return Ok(());
        };
        let timeout = self.config.timeout();
        let mut command = symphony_process::child_command("bash");
        command
            .arg("-lc")
            .arg(script)
            .current_dir(&ctx.path)
            .env("SYMPHONY_HOOK", kind.name())
            .env("SYMPHONY_ISSUE_IDENTIFIER", &ctx.identifier)
            .env("SYMPHONY_WORKSPACE_KEY", ctx.key.as_str())
            .env("SYMPHONY_WORKSPACE_PATH", &ctx.path);
        if let Some(id) = &ctx.issue_id {
            command.env("SYMPHONY_ISSUE_ID", id);
        }
        let issue_id = ctx.issue_id.as_deref().unwrap_or_default();
        tracing::info!(hook = %kind, issue_id, issue_identifier = %ctx.identifier, workspace = %ctx.path.display(), "hook started");
        let started = Instant::now();
        let result = match run_bounded(command, timeout).await {
            Ok(done) if done.status.success() => {
                tracing::info!(hook = %kind, issue_id, issue_identifier = %ctx.identifier, elapsed_ms = started.elapsed().as_millis() as u64, "hook succeeded");
                return Ok(());
            }
            Ok(done) => HookError::Failed {
                hook: kind,
                status: describe_status(&done.status),
                output: done.output,
            },
            Err(RunError::TimedOut { output }) => HookError::TimedOut {
                hook: kind,
                timeout,
                output,
            },
            Err(RunError::Spawn(e)) => HookError::Spawn {
                hook: kind,
                message: e.to_string(),
            },
        };
        if kind.is_fatal() {
            tracing::error!(hook = %kind, issue_id, issue_identifier = %ctx.identifier, category = result.category(), "{result}");
        } else {
            tracing::warn!(hook = %kind, issue_id, issue_identifier = %ctx.identifier, category = result.category(), "{result} (ignored)");
        }
        Err(result)
    }
}
