//! The hand-off capability on the fake: labels swapped (or the issue opened/closed) and a
//! comment added, each write sent once.

mod common;

use common::{Setup, Source, REPO};
use symphony_tracker::{IssueHandOff, Tracker};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hand_off_moves_the_state_label_and_comments() {
    let setup = Setup::new(Source::Labels);
    let (number, _) = setup.file("Ship it", "in-progress", &["bug", "symphony:todo"]);
    let issue = setup
        .tracker
        .fetch_issues_by_states(&setup.states(&["in-progress", "todo"]))
        .await
        .unwrap()
        .remove(0);
    setup
        .tracker
        .hand_off(&issue, Some("human-review"), Some("Gates passed."))
        .await
        .unwrap();
    let after = setup.fake.issue(REPO, number);
    let mut labels = after.labels.clone();
    labels.sort();
    assert_eq!(
        labels,
        ["bug", "symphony:human-review"],
        "every other state label is gone"
    );
    assert_eq!(after.comments.len(), 1);
    assert_eq!(after.comments[0].body, "Gates passed.");
    let posts = setup
        .fake
        .exchanges()
        .iter()
        .filter(|e| e.method == "POST")
        .count();
    assert_eq!(posts, 2, "one comment, one label add");

    // A closed issue handed to an open state is reopened; `closed` closes it.
    setup.fake.update_issue(REPO, number, |i| i.open = false);
    setup
        .tracker
        .hand_off(&issue, Some("needs-human"), None)
        .await
        .unwrap();
    let after = setup.fake.issue(REPO, number);
    assert!(after.open && after.labels.contains(&"symphony:needs-human".to_owned()));
    setup
        .tracker
        .hand_off(&issue, Some("closed"), None)
        .await
        .unwrap();
    assert!(!setup.fake.issue(REPO, number).open);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hand_off_under_the_issue_and_project_sources() {
    let setup = Setup::new(Source::Issue);
    let (number, _) = setup.file("Done soon", "open", &[]);
    let issue = setup
        .tracker
        .fetch_issues_by_states(&setup.states(&["open"]))
        .await
        .unwrap()
        .remove(0);
    setup
        .tracker
        .hand_off(&issue, Some("closed"), None)
        .await
        .unwrap();
    assert!(!setup.fake.issue(REPO, number).open);
    let error = setup
        .tracker
        .hand_off(&issue, Some("review"), None)
        .await
        .unwrap_err();
    assert!(error.message.contains("neither open nor closed"), "{error}");

    let setup = Setup::new(Source::Project);
    setup.file("On the board", "Todo", &[]);
    let issue = setup
        .tracker
        .fetch_issues_by_states(&setup.states(&["Todo"]))
        .await
        .unwrap()
        .remove(0);
    let error = setup
        .tracker
        .hand_off(&issue, Some("Done"), None)
        .await
        .unwrap_err();
    assert!(error.message.contains("not supported yet"), "{error}");
}
