//! `github_api` reports the state a call moved the session's issue to, and only that: a read
//! moves nothing, a write elsewhere moves nothing, and a person's move made meanwhile is not
//! taken for the agent's (every call used to count as the agent moving its own issue). A move
//! is a state the call asked for, as GitHub's answer shows it: no read around the call.

mod common;

use common::{Setup, Source, REPO};
use serde_json::json;
use symphony_tracker::{ToolContext, Tracker};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_a_call_that_moved_the_issue_reports_a_move() {
    let setup = Setup::new(Source::Labels);
    let (number, _) = setup.file("Add a greeting", "todo", &[]);
    let issue = setup
        .tracker
        .fetch_issues_by_states(&setup.states(&["todo"]))
        .await
        .unwrap()
        .remove(0);
    let context = ToolContext::new(issue.clone());
    let call = |arguments: serde_json::Value| {
        let context = context.clone();
        let tracker = &setup.tracker;
        async move {
            tracker
                .execute_agent_tool("github_api", arguments, &context)
                .await
        }
    };
    let issue_path = format!("/repos/{REPO}/issues/{number}");

    let read = call(json!({"method": "GET", "path": issue_path})).await;
    assert!(read.success, "{read:?}");
    assert_eq!(read.moved_to, None, "a read moves nothing");

    let comment = call(
        json!({"method": "POST", "path": format!("{issue_path}/comments"),
        "body": {"body": "Working on it."}}),
    )
    .await;
    assert!(comment.success, "{comment:?}");
    assert_eq!(comment.moved_to, None, "a comment moves nothing");

    // The agent moves its issue to review: add the new state label, remove the old one.
    let add = call(
        json!({"method": "POST", "path": format!("{issue_path}/labels"),
        "body": {"labels": ["symphony:human-review"]}}),
    )
    .await;
    let remove = call(json!({"method": "DELETE",
        "path": format!("{issue_path}/labels/symphony:todo")}))
    .await;
    assert!(add.success && remove.success, "{add:?} {remove:?}");
    let moves: Vec<Option<String>> = vec![add.moved_to, remove.moved_to];
    assert!(
        moves.iter().flatten().any(|s| s == "human-review"),
        "the move to review is the agent's: {moves:?}"
    );

    // A person moves it back; the agent then labels it for docs. Not the agent's move.
    setup.move_to(number, "todo");
    let label = call(
        json!({"method": "POST", "path": format!("{issue_path}/labels"),
        "body": {"labels": ["docs"]}}),
    )
    .await;
    assert!(label.success, "{label:?}");
    assert_eq!(label.moved_to, None, "the person's move is not the agent's");

    // A person labels it for rework; the agent then removes `todo`. The issue is in rework,
    // but the agent asked for no state: not its move.
    setup.fake.update_issue(REPO, number, |i| {
        i.labels.push("symphony:rework".into());
    });
    let remove = call(json!({"method": "DELETE",
        "path": format!("{issue_path}/labels/symphony:todo")}))
    .await;
    assert!(remove.success, "{remove:?}");
    assert_eq!(
        remove.moved_to, None,
        "the person's state is not the agent's"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_labels_call_whose_answer_settles_the_state_is_not_read_again() {
    let setup = Setup::new(Source::Labels);
    let (number, _) = setup.file("Finish", "todo", &["docs"]);
    let issue = setup
        .tracker
        .fetch_issues_by_states(&setup.states(&["todo"]))
        .await
        .unwrap()
        .remove(0);
    let requests = setup.fake.request_count();
    let result = setup
        .tracker
        .execute_agent_tool(
            "github_api",
            json!({"method": "PUT", "path": format!("/repos/{REPO}/issues/{number}/labels"),
                   "body": {"labels": ["symphony:done", "docs"]}}),
            &ToolContext::new(issue),
        )
        .await;
    assert!(result.success, "{result:?}");
    assert_eq!(result.moved_to.as_deref(), Some("done"));
    assert_eq!(
        setup.fake.request_count(),
        requests + 1,
        "the call alone: GitHub's answer lists the labels after"
    );
}
