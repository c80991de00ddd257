//! The `Store` contract as one function every implementation's tests call: [`run`]. Claims
//! and leases between instances, takeover of dead and lapsed instances, the retry queue across
//! restarts, bounded events and totals, run listing, the audit chain, and review watches. Each check starts
//! from a fresh shared state and panics with a message naming the rule.
//!
//! Implementation-specific rules (file corruption, locks, migrations of a given engine, a full
//! disk) stay in the implementation's own tests.

mod harness;
mod review_watches;
mod usage;

pub use harness::{dead, live, KitSettings, StoreHarness};

use std::time::Duration;

use serde_json::json;

use crate::audit::AuditVerdict;
use crate::types::{AuditRecord, Change, ClaimOutcome, RunFilter, RunOutcome, RunStart, Usage};

fn start(issue: &str, attempt: Option<u32>, at_ms: u64) -> RunStart {
    RunStart {
        issue_id: issue.to_owned(),
        identifier: format!("ID-{issue}"),
        attempt,
        workspace: Some(format!("/ws/ID-{issue}")),
        at_ms,
    }
}

fn run_id(outcome: ClaimOutcome) -> i64 {
    match outcome {
        ClaimOutcome::Started { run_id } => run_id,
        held => panic!("expected a started run, got {held:?}"),
    }
}

/// Runs every check of the contract against the harness's store.
pub async fn run(harness: &mut dyn StoreHarness) {
    a_live_claim_is_refused_to_another_instance_and_released_claims_are_free(harness).await;
    an_expired_lease_is_taken_over(harness).await;
    a_restart_interrupts_the_dead_instances_runs_and_restores_its_queue(harness).await;
    a_graceful_stop_leaves_the_queue_for_the_next_instance(harness).await;
    events_are_bounded_per_run_and_counted(harness).await;
    runs_are_listed_newest_first_and_filtered_by_id_or_identifier(harness).await;
    the_audit_log_is_one_verified_chain_across_instances(harness).await;
    review_watches::review_watches_survive_restarts_and_count_their_rounds(harness).await;
    usage::usage_adds_up_per_issue_and_per_day_and_survives_restarts(harness).await;
}

/// A live claim is refused to another instance; released claims are free again.
async fn a_live_claim_is_refused_to_another_instance_and_released_claims_are_free(
    harness: &mut dyn StoreHarness,
) {
    harness.fresh();
    let a = harness.open(&KitSettings::default(), live("a"));
    let b = harness.open(&KitSettings::default(), live("b"));
    a.recover(1_000).await.expect("recover a");
    b.recover(1_000).await.expect("recover b");

    let run = run_id(
        a.claim_and_start(start("1", None, 1_000))
            .await
            .expect("claim"),
    );
    match b
        .claim_and_start(start("1", None, 1_001))
        .await
        .expect("claim")
    {
        ClaimOutcome::Held {
            owner,
            expires_at_ms,
        } => {
            assert_eq!(owner, "a");
            assert_eq!(expires_at_ms, 31_000);
        }
        other => panic!("b must not get issue 1: {other:?}"),
    }
    // Its own claim is not in its way (a retry of the same issue).
    a.apply(vec![Change::RunEnded {
        run_id: run,
        at_ms: 2_000,
        outcome: RunOutcome::Succeeded,
        error: None,
    }])
    .await
    .expect("end");
    run_id(
        a.claim_and_start(start("1", Some(1), 2_100))
            .await
            .expect("reclaim"),
    );
    a.apply(vec![Change::Released {
        issue_id: "1".into(),
    }])
    .await
    .expect("release");
    run_id(
        b.claim_and_start(start("1", None, 2_200))
            .await
            .expect("claim"),
    );
    // `a` releasing again does not drop b's claim.
    a.apply(vec![Change::Released {
        issue_id: "1".into(),
    }])
    .await
    .expect("release");
    let claims = b.claims().await.expect("claims");
    assert_eq!(claims.len(), 1);
    assert_eq!(claims[0].owner.as_deref(), Some("b"));
}

