//! GitHub as a code host passes the code-host conformance kit on the fake GitHub, and serves
//! issues that live in another tracker: `code_host: {kind: github, ...}` with the token read
//! from a `$VAR`, never written in the workflow.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use async_trait::async_trait;
use common::{Setup, Source, REPO, TOKEN};
use serde_json::json;
use symphony_code_host::conformance::{self, CodeHostHarness, HeldReview};
use symphony_code_host::review_conformance::{self, PersonsReview, ReviewHarness};
use symphony_code_host::{
    CheckConclusion, CodeHost, CodeHostContext, CodeHostErrorCategory, CodeHostRegistry,
};
use symphony_core::Issue;
use symphony_tracker::Tracker;
use symphony_tracker_github::{GithubCodeHost, GithubCodeHostFactory};
use symphony_workflow::{
    ConfigRegistry, Environment, ProviderConfig, ServiceConfig, TrackerProfile, WorkflowDefinition,
};

struct Harness {
    setup: Option<Setup>,
}

#[async_trait]
impl CodeHostHarness for Harness {
    async fn fresh(&mut self) -> (Box<dyn CodeHost>, Issue) {
        let setup = Setup::new(Source::Labels);
        setup.file("The conformance change", "in-progress", &[]);
        let issue = setup
            .tracker
            .fetch_issues_by_states(&setup.states(&["in-progress"]))
            .await
            .unwrap()
            .remove(0);
        let host = GithubCodeHost::new(setup.tracker.config().clone()).unwrap();
        self.setup = Some(setup);
        (Box::new(host), issue)
    }

    async fn open_reviews(&mut self, branch: &str) -> Vec<HeldReview> {
        let fake = &self.setup.as_ref().unwrap().fake;
        fake.pulls(REPO)
            .into_iter()
            .filter(|p| p.open && p.pull.as_ref().is_some_and(|pr| pr.head == branch))
            .map(|p| HeldReview {
                title: p.title,
                body: p.body.unwrap_or_default(),
            })
            .collect()
    }

    async fn checks(&mut self, head_sha: &str) -> Vec<(String, CheckConclusion)> {
        let fake = &self.setup.as_ref().unwrap().fake;
        // Statuses only accumulate: the latest per context is the verdict.
        let mut latest = BTreeMap::new();
        for status in fake
            .statuses(REPO)
            .into_iter()
            .filter(|s| s.sha == head_sha)
        {
            let Some(name) = status.context.strip_prefix("symphony/") else {
                continue;
            };
            let conclusion = match status.state.as_str() {
                "success" => CheckConclusion::Success,
                "failure" => CheckConclusion::Failure,
                _ => CheckConclusion::Error,
            };
            latest.insert(name.to_owned(), conclusion);
        }
        latest.into_iter().collect()
    }
}

#[async_trait]
impl ReviewHarness for Harness {
    async fn pushed(&mut self, branch: &str, head: &str) {
        let fake = &self.setup.as_ref().unwrap().fake;
        fake.push_branch(REPO, branch, head);
    }

    async fn review(
        &mut self,
        branch: &str,
        verdict: PersonsReview,
        body: &str,
        comment: (&str, u32, &str),
    ) {
        let fake = &self.setup.as_ref().unwrap().fake;
        let state = match verdict {
            PersonsReview::RequestChanges => "CHANGES_REQUESTED",
            _ => "APPROVED",
        };
        fake.review_pull(REPO, pull_of(fake, branch), "ada", state, body, &[comment]);
    }

    async fn merge(&mut self, branch: &str) {
        let fake = &self.setup.as_ref().unwrap().fake;
        fake.merge_pull(REPO, pull_of(fake, branch));
    }
}

