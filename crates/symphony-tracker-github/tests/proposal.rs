//! Publishing a change on the fake: one pull request per branch however often it is
//! proposed (also when the answer to the create is lost), gate verdicts as commit statuses or
//! as one check run whose annotations go 50 per request, every exchange as GitHub documents it.

mod common;

use common::{Setup, Source, REPO};
use serde_json::json;
use symphony_code_host::{
    ChangeProposal, CheckAnnotation, CheckConclusion, CheckResult, CodeHost, CodeHostError,
    ProposalOutcome,
};
use symphony_testkit::github::{openapi, Fault};
use symphony_tracker::Tracker;
use symphony_tracker_github::GithubCodeHost;

const SHA: &str = "3f786850e387550fdab836ed7e6dc881de23001b";

fn check(name: &str, conclusion: CheckConclusion, annotations: usize) -> CheckResult {
    {
        let mut check_result = CheckResult::new(
            name.to_owned(),
            conclusion,
            format!("{name}: {}", conclusion.as_str()),
        );
        check_result.annotations = (0..annotations)
            .map(|i| {
                CheckAnnotation::new(
                    format!("src/file{i}.rs"),
                    i as u32 + 1,
                    "warning".to_owned(),
                    "rule".to_owned(),
                    format!("finding {i}"),
                )
            })
            .collect();
        check_result
    }
}

fn proposal(body: &str) -> ChangeProposal {
    ChangeProposal::new(
        "symphony/widgets_7".to_owned(),
        "main".to_owned(),
        SHA.to_owned(),
        "widgets#7: Add a greeting".to_owned(),
        body.to_owned(),
    )
}

/// What the hand-off does: propose on the tracker's own repository, then publish the checks.
async fn propose(
    setup: &Setup,
    issue: &symphony_core::Issue,
    proposal: &ChangeProposal,
    checks: &[CheckResult],
) -> Result<ProposalOutcome, CodeHostError> {
    let host = GithubCodeHost::new(setup.tracker.config().clone()).unwrap();
    let outcome = host.propose_change(issue, proposal).await?;
    host.publish_checks(issue, &proposal.head_sha, checks)
        .await?;
    Ok(outcome)
}

/// The one in-progress issue of `setup`, as the adapter reads it.
async fn in_progress(setup: &Setup) -> symphony_core::Issue {
    setup
        .tracker
        .fetch_issues_by_states(&setup.states(&["in-progress"]))
        .await
        .unwrap()
        .remove(0)
}