/// An instance whose lease lapsed is taken over: its runs interrupted, its queue adopted.
async fn an_expired_lease_is_taken_over(harness: &mut dyn StoreHarness) {
    harness.fresh();
    harness.fresh();
    let short = KitSettings {
        lease: Duration::from_millis(100),
        ..KitSettings::default()
    };
    let a = harness.open(&short, live("a"));
    let b = harness.open(&short, live("b"));
    a.recover(1_000).await.expect("recover");
    b.recover(1_000).await.expect("recover");
    a.claim_and_start(start("1", None, 1_000))
        .await
        .expect("claim");
    a.apply(vec![Change::RetryQueued {
        issue_id: "2".into(),
        identifier: "ID-2".into(),
        attempt: 3,
        due_at_ms: 5_000,
        error: Some("boom".into()),
    }])
    .await
    .expect("queue");
    assert!(matches!(
        b.claim_and_start(start("1", None, 1_050))
            .await
            .expect("claim"),
        ClaimOutcome::Held { .. }
    ));
    // `a` stops renewing; after its lease lapses b's heartbeat takes over its work.
    let recovery = b.heartbeat(1_200).await.expect("heartbeat");
    assert_eq!(recovery.departed, vec!["a".to_owned()]);
    assert_eq!(recovery.interrupted.len(), 1, "a's run 1 ended with it");
    let adopted: Vec<(&str, u32, u64)> = recovery
        .retries
        .iter()
        .map(|r| (r.issue_id.as_str(), r.attempt, r.due_at_ms))
        .collect();
    assert_eq!(adopted, vec![("1", 1, 1_200), ("2", 3, 5_000)]);
    run_id(
        b.claim_and_start(start("1", Some(1), 1_300))
            .await
            .expect("claim"),
    );
}

