//! A tracker adapter as a third party writes one: issues are JSON objects, one per line, in a
//! file (`tracker.kind: jsonl`, `tracker.provider.path`). It implements the `Tracker` trait,
//! declares its configuration profile, passes Symphony's conformance kit, and plugs into the
//! CLI through `symphony::main_with`.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use async_trait::async_trait;
use serde_json::Value;
use symphony_core::Issue;
use symphony_tracker::normalize::{normalize_labels, state_in};
use symphony_tracker::{Tracker, TrackerError, TrackerErrorCategory};
use symphony_workflow::{ProviderConfig, ServiceConfig, TrackerProfile};

/// The configuration profile: `provider.path` is the issues file (required).
pub struct JsonlProfile;

impl TrackerProfile for JsonlProfile {
    fn kind(&self) -> &'static str {
        "jsonl"
    }
    fn path_keys(&self) -> &'static [&'static str] {
        &["path"]
    }
    fn default_active_states(&self) -> Option<Vec<String>> {
        Some(vec!["open".into()])
    }
    fn default_terminal_states(&self) -> Option<Vec<String>> {
        Some(vec!["closed".into()])
    }
    fn validate_provider(
        &self,
        provider: &ProviderConfig,
    ) -> Result<(), symphony_workflow::SectionError> {
        provider
            .get_str("path")
            .map(drop)
            .ok_or_else(|| "`path` (the issues file) is required".into())
    }
}

/// The plugin the CLI is given.
pub struct JsonlPlugin;

impl symphony::TrackerPlugin for JsonlPlugin {
    fn profile(&self) -> Arc<dyn TrackerProfile> {
        Arc::new(JsonlProfile)
    }
    fn build(&self, config: &ServiceConfig) -> Result<Arc<dyn Tracker>, TrackerError> {
        let path = config.tracker.provider.get_str("path").ok_or_else(|| {
            TrackerError::new(
                TrackerErrorCategory::InvalidTrackerConfig,
                "tracker.provider.path is required",
            )
        })?;
        Ok(Arc::new(JsonlTracker::new(path)))
    }
}

/// Reads issues from a JSON-lines file.
pub struct JsonlTracker {
    path: PathBuf,
    reads: AtomicU64,
}

/// A line's id (when it has one) and the issue, or why it is not one.
type Parsed = (Option<String>, Result<Issue, String>);

impl JsonlTracker {
    /// A tracker over the file at `path`.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            reads: AtomicU64::new(0),
        }
    }

    /// File reads so far.
    pub fn reads(&self) -> u64 {
        self.reads.load(Ordering::Relaxed)
    }

    async fn read(&self) -> Result<Vec<Parsed>, TrackerError> {
        self.reads.fetch_add(1, Ordering::Relaxed);
        let text = tokio::fs::read_to_string(&self.path).await.map_err(|e| {
            TrackerError::new(
                TrackerErrorCategory::Request,
                format!("cannot read {}: {e}", self.path.display()),
            )
        })?;
        Ok(text
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(parse_line)
            .collect())
    }
}

fn parse_line(line: &str) -> Parsed {
    let value: Value = match serde_json::from_str(line) {
        Ok(v) => v,
        Err(e) => return (None, Err(format!("not JSON: {e}"))),
    };
    let text = |key: &str| {
        value
            .get(key)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    let id = text("id");
    let issue = (|| {
        Ok({
            let mut issue = Issue::new(
                text("id").ok_or("missing id")?,
                text("id").ok_or("missing id")?,
                text("title").ok_or("missing title")?,
                text("state").ok_or("missing state")?,
            );
            issue.description = text("body");
            issue.priority = value.get("priority").and_then(Value::as_i64);
            issue.labels = normalize_labels(
                value
                    .get("labels")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str),
            );
            issue
        })
    })()
    .map_err(|e: &str| e.to_owned());
    (id, issue)
}

#[async_trait]
impl Tracker for JsonlTracker {
    fn secret_environment_names(&self) -> Vec<String> {
        // A JSON-lines file on disk: no credentials.
        Vec::new()
    }

    fn kind(&self) -> &str {
        "jsonl"
    }

    async fn fetch_issues_by_states(&self, states: &[String]) -> Result<Vec<Issue>, TrackerError> {
        if states.is_empty() {
            return Ok(Vec::new());
        }
        let mut out = Vec::new();
        for (id, parsed) in self.read().await? {
            match parsed {
                Ok(issue) if state_in(&issue.state, states) => out.push(issue),
                Ok(_) => {}
                Err(e) => eprintln!("jsonl tracker: skipping record {id:?}: {e}"),
            }
        }
        Ok(out)
    }

    async fn fetch_issues_by_ids(&self, ids: &[String]) -> Result<Vec<Issue>, TrackerError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut out: Vec<Issue> = Vec::new();
        for (id, parsed) in self.read().await? {
            let Some(id) = id.filter(|id| ids.contains(id)) else {
                continue;
            };
            match parsed {
                Ok(issue) if !out.iter().any(|i| i.id == issue.id) => out.push(issue),
                Ok(_) => {}
                Err(e) => {
                    return Err(TrackerError::new(
                        TrackerErrorCategory::Response,
                        format!("record {id}: {e}"),
                    ))
                }
            }
        }
        Ok(out)
    }
}
