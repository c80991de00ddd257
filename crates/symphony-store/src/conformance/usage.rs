//! The usage rules of the contract (ADR 0022, ADR 0023): a run's usage is kept whole, an
//! issue's is the sum over its runs, each report's increase counts toward the UTC day it was
//! recorded on, and all of it is the same after a restart and for every instance.

use crate::store::{utc_day, DAY_MS};
use crate::types::{Change, ClaimOutcome, RunFilter, RunOutcome, RunStart, Spend, Usage};

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
    // Turns and rounds add up across reports.
    a.apply(vec![
        Change::Progress {
            run_id: first,
            turns: 1,
            rounds: 0,
        },
        Change::Progress {
            run_id: first,
            turns: 1,
            rounds: 1,
        },
    ])
    .await
    .expect("progress");
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
    a.apply(vec![
        Change::Progress {
            run_id: retry,
            turns: 1,
            rounds: 0,
        },
        Change::RunEnded {
            run_id: retry,
            at_ms: after_midnight + 5_000,
            outcome: RunOutcome::BudgetExceeded,
            error: Some("budget exceeded: tokens".into()),
        },
    ])
    .await
    .expect("retry's end");
    // A run that never started is no attempt.
    let skipped = started(
        a.claim_and_start(start("1", Some(2), after_midnight + 6_000))
            .await
            .expect("skipped run"),
    );
    a.apply(vec![Change::RunEnded {
        run_id: skipped,
        at_ms: after_midnight + 6_500,
        outcome: RunOutcome::Skipped,
        error: Some("no longer eligible".into()),
    }])
    .await
    .expect("skipped");
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
        assert_eq!(
            runs.iter().find(|r| r.id == retry).and_then(|r| r.outcome),
            Some(RunOutcome::BudgetExceeded)
        );
        assert_eq!(
            reader.issue_spend("1", None).await.expect("issue 1"),
            Spend {
                usage: issue_1,
                turns: 3,
                rounds: 1,
                attempts: 2,
                agent_ms: 7_000 + 4_000 + 500,
            }
        );
        assert_eq!(
            reader
                .issue_spend("1", Some(retry))
                .await
                .expect("issue 1 but the retry"),
            Spend {
                usage: overnight,
                turns: 2,
                rounds: 1,
                attempts: 1,
                agent_ms: 7_000 + 500,
            },
            "the asking run is left out"
        );
        assert_eq!(
            reader.issue_spend("2", None).await.expect("issue 2").usage,
            Usage::tokens(1, 1, 2)
        );
        assert_eq!(
            reader.issue_spend("3", None).await.expect("issue 3"),
            Spend::default(),
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
