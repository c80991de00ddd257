//! GitHub as a code host: pull requests and gate verdicts (commit statuses or a check run) on
//! a repository, for issues from any tracker.

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::{json, Map, Value};
use symphony_code_host::{
    ChangeProposal, CheckResult, CodeHost, CodeHostContext, CodeHostError, CodeHostErrorCategory,
    CodeHostFactory, CommentsPosted, Feedback, LineComment, LineComments, ProposalOutcome,
    ReviewReport, ReviewReports, RoundAnswer, WatchedChange,
};
use symphony_core::Issue;
use symphony_tracker::{TrackerError, TrackerErrorCategory};
use symphony_workflow::ProviderConfig;

use crate::client::Client;
use crate::config::{GithubConfig, TOKEN_VARIABLE};
use crate::pause::{Pause, TokioPause};
use crate::profile::KIND;
use crate::proposal;
use crate::{line_comments, review_answers, reviews};

/// Pull requests on one GitHub repository.
pub struct GithubCodeHost {
    config: Arc<GithubConfig>,
    client: Client,
    answers: reviews::Answers,
}

impl std::fmt::Debug for GithubCodeHost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GithubCodeHost")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl GithubCodeHost {
    /// A code host for `config`, waiting on the tokio timer.
    pub fn new(config: GithubConfig) -> Result<Self, CodeHostError> {
        Self::with_pause(config, Arc::new(TokioPause))
    }

    /// A code host whose rate-limit and backoff waits go through `pause`.
    pub fn with_pause(config: GithubConfig, pause: Arc<dyn Pause>) -> Result<Self, CodeHostError> {
        let client = Client::new(&config, pause).map_err(code_host_error)?;
        Ok(Self {
            config: Arc::new(config),
            client,
            answers: reviews::Answers::default(),
        })
    }
}

#[async_trait]
impl CodeHost for GithubCodeHost {
    fn kind(&self) -> &str {
        KIND
    }

    fn secret_environment_names(&self) -> Vec<String> {
        let mut names = vec![TOKEN_VARIABLE.to_owned()];
        if let Some(var) = &self.config.token_variable {
            if !names.contains(var) {
                names.push(var.clone());
            }
        }
        names
    }

    fn needs_pushed_branch(&self) -> bool {
        true
    }

    async fn propose_change(
        &self,
        _issue: &Issue,
        proposal: &ChangeProposal,
    ) -> Result<ProposalOutcome, CodeHostError> {
        proposal::open_or_update(&self.client, &self.config, proposal)
            .await
            .map_err(code_host_error)
    }

    async fn publish_checks(
        &self,
        _issue: &Issue,
        head_sha: &str,
        checks: &[CheckResult],
    ) -> Result<(), CodeHostError> {
        proposal::publish_checks(&self.client, &self.config, head_sha, checks)
            .await
            .map_err(code_host_error)
    }

    fn review_reports(&self) -> Option<&dyn ReviewReports> {
        Some(self)
    }

    fn line_comments(&self) -> Option<&dyn LineComments> {
        Some(self)
    }
}

#[async_trait]
impl LineComments for GithubCodeHost {
    async fn comment_lines(
        &self,
        _issue: &Issue,
        proposal: &ChangeProposal,
        outcome: &ProposalOutcome,
        summary: &str,
        comments: &[LineComment],
    ) -> Result<CommentsPosted, CodeHostError> {
        line_comments::post(
            &self.client,
            &self.answers,
            &self.config,
            (outcome.number, &proposal.head_sha),
            summary,
            comments,
        )
        .await
        .map_err(code_host_error)
    }
}

#[async_trait]
impl ReviewReports for GithubCodeHost {
    async fn review_report(
        &self,
        _issue: &Issue,
        watched: &WatchedChange,
    ) -> Result<ReviewReport, CodeHostError> {
        reviews::report(&self.client, &self.answers, &self.config, watched)
            .await
            .map_err(code_host_error)
    }

    async fn answer_round(
        &self,
        _issue: &Issue,
        watched: &WatchedChange,
        addressed: &[Feedback],
        reply: &str,
    ) -> Result<RoundAnswer, CodeHostError> {
        review_answers::answer(&self.client, &self.config, watched, addressed, reply)
            .await
            .map_err(code_host_error)
    }
}

