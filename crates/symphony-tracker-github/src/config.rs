//! `tracker.provider` for `kind: github`, parsed and checked once (see `docs/trackers/github.md`).

use std::time::Duration;

use serde_json::Value;
use symphony_tracker::endpoint::check_endpoint;
use symphony_tracker::{TrackerError, TrackerErrorCategory};
use symphony_workflow::ProviderConfig;

/// Where an issue's state comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StateSource {
    /// The label `<prefix><state>` of an open issue; a closed issue is `closed`.
    Labels {
        /// Label prefix, e.g. `symphony:`.
        prefix: String,
    },
    /// `open` or `closed`, as the reference implementation does.
    Issue,
    /// The Status single-select field of a Projects v2 board.
    Project(ProjectSource),
}

/// A Projects v2 board used as the state source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectSource {
    /// Login of the user or organization owning the board.
    pub owner: String,
    /// The board's number (in its URL).
    pub number: u64,
    /// The single-select field holding the state.
    pub status_field: String,
    /// A number or single-select field holding the priority, if any.
    pub priority_field: Option<String>,
}

impl StateSource {
    /// The source's name as written in WORKFLOW.md.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Labels { .. } => "labels",
            Self::Issue => "issue",
            Self::Project(_) => "project",
        }
    }
}

/// The state name of every closed issue under the `labels` and `issue` sources.
pub const CLOSED: &str = "closed";
/// The state name of every open issue under the `issue` source.
pub const OPEN: &str = "open";

/// Resolved settings of the GitHub adapter.
#[derive(Clone, PartialEq, Eq)]
pub struct GithubConfig {
    /// Repository owner.
    pub owner: String,
    /// Repository name.
    pub repo: String,
    /// The token, resolved from its `$VAR`.
    pub token: String,
    /// Environment variable the token came from, if known.
    pub token_variable: Option<String>,
    /// REST base URL without a trailing slash.
    pub api_url: String,
    /// GraphQL endpoint.
    pub graphql_url: String,
    /// Where states come from.
    pub state_source: StateSource,
    /// `identifier` is `<prefix><number>` when set, `<repo>#<number>` otherwise.
    pub identifier_prefix: Option<String>,
    /// Only issues assigned to this login are dispatchable.
    pub assignee: Option<String>,
    /// A label `<prefix><n>` gives priority `n` (labels and issue sources).
    pub priority_label_prefix: String,
    /// Closed issues are listed back this many days (startup cleanup).
    pub closed_lookback_days: u32,
    /// Upper bound on one HTTP request, body included.
    pub request_timeout: Duration,
    /// Longest rate-limit wait done in place; longer ones fail with `tracker_rate_limited`.
    pub max_rate_limit_wait: Duration,
    /// Terminal states (a blocker in one of them no longer blocks).
    pub terminal_states: Vec<String>,
    /// How gate verdicts are reported on a proposed change's commit.
    pub gate_reports: GateReports,
}

/// How gate verdicts reach GitHub.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GateReports {
    /// Commit statuses (`symphony/<gate>`): work with any token that can write statuses.
    Statuses,
    /// One check run with annotations: needs a GitHub App installation token.
    CheckRuns,
}

impl std::fmt::Debug for GithubConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GithubConfig")
            .field("repo", &format_args!("{}/{}", self.owner, self.repo))
            .field("token", &"********")
            .field("api_url", &self.api_url)
            .field("state_source", &self.state_source)
            .finish_non_exhaustive()
    }
}

/// The default REST endpoint.
pub const DEFAULT_API_URL: &str = "https://api.github.com";
/// The environment variable the token is read from when `token` is omitted.
pub const TOKEN_VARIABLE: &str = "GITHUB_TOKEN";

impl GithubConfig {
    /// Parses a resolved provider block; the error says which key to fix and how. A missing
    /// token is `missing_tracker_secret`; everything else `invalid_tracker_config`.
    pub fn from_provider(
        provider: &ProviderConfig,
        terminal_states: Vec<String>,
    ) -> Result<Self, TrackerError> {
        Self::parse(provider, terminal_states)
            .map_err(|(category, message)| TrackerError::new(category, message))
    }