/// The number of the open pull request of `branch`.
fn pull_of(fake: &symphony_testkit::github::FakeGithub, branch: &str) -> u64 {
    fake.pulls(REPO)
        .into_iter()
        .find(|p| p.open && p.pull.as_ref().is_some_and(|pr| pr.head == branch))
        .map(|p| p.number)
        .expect("an open pull request of the branch")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn github_passes_the_code_host_conformance_kit() {
    conformance::run(&mut Harness { setup: None }).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn github_passes_the_review_conformance_kit() {
    review_conformance::run(&mut Harness { setup: None }).await;
}

struct Vars(Vec<(&'static str, String)>);

impl Environment for Vars {
    fn var(&self, name: &str) -> Option<String> {
        self.0
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.clone())
    }
}

/// A tracker of another kind (Linear, Jira: issues that do not live on GitHub).
struct Elsewhere;

impl TrackerProfile for Elsewhere {
    fn kind(&self) -> &'static str {
        "elsewhere"
    }
    fn default_active_states(&self) -> Option<Vec<String>> {
        Some(vec!["todo".into()])
    }
    fn default_terminal_states(&self) -> Option<Vec<String>> {
        Some(vec!["done".into()])
    }
    fn validate_provider(
        &self,
        _provider: &ProviderConfig,
    ) -> Result<(), symphony_workflow::SectionError> {
        Ok(())
    }
}

/// The configuration of issues from elsewhere with `code_host` as given, resolved (and the
/// section validated) in `env`.
fn issues_elsewhere_with(
    code_host: serde_json::Value,
    env: &dyn Environment,
) -> Result<ServiceConfig, symphony_workflow::ConfigError> {
    let text = format!("---\ntracker:\n  kind: elsewhere\ncode_host: {code_host}\n---\nprompt\n");
    let definition = WorkflowDefinition::parse(Path::new("/srv/WORKFLOW.md"), text.as_bytes())
        .expect("definition");
    let registry = ConfigRegistry::new()
        .with(std::sync::Arc::new(Elsewhere))
        .with_section(std::sync::Arc::new(symphony_code_host::CodeHostSection(
            CodeHostRegistry::new().with(std::sync::Arc::new(GithubCodeHostFactory)),
        )));
    ServiceConfig::resolve(&definition, &registry, env)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issues_from_another_tracker_get_github_pull_requests_with_the_token_from_the_environment()
{
    let setup = Setup::new(Source::Labels);
    let registry = CodeHostRegistry::new().with(std::sync::Arc::new(GithubCodeHostFactory));
    let url = setup.fake.url();
    let section = json!({"kind": "github", "repo": REPO, "api_url": url, "token": "$PR_TOKEN"});
    let env = Vars(vec![("PR_TOKEN", TOKEN.to_owned())]);
    let config = issues_elsewhere_with(section.clone(), &env).expect("config");
    let context = CodeHostContext::new(&config, Path::new("/srv"), &env);
    let host = registry
        .build(&context)
        .unwrap()
        .expect("a github code host");
    assert_eq!(host.kind(), "github");
    assert!(
        host.secret_environment_names()
            .contains(&"PR_TOKEN".to_owned()),
        "the token's variable is hidden from children: {:?}",
        host.secret_environment_names()
    );
    let issue: Issue = serde_json::from_value(json!({
        "id": "ABC-1", "identifier": "ABC-1", "title": "Local", "state": "todo"
    }))
    .unwrap();
    let proposal = symphony_code_host::ChangeProposal::new(
        "symphony/ABC-1",
        "main",
        "3f786850e387550fdab836ed7e6dc881de23001b",
        "ABC-1: Local",
        "body",
    );
    let outcome = host.propose_change(&issue, &proposal).await.unwrap();
    assert!(outcome.created && outcome.url.is_some());
    assert_eq!(setup.fake.pulls(REPO).len(), 1);

    // Without the variable it is refused, as a missing secret, at load and at build.
    let unset = Vars(Vec::new());
    let context = CodeHostContext::new(&config, Path::new("/srv"), &unset);
    let Err(missing) = registry.build(&context) else {
        panic!("built without its token");
    };
    assert_eq!(
        missing.category,
        CodeHostErrorCategory::MissingSecret,
        "{missing}"
    );
    let at_load = issues_elsewhere_with(section, &unset)
        .unwrap_err()
        .to_string();
    assert!(at_load.contains("missing_code_host_secret"), "{at_load}");
    // A token written into the workflow is refused: secrets come only from the environment.
    let literal = json!({"kind": "github", "repo": REPO, "token": TOKEN});
    let refused = issues_elsewhere_with(literal, &env)
        .unwrap_err()
        .to_string();
    assert!(refused.contains("never hold the token itself"), "{refused}");
    assert!(
        !refused.contains(TOKEN),
        "the token is not echoed: {refused}"
    );
}
