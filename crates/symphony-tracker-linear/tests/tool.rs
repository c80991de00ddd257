//! The `linear_graphql` tool: it runs what the agent asks inside the team and refuses the
//! rest, on the document's structure.

mod common;

use common::{states, tracker, KEY};
use serde_json::{json, Value};
use symphony_testkit::linear::FakeLinear;
use symphony_tracker::{ToolContext, Tracker};

async fn call(
    tracker: &dyn Tracker,
    context: &ToolContext,
    query: &str,
    variables: Value,
) -> (bool, Value, Option<String>) {
    let result = tracker
        .execute_agent_tool(
            "linear_graphql",
            json!({"query": query, "variables": variables}),
            context,
        )
        .await;
    (result.success, result.output, result.moved_to)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_and_writes_in_the_team_work_and_the_rest_is_refused() {
    let fake = FakeLinear::start(KEY);
    fake.add_team("OPS");
    let (own, _) = fake.create_issue("ENG", "Ours", "In Progress", &[]);
    let (foreign, _) = fake.create_issue("OPS", "Theirs", "Todo", &[]);
    let tracker = tracker(&fake, "ENG", json!({}));
    let issue = tracker
        .fetch_issues_by_states(&states(&["In Progress"]))
        .await
        .unwrap()
        .remove(0);
    let context = ToolContext::new(issue);

    let (ok, output, _) = call(
        &tracker,
        &context,
        "query($id: String!) { issue(id: $id) { identifier title } }",
        json!({"id": own}),
    )
    .await;
    assert!(ok, "{output}");
    assert_eq!(output["issue"]["title"], "Ours");

    let (ok, output, _) = call(
        &tracker,
        &context,
        "mutation { commentCreate(input: {issueId: \"ENG-1\", body: \"hi\"}) { success } }",
        json!({}),
    )
    .await;
    assert!(ok, "{output}");
    assert_eq!(fake.issue("ENG-1").comments, ["hi"]);

    let review_state = "state-eng-in-review";
    let (ok, output, moved) = call(
        &tracker,
        &context,
        "mutation($id: String!, $s: String!) { issueUpdate(id: $id, input: {stateId: $s}) { success } }",
        json!({"id": own, "s": review_state}),
    )
    .await;
    assert!(ok, "{output}");
    assert_eq!(
        moved.as_deref(),
        Some("In Review"),
        "the agent's own hand-off is reported"
    );

    let refusals = [
        ("query($id: String!) { issue(id: $id) { title } }", json!({"id": foreign}), "not in the configured scope"),
        ("mutation($id: String!) { commentCreate(input: {issueId: $id, body: \"x\"}) { success } }", json!({"id": foreign}), "not in the configured scope"),
        ("{ issue(id: \"ENG-1\") { team { organization { name } } } }", json!({}), "`organization` leads outside the team"),
        ("{ viewer { assignedIssues { nodes { title } } } }", json!({}), "`assignedIssues`"),
        ("{ team(id: \"OPS\") { key } }", json!({}), "not the configured team"),
        ("{ issues { nodes { title } } }", json!({}), "`issues` is not offered"),
        ("mutation { issueUpdate(id: \"ENG-1\", input: {teamId: \"team-ops\"}) { success } }", json!({}), "may not change `teamId`"),
        ("{ viewer { id } } { viewer { email } }", json!({}), "exactly one operation"),
        ("subscription { issue { id } }", json!({}), "subscriptions"),
        ("{ issue(id: ", json!({}), "does not parse"),
    ];
    for (query, variables, expected) in refusals {
        let before = fake.request_count();
        let (ok, output, _) = call(&tracker, &context, query, variables).await;
        assert!(!ok, "{query} should be refused: {output}");
        assert!(output.to_string().contains(expected), "{query}: {output}");
        let sent: Vec<_> = fake.exchanges()[before..]
            .iter()
            .filter(|e| e.operation.as_deref() != Some("SymphonyScope"))
            .map(|e| e.query.clone())
            .collect();
        assert!(
            sent.is_empty(),
            "{query}: nothing but a scope check was sent: {sent:?}"
        );
    }
    assert_eq!(fake.issue("OPS-1").comments, Vec::<String>::new());
    assert_eq!(fake.state_of("OPS-1"), "Todo");
    fake.assert_all_valid();
}
