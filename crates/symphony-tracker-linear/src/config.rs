//! `tracker.provider` for `kind: linear`, parsed and checked once (see
//! `docs/trackers/linear.md`). Unknown keys are refused with the key they resemble.

use std::time::Duration;

use symphony_tracker::endpoint::check_endpoint;
use symphony_tracker::{TrackerError, TrackerErrorCategory};
use symphony_workflow::ProviderConfig;

/// The default GraphQL endpoint.
pub const DEFAULT_ENDPOINT: &str = "https://api.linear.app/graphql";
/// The environment variable the API key is read from when `api_key` is omitted.
pub const API_KEY_VARIABLE: &str = "LINEAR_API_KEY";

/// Every key `tracker.provider` may hold for `kind: linear`.
pub const KEYS: [&str; 9] = [
    "api_key",
    "endpoint",
    "team",
    "project_slug",
    "assignee",
    "webhook_secret",
    "page_size",
    "request_timeout_ms",
    "max_rate_limit_wait_ms",
];

/// Resolved settings of the Linear adapter.
#[derive(Clone, PartialEq, Eq)]
pub struct LinearConfig {
    /// A personal API key (`lin_api_…`, sent as is) or an OAuth token (`lin_oauth_…`, sent as
    /// a bearer token), resolved from its `$VAR`.
    pub api_key: String,
    /// Environment variable the key came from, if known.
    pub api_key_variable: Option<String>,
    /// The GraphQL endpoint.
    pub endpoint: String,
    /// The team's key (`ENG`): only its issues are read, moved or reached by the tool.
    pub team: Option<String>,
    /// The project's slug id (the reference implementation's `project_slug`): only its issues.
    pub project_slug: Option<String>,
    /// Only issues assigned to this user (id, email, or `me` for the key's owner) dispatch.
    pub assignee: Option<String>,
    /// The secret Linear signs webhook deliveries with (`None`: no receiver).
    pub webhook_secret: Option<String>,
    /// Issues per page (at most 100: a page's complexity grows with it, and Linear refuses
    /// a query over 10 000 points).
    pub page_size: u32,
    /// Upper bound on one HTTP request, body included.
    pub request_timeout: Duration,
    /// Longest rate-limit wait done in place; longer ones fail with `tracker_rate_limited`.
    pub max_rate_limit_wait: Duration,
    /// Terminal states (a blocker in one of them no longer blocks).
    pub terminal_states: Vec<String>,
}

impl std::fmt::Debug for LinearConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LinearConfig")
            .field("api_key", &"********")
            .field("endpoint", &self.endpoint)
            .field("team", &self.team)
            .field("project_slug", &self.project_slug)
            .finish_non_exhaustive()
    }
}

