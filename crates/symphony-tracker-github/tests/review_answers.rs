//! Answering a review round on GitHub (ADR 0018), on the fake GitHub: a reply in each thread
//! the round addressed, the thread resolved over GraphQL, the reviewers who asked for changes
//! asked again; repeating the answer resolves nothing twice; every REST exchange checked
//! against GitHub's OpenAPI description.

mod common;

use common::{Setup, Source, REPO};
use symphony_code_host::{ChangeProposal, CodeHost, FeedbackKind, WatchedChange};
use symphony_testkit::github::openapi;
use symphony_tracker::Tracker;
use symphony_tracker_github::GithubCodeHost;

const BRANCH: &str = "symphony/widgets-1";
const HEAD: &str = "1111111111111111111111111111111111111111";
const NEW_HEAD: &str = "4444444444444444444444444444444444444444";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_round_is_answered_in_its_threads_which_are_resolved_and_its_reviewers_asked_again() {
    let setup = Setup::new(Source::Labels);
    setup.file("Add a greeting", "in-progress", &[]);
    let issue = setup
        .tracker
        .fetch_issues_by_states(&setup.states(&["in-progress"]))
        .await
        .unwrap()
        .remove(0);
    let fake = &setup.fake;
    fake.push_branch(REPO, BRANCH, HEAD);
    let host = GithubCodeHost::new(setup.tracker.config().clone()).unwrap();
    let number = host
        .propose_change(
            &issue,
            &ChangeProposal::new(BRANCH, "main", HEAD, "widgets#1: Add a greeting", "body"),
        )
        .await
        .unwrap()
        .number
        .unwrap();
    let (_, comments) = fake.review_pull(
        REPO,
        number,
        "ada",
        "CHANGES_REQUESTED",
        "Please handle the empty name.",
        &[
            ("src/greet.rs", 12, "this panics on an empty name"),
            ("README.md", 3, "document it"),
        ],
    );
    // A third thread the round does not address stays open.
    let (_, untouched) = fake.review_pull(
        REPO,
        number,
        "bo",
        "COMMENTED",
        "",
        &[("src/lib.rs", 1, "unrelated")],
    );
    let watched = WatchedChange::new(BRANCH, "main", Some(number), HEAD);
    let reports = host.review_reports().expect("GitHub reports reviews");
    let report = reports.review_report(&issue, &watched).await.unwrap();
    let addressed: Vec<_> = report
        .feedback
        .iter()
        .filter(|f| f.author == "ada")
        .cloned()
        .collect();
    assert_eq!(addressed.len(), 3, "{addressed:?}");
    assert_eq!(addressed[0].kind, FeedbackKind::ChangesRequested);

    // The round pushed a new head; it is answered there.
    fake.push_branch(REPO, BRANCH, NEW_HEAD);
    let now = WatchedChange::new(BRANCH, "main", Some(number), NEW_HEAD);
    let reply = "Addressed in 4444444 (review round 1).";
    let answer = reports
        .answer_round(&issue, &now, &addressed, reply)
        .await
        .unwrap();
    assert_eq!((answer.replied, answer.resolved), (2, 2));
    assert_eq!(answer.rerequested, ["ada"]);

    let pull = fake.issue(REPO, number).pull.unwrap();
    for root in &comments {
        let replies: Vec<_> = pull
            .review_comments
            .iter()
            .filter(|c| c.in_reply_to == Some(*root))
            .collect();
        assert_eq!(replies.len(), 1, "one reply in thread {root}");
        assert_eq!(
            (replies[0].user.as_str(), replies[0].body.as_str()),
            ("symphony-bot", reply)
        );
        assert!(
            pull.resolved_threads.contains(root),
            "thread {root} resolved"
        );
    }
    assert!(!pull.resolved_threads.contains(&untouched[0]));
    assert_eq!(pull.requested_reviewers, ["ada"]);

    // Symphony's own replies are never feedback to itself (they would start a round).
    let after = reports.review_report(&issue, &now).await.unwrap();
    assert!(
        !after.feedback.is_empty() && after.feedback.iter().all(|f| f.author != "symphony-bot"),
        "{after:?}"
    );

    // Answering again (a retried hand-off) resolves what is resolved without error.
    let again = reports
        .answer_round(&issue, &now, &addressed, reply)
        .await
        .unwrap();
    assert_eq!(again.resolved, 2);

    // An answer with nothing inline replies nowhere; a bot is never asked to review.
    let bot = symphony_code_host::Feedback::new(
        "review-9",
        FeedbackKind::ChangesRequested,
        "ci[bot]",
        "fix",
    );
    let none = reports
        .answer_round(&issue, &now, &[bot], reply)
        .await
        .unwrap();
    assert_eq!((none.replied, none.resolved), (0, 0));
    assert!(none.rerequested.is_empty());

    let problems: Vec<String> = fake
        .exchanges()
        .iter()
        .filter(|e| !e.path.ends_with("graphql"))
        .flat_map(openapi::check_exchange)
        .collect();
    assert!(problems.is_empty(), "{problems:#?}");
    let graphql: Vec<_> = fake
        .exchanges()
        .into_iter()
        .filter(|e| e.path.ends_with("graphql"))
        .collect();
    assert!(
        graphql
            .iter()
            .any(|e| format!("{:?}", e.request_body).contains("resolveReviewThread")),
        "the threads were resolved over GraphQL"
    );
}
