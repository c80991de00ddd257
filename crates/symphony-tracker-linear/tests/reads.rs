//! SPEC §17.3 for the Linear adapter on the fake: scope, pagination, refreshes, blockers,
//! the §11.4 error categories through faults, rate limits, hand-off.

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
async fn candidates_are_the_teams_issues_in_the_states_across_pages() {
    let fake = FakeLinear::start(KEY);
    fake.add_team("OPS");
    for n in 0..5 {
        fake.create_issue("ENG", &format!("Work {n}"), "Todo", &[]);
    }
    fake.create_issue("ENG", "Finished", "Done", &[]);
    fake.create_issue("OPS", "Other team", "Todo", &[]);
    let tracker = tracker(&fake, "ENG", json!({"page_size": 2}));
    let issues = tracker
        .fetch_issues_by_states(&states(&["todo", "IN PROGRESS"]))
        .await
        .unwrap();
    assert_eq!(
        identifiers(&issues),
        ["ENG-1", "ENG-2", "ENG-3", "ENG-4", "ENG-5"],
        "states compare case-insensitively; another team's issue is out of scope"
    );
    assert_eq!(issues[0].state, "Todo", "the team's spelling is kept");
    let pages = fake
        .exchanges()
        .iter()
        .filter(|e| e.operation.as_deref() == Some("SymphonyIssues"))
        .count();
    assert_eq!(pages, 3, "five issues at two per page");
    let before = fake.request_count();
    assert!(tracker
        .fetch_issues_by_states(&[])
        .await
        .unwrap()
        .is_empty());
    assert_eq!(fake.request_count(), before, "no request for no states");
    fake.assert_all_valid();
}
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refreshes_read_ids_in_one_query_and_omit_what_left_the_scope() {
    let fake = FakeLinear::start(KEY);
    fake.add_team("OPS");
    let (a, _) = fake.create_issue("ENG", "A", "Todo", &[]);
    let (b, _) = fake.create_issue("ENG", "B", "In Progress", &[]);
    let (other, _) = fake.create_issue("OPS", "C", "Todo", &[]);
    let tracker = tracker(&fake, "ENG", json!({}));
    let before = fake.request_count();
    let ids = vec![a.clone(), b.clone(), a.clone(), other, "gone".to_owned()];
    let issues = tracker.fetch_issues_by_ids(&ids).await.unwrap();
    assert_eq!(
        identifiers(&issues),
        ["ENG-1", "ENG-2"],
        "each once, in scope only"
    );
    assert_eq!(fake.request_count(), before + 1, "one query for the batch");
    assert!(tracker.fetch_issues_by_ids(&[]).await.unwrap().is_empty());
    assert_eq!(fake.request_count(), before + 1);
    // A broken requested record fails the refresh; a state read leaves it out.
    fake.update_issue("ENG-2", |i| i.corrupt = true);
    let error = tracker.fetch_issues_by_ids(&[b]).await.unwrap_err();
    assert_eq!(error.category, TrackerErrorCategory::Response, "{error}");
    let listed = tracker
        .fetch_issues_by_states(&states(&["Todo", "In Progress"]))
        .await
        .unwrap();
    assert_eq!(identifiers(&listed), ["ENG-1"]);
    fake.assert_all_valid();
}
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blockers_come_from_blocks_relations_and_finish_by_state_type() {
    let fake = FakeLinear::start(KEY);
    let (blocker, _) = fake.create_issue("ENG", "First", "In Progress", &[]);
    let (done, _) = fake.create_issue("ENG", "Second", "Duplicate", &[]);
    fake.create_issue("ENG", "Blocked", "Todo", &["Backend"]);
    fake.update_issue("ENG-3", |i| {
        i.blocked_by = vec![blocker.clone(), done.clone()]
    });
    let tracker = tracker(&fake, "ENG", json!({}));
    let issues = tracker
        .fetch_issues_by_states(&states(&["Todo"]))
        .await
        .unwrap();
    let blocked = &issues[0];
    let blockers: Vec<_> = blocked
        .blocked_by
        .iter()
        .map(|b| (b.identifier.clone().unwrap(), b.state.clone().unwrap()))
        .collect();
    assert_eq!(
        blockers,
        [
            ("ENG-1".to_owned(), "In Progress".to_owned()),
            ("ENG-2".to_owned(), "Duplicate".to_owned())
        ]
    );
    assert_eq!(blocked.labels, ["backend"]);
    assert!(blocked.branch_name.is_some() && blocked.url.is_some());
    fake.assert_all_valid();
}
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_map_to_categories_and_transient_ones_are_retried() {
    let fake = FakeLinear::start(KEY);
    fake.create_issue("ENG", "A", "Todo", &[]);
    let tracker = tracker(&fake, "ENG", json!({}));
    let todo = states(&["Todo"]);

    fake.arm(Fault::Status(502));
    assert_eq!(
        tracker.fetch_issues_by_states(&todo).await.unwrap().len(),
        1,
        "a 5xx is retried"
    );

    fake.arm(Fault::RateLimited { reset_in_ms: 300 });
    assert_eq!(
        tracker.fetch_issues_by_states(&todo).await.unwrap().len(),
        1,
        "a rate limit is waited out until the reset Linear names"
    );
    assert!(tracker.rate_limits().requests_remaining.is_some());

    fake.arm(Fault::MalformedJson);
    let error = tracker.fetch_issues_by_states(&todo).await.unwrap_err();
    assert_eq!(error.category, TrackerErrorCategory::Response, "{error}");

    for _ in 0..4 {
        fake.arm(Fault::Status(503));
    }
    let error = tracker.fetch_issues_by_states(&todo).await.unwrap_err();
    assert_eq!(error.category, TrackerErrorCategory::Status, "{error}");

    let wrong = common::tracker(&fake, "ENG", json!({"api_key": "lin_api_wrong"}));
    let error = wrong.fetch_issues_by_states(&todo).await.unwrap_err();
    assert_eq!(error.category, TrackerErrorCategory::Status, "{error}");
    assert!(error.message.contains("Authentication required"), "{error}");
    assert!(
        !error.message.contains("lin_api_wrong"),
        "the key never appears: {error}"
    );
    fake.assert_all_valid();
}
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_rate_limit_fails_with_when_to_come_back() {
    let fake = FakeLinear::start(KEY);
    let tracker = tracker(&fake, "ENG", json!({"max_rate_limit_wait_ms": 100}));
    fake.arm(Fault::RateLimited {
        reset_in_ms: 30_000,
    });
    let error = tracker
        .fetch_issues_by_states(&states(&["Todo"]))
        .await
        .unwrap_err();
    assert_eq!(error.category, TrackerErrorCategory::RateLimited, "{error}");
    assert!(
        error.retry_after.is_some_and(|d| d.as_secs() >= 20),
        "{error:?}"
    );
    fake.assert_all_valid();
}
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_list_that_moves_between_pages_is_read_consistently() {
    let fake = FakeLinear::start(KEY);
    for n in 0..4 {
        fake.create_issue("ENG", &format!("Work {n}"), "Todo", &[]);
    }
    let tracker = tracker(&fake, "ENG", json!({"page_size": 2}));
    // After the first page, ENG-4 is moved out of Todo by a person.
    fake.arm(Fault::MoveAfter {
        identifier: "ENG-4".into(),
        state: "Done".into(),
    });
    let issues = tracker
        .fetch_issues_by_states(&states(&["Todo"]))
        .await
        .unwrap();
    assert_eq!(identifiers(&issues), ["ENG-1", "ENG-2", "ENG-3"]);
    fake.assert_all_valid();
}
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hand_off_moves_by_state_name_and_comments() {
    let fake = FakeLinear::start(KEY);
    fake.create_issue("ENG", "A", "In Progress", &[]);
    let tracker = tracker(&fake, "ENG", json!({}));
    let issue = tracker
        .fetch_issues_by_states(&states(&["In Progress"]))
        .await
        .unwrap()
        .remove(0);
    symphony_tracker::hand_off(
        &tracker,
        &issue,
        Some("in review"),
        Some("PR: https://example.test/pr/1"),
    )
    .await
    .unwrap();
    assert_eq!(fake.state_of("ENG-1"), "In Review");
    assert_eq!(
        fake.issue("ENG-1").comments,
        ["PR: https://example.test/pr/1"]
    );
    let error = symphony_tracker::hand_off(&tracker, &issue, Some("Shipped"), None)
        .await
        .unwrap_err();
    assert!(error.message.contains("no workflow state named"), "{error}");
    // A lost answer to a comment is an error, never a second comment.
    fake.arm(Fault::LostAnswer(502));
    assert!(
        symphony_tracker::hand_off(&tracker, &issue, None, Some("again"))
            .await
            .is_err()
    );
    assert_eq!(
        fake.issue("ENG-1").comments.len(),
        2,
        "written once, not repeated"
    );
    fake.assert_all_valid();
}
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_key_is_named_for_removal_from_every_child() {
    let fake = FakeLinear::start(KEY);
    let tracker = tracker(&fake, "ENG", json!({}));
    assert_eq!(tracker.secret_environment_names(), ["LINEAR_API_KEY"]);
    assert!(!format!("{tracker:?}").contains(KEY));
    fake.assert_all_valid();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn polls_after_the_first_read_only_what_changed_since() {
    let fake = FakeLinear::start(KEY);
    for n in 0..6 {
        fake.create_issue("ENG", &format!("Work {n}"), "Todo", &[]);
    }
    fake.create_issue("ENG", "Parked", "Backlog", &[]);
    let tracker = tracker(&fake, "ENG", json!({"page_size": 2}));
    let todo = states(&["Todo", "In Progress"]);
    let first = tracker.fetch_candidates(&todo, None).await.unwrap();
    assert!(first.complete && first.issues.len() == 6 && first.mark.is_some());

    let before = fake.request_count();
    let idle = tracker
        .fetch_candidates(&todo, first.mark.as_deref())
        .await
        .unwrap();
    assert!(!idle.complete && idle.issues.is_empty(), "{idle:?}");
    assert_eq!(
        fake.request_count(),
        before + 1,
        "an idle poll is one request"
    );

    // A person finishes one issue and readies another: both come back, whatever their state.
    fake.set_state("ENG-2", "Done");
    fake.set_state("ENG-7", "Todo");
    let changed = tracker
        .fetch_candidates(&todo, idle.mark.as_deref())
        .await
        .unwrap();
    let mut seen: Vec<(String, String)> = changed
        .issues
        .iter()
        .map(|i| (i.identifier.clone(), i.state.clone()))
        .collect();
    seen.sort();
    assert_eq!(
        seen,
        [
            ("ENG-2".to_owned(), "Done".to_owned()),
            ("ENG-7".to_owned(), "Todo".to_owned())
        ]
    );
    let quiet = tracker
        .fetch_candidates(&todo, changed.mark.as_deref())
        .await
        .unwrap();
    assert!(quiet.issues.is_empty(), "the mark moved past both changes");

    // A mark this adapter did not write, and a mark after many incremental reads, get a
    // complete answer (what an incremental read cannot see is bounded).
    let foreign = tracker
        .fetch_candidates(&todo, Some("etag:abc"))
        .await
        .unwrap();
    assert!(foreign.complete && foreign.issues.len() == 6);
    let mut mark = foreign.mark;
    for _ in 0..symphony_tracker_linear::COMPLETE_EVERY {
        let read = tracker
            .fetch_candidates(&todo, mark.as_deref())
            .await
            .unwrap();
        assert!(!read.complete);
        mark = read.mark;
    }
    let bounded = tracker
        .fetch_candidates(&todo, mark.as_deref())
        .await
        .unwrap();
    assert!(
        bounded.complete,
        "a complete read after 30 incremental ones"
    );
    fake.assert_all_valid();
}

/// Linear refuses a query over 10 000 complexity points (the fake too): the largest page and
/// the largest refresh batch the adapter sends stay under it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_largest_page_and_refresh_stay_under_linears_complexity_limit() {
    let fake = FakeLinear::start(KEY);
    let mut ids = Vec::new();
    for n in 0..120 {
        ids.push(
            fake.create_issue("ENG", &format!("Work {n}"), "Todo", &["a", "b"])
                .0,
        );
    }
    let tracker = tracker(&fake, "ENG", json!({"page_size": 100}));
    let listed = tracker
        .fetch_issues_by_states(&states(&["Todo"]))
        .await
        .unwrap();
    assert_eq!(listed.len(), 120);
    let refreshed = tracker.fetch_issues_by_ids(&ids).await.unwrap();
    assert_eq!(refreshed.len(), 120);
    let most = fake.exchanges().iter().map(|e| e.complexity).max().unwrap();
    assert!(most <= 10_000, "a query cost {most} points");
    fake.assert_all_valid();
}
