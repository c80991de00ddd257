//! SPEC §17.3, bullet by bullet, for each state source (labels, issue, project), on the fake.

mod common;

use std::sync::{Arc, Mutex};

use common::{Setup, Source, ALL_SOURCES, REPO};
use serde_json::json;
use symphony_core::Issue;
use symphony_tracker::{Tracker, TrackerErrorCategory};

fn identifiers(issues: &[Issue]) -> Vec<String> {
    issues.iter().map(|i| i.identifier.clone()).collect()
}

async fn active(setup: &Setup) -> Vec<Issue> {
    setup
        .tracker
        .fetch_issues_by_states(&setup.states(&[setup.source.active()]))
        .await
        .unwrap_or_else(|e| panic!("{:?}: active fetch failed: {e}", setup.source))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn candidate_fetch_applies_active_states_and_repository_scope() {
    for source in ALL_SOURCES {
        let setup = Setup::new(source);
        let (wanted, _) = setup.file("Wanted", source.active(), &[]);
        setup.file("Finished", source.terminal(), &[]);
        setup.file_in("acme/other", "Other repo", source.active(), &[]);
        let pull = setup.fake.create_pull(REPO, "A pull request", "feature");
        if source == Source::Project {
            setup
                .fake
                .add_to_project("acme", common::BOARD, REPO, pull, Some("Todo"), None);
        }
        if source == Source::Labels {
            setup
                .fake
                .update_issue(REPO, pull, |i| i.labels.push("symphony:todo".into()));
            // An open issue without a state label is not a candidate.
            setup.fake.create_issue(
                REPO,
                symphony_testkit::github::NewIssue::new("Unlabelled", &["bug"]),
            );
        }
        let issues = active(&setup).await;
        assert_eq!(
            identifiers(&issues),
            [format!("widgets#{wanted}")],
            "{source:?}: only this repository's active issues, never pull requests"
        );
        let terminal = setup
            .tracker
            .fetch_issues_by_states(&setup.states(&[source.terminal()]))
            .await
            .unwrap();
        assert_eq!(
            identifiers(&terminal),
            ["widgets#2"],
            "{source:?}: terminal fetch"
        );
        let spelled = issues[0].state.clone();
        assert_eq!(
            spelled,
            source.active(),
            "{source:?}: provider spelling kept"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn empty_inputs_return_empty_without_a_request() {
    for source in ALL_SOURCES {
        let setup = Setup::new(source);
        setup.file("One", source.active(), &[]);
        let before = setup.fake.request_count();
        assert!(setup
            .tracker
            .fetch_issues_by_states(&[])
            .await
            .unwrap()
            .is_empty());
        assert!(setup
            .tracker
            .fetch_issues_by_ids(&[])
            .await
            .unwrap()
            .is_empty());
        assert_eq!(setup.fake.request_count(), before, "{source:?}: no request");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pagination_preserves_order_across_pages() {
    for source in ALL_SOURCES {
        let setup = Setup::new(source);
        let mut filed = Vec::new();
        for n in 0..230 {
            let (number, _) = setup.file(&format!("Issue {n}"), source.active(), &[]);
            filed.push(format!("widgets#{number}"));
        }
        let issues = active(&setup).await;
        assert_eq!(
            identifiers(&issues),
            filed,
            "{source:?}: every issue, in order"
        );
        let pages = setup.fake.exchanges().len();
        assert_eq!(pages, 3, "{source:?}: 230 issues are three pages of 100");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn labels_are_normalized_to_lowercase() {
    for source in ALL_SOURCES {
        let setup = Setup::new(source);
        setup.file(
            "Labelled",
            source.active(),
            &["Bug", "  UI ", "bug", "Needs Review"],
        );
        let issues = active(&setup).await;
        assert_eq!(
            issues[0].labels,
            ["bug", "ui", "needs review"],
            "{source:?}"
        );
        let refreshed = setup
            .tracker
            .fetch_issues_by_ids(&[issues[0].id.clone()])
            .await
            .unwrap();
        assert_eq!(
            refreshed[0].labels, issues[0].labels,
            "{source:?}: refresh agrees"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unusable_optional_metadata_becomes_null_without_hiding_the_issue() {
    for source in ALL_SOURCES {
        let setup = Setup::new(source);
        setup.file("Bare", source.active(), &["priority:urgent"]);
        let issues = active(&setup).await;
        let issue = &issues[0];
        assert_eq!(
            (issue.title.as_str(), issue.priority),
            ("Bare", None),
            "{source:?}"
        );
        assert_eq!(issue.description, None, "{source:?}: no body is null");
        assert_eq!(issue.assignee_id, None, "{source:?}");
        assert!(issue.blocked_by.is_empty(), "{source:?}");
        assert!(
            issue.created_at.is_some() && issue.updated_at.is_some(),
            "{source:?}"
        );
    }
    // Priorities that are usable are read: a label under labels/issue, a field on a board.
    let setup = Setup::new(Source::Labels);
    setup.file("Urgent", "todo", &["priority:1"]);
    assert_eq!(active(&setup).await[0].priority, Some(1));
    let setup = Setup::new(Source::Project);
    let (number, _) = setup
        .fake
        .create_issue(REPO, symphony_testkit::github::NewIssue::new("Board", &[]));
    setup.fake.add_to_project(
        "acme",
        common::BOARD,
        REPO,
        number,
        Some("Todo"),
        Some(json!(2)),
    );
    setup.fake.create_issue(
        REPO,
        symphony_testkit::github::NewIssue::new("Unrelated", &[]),
    );
    let (text, _) = setup
        .fake
        .create_issue(REPO, symphony_testkit::github::NewIssue::new("Text", &[]));
    setup.fake.add_to_project(
        "acme",
        common::BOARD,
        REPO,
        text,
        Some("Todo"),
        Some(json!("soon")),
    );
    let issues = active(&setup).await;
    let priorities: Vec<Option<i64>> = issues.iter().map(|i| i.priority).collect();
    assert_eq!(priorities, [Some(2), None]);
}

/// Captures log lines written while `f` runs.
fn capture_logs() -> (Arc<Mutex<Vec<u8>>>, tracing::subscriber::DefaultGuard) {
    #[derive(Clone)]
    struct Sink(Arc<Mutex<Vec<u8>>>);
    impl std::io::Write for Sink {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let buffer = Arc::new(Mutex::new(Vec::new()));
    let sink = Sink(buffer.clone());
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || sink.clone())
        .with_ansi(false)
        .finish();
    (buffer, tracing::subscriber::set_default(subscriber))
}

#[tokio::test(flavor = "current_thread")]
async fn malformed_records_are_logged_and_omitted_by_state_reads_but_fail_id_refresh() {
    for source in ALL_SOURCES {
        let setup = Setup::new(source);
        let (good, good_id) = setup.file("Good", source.active(), &[]);
        let (bad, bad_id) = setup.file("Bad", source.active(), &[]);
        setup.fake.update_issue(REPO, bad, |i| i.corrupt = true);
        let (logs, guard) = capture_logs();
        let issues = active(&setup).await;
        drop(guard);
        assert_eq!(
            identifiers(&issues),
            [format!("widgets#{good}")],
            "{source:?}"
        );
        let logged = String::from_utf8_lossy(&logs.lock().unwrap()).into_owned();
        assert!(
            logged.contains("skipping malformed") && logged.contains("`title`"),
            "{source:?}: the omission is logged with its reason: {logged}"
        );
        let error = setup
            .tracker
            .fetch_issues_by_ids(&[good_id.clone(), bad_id])
            .await
            .expect_err("refresh of a malformed record fails");
        assert_eq!(
            error.category,
            TrackerErrorCategory::Response,
            "{source:?}: {error}"
        );
        assert!(
            error.message.contains("title"),
            "{source:?}: names the field: {error}"
        );
        let ok = setup.tracker.fetch_issues_by_ids(&[good_id]).await.unwrap();
        assert_eq!(identifiers(&ok), [format!("widgets#{good}")]);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresh_by_id_returns_full_snapshots_as_a_set() {
    for source in ALL_SOURCES {
        let setup = Setup::new(source);
        setup.file("One", source.active(), &["Bug"]);
        setup.file("Two", source.active(), &[]);
        let listed = active(&setup).await;
        let ids = vec![
            listed[0].id.clone(),
            listed[1].id.clone(),
            listed[0].id.clone(),
            "I_kwDOunknown".to_owned(),
        ];
        let refreshed = setup.tracker.fetch_issues_by_ids(&ids).await.unwrap();
        assert_eq!(
            refreshed, listed,
            "{source:?}: same snapshots, each once, unknown omitted"
        );
        // A state change shows in the next refresh.
        let number = listed[0].native_ref.as_ref().unwrap()["number"]
            .as_u64()
            .unwrap();
        setup.move_to(number, source.terminal());
        let after = setup
            .tracker
            .fetch_issues_by_ids(&[listed[0].id.clone()])
            .await
            .unwrap();
        assert_eq!(after[0].state, source.terminal(), "{source:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn native_ref_keeps_the_number_node_id_and_board_item() {
    for source in ALL_SOURCES {
        let setup = Setup::new(source);
        let (number, node) = setup.file("One", source.active(), &[]);
        let issue = active(&setup).await.remove(0);
        let native = issue.native_ref.clone().expect("native_ref");
        assert_eq!(issue.id, node, "{source:?}: the node id is the dispatch id");
        assert_eq!(native["number"], json!(number));
        assert_eq!(native["node_id"], json!(node));
        assert_eq!(native["repo"], json!(REPO));
        assert_eq!(
            native.get("project_item_id").is_some(),
            source == Source::Project,
            "{source:?}: board item id only under the project source"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blockers_assignment_and_ambiguity_become_explicit_dispatchable() {
    for source in ALL_SOURCES {
        let setup = Setup::with(source, json!({"assignee": "ada"}));
        let (blocker, _) = setup.file("Blocker", source.active(), &[]);
        let (blocked, _) = setup.file("Blocked", source.active(), &[]);
        let (free, _) = setup.file("Free", source.active(), &[]);
        for n in [blocker, blocked, free] {
            setup
                .fake
                .update_issue(REPO, n, |i| i.assignees = vec!["ada".into()]);
        }
        let (unassigned, _) = setup.file("Someone else's", source.active(), &[]);
        setup
            .fake
            .update_issue(REPO, blocked, |i| i.blocked_by = vec![blocker]);
        let dispatchable = |issues: &[Issue]| -> Vec<(String, bool)> {
            issues
                .iter()
                .map(|i| (i.title.clone(), i.dispatchable))
                .collect()
        };
        let issues = active(&setup).await;
        assert_eq!(
            dispatchable(&issues),
            [
                ("Blocker".to_owned(), true),
                ("Blocked".to_owned(), false),
                ("Free".to_owned(), true),
                ("Someone else's".to_owned(), false),
            ],
            "{source:?}"
        );
        let blocked_issue = &issues[1];
        assert_eq!(
            blocked_issue.blocked_by.len(),
            1,
            "{source:?}: blocker listed"
        );
        assert_eq!(
            blocked_issue.blocked_by[0].identifier.as_deref(),
            Some(format!("widgets#{blocker}").as_str())
        );
        // The refresh agrees, and a closed blocker no longer blocks.
        let ids: Vec<String> = issues.iter().map(|i| i.id.clone()).collect();
        assert_eq!(
            dispatchable(&setup.tracker.fetch_issues_by_ids(&ids).await.unwrap()),
            dispatchable(&issues)
        );
        setup.fake.update_issue(REPO, blocker, |i| i.open = false);
        let refreshed = setup.tracker.fetch_issues_by_ids(&ids[1..2]).await.unwrap();
        assert!(refreshed[0].dispatchable, "{source:?}: closed blocker");
        let _ = unassigned;
    }
    // Two state labels on one issue: ambiguous, so a human decides.
    let setup = Setup::new(Source::Labels);
    setup.file("Confused", "todo", &["symphony:in-progress"]);
    let issues = setup
        .tracker
        .fetch_issues_by_states(&setup.states(&["todo", "in-progress"]))
        .await
        .unwrap();
    assert_eq!(issues.len(), 1);
    assert!(!issues[0].dispatchable);
    // A closed issue still in an active column is never dispatchable.
    let setup = Setup::new(Source::Project);
    let (number, _) = setup.file("Closed but Todo", "Todo", &[]);
    setup.fake.update_issue(REPO, number, |i| i.open = false);
    assert!(!active(&setup).await[0].dispatchable);
}

#[test]
fn the_adapter_profile_is_published() {
    let profile = include_str!("../../../docs/trackers/github.md");
    for required in [
        "tracker.kind",
        "`github`",
        "tracker.provider",
        "GITHUB_TOKEN",
        "invalid_tracker_config",
        "Scope",
        "Pagination",
        "`id`",
        "`native_ref`",
        "`dispatchable`",
        "Malformed",
        "github_api",
        "tracker_request",
        "tracker_status",
        "tracker_response",
        "tracker_pagination",
        "tracker_rate_limited",
        "missing_tracker_secret",
    ] {
        assert!(
            profile.contains(required),
            "docs/trackers/github.md lacks {required:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresh_by_id_is_one_graphql_query_per_hundred_ids() {
    let setup = Setup::new(Source::Labels);
    for n in 0..150 {
        setup.file(&format!("Issue {n}"), "todo", &[]);
    }
    let listed = active(&setup).await;
    let ids: Vec<String> = listed.iter().map(|i| i.id.clone()).collect();
    let before = setup.fake.exchanges().len();
    let refreshed = setup.tracker.fetch_issues_by_ids(&ids).await.unwrap();
    assert_eq!(refreshed, listed);
    let queries: Vec<_> = setup.fake.exchanges()[before..]
        .iter()
        .map(|e| (e.method.clone(), e.path.clone()))
        .collect();
    assert_eq!(queries, vec![("POST".to_owned(), "/graphql".to_owned()); 2]);
}
