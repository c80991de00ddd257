//! Each injected fault maps to its SPEC §11.4 category; waits honour `retry-after` and the
//! rate-limit reset (recorded, not slept); nothing but idempotent requests is retried.

mod common;

use std::time::Duration;

use common::{provider, Setup, Source, REPO, TOKEN};
use serde_json::json;
use symphony_core::Issue;
use symphony_testkit::github::{FakeGithub, Fault};
use symphony_tracker::{ToolContext, Tracker, TrackerError, TrackerErrorCategory};
use symphony_tracker_github::GithubConfig;

async fn todo(setup: &Setup) -> Result<Vec<Issue>, TrackerError> {
    setup
        .tracker
        .fetch_issues_by_states(&setup.states(&["todo"]))
        .await
}

fn list_requests(fake: &FakeGithub) -> usize {
    fake.exchanges()
        .iter()
        .filter(|e| e.method == "GET" && e.path.ends_with("/issues"))
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn configuration_errors_are_invalid_config_or_missing_secret() {
    let fake = FakeGithub::start(TOKEN);
    let bad_repo = GithubConfig::from_provider(
        &provider(&fake, Source::Labels, json!({"repo": "no-slash"})),
        Vec::new(),
    )
    .unwrap_err();
    assert_eq!(
        bad_repo.category,
        TrackerErrorCategory::InvalidTrackerConfig
    );
    assert!(bad_repo.message.contains("owner/name"), "{bad_repo}");
    let no_token = GithubConfig::from_provider(
        &provider(&fake, Source::Labels, json!({"token": null})),
        Vec::new(),
    )
    .unwrap_err();
    assert_eq!(
        no_token.category,
        TrackerErrorCategory::MissingTrackerSecret
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transport_failures_are_request_errors_after_bounded_retries() {
    // Nothing listens on a port we just released.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let setup = Setup::with(
        Source::Labels,
        json!({"api_url": format!("http://127.0.0.1:{port}")}),
    );
    let error = todo(&setup).await.unwrap_err();
    assert_eq!(error.category, TrackerErrorCategory::Request, "{error}");
    assert_eq!(
        setup.pauses.all(),
        vec![Duration::from_millis(500); 3],
        "three retries"
    );

    // A response that does not arrive in time is a request failure too.
    let setup = Setup::with(Source::Labels, json!({"request_timeout_ms": 200}));
    setup.file("One", "todo", &[]);
    setup
        .fake
        .inject("/issues", Fault::Slow(Duration::from_secs(3)), 4);
    let error = todo(&setup).await.unwrap_err();
    assert_eq!(error.category, TrackerErrorCategory::Request, "{error}");
    // The first attempt times out; a retry may instead find its pooled connection dropped
    // by that timeout. Both are transport failures, retried three times.
    assert_eq!(setup.pauses.all().len(), 3, "{error}");
    assert!(
        error.message.contains("within 200 ms") || error.message.contains("SendRequest"),
        "{error}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_errors_are_retried_then_reported_as_status() {
    let setup = Setup::new(Source::Labels);
    setup.file("One", "todo", &[]);
    setup.fake.inject("/issues", Fault::Status(502), 1);
    assert_eq!(
        todo(&setup).await.unwrap().len(),
        1,
        "one 502 is retried away"
    );
    assert_eq!(setup.pauses.all(), [Duration::from_millis(500)]);

    setup.fake.inject("/issues", Fault::Status(500), 4);
    let error = todo(&setup).await.unwrap_err();
    assert_eq!(error.category, TrackerErrorCategory::Status, "{error}");
    assert!(error.message.contains("500"), "{error}");

    let missing = Setup::with(Source::Labels, json!({"repo": "acme/missing"}));
    let error = todo(&missing).await.unwrap_err();
    assert_eq!(error.category, TrackerErrorCategory::Status);
    assert!(
        error.message.contains("404") && error.message.contains("Not Found"),
        "{error}"
    );
    assert!(missing.pauses.all().is_empty(), "a 404 is final");

    let wrong_token = Setup::with(Source::Labels, json!({"token": "ghp_wrong"}));
    let error = todo(&wrong_token).await.unwrap_err();
    assert!(
        error.message.contains("401") && error.message.contains("Bad credentials"),
        "{error}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_payloads_are_response_errors() {
    let setup = Setup::new(Source::Labels);
    setup.file("One", "todo", &[]);
    setup.fake.inject("/issues", Fault::MalformedJson, 1);
    let error = todo(&setup).await.unwrap_err();
    assert_eq!(error.category, TrackerErrorCategory::Response, "{error}");
    assert_eq!(
        todo(&setup).await.unwrap().len(),
        1,
        "the next poll recovers"
    );

    setup.fake.inject("/graphql", Fault::MalformedJson, 1);
    let id = todo(&setup).await.unwrap()[0].id.clone();
    let error = setup.tracker.fetch_issues_by_ids(&[id]).await.unwrap_err();
    assert_eq!(error.category, TrackerErrorCategory::Response, "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_list_that_moves_between_pages_is_a_pagination_error() {
    let setup = Setup::new(Source::Labels);
    for n in 0..150 {
        setup.file(&format!("Issue {n}"), "todo", &[]);
    }
    // After page one is served, an imported issue dated before all others shifts the list.
    setup.fake.inject(
        "/repos/acme/widgets/issues",
        Fault::BackdatedIssueAfter {
            title: "Imported".into(),
            labels: vec!["symphony:todo".into()],
        },
        1,
    );
    let error = todo(&setup).await.unwrap_err();
    assert_eq!(error.category, TrackerErrorCategory::Pagination, "{error}");
    assert_eq!(
        todo(&setup).await.unwrap().len(),
        151,
        "the next poll reads the new list"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secondary_limits_honour_retry_after() {
    let setup = Setup::new(Source::Labels);
    setup.file("One", "todo", &[]);
    setup
        .fake
        .inject("/issues", Fault::SecondaryRateLimit { retry_after_s: 7 }, 1);
    assert_eq!(todo(&setup).await.unwrap().len(), 1);
    assert_eq!(
        setup.pauses.all(),
        [Duration::from_secs(7)],
        "waited exactly retry-after"
    );
    assert_eq!(setup.tracker.stats().rate_limited(), 1);

    // Longer than the configured ceiling: fail now, say when to come back.
    setup.fake.inject(
        "/issues",
        Fault::SecondaryRateLimit { retry_after_s: 600 },
        1,
    );
    let error = todo(&setup).await.unwrap_err();
    assert_eq!(error.category, TrackerErrorCategory::RateLimited, "{error}");
    assert_eq!(error.retry_after, Some(Duration::from_secs(600)));
    assert_eq!(setup.pauses.all().len(), 1, "no wait beyond the ceiling");

    // GraphQL refreshes are queries: retried the same way.
    let id = todo(&setup).await.unwrap()[0].id.clone();
    setup.fake.inject(
        "/graphql",
        Fault::SecondaryRateLimit { retry_after_s: 3 },
        1,
    );
    assert_eq!(
        setup
            .tracker
            .fetch_issues_by_ids(&[id])
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(setup.pauses.all().last(), Some(&Duration::from_secs(3)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spent_primary_limit_waits_for_the_reset() {
    let setup = Setup::new(Source::Labels);
    setup.file("One", "todo", &[]);
    setup
        .fake
        .inject("/issues", Fault::PrimaryRateLimit { reset_in_s: 30 }, 1);
    assert_eq!(todo(&setup).await.unwrap().len(), 1);
    let waits = setup.pauses.all();
    assert_eq!(waits.len(), 1, "{waits:?}");
    assert!(
        (Duration::from_secs(28)..=Duration::from_secs(31)).contains(&waits[0]),
        "waited until the reset: {waits:?}"
    );
    let too_long = Setup::with(Source::Labels, json!({"max_rate_limit_wait_ms": 5000}));
    too_long.file("One", "todo", &[]);
    too_long
        .fake
        .inject("/issues", Fault::PrimaryRateLimit { reset_in_s: 900 }, 1);
    let error = todo(&too_long).await.unwrap_err();
    assert_eq!(error.category, TrackerErrorCategory::RateLimited);
    assert!(
        error
            .retry_after
            .is_some_and(|d| d > Duration::from_secs(800)),
        "{error:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_are_never_retried_blindly() {
    let setup = Setup::new(Source::Labels);
    let (number, _) = setup.file("One", "todo", &[]);
    let issue = todo(&setup).await.unwrap().remove(0);
    setup.fake.inject("/comments", Fault::Status(502), 1);
    let result = setup
        .tracker
        .execute_agent_tool(
            "github_api",
            json!({"method": "POST", "path": format!("/repos/{REPO}/issues/{number}/comments"), "body": {"body": "hello"}}),
            &ToolContext::new(issue),
        )
        .await;
    assert!(!result.success, "{result:?}");
    assert_eq!(result.output["category"], "tracker_status");
    let posts = setup
        .fake
        .exchanges()
        .iter()
        .filter(|e| e.method == "POST" && e.path.ends_with("/comments"))
        .count();
    assert_eq!(posts, 1, "a failed POST is not sent again");
    assert!(setup.fake.issue(REPO, number).comments.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_polls_are_all_304_and_cost_no_rate_limit() {
    let setup = Setup::new(Source::Labels);
    for n in 0..250 {
        setup.file(&format!("Issue {n}"), "todo", &[]);
    }
    let first = todo(&setup).await.unwrap();
    let used = setup.fake.rate_limit_used();
    let requests = list_requests(&setup.fake);
    let again = todo(&setup).await.unwrap();
    assert_eq!(again, first, "an unchanged backlog reads the same");
    assert_eq!(setup.fake.rate_limit_used(), used, "idle poll cost nothing");
    assert_eq!(
        setup.tracker.stats().not_modified(),
        3,
        "three pages, three 304s"
    );
    assert_eq!(list_requests(&setup.fake), requests + 3);
    // A change is seen at once.
    setup
        .fake
        .update_issue(REPO, 1, |i| i.title = "Renamed".into());
    let changed = todo(&setup).await.unwrap();
    assert_eq!(changed[0].title, "Renamed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_carry_the_configured_token_and_agents_lose_its_variable() {
    let setup = Setup::new(Source::Labels);
    setup.file("One", "todo", &[]);
    todo(&setup).await.unwrap();
    for exchange in setup.fake.exchanges() {
        assert_eq!(
            exchange.authorization.as_deref(),
            Some(format!("Bearer {TOKEN}").as_str())
        );
    }
    let names = setup.tracker.secret_environment_names();
    assert_eq!(names, ["GITHUB_TOKEN"]);
}

/// octocrab needs a runtime while it is built; without one the adapter refuses, it does not
/// panic (a CLI command once built it too early).
#[test]
fn building_outside_a_tokio_runtime_is_an_error_not_a_panic() {
    let fake = FakeGithub::start(TOKEN);
    let config =
        GithubConfig::from_provider(&provider(&fake, Source::Labels, json!({})), Vec::new())
            .unwrap();
    let error = symphony_tracker_github::GithubTracker::new(config).unwrap_err();
    assert!(error.message.contains("Tokio runtime"), "{error}");
}

/// GitHub asks every client to name itself; Symphony sends exactly one User-Agent,
/// `symphony/<version>` (octocrab's default client sent its own beside any other).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_name_symphony_in_one_user_agent() {
    let setup = Setup::new(Source::Labels);
    setup.file("One", "todo", &[]);
    todo(&setup).await.unwrap();
    let exchanges = setup.fake.exchanges();
    assert!(!exchanges.is_empty());
    let expected = format!("symphony/{}", env!("CARGO_PKG_VERSION"));
    for exchange in exchanges {
        assert_eq!(
            exchange.user_agents,
            std::slice::from_ref(&expected),
            "{}",
            exchange.path
        );
    }
}
