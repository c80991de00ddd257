//! The poll's candidate read (issue 17): an idle poll is one conditional request and no
//! rate-limit unit; any change to an issue reads the list again; a mark the tracker did not
//! write, or one older than the complete-read interval, gets a complete answer.

mod common;

use common::{Setup, Source, REPO};
use symphony_tracker::{CandidateRead, Tracker};

async fn poll(setup: &Setup, since: Option<&str>) -> CandidateRead {
    setup
        .tracker
        .fetch_candidates(&setup.states(&["todo", "in-progress"]), since)
        .await
        .expect("candidate read")
}

fn titles(read: &CandidateRead) -> Vec<String> {
    let mut titles: Vec<String> = read.issues.iter().map(|i| i.title.clone()).collect();
    titles.sort();
    titles
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_poll_is_one_request_and_costs_no_rate_limit() {
    let setup = Setup::new(Source::Labels);
    for n in 0..250 {
        setup.file(&format!("Issue {n}"), "todo", &[]);
    }
    let first = poll(&setup, None).await;
    assert!(first.complete);
    assert_eq!(first.issues.len(), 250);
    let mark = first.mark.expect("a marked answer");

    let (requests, used) = (setup.fake.request_count(), setup.fake.rate_limit_used());
    let idle = poll(&setup, Some(&mark)).await;
    assert_eq!(setup.fake.request_count(), requests + 1, "one request");
    assert_eq!(setup.fake.rate_limit_used(), used, "no rate-limit unit");
    assert!(!idle.complete && idle.issues.is_empty(), "{idle:?}");
    assert_eq!(idle.mark.as_deref(), Some(mark.as_str()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_to_any_issue_reads_the_list_again() {
    let setup = Setup::new(Source::Labels);
    let (one, _) = setup.file("One", "todo", &[]);
    let (two, _) = setup.file("Two", "todo", &[]);
    setup.file("Three", "todo", &[]);
    let mut mark = poll(&setup, None).await.mark;
    // An issue leaving the state labels, one edited, one new: each is seen by the next poll.
    for (change, expected) in [
        (
            Box::new(|s: &Setup| s.move_to(one, "human-review")) as Box<dyn Fn(&Setup)>,
            vec!["Three", "Two"],
        ),
        (
            Box::new(move |s: &Setup| {
                s.fake
                    .update_issue(REPO, two, |i| i.title = "Two, edited".into())
            }),
            vec!["Three", "Two, edited"],
        ),
        (
            Box::new(|s: &Setup| {
                s.file("Four", "in-progress", &[]);
            }),
            vec!["Four", "Three", "Two, edited"],
        ),
        (
            Box::new(move |s: &Setup| s.move_to(two, "closed")),
            vec!["Four", "Three"],
        ),
    ] {
        change(&setup);
        let read = poll(&setup, mark.as_deref()).await;
        assert!(read.complete, "a change reads the list");
        assert_eq!(titles(&read), expected);
        assert_ne!(read.mark, mark, "a new mark for the new answer");
        mark = read.mark;
        let idle = poll(&setup, mark.as_deref()).await;
        assert!(!idle.complete && idle.issues.is_empty(), "then idle again");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_foreign_or_stale_mark_gets_a_complete_answer() {
    let setup = Setup::new(Source::Labels);
    setup.file("One", "todo", &[]);
    let mark = poll(&setup, None).await.mark.expect("marked");
    for since in ["not a mark", "github-probe-v1;;", ""] {
        let read = poll(&setup, Some(since)).await;
        assert!(
            read.complete && read.issues.len() == 1,
            "{since:?}: {read:?}"
        );
    }
    // The same ETag, but the last complete read five minutes and more ago.
    let (prefix, rest) = mark.split_once(';').expect("prefix");
    let (_, etag) = rest.split_once(';').expect("time");
    let stale = format!("{prefix};0;{etag}");
    let read = poll(&setup, Some(&stale)).await;
    assert!(read.complete && read.issues.len() == 1, "{read:?}");
    let fresh = read.mark.expect("marked again");
    assert!(!poll(&setup, Some(&fresh)).await.complete);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_board_is_read_completely_every_time() {
    let setup = Setup::new(Source::Project);
    setup.file("One", "Todo", &[]);
    let read = setup
        .tracker
        .fetch_candidates(&setup.states(&["Todo"]), None)
        .await
        .expect("read");
    assert!(read.complete && read.mark.is_none() && read.issues.len() == 1);
}
