//! `tracker.kind: github` — GitHub Issues as Symphony's backlog, through octocrab behind a
//! small client layer of our own (conditional requests, `Link` pagination, rate limits,
//! SPEC §11.4 error categories). See `docs/trackers/github.md` for the adapter profile.
//!
//! States come from labels (`symphony:todo`, the default), from open/closed, or from the
//! Status field of a Projects v2 board. Candidates are read over REST with ETags, so an idle
//! poll costs `304`s and no rate limit; refreshes by id are one GraphQL `nodes` query per 100.

mod candidates;
mod client;
mod code_host;
mod config;
mod exchange;
mod graphql;
mod handoff;
mod line_comments;
mod moves;
mod pause;
mod profile;
mod proposal;
mod reads;
mod record;
mod review_answers;
mod reviews;
mod stats;
mod tools;
pub mod webhook;

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{Duration as Days, Utc};
use serde_json::Value;
use symphony_core::{BlockerRef, Issue};
use symphony_tracker::normalize::state_in;
use symphony_tracker::{
    CandidateRead, IssueHandOff, ToolContext, ToolResult, ToolSpec, Tracker, TrackerError,
};
use symphony_workflow::TrackerConfig;

pub use code_host::{GithubCodeHost, GithubCodeHostFactory};
pub use config::{GateReports, GithubConfig, ProjectSource, StateSource, CLOSED, OPEN};
pub use graphql::{operation_name, sent_documents};
pub use pause::{Pause, TokioPause};
pub use profile::{GithubProfile, KIND};
pub use stats::RequestStats;
pub use webhook::GithubWebhookReceiver;

use record::{GhIssue, Malformed, Scoped};

/// Reads a repository's issues; offers the agent the `github_api` tool.
pub struct GithubTracker {
    config: Arc<GithubConfig>,
    client: client::Client,
    issue_pages: reads::PageCache<Result<GhIssue, Malformed>>,
    blocker_pages: reads::PageCache<BlockerRef>,
}

impl std::fmt::Debug for GithubTracker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GithubTracker")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl GithubTracker {
    /// A tracker for `config`, waiting on the tokio timer.
    pub fn new(config: GithubConfig) -> Result<Self, TrackerError> {
        Self::with_pause(config, Arc::new(TokioPause))
    }

    /// A tracker whose rate-limit and backoff waits go through `pause` (tests record them).
    pub fn with_pause(config: GithubConfig, pause: Arc<dyn Pause>) -> Result<Self, TrackerError> {
        let client = client::Client::new(&config, pause)?;
        Ok(Self {
            config: Arc::new(config),
            client,
            issue_pages: reads::PageCache::default(),
            blocker_pages: reads::PageCache::default(),
        })
    }

    /// A tracker from resolved `tracker` settings.
    pub fn from_config(config: &TrackerConfig) -> Result<Self, TrackerError> {
        let github = GithubConfig::from_provider(&config.provider, config.terminal_states.clone())?;
        Self::new(github)
    }

    /// The state of issue `id` as GitHub has it now, or `None` when it cannot be read.
    async fn current_state(&self, id: &str) -> Option<String> {
        match self.fetch_issues_by_ids(&[id.to_owned()]).await {
            Ok(issues) => issues.into_iter().find(|i| i.id == id).map(|i| i.state),
            Err(e) => {
                tracing::warn!(
                    tool = tools::GITHUB_API,
                    "could not read the issue around the agent's call: {e}"
                );
                None
            }
        }
    }

    /// The resolved configuration.
    pub fn config(&self) -> &GithubConfig {
        &self.config
    }

    /// Requests sent, `304`s, retries and the last rate-limit budget seen.
    pub fn stats(&self) -> Arc<RequestStats> {
        self.client.stats()
    }

    fn list_path(&self, state: &str) -> String {
        let mut path = format!(
            "/repos/{}/{}/issues?state={state}&sort=created&direction=asc&per_page={}",
            self.config.owner,
            self.config.repo,
            reads::PAGE_SIZE
        );
        if state == CLOSED {
            // Whole days, so the URL (and its ETag) stays the same all day.
            let since = (Utc::now() - Days::days(i64::from(self.config.closed_lookback_days)))
                .format("%Y-%m-%dT00:00:00Z");
            path.push_str(&format!("&since={since}"));
        }
        path
    }

    async fn rest_candidates(&self, states: &[String]) -> Result<Vec<Issue>, TrackerError> {
        let closed = [CLOSED.to_owned()];
        let wants_closed = states.iter().any(|s| state_in(s, &closed));
        let wants_open = match self.config.state_source {
            StateSource::Issue => state_in(OPEN, states),
            _ => states.iter().any(|s| !state_in(s, &closed)),
        };
        let mut records = Vec::new();
        if wants_open {
            records.extend(
                reads::list_issues(&self.client, &self.issue_pages, self.list_path(OPEN)).await?,
            );
        }
        if wants_closed {
            records.extend(
                reads::list_issues(&self.client, &self.issue_pages, self.list_path(CLOSED)).await?,
            );
        }
        let mut issues = Vec::new();
        for record in records {
            let mut gh = match record {
                Ok(gh) => gh,
                Err(reason) => {
                    tracing::warn!(repo = %self.config.full_name(), "skipping malformed GitHub issue: {reason}");
                    continue;
                }
            };
            let Scoped::Issue(issue) = record::normalize(&gh, &self.config) else {
                continue;
            };
            if !state_in(&issue.state, states) {
                continue;
            }
            if gh.total_blockers == 0 {
                issues.push(*issue);
                continue;
            }
            gh.blockers =
                reads::blockers(&self.client, &self.blocker_pages, &self.config, gh.number).await?;
            if let Scoped::Issue(issue) = record::normalize(&gh, &self.config) {
                issues.push(*issue);
            }
        }
        Ok(issues)
    }

    async fn project_candidates(
        &self,
        project: &ProjectSource,
        states: &[String],
    ) -> Result<Vec<Issue>, TrackerError> {
        let mut issues = Vec::new();
        for record in reads::project_items(&self.client, &self.config, project).await? {
            match record {
                Ok(gh) => {
                    if let Scoped::Issue(issue) = record::normalize(&gh, &self.config) {
                        if state_in(&issue.state, states) {
                            issues.push(*issue);
                        }
                    }
                }
                Err(reason) => {
                    tracing::warn!(repo = %self.config.full_name(), "skipping malformed board item: {reason}");
                }
            }
        }
        Ok(issues)
    }
}

