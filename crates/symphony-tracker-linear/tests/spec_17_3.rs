//! SPEC §17.3, bullet by bullet, for the Linear adapter on the fake Linear. Each test is named
//! after its bullet; faults, rate limits and hand-off are in `reads.rs`, the conformance kit in
//! `conformance.rs`.

mod common;

use common::{states, tracker, KEY};
use serde_json::json;
use symphony_core::Issue;
use symphony_testkit::linear::{FakeLinear, Fault};
use symphony_tracker::{Tracker, TrackerErrorCategory};

fn identifiers(issues: &[Issue]) -> Vec<String> {
    issues.iter().map(|i| i.identifier.clone()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn candidate_fetch_applies_active_states_and_team_and_project_scope() {
    let fake = FakeLinear::start(KEY);
    fake.add_team("OPS");
    fake.create_issue("ENG", "Wanted", "Todo", &[]);
    fake.create_issue("ENG", "Finished", "Done", &[]);
    fake.create_issue("ENG", "Elsewhere in the team", "Todo", &[]);
    fake.create_issue("OPS", "Other team", "Todo", &[]);
    fake.update_issue("ENG-1", |i| i.project = Some("web".into()));
    fake.update_issue("ENG-2", |i| i.project = Some("web".into()));
    let team = tracker(&fake, "ENG", json!({}));
    let todo = states(&["Todo"]);
    assert_eq!(
        identifiers(&team.fetch_issues_by_states(&todo).await.unwrap()),
        ["ENG-1", "ENG-3"]
    );
    let project = tracker(&fake, "ENG", json!({"project_slug": "web"}));
    assert_eq!(
        identifiers(&project.fetch_issues_by_states(&todo).await.unwrap()),
        ["ENG-1"],
        "team and project both apply"
    );
    fake.assert_all_valid();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn empty_state_list_returns_empty_without_a_provider_call() {
    let fake = FakeLinear::start(KEY);
    let tracker = tracker(&fake, "ENG", json!({}));
    assert!(tracker
        .fetch_issues_by_states(&[])
        .await
        .unwrap()
        .is_empty());
    assert!(tracker
        .fetch_issues_by_states(&states(&[" "]))
        .await
        .unwrap()
        .is_empty());
    assert_eq!(fake.request_count(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn empty_id_list_returns_empty_without_a_provider_call() {
    let fake = FakeLinear::start(KEY);
    let tracker = tracker(&fake, "ENG", json!({}));
    assert!(tracker.fetch_issues_by_ids(&[]).await.unwrap().is_empty());
    assert_eq!(fake.request_count(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pagination_preserves_order_across_pages() {
    let fake = FakeLinear::start(KEY);
    for n in 1..=7 {
        fake.create_issue("ENG", &format!("Work {n}"), "Todo", &[]);
    }
    let tracker = tracker(&fake, "ENG", json!({"page_size": 3}));
    let issues = tracker
        .fetch_issues_by_states(&states(&["Todo"]))
        .await
        .unwrap();
    let expected: Vec<String> = (1..=7).map(|n| format!("ENG-{n}")).collect();
    assert_eq!(
        identifiers(&issues),
        expected,
        "oldest first, page after page"
    );
    assert_eq!(fake.request_count(), 3, "seven issues at three per page");
    fake.assert_all_valid();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn labels_are_normalized_to_lowercase() {
    let fake = FakeLinear::start(KEY);
    fake.create_issue("ENG", "Labelled", "Todo", &["Bug", " Backend ", "bug"]);
    let tracker = tracker(&fake, "ENG", json!({}));
    let issue = tracker
        .fetch_issues_by_states(&states(&["Todo"]))
        .await
        .unwrap()
        .remove(0);
    assert_eq!(
        issue.labels,
        ["bug", "backend"],
        "in order, first spelling kept once"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unusable_optional_metadata_normalizes_to_null_or_empty() {
    let fake = FakeLinear::start(KEY);
    fake.create_issue("ENG", "Bare", "Todo", &[]);
    // No priority (Linear's 0), no description, no assignee, no project, no blockers.
    let tracker = tracker(&fake, "ENG", json!({}));
    let issue = tracker
        .fetch_issues_by_states(&states(&["Todo"]))
        .await
        .unwrap()
        .remove(0);
    assert_eq!(issue.title, "Bare");
    assert_eq!(issue.state, "Todo");
    assert_eq!(issue.priority, None);
    assert_eq!(issue.description, None);
    assert_eq!(issue.assignee_id, None);
    assert!(issue.blocked_by.is_empty() && issue.labels.is_empty());
    assert!(issue.created_at.is_some(), "Linear's timestamps parse");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn state_reads_omit_malformed_records_and_refreshes_fail_on_them() {
    let fake = FakeLinear::start(KEY);
    let (good, _) = fake.create_issue("ENG", "Good", "Todo", &[]);
    let (bad, _) = fake.create_issue("ENG", "Bad", "Todo", &[]);
    fake.update_issue("ENG-2", |i| i.corrupt = true);
    let tracker = tracker(&fake, "ENG", json!({}));
    let listed = tracker
        .fetch_issues_by_states(&states(&["Todo"]))
        .await
        .unwrap();
    assert_eq!(
        identifiers(&listed),
        ["ENG-1"],
        "the malformed record is left out"
    );
    let error = tracker.fetch_issues_by_ids(&[good, bad]).await.unwrap_err();
    assert_eq!(error.category, TrackerErrorCategory::Response);
    assert!(
        error.message.contains("ENG-2") && error.message.contains("title"),
        "{error}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresh_by_dispatch_id_returns_full_snapshots() {
    let fake = FakeLinear::start(KEY);
    let (id, _) = fake.create_issue("ENG", "Full", "In Progress", &["Docs"]);
    fake.update_issue("ENG-1", |i| {
        i.priority = 2;
        i.description = Some("Body".into());
        i.assignee = Some("dev@fake.test".into());
    });
    let tracker = tracker(&fake, "ENG", json!({}));
    let listed = tracker
        .fetch_issues_by_states(&states(&["In Progress"]))
        .await
        .unwrap()
        .remove(0);
    let refreshed = tracker
        .fetch_issues_by_ids(std::slice::from_ref(&id))
        .await
        .unwrap()
        .remove(0);
    assert_eq!(
        refreshed, listed,
        "a refresh is the same full snapshot as a listing"
    );
    assert_eq!(refreshed.id, id);
    assert_eq!(refreshed.priority, Some(2));
    assert_eq!(refreshed.assignee_id.as_deref(), Some("user-dev@fake.test"));
    fake.assert_all_valid();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn native_ref_keeps_the_identifier_team_and_project() {
    let fake = FakeLinear::start(KEY);
    let (id, _) = fake.create_issue("ENG", "Ref", "Todo", &[]);
    fake.update_issue("ENG-1", |i| i.project = Some("web".into()));
    let tracker = tracker(&fake, "ENG", json!({}));
    let issue = tracker
        .fetch_issues_by_ids(std::slice::from_ref(&id))
        .await
        .unwrap()
        .remove(0);
    let native = issue.native_ref.expect("native_ref");
    assert_eq!(native["id"], id.as_str());
    assert_eq!(native["identifier"], "ENG-1");
    assert_eq!(native["team"], "ENG");
    assert_eq!(native["team_id"], "team-eng");
    assert_eq!(native["project"], "web");
    assert_eq!(native["state_type"], "unstarted");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn assignment_and_blockers_become_explicit_dispatchable_and_blocked_by() {
    let fake = FakeLinear::start(KEY);
    let (blocker, _) = fake.create_issue("ENG", "Blocker", "In Progress", &[]);
    fake.create_issue("ENG", "Mine", "Todo", &[]);
    fake.create_issue("ENG", "Someone else's", "Todo", &[]);
    fake.update_issue("ENG-2", |i| {
        i.assignee = Some("symphony-bot@fake.test".into());
        i.blocked_by = vec![blocker.clone()];
    });
    fake.update_issue("ENG-3", |i| i.assignee = Some("dev@fake.test".into()));
    let tracker = tracker(&fake, "ENG", json!({"assignee": "me"}));
    let issues = tracker
        .fetch_issues_by_states(&states(&["Todo"]))
        .await
        .unwrap();
    let routed: Vec<(String, bool)> = issues
        .iter()
        .map(|i| (i.identifier.clone(), i.dispatchable))
        .collect();
    assert_eq!(
        routed,
        [("ENG-2".to_owned(), true), ("ENG-3".to_owned(), false)],
        "only issues assigned to the key's owner dispatch"
    );
    assert_eq!(issues[0].blocked_by[0].identifier.as_deref(), Some("ENG-1"));
    assert_eq!(
        issues[0].blocked_by[0].state.as_deref(),
        Some("In Progress")
    );
}

#[test]
fn the_adapter_publishes_its_profile() {
    let profile = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/trackers/linear.md"),
    )
    .expect("docs/trackers/linear.md");
    for section in [
        "`tracker.kind` is `linear`",
        "## Configuration",
        "## Scope and reads",
        "## Normalization",
        "`native_ref`",
        "## Agent tool: `linear_graphql`",
        "## Rate limits and retries",
        "## Errors",
    ] {
        assert!(profile.contains(section), "the profile lacks {section:?}");
    }
    for key in symphony_tracker_linear::LinearConfig::keys() {
        assert!(
            profile.contains(&format!("`{key}`")),
            "the profile does not document `{key}`"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_map_to_the_portable_categories() {
    let fake = FakeLinear::start(KEY);
    fake.create_issue("ENG", "A", "Todo", &[]);
    let todo = states(&["Todo"]);
    // Config.
    let config = symphony_tracker_linear::LinearConfig::from_provider(
        &common::provider(&fake, "ENG", json!({"page_size": 0})),
        common::terminal(),
    )
    .unwrap_err();
    assert_eq!(config.category, TrackerErrorCategory::InvalidTrackerConfig);
    // Request: nothing listens.
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        port
    };
    let unreachable = tracker(
        &fake,
        "ENG",
        json!({"endpoint": format!("http://127.0.0.1:{closed}/graphql"), "request_timeout_ms": 500}),
    );
    let request = unreachable.fetch_issues_by_states(&todo).await.unwrap_err();
    assert_eq!(request.category, TrackerErrorCategory::Request, "{request}");
    // Non-success response.
    let tracker = tracker(&fake, "ENG", json!({}));
    for _ in 0..4 {
        fake.arm(Fault::Status(500));
    }
    let status = tracker.fetch_issues_by_states(&todo).await.unwrap_err();
    assert_eq!(status.category, TrackerErrorCategory::Status, "{status}");
    // Malformed payload.
    fake.arm(Fault::MalformedJson);
    let payload = tracker.fetch_issues_by_states(&todo).await.unwrap_err();
    assert_eq!(
        payload.category,
        TrackerErrorCategory::Response,
        "{payload}"
    );
    // Pagination: a next page announced without a cursor.
    fake.arm(Fault::NoEndCursor);
    let pagination = tracker.fetch_issues_by_states(&todo).await.unwrap_err();
    assert_eq!(
        pagination.category,
        TrackerErrorCategory::Pagination,
        "{pagination}"
    );
    // Rate limiting.
    let impatient = common::tracker(&fake, "ENG", json!({"max_rate_limit_wait_ms": 0}));
    fake.arm(Fault::RateLimited {
        reset_in_ms: 10_000,
    });
    let limited = impatient.fetch_issues_by_states(&todo).await.unwrap_err();
    assert_eq!(
        limited.category,
        TrackerErrorCategory::RateLimited,
        "{limited}"
    );
    assert!(limited.retry_after.is_some());
    // Every message is readable and free of the key.
    for error in [&config, &request, &status, &payload, &pagination, &limited] {
        assert!(
            !error.message.is_empty() && !error.message.contains(KEY),
            "{error}"
        );
    }
}