impl LinearConfig {
    /// Every key `tracker.provider` may hold.
    pub fn keys() -> &'static [&'static str] {
        &KEYS
    }

    /// Parses a resolved provider block; the error says which key to fix and how. A missing
    /// key is `missing_tracker_secret`; everything else `invalid_tracker_config`.
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
        for key in provider.values().keys() {
            if !KEYS.contains(&key.as_str()) {
                let hint = match symphony_workflow::closest(key, &KEYS) {
                    Some(near) => format!(" (did you mean `{near}`?)"),
                    None => format!(" (known keys: {})", KEYS.join(", ")),
                };
                return Err(invalid(format!(
                    "`{key}` is not a setting of the linear tracker{hint}"
                )));
            }
        }
        let api_key = provider
            .optional_string("api_key")
            .map_err(invalid)?
            .ok_or_else(|| {
                (
                    TrackerErrorCategory::MissingTrackerSecret,
                    format!(
                    "`api_key` is missing: set {API_KEY_VARIABLE} or `api_key: $MY_KEY_VAR` (a \
                     Linear API key that can read and update the team's issues)"
                ),
                )
            })?;
        let endpoint = provider
            .optional_string("endpoint")
            .map_err(invalid)?
            .unwrap_or_else(|| DEFAULT_ENDPOINT.to_owned());
        check_endpoint("endpoint", &endpoint).map_err(invalid)?;
        let team = provider.optional_string("team").map_err(invalid)?;
        let project_slug = provider.optional_string("project_slug").map_err(invalid)?;
        if team.is_none() && project_slug.is_none() {
            return Err(invalid(
                "a scope is required: `team: ENG` (the team's key) and/or `project_slug: …` \
                 (the project's slug id, from its URL)"
                    .to_owned(),
            ));
        }
        if let Some(team) = &team {
            if !team.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return Err(invalid(format!(
                    "`team` is a team's key, such as ENG (letters and digits); got {team:?}"
                )));
            }
        }
        Ok(Self {
            api_key,
            api_key_variable: provider.secret_variable("api_key").map(str::to_owned),
            endpoint,
            team,
            project_slug,
            assignee: provider.optional_string("assignee").map_err(invalid)?,
            webhook_secret: provider
                .optional_string("webhook_secret")
                .map_err(invalid)?,
            page_size: provider
                .bounded_integer("page_size", 50, 1, 100)
                .map_err(invalid)? as u32,
            request_timeout: Duration::from_millis(
                provider
                    .bounded_integer("request_timeout_ms", 30_000, 100, 600_000)
                    .map_err(invalid)?,
            ),
            max_rate_limit_wait: Duration::from_millis(
                provider
                    .bounded_integer("max_rate_limit_wait_ms", 60_000, 0, 3_600_000)
                    .map_err(invalid)?,
            ),
            terminal_states,
        })
    }

    /// The `Authorization` header value: OAuth tokens are bearer tokens, API keys are sent
    /// as they are (Linear's documented forms).
    pub(crate) fn authorization(&self) -> String {
        if self.api_key.starts_with("lin_oauth_") {
            format!("Bearer {}", self.api_key)
        } else {
            self.api_key.clone()
        }
    }

    /// Whether `state` (any case) is terminal by name.
    pub fn is_terminal_name(&self, state: &str) -> bool {
        let state = state.trim();
        self.terminal_states
            .iter()
            .any(|t| t.trim().eq_ignore_ascii_case(state))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn provider(values: Value) -> ProviderConfig {
        ProviderConfig::new(values.as_object().cloned().unwrap_or_default())
    }

    #[test]
    fn a_team_and_a_key_are_enough() {
        let config =
            LinearConfig::from_provider(&provider(json!({"api_key": "k", "team": "ENG"})), vec![])
                .unwrap();
        assert_eq!(config.endpoint, DEFAULT_ENDPOINT);
        assert_eq!(config.page_size, 50);
        assert_eq!(config.authorization(), "k");
        assert!(
            !format!("{config:?}").contains("\"k\""),
            "the key is masked"
        );
    }

    #[test]
    fn mistakes_name_the_key_and_how_to_fix_it() {
        let cases = [
            (json!({"team": "ENG"}), "api_key` is missing"),
            (json!({"api_key": "k"}), "a scope is required"),
            (json!({"api_key": "k", "team": "EN G"}), "team's key"),
            (
                json!({"api_key": "k", "team": "ENG", "teem": "x"}),
                "did you mean `team`",
            ),
            (
                json!({"api_key": "k", "team": "ENG", "endpoint": "http://linear.example/graphql"}),
                "plain http",
            ),
            (
                json!({"api_key": "k", "team": "ENG", "page_size": 101}),
                "from 1 to 100",
            ),
        ];
        for (values, expected) in cases {
            let error = LinearConfig::from_provider(&provider(values.clone()), vec![]).unwrap_err();
            assert!(error.message.contains(expected), "{values}: {error}");
        }
        let missing = LinearConfig::from_provider(&provider(json!({"team": "ENG"})), vec![]);
        assert_eq!(
            missing.unwrap_err().category,
            TrackerErrorCategory::MissingTrackerSecret
        );
    }

    #[test]
    fn oauth_tokens_are_bearer_tokens() {
        let config = LinearConfig::from_provider(
            &provider(json!({"api_key": "lin_oauth_abc", "project_slug": "p-1"})),
            vec![],
        )
        .unwrap();
        assert_eq!(config.authorization(), "Bearer lin_oauth_abc");
    }
}
