//! The usage rules of the contract (ADR 0022, ADR 0023): a run's usage is kept whole, an
//! issue's is the sum over its runs, each report's increase counts toward the UTC day it was
//! recorded on, and all of it is the same after a restart and for every instance.

use crate::store::{utc_day, DAY_MS};
use crate::types::{Change, ClaimOutcome, RunFilter, RunOutcome, RunStart, Usage};

use super::harness::{live, KitSettings, StoreHarness};

fn started(outcome: ClaimOutcome) -> i64 {
    match outcome {
        ClaimOutcome::Started { run_id } => run_id,
        held => panic!("expected a started run, got {held:?}"),
    }
}

fn start(issue: &str, attempt: Option<u32>, at_ms: u64) -> RunStart {
    RunStart {
        issue_id: issue.to_owned(),
        identifier: format!("ID-{issue}"),
        attempt,
        workspace: None,
        at_ms,
    }
}

fn tokens(run_id: i64, at_ms: u64, usage: Usage) -> Change {
    Change::Tokens {
        run_id,
        at_ms,
        usage,
    }
}

/// Two runs of one issue on either side of midnight, and another issue's run: the run's usage
/// is its last report, the issue's the sum of its runs, each day gets the increases recorded
/// on it (a run across midnight is split where its reports fall), and a restart or another
/// instance reads the same.
pub(super) async fn usage_adds_up_per_issue_and_per_day_and_survives_restarts(
    harness: &mut dyn StoreHarness,
) {
    harness.fresh();
    let a = harness.open(&KitSettings::default(), live("a"));
    a.recover(0).await.expect("recover");
    let day = 20_000;
    let before_midnight = (day + 1) * DAY_MS - 1_000;
    let after_midnight = before_midnight + 2_000;
    assert_eq!(utc_day(before_midnight), day);
    assert_eq!(utc_day(after_midnight), day + 1);

    let first = started(
        a.claim_and_start(start("1", None, before_midnight - 5_000))
            .await
            .expect("claim"),
    );
    let early = Usage::tokens(100, 10, 110)
        .with_cache(40, 5)
        .with_cost_usd(0.01);
    let late = Usage::tokens(150, 20, 170)
        .with_cache(60, 5)
        .with_cost_usd(0.03);
    let overnight = Usage::tokens(200, 30, 230)
        .with_cache(60, 5)
        .with_cost_usd(0.05);
    a.apply(vec![
        tokens(first, before_midnight - 500, early),
        tokens(first, before_midnight, late),
    ])
    .await
    .expect("reports");
    // A report again with the same counts adds nothing.
    a.apply(vec![tokens(first, before_midnight, late)])
        .await
        .expect("repeat");
    a.apply(vec![tokens(first, after_midnight, overnight)])
        .await
        .expect("after midnight");
    a.apply(vec![Change::RunEnded {
        run_id: first,
        at_ms: after_midnight,
        outcome: RunOutcome::Failed,
        error: Some("boom".into()),
    }])
    .await
    .expect("end");
    // The retry of issue 1 prices nothing (a Codex run); issue 2 is someone else's spend.
    let retry = started(
        a.claim_and_start(start("1", Some(1), after_midnight + 1_000))
            .await
            .expect("retry"),
    );
    a.apply(vec![tokens(
        retry,
        after_midnight + 2_000,
        Usage::tokens(7, 3, 10),
    )])
    .await
    .expect("retry's report");
    let other = started(
        a.claim_and_start(start("2", None, after_midnight + 3_000))
            .await
            .expect("issue 2"),
    );
    a.apply(vec![tokens(
        other,
        after_midnight + 4_000,
        Usage::tokens(1, 1, 2),
    )])
    .await
    .expect("issue 2's report");

    let issue_1 = overnight.plus(&Usage::tokens(7, 3, 10));
    let day_1 = late;
    let day_2 = overnight
        .since(&late)
        .plus(&Usage::tokens(7, 3, 10))
        .plus(&Usage::tokens(1, 1, 2));
    assert_eq!(
        day_2.cost_micros,
        Some(20_000),
        "the overnight increase only"
    );
    drop(a);
    for reader in [
        harness.open(&KitSettings::default(), live("a")),
        harness.open(&KitSettings::default(), live("b")),
    ] {
        let runs = reader
            .runs(RunFilter {
                issue: Some("1".into()),
                limit: None,
            })
            .await
            .expect("runs");
        assert_eq!(
            runs.last().map(|r| r.usage),
            Some(overnight),
            "the run's last report"
        );
        assert_eq!(reader.issue_usage("1").await.expect("issue 1"), issue_1);
        assert_eq!(
            reader.issue_usage("2").await.expect("issue 2"),
            Usage::tokens(1, 1, 2)
        );
        assert_eq!(
            reader.issue_usage("3").await.expect("issue 3"),
            Usage::default(),
            "an issue without runs used nothing"
        );
        assert_eq!(reader.day_usage(day).await.expect("day"), day_1);
        assert_eq!(reader.day_usage(day + 1).await.expect("next day"), day_2);
        assert_eq!(
            reader.day_usage(day + 2).await.expect("a day without work"),
            Usage::default()
        );
    }
}