#[async_trait]
impl Tracker for GithubTracker {
    fn kind(&self) -> &str {
        KIND
    }

    async fn fetch_issues_by_states(&self, states: &[String]) -> Result<Vec<Issue>, TrackerError> {
        if states.is_empty() {
            return Ok(Vec::new());
        }
        match &self.config.state_source {
            StateSource::Project(project) => self.project_candidates(project, states).await,
            _ => self.rest_candidates(states).await,
        }
    }

    /// With labels or open/closed as the state source, a conditional probe answers an idle
    /// poll (see `candidates`); a board, or closed issues among the states (their lookback
    /// window moves by itself), is read completely each time.
    async fn fetch_candidates(
        &self,
        states: &[String],
        since: Option<&str>,
    ) -> Result<CandidateRead, TrackerError> {
        let probed = !matches!(self.config.state_source, StateSource::Project(_))
            && !states.iter().any(|s| state_in(s, &[CLOSED.to_owned()]));
        if states.is_empty() || !probed {
            return Ok(CandidateRead::complete(
                self.fetch_issues_by_states(states).await?,
            ));
        }
        match candidates::probe(&self.client, &self.config, since).await? {
            candidates::Probe::Unchanged(mark) => Ok(candidates::unchanged(&mark)),
            candidates::Probe::ReadAll(mark) => {
                Ok(CandidateRead::complete(self.rest_candidates(states).await?)
                    .with_mark(mark.map(|m| m.render())))
            }
        }
    }

    async fn fetch_issues_by_ids(&self, ids: &[String]) -> Result<Vec<Issue>, TrackerError> {
        let mut unique: Vec<String> = Vec::new();
        for id in ids {
            if !unique.contains(id) {
                unique.push(id.clone());
            }
        }
        if unique.is_empty() {
            return Ok(Vec::new());
        }
        let found = reads::refresh(&self.client, &self.config, &unique).await?;
        Ok(found
            .iter()
            .filter_map(|gh| match record::normalize(gh, &self.config) {
                Scoped::Issue(issue) => Some(*issue),
                Scoped::OutOfScope => None,
            })
            .collect())
    }

    fn agent_tool_specs(&self) -> Vec<ToolSpec> {
        vec![tools::spec(&self.config)]
    }

    async fn execute_agent_tool(
        &self,
        name: &str,
        arguments: Value,
        context: &ToolContext,
    ) -> ToolResult {
        if name != tools::GITHUB_API {
            return ToolResult::failure(format!(
                "unsupported tool {name:?}; this tracker offers {}",
                tools::GITHUB_API
            ));
        }
        let number = context
            .issue
            .native_ref
            .as_ref()
            .and_then(|r| r.get("number"))
            .and_then(Value::as_u64);
        // Only a call that asks for a state of this issue can be the agent's move; GitHub's
        // answer says where the issue is now (see `moves`).
        let intent = number.map_or(moves::Intent::None, |n| {
            moves::intent(&self.config, &arguments, n)
        });
        let before = match intent {
            moves::Intent::Unknown => self.current_state(&context.issue.id).await,
            _ => None,
        };
        let mut result = tools::execute(&self.client, &self.config, &arguments).await;
        if !result.success {
            return result;
        }
        result.moved_to = match intent {
            moves::Intent::None => None,
            moves::Intent::Names(named) if named.is_empty() => None,
            moves::Intent::Names(named) => {
                let now = match moves::states_in_answer(&self.config, &result.output) {
                    Some(now) => Some(now),
                    None => self.current_state(&context.issue.id).await.map(|s| vec![s]),
                };
                now.and_then(|now| moves::credited(&named, &now, &context.issue.state))
            }
            // What the call asked cannot be told: the state before and after decide.
            moves::Intent::Unknown => match (before, self.current_state(&context.issue.id).await) {
                (Some(before), Some(after)) if !before.eq_ignore_ascii_case(&after) => Some(after),
                _ => None,
            },
        };
        result
    }

    fn issue_hand_off(&self) -> Option<&dyn IssueHandOff> {
        Some(self)
    }

    fn rate_limit_remaining(&self) -> Option<u64> {
        u64::try_from(self.client.stats().rate_limit_remaining()).ok()
    }

    fn secret_environment_names(&self) -> Vec<String> {
        let mut names = vec![config::TOKEN_VARIABLE.to_owned()];
        if let Some(var) = &self.config.token_variable {
            if !names.contains(var) {
                names.push(var.clone());
            }
        }
        names
    }
}

#[async_trait]
impl IssueHandOff for GithubTracker {
    async fn hand_off(
        &self,
        issue: &Issue,
        state: Option<&str>,
        comment: Option<&str>,
    ) -> Result<(), TrackerError> {
        handoff::hand_off(&self.client, &self.config, issue, state, comment).await
    }
}
