//! The adapter's requests and the fake's answers, checked against GitHub's OpenAPI
//! description (the pinned `@octokit/openapi` subset in symphony-testkit).

mod common;

use common::{Setup, Source, REPO};
use serde_json::json;
use symphony_testkit::github::openapi;
use symphony_tracker::{ToolContext, Tracker};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_rest_exchange_conforms_to_githubs_openapi_description() {
    let setup = Setup::with(Source::Labels, json!({"assignee": "ada"}));
    for n in 0..120 {
        let (number, _) = setup.file(&format!("Issue {n}"), "todo", &["Bug"]);
        setup
            .fake
            .update_issue(REPO, number, |i| i.assignees = vec!["ada".into()]);
    }
    setup.fake.update_issue(REPO, 2, |i| i.blocked_by = vec![1]);
    setup.file("Finished", "closed", &[]);
    setup.fake.create_pull(REPO, "A pull request", "feature");
    let states = setup.states(&["todo", "closed"]);
    let issues = setup.tracker.fetch_issues_by_states(&states).await.unwrap();
    setup.tracker.fetch_issues_by_states(&states).await.unwrap(); // all 304s
    let issue = issues[0].clone();
    let context = ToolContext::new(issue);
    for call in [
        json!({"method": "GET", "path": "/repos/acme/widgets/issues", "query": {"state": "all", "per_page": 5, "labels": "bug"}}),
        json!({"method": "GET", "path": "/repos/acme/widgets/issues/1"}),
        json!({"method": "POST", "path": "/repos/acme/widgets/issues/1/labels", "body": {"labels": ["symphony:human-review"]}}),
        json!({"method": "DELETE", "path": "/repos/acme/widgets/issues/1/labels/symphony:todo"}),
        json!({"method": "POST", "path": "/repos/acme/widgets/issues/1/comments", "body": {"body": "Ready for review."}}),
        json!({"method": "GET", "path": "/repos/acme/widgets/issues/1/comments"}),
        json!({"method": "PATCH", "path": "/repos/acme/widgets/issues/3", "body": {"state": "closed"}}),
        json!({"method": "GET", "path": "/repos/acme/widgets/labels"}),
        // What the hand-off will do: a pull request, its status and a check run.
        json!({"method": "POST", "path": "/repos/acme/widgets/pulls", "body": {"title": "widgets#1: Issue 0", "head": "symphony/widgets-1", "base": "main", "body": "Closes #1"}}),
        json!({"method": "GET", "path": "/repos/acme/widgets/pulls", "query": {"head": "acme:symphony/widgets-1", "state": "open"}}),
        json!({"method": "PATCH", "path": "/repos/acme/widgets/pulls/123", "body": {"body": "Closes #1, with gates"}}),
        json!({"method": "GET", "path": "/repos/acme/widgets/pulls/123"}),
        json!({"method": "POST", "path": "/repos/acme/widgets/statuses/0000000000000000000000000000000000000124", "body": {"state": "success", "context": "symphony/gates", "description": "5 gates passed"}}),
        json!({"method": "GET", "path": "/repos/acme/widgets/commits/0000000000000000000000000000000000000124/statuses"}),
        json!({"method": "POST", "path": "/repos/acme/widgets/check-runs", "body": {"name": "symphony", "head_sha": "0000000000000000000000000000000000000124", "status": "completed", "conclusion": "success", "output": {"title": "Gates", "summary": "all passed"}}}),
    ] {
        let result = setup
            .tracker
            .execute_agent_tool("github_api", call.clone(), &context)
            .await;
        assert!(result.success, "{call}: {result:?}");
    }
    // GitHub's error shape is part of the description too.
    let missing = json!({"method": "GET", "path": "/repos/acme/widgets/issues/999"});
    let result = setup
        .tracker
        .execute_agent_tool("github_api", missing, &context)
        .await;
    assert_eq!(
        (result.success, &result.output["category"]),
        (false, &json!("tracker_status"))
    );
    let exchanges = setup.fake.exchanges();
    let rest: Vec<_> = exchanges.iter().filter(|e| e.path != "/graphql").collect();
    assert!(
        rest.len() >= 15,
        "enough traffic to mean something: {}",
        rest.len()
    );
    assert!(
        rest.iter().any(|e| e.status == 304),
        "conditional requests were exercised"
    );
    assert!(
        rest.iter().any(|e| e.path.starts_with("/repositories/")),
        "Link pages were followed"
    );
    assert!(rest
        .iter()
        .any(|e| e.path.ends_with("/dependencies/blocked_by")));
    let problems: Vec<String> = rest
        .iter()
        .filter(|e| !e.faulted)
        .flat_map(|e| openapi::check_exchange(e))
        .collect();
    assert!(
        problems.is_empty(),
        "off-spec exchanges ({}):\n{}",
        openapi::source(),
        problems.join("\n")
    );
}