    fn parse(
        provider: &ProviderConfig,
        terminal_states: Vec<String>,
    ) -> Result<Self, (TrackerErrorCategory, String)> {
        let invalid = |message: String| (TrackerErrorCategory::InvalidTrackerConfig, message);
        let repo = provider
            .optional_string("repo")
            .map_err(invalid)?
            .ok_or_else(|| {
                invalid(
                "`repo` is required: the repository as `owner/name` (e.g. `repo: acme/widgets`)"
                    .to_owned(),
            )
            })?;
        let (owner, name) = split_repo(&repo).map_err(invalid)?;
        let token = provider
            .optional_string("token")
            .map_err(invalid)?
            .ok_or_else(|| {
                (
                    TrackerErrorCategory::MissingTrackerSecret,
                    "`token` is missing: set GITHUB_TOKEN or `token: $MY_TOKEN_VAR` (a token that \
                 can read issues and write labels of the repository)"
                        .to_owned(),
                )
            })?;
        Self::rest(provider, owner, name, token, terminal_states).map_err(invalid)
    }

    fn rest(
        provider: &ProviderConfig,
        owner: String,
        name: String,
        token: String,
        terminal_states: Vec<String>,
    ) -> Result<Self, String> {
        let api_url = provider
            .optional_string("api_url")?
            .unwrap_or_else(|| DEFAULT_API_URL.to_owned())
            .trim_end_matches('/')
            .to_owned();
        check_endpoint("api_url", &api_url)?;
        let graphql_url = match provider.optional_string("graphql_url")? {
            Some(url) => {
                check_endpoint("graphql_url", &url)?;
                url
            }
            None => default_graphql_url(&api_url),
        };
        let state_source = state_source(provider)?;
        let identifier_prefix = provider.optional_string("identifier_prefix")?;
        let assignee = provider.optional_string("assignee")?;
        let priority_label_prefix = provider
            .optional_string("priority_label_prefix")?
            .unwrap_or_else(|| "priority:".to_owned());
        let closed_lookback_days =
            provider.bounded_integer("closed_lookback_days", 30, 1, 3650)? as u32;
        let request_timeout = Duration::from_millis(provider.bounded_integer(
            "request_timeout_ms",
            30_000,
            100,
            600_000,
        )?);
        let max_rate_limit_wait = Duration::from_millis(provider.bounded_integer(
            "max_rate_limit_wait_ms",
            60_000,
            0,
            3_600_000,
        )?);
        let gate_reports = match provider.optional_string("gate_reports")?.as_deref() {
            None | Some("statuses") => GateReports::Statuses,
            Some("check_runs") => GateReports::CheckRuns,
            Some(other) => {
                return Err(format!(
                    "`gate_reports: {other}` is not supported: use `statuses` (any token) or \
                     `check_runs` (a GitHub App installation token)"
                ))
            }
        };
        Ok(Self {
            owner,
            repo: name,
            token,
            token_variable: provider.secret_variable("token").map(str::to_owned),
            api_url,
            graphql_url,
            state_source,
            identifier_prefix,
            assignee,
            priority_label_prefix,
            closed_lookback_days,
            request_timeout,
            max_rate_limit_wait,
            terminal_states,
            gate_reports,
        })
    }

    /// `owner/name`.
    pub fn full_name(&self) -> String {
        format!("{}/{}", self.owner, self.repo)
    }

    /// The human-readable key of issue `number`.
    pub fn identifier(&self, number: u64) -> String {
        match &self.identifier_prefix {
            Some(prefix) => format!("{prefix}{number}"),
            None => format!("{}#{number}", self.repo),
        }
    }
}

fn split_repo(repo: &str) -> Result<(String, String), String> {
    let valid = |part: &str| {
        !part.is_empty()
            && part.len() <= 100
            && part != "."
            && part != ".."
            && part
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    };
    match repo.split_once('/') {
        Some((owner, name)) if valid(owner) && valid(name) => {
            Ok((owner.to_owned(), name.to_owned()))
        }
        _ => Err(format!(
            "`repo` must be `owner/name` with letters, digits, `-`, `_` or `.`; got {repo:?}"
        )),
    }
}

/// github.com serves GraphQL at `/graphql`; GitHub Enterprise Server at `/api/graphql`
/// beside `/api/v3`.
fn default_graphql_url(api_url: &str) -> String {
    match api_url.strip_suffix("/api/v3") {
        Some(host) => format!("{host}/api/graphql"),
        None => format!("{api_url}/graphql"),
    }
}

