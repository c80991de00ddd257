//! `tracker.kind: local` — Symphony's embedded default tracker. Each issue is a Markdown file
//! with YAML front matter in one folder; the body is the description. See
//! `docs/trackers/local.md` for the adapter profile (SPEC §11.2).

mod code_host;
mod file;
mod profile;
mod proposal;
mod review;
mod tools;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use serde_json::Value;
use symphony_core::Issue;
use symphony_tracker::normalize::state_in;
use symphony_tracker::{
    IssueHandOff, ToolContext, ToolResult, ToolSpec, Tracker, TrackerError, TrackerErrorCategory,
};
use symphony_workflow::TrackerConfig;

pub use code_host::{LocalCodeHost, LocalCodeHostFactory};
pub use file::{parse_issue_file, IssueFileError, MAX_ISSUE_FILE_BYTES};
pub use profile::{LocalProfile, KIND};
pub use review::{review_block, Verdict};

/// Reads and writes issue files in one folder.
#[derive(Debug)]
pub struct LocalTracker {
    folder: PathBuf,
    terminal_states: Vec<String>,
    reads: AtomicU64,
}

/// One scan of the folder: every issue that parsed, and why the others did not.
struct Scan {
    issues: Vec<Issue>,
    malformed: Vec<(String, IssueFileError)>,
}

impl LocalTracker {
    /// A tracker over `folder`; `terminal_states` decide when a blocker stops blocking.
    pub fn new(folder: impl Into<PathBuf>, terminal_states: Vec<String>) -> Self {
        Self {
            folder: folder.into(),
            terminal_states,
            reads: AtomicU64::new(0),
        }
    }

    /// A tracker from resolved `tracker` settings (`provider.path` already absolute).
    pub fn from_config(config: &TrackerConfig) -> Result<Self, TrackerError> {
        let folder = config.provider.get_str("path").ok_or_else(|| {
            TrackerError::new(
                TrackerErrorCategory::InvalidTrackerConfig,
                "tracker.provider.path is required",
            )
        })?;
        Ok(Self::new(folder, config.terminal_states.clone()))
    }

    /// The issues folder.
    pub fn folder(&self) -> &Path {
        &self.folder
    }

    /// Folder scans made so far (the local "provider requests").
    pub fn provider_reads(&self) -> u64 {
        self.reads.load(Ordering::Relaxed)
    }

    /// Reads every `*.md` file of the folder (not hidden, not recursive), in file-name order.
    async fn scan(&self) -> Result<Scan, TrackerError> {
        self.reads.fetch_add(1, Ordering::Relaxed);
        let folder = self.folder.clone();
        let terminal = self.terminal_states.clone();
        tokio::task::spawn_blocking(move || scan_folder(&folder, &terminal))
            .await
            .map_err(|e| {
                TrackerError::new(
                    TrackerErrorCategory::Request,
                    format!("folder scan task failed: {e}"),
                )
            })?
    }
}

fn scan_folder(folder: &Path, terminal_states: &[String]) -> Result<Scan, TrackerError> {
    let entries = std::fs::read_dir(folder).map_err(|e| {
        TrackerError::new(
            TrackerErrorCategory::Request,
            format!("cannot read issues folder {}: {e}", folder.display()),
        )
    })?;
    let mut names: Vec<String> = entries
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|name| name.ends_with(".md") && !name.starts_with('.'))
        .collect();
    names.sort_unstable();
    let mut scan = Scan {
        issues: Vec::new(),
        malformed: Vec::new(),
    };
    for name in names {
        let id = name.trim_end_matches(".md").to_owned();
        match file::read_issue_file(&folder.join(&name), &id) {
            Ok(issue) => scan.issues.push(issue),
            Err(error) => scan.malformed.push((id, error)),
        }
    }
    file::resolve_blockers(&mut scan.issues, terminal_states);
    Ok(scan)
}

#[async_trait]
impl Tracker for LocalTracker {
    fn secret_environment_names(&self) -> Vec<String> {
        // Issue files on disk: no credentials.
        Vec::new()
    }

    fn kind(&self) -> &str {
        KIND
    }

    async fn fetch_issues_by_states(&self, states: &[String]) -> Result<Vec<Issue>, TrackerError> {
        if states.is_empty() {
            return Ok(Vec::new());
        }
        let scan = self.scan().await?;
        for (id, error) in &scan.malformed {
            tracing::warn!(issue_id = %id, folder = %self.folder.display(), "skipping malformed issue file: {error}");
        }
        Ok(scan
            .issues
            .into_iter()
            .filter(|i| state_in(&i.state, states))
            .collect())
    }

    async fn fetch_issues_by_ids(&self, ids: &[String]) -> Result<Vec<Issue>, TrackerError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let scan = self.scan().await?;
        if let Some((id, error)) = scan.malformed.iter().find(|(id, _)| ids.contains(id)) {
            return Err(TrackerError::new(
                TrackerErrorCategory::Response,
                format!("issue file {id}.md is malformed: {error}"),
            ));
        }
        Ok(scan
            .issues
            .into_iter()
            .filter(|i| ids.contains(&i.id))
            .collect())
    }

    fn agent_tool_specs(&self) -> Vec<ToolSpec> {
        tools::specs()
    }

    async fn execute_agent_tool(
        &self,
        name: &str,
        arguments: Value,
        context: &ToolContext,
    ) -> ToolResult {
        let folder = self.folder.clone();
        let name = name.to_owned();
        let id = context.issue.id.clone();
        tokio::task::spawn_blocking(move || tools::execute(&folder, &name, &arguments, &id))
            .await
            .unwrap_or_else(|e| ToolResult::failure(format!("tool task failed: {e}")))
    }

    fn issue_hand_off(&self) -> Option<&dyn IssueHandOff> {
        Some(self)
    }
}

#[async_trait]
impl IssueHandOff for LocalTracker {
    async fn hand_off(
        &self,
        issue: &Issue,
        state: Option<&str>,
        comment: Option<&str>,
    ) -> Result<(), TrackerError> {
        // The same confined, atomic writes the agent's tools make.
        let mut calls = Vec::new();
        if let Some(body) = comment {
            calls.push((tools::COMMENT, serde_json::json!({ "body": body })));
        }
        if let Some(state) = state {
            calls.push((tools::SET_STATE, serde_json::json!({ "state": state })));
        }
        for (name, arguments) in calls {
            let folder = self.folder.clone();
            let id = issue.id.clone();
            let result = tokio::task::spawn_blocking(move || {
                tools::execute_as(&folder, name, &arguments, &id, tools::Author::Symphony)
            })
            .await
            .unwrap_or_else(|e| ToolResult::failure(format!("hand-off task failed: {e}")));
            if !result.success {
                return Err(TrackerError::new(
                    TrackerErrorCategory::Request,
                    format!("hand-off of {} failed: {}", issue.identifier, result.output),
                ));
            }
        }
        Ok(())
    }
}