fn assert_on_spec(setup: &Setup) {
    let problems: Vec<String> = setup
        .fake
        .exchanges()
        .iter()
        .filter(|e| !e.faulted)
        .flat_map(openapi::check_exchange)
        .collect();
    assert!(
        problems.is_empty(),
        "off-spec exchanges:\n{}",
        problems.join("\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_branch_gets_one_pull_request_however_often_it_is_proposed() {
    let setup = Setup::new(Source::Labels);
    let (number, _) = setup.file("Add a greeting", "in-progress", &[]);
    let issue = in_progress(&setup).await;
    let checks = vec![
        check("secrets", CheckConclusion::Success, 0),
        check("tests", CheckConclusion::Success, 0),
        check("docs", CheckConclusion::Skipped, 0),
    ];
    let first = propose(&setup, &issue, &proposal("first body"), &checks)
        .await
        .unwrap();
    assert!(first.created);
    let pr = first.number.unwrap();
    assert_ne!(pr, number, "the PR is its own item");
    assert_eq!(
        first.url.as_deref(),
        Some(format!("https://github.example/{REPO}/pull/{pr}").as_str())
    );
    let again = propose(&setup, &issue, &proposal("second body"), &checks)
        .await
        .unwrap();
    assert!(!again.created);
    assert_eq!(again.number, Some(pr));
    let pulls = setup.fake.pulls(REPO);
    assert_eq!(pulls.len(), 1, "one PR for the branch");
    assert_eq!(
        pulls[0].body.as_deref(),
        Some("second body"),
        "updated in place"
    );
    let head = pulls[0].pull.as_ref().unwrap();
    assert_eq!(
        (head.head.as_str(), head.base.as_str()),
        ("symphony/widgets_7", "main")
    );

    // Statuses: one per gate that ran, none for the skipped one, and the overall context.
    let statuses = setup.fake.statuses(REPO);
    let first_round: Vec<(String, String)> = statuses
        .iter()
        .take(3)
        .map(|s| (s.context.clone(), s.state.clone()))
        .collect();
    assert_eq!(
        first_round,
        [
            ("symphony/secrets".to_owned(), "success".to_owned()),
            ("symphony/tests".to_owned(), "success".to_owned()),
            ("symphony/gates".to_owned(), "success".to_owned()),
        ]
    );
    assert!(statuses.iter().all(|s| s.sha == SHA));
    assert_eq!(
        statuses[2].description.as_deref(),
        Some("Symphony gates: 2 passed, 1 skipped")
    );
    assert_on_spec(&setup);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_answer_to_the_create_never_makes_a_second_pull_request() {
    let setup = Setup::new(Source::Labels);
    setup.file("Add a greeting", "in-progress", &[]);
    let issue = in_progress(&setup).await;
    // GitHub creates the PR but the answer is a 502: not retried blindly, found and updated.
    setup
        .fake
        .inject_for("POST", "/pulls", Fault::LostAnswer(502), 1);
    let outcome = propose(&setup, &issue, &proposal("body"), &[])
        .await
        .unwrap();
    assert!(!outcome.created, "the PR the lost create made was reused");
    assert_eq!(setup.fake.pulls(REPO).len(), 1);
    let creates = setup
        .fake
        .exchanges()
        .iter()
        .filter(|e| e.method == "POST" && e.path.ends_with("/pulls"))
        .count();
    assert_eq!(creates, 1, "the create was sent once");

    // A create that fails for real (and left nothing) is an error, not a silent success.
    let mut other = proposal("body");
    other.branch = "symphony/other".to_owned();
    setup
        .fake
        .inject_for("POST", "/pulls", Fault::Status(422), 1);
    let error = propose(&setup, &issue, &other, &[]).await.unwrap_err();
    assert_eq!(error.category.as_str(), "code_host_status", "{error}");
    assert_eq!(setup.fake.pulls(REPO).len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_runs_carry_every_annotation_fifty_per_request() {
    let setup = Setup::with(Source::Labels, json!({"gate_reports": "check_runs"}));
    setup.file("Add a greeting", "in-progress", &[]);
    let issue = in_progress(&setup).await;
    let checks = vec![
        check("secrets", CheckConclusion::Failure, 70),
        check("lint", CheckConclusion::Success, 50),
    ];
    propose(&setup, &issue, &proposal("body"), &checks)
        .await
        .unwrap();
    let runs = setup.fake.check_runs(REPO);
    assert_eq!(runs.len(), 1, "one check run for all gates");
    let run = &runs[0];
    assert_eq!(run.head_sha, SHA);
    assert_eq!(run.status, "completed");
    assert_eq!(run.conclusion.as_deref(), Some("failure"));
    assert_eq!(run.annotations.len(), 120, "none lost");
    let messages: Vec<&str> = run
        .annotations
        .iter()
        .filter_map(|a| a["message"].as_str())
        .collect();
    assert_eq!(messages.first(), Some(&"finding 0"));
    assert!(run.output["summary"]
        .as_str()
        .unwrap()
        .contains("| secrets | failure |"));
    let requests: Vec<(String, usize)> = setup
        .fake
        .exchanges()
        .iter()
        .filter(|e| e.path.contains("/check-runs"))
        .map(|e| {
            let n = e.request_body.as_ref().unwrap()["output"]["annotations"]
                .as_array()
                .map_or(0, Vec::len);
            (e.method.clone(), n)
        })
        .collect();
    assert_eq!(
        requests,
        [
            ("POST".to_owned(), 50),
            ("PATCH".to_owned(), 50),
            ("PATCH".to_owned(), 20)
        ]
    );
    assert!(
        setup.fake.statuses(REPO).is_empty(),
        "no statuses in this mode"
    );
    assert_on_spec(&setup);
}

#[test]
fn an_unknown_gate_report_mode_is_a_readable_config_error() {
    let fake = symphony_testkit::github::FakeGithub::start(common::TOKEN);
    let error = symphony_tracker_github::GithubConfig::from_provider(
        &common::provider(&fake, Source::Labels, json!({"gate_reports": "comments"})),
        vec![],
    )
    .unwrap_err();
    assert!(error.message.contains("gate_reports: comments"), "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remarks_go_on_their_lines_once_however_often_the_change_is_proposed() {
    use symphony_code_host::LineComment;
    let setup = Setup::new(Source::Labels);
    setup.file("Add a greeting", "in-progress", &[]);
    let issue = in_progress(&setup).await;
    let host = GithubCodeHost::new(setup.tracker.config().clone()).unwrap();
    let proposal = proposal("body");
    let outcome = host.propose_change(&issue, &proposal).await.unwrap();
    let remarks = [
        LineComment::new("app/db.py", 4, "[low · docs] find has no docstring", "k1"),
        LineComment::new(
            "app/db.py",
            9,
            "[medium · tests] no test for an empty name",
            "k2",
        ),
    ];
    let comments = host.line_comments().expect("GitHub posts line comments");
    let first = comments
        .comment_lines(&issue, &proposal, &outcome, "2 remarks", &remarks)
        .await
        .unwrap();
    assert_eq!((first.posted, first.already), (2, 0));
    // Proposed again (a review round): nothing twice; a new remark alone is posted.
    let more = [
        remarks[0].clone(),
        LineComment::new("app/db.py", 12, "[info · style] naming", "k3"),
    ];
    let again = comments
        .comment_lines(&issue, &proposal, &outcome, "again", &more)
        .await
        .unwrap();
    assert_eq!((again.posted, again.already), (1, 1));
    let pull = setup
        .fake
        .issue(REPO, outcome.number.unwrap())
        .pull
        .unwrap();
    let placed: Vec<(&str, Option<u32>)> = pull
        .review_comments
        .iter()
        .map(|c| (c.path.as_str(), c.line))
        .collect();
    assert_eq!(
        placed,
        [
            ("app/db.py", Some(4)),
            ("app/db.py", Some(9)),
            ("app/db.py", Some(12))
        ]
    );
    assert!(pull
        .reviews
        .iter()
        .all(|r| r.state == "COMMENTED" && r.commit_id == SHA));
    assert_on_spec(&setup);
}
