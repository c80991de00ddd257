//! GitHub's review reports on a watched pull request (ADR 0018), on the fake GitHub: reviews,
//! inline comments with their threads, conversation comments addressed to Symphony, failed checks and statuses of other apps on the head
//! (never Symphony's own verdicts), conflicts, a head someone else pushed; the mark; an idle
//! watch free of rate limit; and every exchange checked against GitHub's OpenAPI description.

mod common;

use common::{Setup, Source, REPO};
use symphony_code_host::{
    ChangeProposal, CheckConclusion, CheckResult, CodeHost, FeedbackKind, ReviewState,
    WatchedChange,
};
use symphony_testkit::github::openapi;
use symphony_tracker::Tracker;
use symphony_tracker_github::GithubCodeHost;

const BRANCH: &str = "symphony/widgets-1";
const HEAD: &str = "1111111111111111111111111111111111111111";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_report_holds_what_people_and_other_apps_said_and_nothing_of_symphonys_own() {
    let setup = Setup::new(Source::Labels);
    setup.file("Add a greeting", "in-progress", &[]);
    let issue = setup
        .tracker
        .fetch_issues_by_states(&setup.states(&["in-progress"]))
        .await
        .unwrap()
        .remove(0);
    let fake = &setup.fake;
    // Symphony pushed the branch and proposed it, with its own (failing) verdicts.
    fake.push_branch(REPO, BRANCH, HEAD);
    let host = GithubCodeHost::new(setup.tracker.config().clone()).unwrap();
    let proposed = host
        .propose_change(
            &issue,
            &ChangeProposal::new(BRANCH, "main", HEAD, "widgets#1: Add a greeting", "body"),
        )
        .await
        .unwrap();
    host.publish_checks(
        &issue,
        HEAD,
        &[CheckResult::new(
            "tests",
            CheckConclusion::Failure,
            "1 failed",
        )],
    )
    .await
    .unwrap();
    let number = proposed.number.unwrap();
    let watched = WatchedChange::new(BRANCH, "main", Some(number), HEAD).mentioning("@symphony");
    let reports = host.review_reports().expect("GitHub reports reviews");

    let quiet = reports.review_report(&issue, &watched).await.unwrap();
    assert!(quiet.feedback.is_empty(), "{quiet:?}");
    assert!(!quiet.head_moved(&watched));
    // Asking again about an unchanged pull request is all `304`s: an idle watch is free.
    let (units, requests) = (fake.rate_limit_used(), fake.request_count());
    let again = reports
        .review_report(&issue, &watched.clone().seen(quiet.mark.clone()))
        .await
        .unwrap();
    assert!(again.feedback.is_empty(), "{again:?}");
    assert_eq!(again.mark, quiet.mark);
    assert_eq!(
        fake.rate_limit_used(),
        units,
        "an idle watch costs no rate limit"
    );
    assert_eq!(
        fake.request_count(),
        requests + 6,
        "one conditional read of each"
    );

    // Other apps' checks on the head, a person's review with a thread and its reply, a
    // conflict with the base.
    fake.add_check_run(
        REPO,
        HEAD,
        "ci-app",
        "unit tests",
        "failure",
        "test_greeting failed",
    );
    fake.add_check_run(REPO, HEAD, "ci-app", "lint", "success", "clean");
    fake.add_check_run(
        REPO,
        "2222222222222222222222222222222222222222",
        "ci-app",
        "old",
        "failure",
        "on another commit",
    );
    let (review, comments) = fake.review_pull(
        REPO,
        number,
        "ada",
        "CHANGES_REQUESTED",
        "Please handle the empty name.",
        &[("src/greet.rs", 12, "this panics on an empty name")],
    );
    fake.set_mergeable(REPO, number, Some(false));
    // In the conversation: a person addressing Symphony, one who is not, and Symphony itself.
    let asked = fake.comment_as(
        REPO,
        number,
        "bo",
        "@Symphony please also update the README",
    );
    fake.comment_as(REPO, number, "bo", "Nice work so far.");
    fake.comment_as(REPO, number, "symphony-bot", "@symphony round 1 addressed");
    let seen = watched.clone().seen(quiet.mark.clone());
    let report = reports.review_report(&issue, &seen).await.unwrap();
    assert_eq!(report.state, ReviewState::Open);
    assert!(report.conflict, "a dirty pull request conflicts");
    assert!(report.wants_work());
    let ids: Vec<&str> = report.feedback.iter().map(|f| f.id.as_str()).collect();
    let check = ids.iter().find(|id| id.starts_with("check-run-")).copied();
    assert_eq!(
        ids,
        [
            format!("review-{review}").as_str(),
            format!("review-comment-{}", comments[0]).as_str(),
            format!("issue-comment-{asked}").as_str(),
            check.unwrap_or("no failed check"),
        ],
        "the review, its comment, the comment addressed to Symphony by someone else, and the \
         other app's failed check on the head only: {report:?}"
    );
    assert_eq!(report.feedback[0].kind, FeedbackKind::ChangesRequested);
    assert_eq!(report.feedback[0].author, "ada");
    let place = report.feedback[1].place.as_ref().unwrap();
    assert_eq!(
        (place.path.as_str(), place.line, place.thread.clone()),
        ("src/greet.rs", Some(12), Some(comments[0].to_string()))
    );
    assert_eq!(
        (
            report.feedback[2].author.as_str(),
            report.feedback[2].body.as_str()
        ),
        ("bo", "@Symphony please also update the README")
    );
    assert_eq!(
        report.feedback[3].kind,
        FeedbackKind::CheckFailed {
            check: "unit tests".into(),
            conclusion: "failure".into()
        }
    );
    assert!(report.feedback[3].body.contains("test_greeting failed"));
    assert_eq!(report.feedback[3].author, "ci-app");

    // Symphony's round pushed a new head, and GitHub has not moved the pull request to it yet:
    // that is not someone else's push.
    let pushed = "5555555555555555555555555555555555555555";
    fake.push_branch_before_pulls_follow(REPO, BRANCH, pushed);
    let ours = WatchedChange::new(BRANCH, "main", Some(number), pushed).seen(report.mark.clone());
    let lagging = reports.review_report(&issue, &ours).await.unwrap();
    assert_eq!(lagging.head_sha.as_deref(), Some(pushed));
    assert!(!lagging.head_moved(&ours), "{lagging:?}");

    // Acted on: nothing again. A person pushes to the branch: the head moved.
    let acted = watched.clone().seen(report.mark.clone());
    fake.push_branch(REPO, BRANCH, "3333333333333333333333333333333333333333");
    let after = reports.review_report(&issue, &acted).await.unwrap();
    assert!(after.feedback.is_empty(), "{after:?}");
    assert!(
        after.head_moved(&watched),
        "someone else's push is a moved head"
    );

    // A merge ends it; a foreign mark is a clear error.
    fake.merge_pull(REPO, number);
    let merged = reports.review_report(&issue, &acted).await.unwrap();
    assert_eq!(merged.state, ReviewState::Merged);
    assert!(!merged.wants_work());
    let error = reports
        .review_report(&issue, &watched.clone().seen("7"))
        .await
        .unwrap_err();
    assert!(error.message.contains("not a mark"), "{error}");

    let problems: Vec<String> = fake
        .exchanges()
        .iter()
        .flat_map(openapi::check_exchange)
        .collect();
    assert!(problems.is_empty(), "{problems:#?}");
}