fn state_source(provider: &ProviderConfig) -> Result<StateSource, String> {
    let source = provider
        .optional_string("state_source")?
        .unwrap_or_else(|| "labels".to_owned());
    match source.as_str() {
        "labels" => {
            let prefix = provider
                .optional_string("label_prefix")?
                .unwrap_or_else(|| "symphony:".to_owned());
            Ok(StateSource::Labels { prefix })
        }
        "issue" => Ok(StateSource::Issue),
        "project" => {
            let project = match provider.get("project") {
                Some(Value::Object(map)) => map,
                _ => {
                    return Err("`state_source: project` needs `project: {owner, number}` \
                                (status_field defaults to Status)"
                        .to_owned())
                }
            };
            let owner = project
                .get("owner")
                .and_then(Value::as_str)
                .filter(|s| !s.trim().is_empty())
                .ok_or("`project.owner` is required: the user or organization login")?;
            let number = project
                .get("number")
                .and_then(Value::as_u64)
                .filter(|n| *n > 0)
                .ok_or("`project.number` is required: the board's number, a positive integer")?;
            let field = |key: &str| -> Result<Option<String>, String> {
                match project.get(key) {
                    None | Some(Value::Null) => Ok(None),
                    Some(Value::String(s)) if !s.trim().is_empty() => Ok(Some(s.trim().to_owned())),
                    Some(_) => Err(format!("`project.{key}` must be a field name")),
                }
            };
            Ok(StateSource::Project(ProjectSource {
                owner: owner.trim().to_owned(),
                number,
                status_field: field("status_field")?.unwrap_or_else(|| "Status".to_owned()),
                priority_field: field("priority_field")?,
            }))
        }
        other => Err(format!(
            "`state_source` must be labels, issue or project; got {other:?}"
        )),
    }
}

/// `acme/widgets` with a token and every default: where unit tests of the adapter start.
#[cfg(test)]
pub(crate) fn test_config() -> GithubConfig {
    let provider = ProviderConfig::new(
        serde_json::json!({"repo": "acme/widgets", "token": "t"})
            .as_object()
            .cloned()
            .unwrap_or_default(),
    );
    GithubConfig::from_provider(&provider, Vec::new()).expect("config")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn provider(value: Value) -> ProviderConfig {
        ProviderConfig::new(value.as_object().cloned().unwrap_or_default())
    }

    fn parse(value: Value) -> Result<GithubConfig, String> {
        GithubConfig::from_provider(&provider(value), vec!["closed".into()]).map_err(|e| e.message)
    }

    #[test]
    fn defaults_are_labels_on_github_com() {
        let config = parse(json!({"repo": "acme/widgets", "token": "t"})).unwrap();
        assert_eq!(config.api_url, "https://api.github.com");
        assert_eq!(config.graphql_url, "https://api.github.com/graphql");
        assert_eq!(
            config.state_source,
            StateSource::Labels {
                prefix: "symphony:".into()
            }
        );
        assert_eq!(config.identifier(7), "widgets#7");
        assert!(!format!("{config:?}").contains("\"t\""));
    }

    #[test]
    fn enterprise_graphql_sits_beside_api_v3() {
        let config =
            parse(json!({"repo": "a/b", "token": "t", "api_url": "https://ghe.example/api/v3/"}))
                .unwrap();
        assert_eq!(config.api_url, "https://ghe.example/api/v3");
        assert_eq!(config.graphql_url, "https://ghe.example/api/graphql");
    }

    #[test]
    fn plain_http_only_for_loopback() {
        assert!(
            parse(json!({"repo": "a/b", "token": "t", "api_url": "http://127.0.0.1:9"})).is_ok()
        );
        assert!(parse(json!({"repo": "a/b", "token": "t", "api_url": "http://[::1]:9"})).is_ok());
        let err = parse(json!({"repo": "a/b", "token": "t", "api_url": "http://example.com"}))
            .unwrap_err();
        assert!(err.contains("plain http"), "{err}");
        assert!(parse(json!({"repo": "a/b", "token": "t", "api_url": "ftp://x"})).is_err());
    }

    #[test]
    fn bad_repos_and_missing_tokens_say_what_to_fix() {
        for repo in ["acme", "acme/", "/x", "a/b/c", "../x", "a/..", "a b/c"] {
            let err = parse(json!({"repo": repo, "token": "t"})).unwrap_err();
            assert!(err.contains("owner/name"), "{repo}: {err}");
        }
        let err = parse(json!({"repo": "a/b"})).unwrap_err();
        assert!(err.contains("GITHUB_TOKEN"), "{err}");
    }

    #[test]
    fn project_source_needs_owner_and_number() {
        let err =
            parse(json!({"repo": "a/b", "token": "t", "state_source": "project"})).unwrap_err();
        assert!(err.contains("project"), "{err}");
        let config = parse(
            json!({"repo": "a/b", "token": "t", "state_source": "project",
            "project": {"owner": "acme", "number": 3, "priority_field": "Priority"}}),
        )
        .unwrap();
        assert_eq!(
            config.state_source,
            StateSource::Project(ProjectSource {
                owner: "acme".into(),
                number: 3,
                status_field: "Status".into(),
                priority_field: Some("Priority".into()),
            })
        );
        assert!(parse(json!({"repo": "a/b", "token": "t", "state_source": "jira"})).is_err());
    }
}