/// The same failure in the code host's vocabulary.
fn code_host_error(error: TrackerError) -> CodeHostError {
    let category = match error.category {
        TrackerErrorCategory::UnsupportedTrackerKind => CodeHostErrorCategory::UnsupportedKind,
        TrackerErrorCategory::InvalidTrackerConfig => CodeHostErrorCategory::InvalidConfig,
        TrackerErrorCategory::MissingTrackerSecret => CodeHostErrorCategory::MissingSecret,
        TrackerErrorCategory::Status => CodeHostErrorCategory::Status,
        TrackerErrorCategory::RateLimited => CodeHostErrorCategory::RateLimited,
        TrackerErrorCategory::Response | TrackerErrorCategory::Pagination => {
            CodeHostErrorCategory::Response
        }
        TrackerErrorCategory::Request => CodeHostErrorCategory::Request,
        // A capability the host lacks, or a category added later: the configuration asked
        // for something this host cannot do.
        _ => CodeHostErrorCategory::InvalidConfig,
    };
    CodeHostError::new(category, error.message)
}

/// `code_host: {kind: github, ...}`, or GitHub issues' own repository when there is no
/// `code_host:` section.
#[derive(Debug, Default, Clone, Copy)]
pub struct GithubCodeHostFactory;

/// The keys of `code_host` that name the repository and reach it (the rest of the tracker's
/// provider block is about reading issues).
const OPTIONS: [&str; 6] = [
    "repo",
    "token",
    "api_url",
    "gate_reports",
    "request_timeout_ms",
    "max_rate_limit_wait_ms",
];

impl GithubCodeHostFactory {
    /// The repository settings `options` give, else the GitHub tracker's own.
    fn config(
        &self,
        options: &Map<String, Value>,
        context: &CodeHostContext<'_>,
    ) -> Result<GithubConfig, CodeHostError> {
        let tracker = &context.config.tracker;
        if options.is_empty() && tracker.kind == KIND {
            return GithubConfig::from_provider(&tracker.provider, Vec::new())
                .map_err(code_host_error);
        }
        let invalid = |m: String| CodeHostError::new(CodeHostErrorCategory::InvalidConfig, m);
        let mut values = options.clone();
        // Secrets only through the environment: `token: $VAR`, `$GITHUB_TOKEN` by default.
        let variable = match options.get("token") {
            None => TOKEN_VARIABLE.to_owned(),
            Some(Value::String(text)) => match text.strip_prefix('$') {
                Some(name) if !name.is_empty() => name.to_owned(),
                _ => return Err(invalid(
                    "`code_host.token` must name an environment variable (`token: $MY_TOKEN`), \
                         never hold the token itself"
                        .into(),
                )),
            },
            Some(_) => return Err(invalid("`code_host.token` must be a string".into())),
        };
        values.remove("token");
        let provider = match context.env.var(&variable).filter(|v| !v.is_empty()) {
            Some(token) => {
                values.insert("token".into(), Value::String(token));
                ProviderConfig::new(values).with_secret("token", &variable)
            }
            None => {
                return Err(CodeHostError::new(
                    CodeHostErrorCategory::MissingSecret,
                    format!("`code_host.token`: ${variable} is not set (a token that can open pull requests and post statuses)"),
                ))
            }
        };
        GithubConfig::from_provider(&provider, Vec::new()).map_err(code_host_error)
    }
}

impl CodeHostFactory for GithubCodeHostFactory {
    fn kind(&self) -> &str {
        KIND
    }

    fn serves_tracker(&self, tracker_kind: &str) -> bool {
        tracker_kind == KIND
    }

    fn options_schema(&self) -> Map<String, Value> {
        let schema = json!({
            "repo": {"type": "string", "description": "The repository as `owner/name`."},
            "token": {"type": "string", "pattern": "^\\$", "description": "`$VAR` naming the token's environment variable (default `$GITHUB_TOKEN`)."},
            "api_url": {"type": "string", "description": "REST base URL (GitHub Enterprise: `https://HOST/api/v3`)."},
            "gate_reports": {"enum": ["statuses", "check_runs"], "description": "How gate verdicts are published."},
            "request_timeout_ms": {"type": "integer", "minimum": 100},
            "max_rate_limit_wait_ms": {"type": "integer", "minimum": 0},
        });
        let mut properties = schema.as_object().cloned().unwrap_or_default();
        properties.retain(|key, _| OPTIONS.contains(&key.as_str()));
        properties
    }

    fn validate(
        &self,
        options: &Map<String, Value>,
        context: &CodeHostContext<'_>,
    ) -> Result<(), CodeHostError> {
        self.config(options, context).map(drop)
    }

    fn build(
        &self,
        options: &Map<String, Value>,
        context: &CodeHostContext<'_>,
    ) -> Result<Arc<dyn CodeHost>, CodeHostError> {
        let host = GithubCodeHost::new(self.config(options, context)?)?;
        Ok(Arc::new(host))
    }
}