/// A restart interrupts a dead instance's runs, names its orphaned agents and restores its queue, once.
async fn a_restart_interrupts_the_dead_instances_runs_and_restores_its_queue(
    harness: &mut dyn StoreHarness,
) {
    harness.fresh();
    let before = harness.open(&KitSettings::default(), dead("before"));
    before.recover(1_000).await.expect("recover");
    let run = run_id(
        before
            .claim_and_start(start("1", Some(2), 1_000))
            .await
            .expect("claim"),
    );
    before
        .apply(vec![
            Change::RunProcess {
                run_id: run,
                pid: 4_000_000,
                pid_start: Some(77),
            },
            Change::RetryQueued {
                issue_id: "2".into(),
                identifier: "ID-2".into(),
                attempt: 1,
                due_at_ms: 90_000,
                error: Some("worker exited: boom".into()),
            },
        ])
        .await
        .expect("apply");
    drop(before);

    // The same lease is still running, but the process that held it is gone.
    let after = harness.open(&KitSettings::default(), live("after"));
    let recovery = after.recover(2_000).await.expect("recover");
    assert_eq!(recovery.departed, vec!["before".to_owned()]);
    assert_eq!(recovery.interrupted.len(), 1);
    assert_eq!(recovery.interrupted[0].id, run);
    assert_eq!(recovery.orphans.len(), 1);
    assert_eq!(recovery.orphans[0].pid, 4_000_000);
    let queue: Vec<(&str, u32, u64, Option<&str>)> = recovery
        .retries
        .iter()
        .map(|r| {
            (
                r.issue_id.as_str(),
                r.attempt,
                r.due_at_ms,
                r.owner.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        queue,
        vec![
            ("1", 3, 2_000, Some("after")),
            ("2", 1, 90_000, Some("after"))
        ]
    );
    let runs = after.runs(RunFilter::default()).await.expect("runs");
    assert_eq!(runs[0].outcome, Some(RunOutcome::Interrupted));
    assert!(runs[0].error.as_deref().unwrap_or("").contains("before"));
    // Nothing is taken over twice.
    let again = after.heartbeat(3_000).await.expect("heartbeat");
    assert!(again.retries.is_empty() && again.interrupted.is_empty());
    assert!(matches!(
        after.audit_verify().await.expect("verify"),
        AuditVerdict::Intact { .. }
    ));
}

/// A graceful stop leaves the queue (and the interrupted run) for the next instance.
async fn a_graceful_stop_leaves_the_queue_for_the_next_instance(harness: &mut dyn StoreHarness) {
    harness.fresh();
    let a = harness.open(&KitSettings::default(), live("a"));
    a.recover(1_000).await.expect("recover");
    a.claim_and_start(start("1", None, 1_000))
        .await
        .expect("claim");
    a.apply(vec![Change::RetryQueued {
        issue_id: "2".into(),
        identifier: "ID-2".into(),
        attempt: 2,
        due_at_ms: 9_000,
        error: None,
    }])
    .await
    .expect("queue");
    a.detach(1_500).await.expect("detach");
    let b = harness.open(&KitSettings::default(), live("b"));
    let recovery = b.recover(2_000).await.expect("recover");
    let ids: Vec<&str> = recovery
        .retries
        .iter()
        .map(|r| r.issue_id.as_str())
        .collect();
    // Issue 1's run was still open: it is interrupted and queued; issue 2 keeps its due time.
    assert_eq!(ids, vec!["1", "2"]);
    assert_eq!(recovery.retries[1].due_at_ms, 9_000);
}

/// Events are bounded per run (oldest dropped first) and counted; usage (tokens by kind and
/// the agent's cost) is kept whole and adds up.
async fn events_are_bounded_per_run_and_counted(harness: &mut dyn StoreHarness) {
    harness.fresh();
    harness.fresh();
    let store = harness.open(
        &KitSettings {
            events_per_run: 5,
            ..KitSettings::default()
        },
        live("a"),
    );
    store.recover(0).await.expect("recover");
    let run = run_id(
        store
            .claim_and_start(start("1", None, 0))
            .await
            .expect("claim"),
    );
    for batch in 0..3u64 {
        let changes = (0..4u64)
            .map(|i| Change::Event {
                run_id: run,
                at_ms: batch * 10 + i,
                kind: "notification".into(),
                message: Some(format!("line {}", batch * 4 + i + 1)),
            })
            .collect();
        store.apply(changes).await.expect("apply");
    }
    store
        .apply(vec![Change::Tokens {
            run_id: run,
            at_ms: 40,
            usage: Usage::tokens(10, 5, 15)
                .with_cache(4, 3)
                .with_cost_usd(0.000_28),
        }])
        .await
        .expect("tokens");
    let events = store.run_events(run).await.expect("events");
    let seqs: Vec<u64> = events.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, vec![8, 9, 10, 11, 12], "the oldest are dropped first");
    assert_eq!(events[4].message.as_deref(), Some("line 12"));
    let runs = store.runs(RunFilter::default()).await.expect("runs");
    assert_eq!(runs[0].events_total, 12);
    assert_eq!(runs[0].workspace.as_deref(), Some("/ws/ID-1"));
    assert_eq!(runs[0].last_event.as_deref(), Some("notification"));
    let totals = store.totals().await.expect("totals");
    assert_eq!(
        runs[0].usage,
        Usage::tokens(10, 5, 15)
            .with_cache(4, 3)
            .with_cost_usd(0.000_28),
        "every count and the cost come back as written"
    );
    assert_eq!((totals.runs, totals.usage), (1, runs[0].usage));
    // A run whose agent prices nothing adds its tokens, and no cost.
    store
        .apply(vec![Change::RunEnded {
            run_id: run,
            at_ms: 50,
            outcome: RunOutcome::Succeeded,
            error: None,
        }])
        .await
        .expect("end");
    let second = run_id(
        store
            .claim_and_start(start("2", None, 60))
            .await
            .expect("claim"),
    );
    store
        .apply(vec![Change::Tokens {
            run_id: second,
            at_ms: 70,
            usage: Usage::tokens(1, 1, 2),
        }])
        .await
        .expect("tokens");
    let totals = store.totals().await.expect("totals");
    assert_eq!(
        totals.usage,
        Usage::tokens(11, 6, 17)
            .with_cache(4, 3)
            .with_cost_usd(0.000_28)
    );
    let runs = store.runs(RunFilter::default()).await.expect("runs");
    assert_eq!(runs[0].usage.cost_micros, None, "not reported is not zero");
}

/// Runs are listed newest first and filtered by issue id or identifier.
async fn runs_are_listed_newest_first_and_filtered_by_id_or_identifier(
    harness: &mut dyn StoreHarness,
) {
    harness.fresh();
    let store = harness.open(&KitSettings::default(), live("a"));
    store.recover(0).await.expect("recover");
    for (i, issue) in ["1", "2", "1"].into_iter().enumerate() {
        let at = i as u64 * 100;
        let run = run_id(
            store
                .claim_and_start(start(issue, None, at))
                .await
                .expect("claim"),
        );
        store
            .apply(vec![Change::RunEnded {
                run_id: run,
                at_ms: at + 50,
                outcome: RunOutcome::Failed,
                error: Some("x".into()),
            }])
            .await
            .expect("end");
    }
    let all = store.runs(RunFilter::default()).await.expect("runs");
    assert_eq!(all.len(), 3);
    assert!(
        all.windows(2).all(|w| w[0].id > w[1].id),
        "newest first: {all:?}"
    );
    let by_identifier = store
        .runs(RunFilter {
            issue: Some("ID-1".into()),
            limit: None,
        })
        .await
        .expect("runs");
    assert_eq!(by_identifier.len(), 2);
    let by_id = store
        .runs(RunFilter {
            issue: Some("2".into()),
            limit: Some(5),
        })
        .await
        .expect("runs");
    assert_eq!(by_id.len(), 1);
    // One run by its id, as the API's run pages read it.
    let second = store
        .run(all[1].id)
        .await
        .expect("run")
        .expect("the run exists");
    assert_eq!(second, all[1]);
    assert_eq!(store.run(all[0].id + 1_000).await.expect("run"), None);
    assert_eq!(store.totals().await.expect("totals").runtime_ms, 150);
}

/// Audit entries of several instances form one chain, read back newest last, and verify.
async fn the_audit_log_is_one_verified_chain_across_instances(harness: &mut dyn StoreHarness) {
    harness.fresh();
    let a = harness.open(&KitSettings::default(), live("a"));
    let b = harness.open(&KitSettings::default(), live("b"));
    a.recover(0).await.expect("recover a");
    b.recover(0).await.expect("recover b");
    let record = |at_ms: u64, kind: &str| {
        Change::Audit(AuditRecord {
            at_ms,
            kind: kind.to_owned(),
            issue_id: Some("1".into()),
            identifier: Some("ID-1".into()),
            detail: json!({"at": at_ms}),
        })
    };
    a.apply(vec![record(10, "kit_first")])
        .await
        .expect("append a");
    b.apply(vec![record(20, "kit_second")])
        .await
        .expect("append b");
    a.apply(vec![record(30, "kit_third")])
        .await
        .expect("append a again");
    let tail = b.audit_tail(100).await.expect("tail");
    let kinds: Vec<&str> = tail
        .iter()
        .map(|e| e.kind.as_str())
        .filter(|k| k.starts_with("kit_"))
        .collect();
    assert_eq!(
        kinds,
        ["kit_first", "kit_second", "kit_third"],
        "oldest first, nothing lost"
    );
    assert!(
        tail.windows(2).all(|w| w[0].seq < w[1].seq),
        "sequence numbers grow along the chain"
    );
    let instances: Vec<&str> = tail
        .iter()
        .filter(|e| e.kind.starts_with("kit_"))
        .map(|e| e.instance.as_str())
        .collect();
    assert_eq!(instances, ["a", "b", "a"], "each entry names its writer");
    for store in [&a, &b] {
        assert!(
            matches!(
                store.audit_verify().await.expect("verify"),
                AuditVerdict::Intact { .. }
            ),
            "the chain verifies from every instance"
        );
    }
}
