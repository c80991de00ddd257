//! The review-watch rules of the contract (ADR 0018).

use crate::review_watch::ReviewWatch;
use crate::types::Change;

use super::harness::{live, KitSettings, StoreHarness};

/// A watch survives a restart; feedback taken moves the mark, counts a round and waits, in
/// one step; a new head addresses what waited but keeps the round and the mark; another
/// instance sees the same watches; an ended watch is gone.
pub(super) async fn review_watches_survive_restarts_and_count_their_rounds(
    harness: &mut dyn StoreHarness,
) {
    harness.fresh();
    let a = harness.open(&KitSettings::default(), live("a"));
    a.recover(1_000).await.expect("recover a");
    let mut watch = ReviewWatch::new("1", "ID-1", "symphony/id-1", "main", "aaa", 1_000);
    watch.number = Some(7);
    watch.url = Some("https://example.test/pull/7".into());
    a.apply(vec![Change::ReviewWatched(watch.clone())])
        .await
        .expect("watch");
    a.apply(vec![Change::ReviewFeedbackTaken {
        issue_id: "1".into(),
        after: None,
        seen: "mark-1".into(),
        pending: r#"[{"id":"r1"}]"#.into(),
        at_ms: 2_000,
    }])
    .await
    .expect("feedback taken");
    // Another instance that read the same report takes nothing more: the mark moved.
    a.apply(vec![Change::ReviewFeedbackTaken {
        issue_id: "1".into(),
        after: None,
        seen: "mark-1".into(),
        pending: r#"[{"id":"again"}]"#.into(),
        at_ms: 2_100,
    }])
    .await
    .expect("a second take is a no-op");
    drop(a);

    // A restart (and any other instance) finds the watch as it was left.
    let b = harness.open(&KitSettings::default(), live("b"));
    b.recover(3_000).await.expect("recover b");
    let found = b
        .review_watch("1")
        .await
        .expect("read")
        .expect("the watch survives a restart");
    assert_eq!(
        (found.round, found.seen.as_deref(), found.pending.as_deref()),
        (1, Some("mark-1"), Some(r#"[{"id":"r1"}]"#)),
        "taking feedback moves the mark, counts a round and keeps the feedback pending"
    );
    assert_eq!(
        (found.number, found.url.as_deref(), found.head_sha.as_str()),
        (Some(7), Some("https://example.test/pull/7"), "aaa")
    );
    assert_eq!(found.since_ms, 1_000);
    assert_eq!(b.review_watches().await.expect("list"), vec![found]);

    // The round's push: a new head, the pending feedback addressed; round and mark stay.
    let pushed = ReviewWatch::new("1", "ID-1", "symphony/id-1", "main", "bbb", 4_000);
    b.apply(vec![Change::ReviewWatched(pushed)])
        .await
        .expect("new head");
    let moved = b.review_watch("1").await.expect("read").expect("watched");
    assert_eq!(
        (
            moved.head_sha.as_str(),
            moved.pending.as_deref(),
            moved.round,
            moved.seen.as_deref(),
            moved.since_ms
        ),
        ("bbb", None, 1, Some("mark-1"), 1_000),
        "a new head addresses the pending feedback and keeps round, mark and start"
    );

    // The next round is taken after the recorded mark only.
    for (after, seen) in [(Some("stale"), "mark-x"), (Some("mark-1"), "mark-2")] {
        b.apply(vec![Change::ReviewFeedbackTaken {
            issue_id: "1".into(),
            after: after.map(Into::into),
            seen: seen.into(),
            pending: "[]".into(),
            at_ms: 4_500,
        }])
        .await
        .expect("take");
    }
    let second = b.review_watch("1").await.expect("read").expect("watched");
    assert_eq!(
        (second.round, second.seen.as_deref()),
        (2, Some("mark-2")),
        "feedback read after a mark the watch no longer has is not taken"
    );
    // Someone else's push is not taken over a pending round, nor from a head the watch
    // no longer has.
    let adopt = |from: &str, to: &str| Change::ReviewHeadAdopted {
        issue_id: "1".into(),
        from: from.into(),
        to: to.into(),
        at_ms: 4_550,
    };
    b.apply(vec![adopt("bbb", "eee")]).await.expect("adopt");
    let kept = b.review_watch("1").await.expect("read").expect("watched");
    assert_eq!(
        (kept.head_sha.as_str(), kept.round),
        ("bbb", 2),
        "a pending round keeps its head"
    );
    b.apply(vec![Change::ReviewWatched(ReviewWatch::new(
        "1",
        "ID-1",
        "symphony/id-1",
        "main",
        "ccc",
        4_600,
    ))])
    .await
    .expect("addressed");
    b.apply(vec![adopt("bbb", "fff"), adopt("ccc", "ddd")])
        .await
        .expect("adopt");
    let adopted = b.review_watch("1").await.expect("read").expect("watched");
    assert_eq!(
        (
            adopted.head_sha.as_str(),
            adopted.round,
            adopted.seen.as_deref(),
            adopted.pending
        ),
        ("ddd", 2, Some("mark-2"), None),
        "only a push on the head the watch has is taken; round and mark stay"
    );

    // Feedback for an issue nobody watches is not taken.
    b.apply(vec![Change::ReviewFeedbackTaken {
        issue_id: "2".into(),
        after: None,
        seen: "m".into(),
        pending: "[]".into(),
        at_ms: 5_000,
    }])
    .await
    .expect("no-op");
    assert_eq!(b.review_watch("2").await.expect("read"), None);

    b.apply(vec![Change::ReviewWatchEnded {
        issue_id: "1".into(),
    }])
    .await
    .expect("end");
    assert!(b.review_watches().await.expect("list").is_empty());
}
