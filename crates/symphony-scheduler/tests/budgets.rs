//! Budgets in the pure scheduler (ADR 0023), on a virtual clock: a hard per-issue limit stops
//! the worker at the report that passes it and sends the issue to a person once it stopped;
//! what earlier runs used counts; a soft threshold warns once; a daily limit holds dispatch
//! until the shell reports the next UTC day; `stop_running` stops running work too.

mod common;

use common::{issue, spawned, Sim};
use symphony_core::Usage;
use symphony_scheduler::{
    AgentUpdate, BudgetKind, Budgets, DayLimits, Decision, Effect, Event, ExitReason, Ineligible,
    IssueLimits, Limit, RunEnd, SchedulerConfig, Spend, StopReason,
};

fn config(budgets: Budgets) -> SchedulerConfig {
    SchedulerConfig {
        max_concurrent_agents: 2,
        budgets: std::sync::Arc::new(Budgets {
            needs_human_state: Some("Needs Human".into()),
            ..budgets
        }),
        ..SchedulerConfig::default()
    }
}

fn tokens(id: &str, total: u64) -> Event {
    Event::AgentUpdate {
        issue_id: id.into(),
        update: AgentUpdate {
            event: "token_usage".into(),
            tokens: Some(Usage::tokens(total, 0, total)),
            ..AgentUpdate::default()
        },
    }
}

fn stop_of(effects: &[Effect], id: &str) -> Option<StopReason> {
    effects.iter().find_map(|e| match e {
        Effect::StopWorker { issue_id, reason } if issue_id == id => Some(*reason),
        _ => None,
    })
}

fn hand_to_person(effects: &[Effect]) -> Option<(String, String)> {
    effects.iter().find_map(|e| match e {
        Effect::HandToPerson { state, comment, .. } => Some((state.clone(), comment.clone())),
        _ => None,
    })
}

fn per_issue_tokens(soft: Option<u64>, hard: u64) -> Budgets {
    Budgets {
        per_issue: IssueLimits {
            tokens: Limit {
                soft,
                hard: Some(hard),
            },
            ..IssueLimits::default()
        },
        ..Budgets::default()
    }
}

#[test]
fn a_token_budget_stops_at_the_report_that_passes_it_and_hands_the_issue_to_a_person() {
    let mut sim = Sim::new(config(per_issue_tokens(Some(600), 1_000)));
    let a = issue("a", "Todo");
    assert_eq!(spawned(&sim.tick(&[], std::slice::from_ref(&a))), ["a"]);
    assert!(stop_of(&sim.send(tokens("a", 500)), "a").is_none());
    let warned = sim.send(tokens("a", 700));
    assert!(stop_of(&warned, "a").is_none());
    assert!(warned.iter().any(|e| matches!(
        e,
        Effect::Record(Decision::BudgetWarning { exceeded, .. }) if !exceeded.hard && exceeded.kind == BudgetKind::Tokens
    )));
    // The soft threshold warns once.
    let again = sim.send(tokens("a", 800));
    assert!(!again
        .iter()
        .any(|e| matches!(e, Effect::Record(Decision::BudgetWarning { .. }))));
    assert!(stop_of(&sim.send(tokens("a", 1_000)), "a").is_none());
    let passed = sim.send(tokens("a", 1_001));
    assert_eq!(
        stop_of(&passed, "a"),
        Some(StopReason::Budget(BudgetKind::Tokens))
    );
    // Nothing goes to a person before the worker stopped.
    assert!(hand_to_person(&passed).is_none());
    let exit = sim.exit("a", ExitReason::Failed("turn_cancelled".into()));
    assert!(exit.iter().any(|e| matches!(
        e,
        Effect::Record(Decision::RunEnded { outcome: RunEnd::BudgetExceeded(BudgetKind::Tokens), error: Some(error), .. })
            if error.contains("used 1001 tokens of a limit of 1000 tokens")
    )));
    let (state, comment) = hand_to_person(&exit).expect("to a person");
    assert_eq!(state, "Needs Human");
    assert!(comment.contains("budgets.per_issue.tokens"), "{comment}");
    // Released, no retry: a fresh read must show it active again before it runs again, and
    // then its spent budget keeps it waiting.
    assert!(sim.s.retries().is_empty() && sim.s.claimed().is_empty());
    assert!(matches!(
        sim.s.explain(&a),
        Err(Ineligible::Budget(e)) if e.kind == BudgetKind::Tokens
    ));
}

#[test]
fn earlier_runs_count_and_a_worker_over_budget_before_it_starts_hands_off_too() {
    let mut sim = Sim::new(config(per_issue_tokens(None, 1_000)));
    sim.tick(&[], &[issue("a", "Todo")]);
    // The worker read the issue's earlier runs from durable state: 900 tokens.
    let prior = Spend {
        usage: Usage::tokens(900, 0, 900),
        attempts: 2,
        ..Spend::default()
    };
    let effects = sim.send(Event::PriorSpend {
        issue_id: "a".into(),
        spend: prior,
    });
    assert!(stop_of(&effects, "a").is_none());
    assert_eq!(
        stop_of(&sim.send(tokens("a", 101)), "a"),
        Some(StopReason::Budget(BudgetKind::Tokens))
    );
    sim.exit("a", ExitReason::Failed("turn_cancelled".into()));

    // A worker that finds the budget spent before its agent starts ends as stopped by it.
    let mut sim = Sim::new(config(per_issue_tokens(None, 1_000)));
    sim.tick(&[], &[issue("b", "Todo")]);
    sim.send(Event::PriorSpend {
        issue_id: "b".into(),
        spend: Spend {
            usage: Usage::tokens(1_200, 0, 1_200),
            ..Spend::default()
        },
    });
    let exit = sim.exit(
        "b",
        ExitReason::Stopped(StopReason::Budget(BudgetKind::Tokens)),
    );
    assert!(hand_to_person(&exit).is_some());
}

#[test]
fn turns_rounds_attempts_and_agent_time_are_limited_too() {
    let limits = IssueLimits {
        turns: Limit::hard(2),
        ..IssueLimits::default()
    };
    let mut sim = Sim::new(config(Budgets {
        per_issue: limits,
        ..Budgets::default()
    }));
    sim.tick(&[], &[issue("a", "Todo")]);
    let turn = || Event::AgentUpdate {
        issue_id: "a".into(),
        update: AgentUpdate {
            event: "turn_started".into(),
            turn_started: true,
            ..AgentUpdate::default()
        },
    };
    assert!(stop_of(&sim.send(turn()), "a").is_none());
    assert!(stop_of(&sim.send(turn()), "a").is_none());
    assert_eq!(
        stop_of(&sim.send(turn()), "a"),
        Some(StopReason::Budget(BudgetKind::Turns))
    );

    // Agent time grows without reports: the tick checks it.
    let mut sim = Sim::new(config(Budgets {
        per_issue: IssueLimits {
            agent_ms: Limit::hard(60_000),
            ..IssueLimits::default()
        },
        ..Budgets::default()
    }));
    let a = issue("a", "Todo");
    sim.tick(&[], std::slice::from_ref(&a));
    sim.advance(60_001);
    let tick = sim.tick(std::slice::from_ref(&a), std::slice::from_ref(&a));
    assert_eq!(
        stop_of(&tick, "a"),
        Some(StopReason::Budget(BudgetKind::AgentTime))
    );

    // Attempts: the third run of an issue limited to two is stopped before its agent works.
    let mut sim = Sim::new(config(Budgets {
        per_issue: IssueLimits {
            attempts: Limit::hard(2),
            ..IssueLimits::default()
        },
        ..Budgets::default()
    }));
    sim.tick(&[], &[issue("a", "Todo")]);
    let effects = sim.send(Event::PriorSpend {
        issue_id: "a".into(),
        spend: Spend {
            attempts: 2,
            ..Spend::default()
        },
    });
    assert_eq!(
        stop_of(&effects, "a"),
        Some(StopReason::Budget(BudgetKind::Attempts))
    );

    // Rounds, as the worker reports them.
    let mut sim = Sim::new(config(Budgets {
        per_issue: IssueLimits {
            rounds: Limit::hard(1),
            ..IssueLimits::default()
        },
        ..Budgets::default()
    }));
    sim.tick(&[], &[issue("a", "Todo")]);
    let round = || Event::AgentUpdate {
        issue_id: "a".into(),
        update: AgentUpdate {
            event: "gate_round".into(),
            round_started: true,
            ..AgentUpdate::default()
        },
    };
    assert!(stop_of(&sim.send(round()), "a").is_none());
    assert_eq!(
        stop_of(&sim.send(round()), "a"),
        Some(StopReason::Budget(BudgetKind::Rounds))
    );
}

fn daily_cost(stop_running: bool) -> Budgets {
    Budgets {
        per_day: DayLimits {
            cost_micros: Limit {
                soft: Some(500_000),
                hard: Some(1_000_000),
            },
            stop_running,
            ..DayLimits::default()
        },
        ..Budgets::default()
    }
}

fn priced(id: &str, usd: f64) -> Event {
    Event::AgentUpdate {
        issue_id: id.into(),
        update: AgentUpdate {
            event: "token_usage".into(),
            tokens: Some(Usage::tokens(10, 0, 10).with_cost_usd(usd)),
            ..AgentUpdate::default()
        },
    }
}

#[test]
fn a_daily_cost_budget_holds_dispatch_until_the_next_utc_day() {
    let mut sim = Sim::new(config(daily_cost(false)));
    let (a, b, c) = (issue("a", "Todo"), issue("b", "Todo"), issue("c", "Todo"));
    sim.send(Event::DayUsage {
        day: 20_000,
        usage: Usage::tokens(0, 0, 0).with_cost_usd(0.25),
    });
    assert_eq!(spawned(&sim.tick(&[], &[a.clone(), b.clone()])), ["a", "b"]);
    let warn = sim.send(priced("a", 0.30));
    assert!(warn.iter().any(|e| matches!(
        e,
        Effect::Record(Decision::BudgetWarning { issue_id: None, exceeded, .. }) if exceeded.kind == BudgetKind::DailyCost
    )));
    // The day's $1.00 is reached: dispatch is held, running work goes on.
    let held = sim.send(priced("b", 0.45));
    assert!(held.iter().any(|e| matches!(
        e,
        Effect::Record(Decision::DispatchHeld { day: 20_000, .. })
    )));
    assert!(stop_of(&held, "a").is_none() && stop_of(&held, "b").is_none());
    assert!(sim.s.dispatch_hold().is_some());
    // A slot frees: nothing new starts.
    let exit = sim.exit("a", ExitReason::Normal);
    assert!(spawned(&exit).is_empty());
    assert!(spawned(&sim.tick(std::slice::from_ref(&b), &[b.clone(), c.clone()])).is_empty());
    assert!(matches!(
        sim.s.explain(&c),
        Err(Ineligible::Budget(e)) if e.kind == BudgetKind::DailyCost
    ));
    // The store's later figure for the same day never lowers the scheduler's.
    sim.send(Event::DayUsage {
        day: 20_000,
        usage: Usage::tokens(0, 0, 0).with_cost_usd(0.1),
    });
    assert!(sim.s.dispatch_hold().is_some());
    // The next UTC day: the hold lifts and the waiting issue starts at once.
    sim.advance(1_000);
    let next = sim.send(Event::DayUsage {
        day: 20_001,
        usage: Usage::default(),
    });
    assert!(next
        .iter()
        .any(|e| matches!(e, Effect::Record(Decision::DispatchResumed { day: 20_001 }))));
    assert_eq!(spawned(&next), ["c"]);
}

#[test]
fn with_stop_running_a_passed_daily_limit_stops_running_work_without_a_person() {
    let mut sim = Sim::new(config(daily_cost(true)));
    sim.send(Event::DayUsage {
        day: 7,
        usage: Usage::default(),
    });
    let a = issue("a", "Todo");
    sim.tick(&[], std::slice::from_ref(&a));
    // Reaching the limit holds dispatch; only passing it stops running work.
    assert!(stop_of(&sim.send(priced("a", 1.0)), "a").is_none());
    assert_eq!(
        stop_of(&sim.send(priced("a", 1.01)), "a"),
        Some(StopReason::Budget(BudgetKind::DailyCost))
    );
    let exit = sim.exit("a", ExitReason::Failed("turn_cancelled".into()));
    assert!(hand_to_person(&exit).is_none());
    assert!(exit.iter().any(|e| matches!(
        e,
        Effect::Record(Decision::RunEnded {
            outcome: RunEnd::BudgetExceeded(BudgetKind::DailyCost),
            ..
        })
    )));
    // It waits for the next day, not for a person.
    let next = sim.send(Event::DayUsage {
        day: 8,
        usage: Usage::default(),
    });
    assert_eq!(spawned(&next), ["a"]);
}

#[test]
fn a_run_that_hands_off_before_the_stop_reaches_it_succeeded() {
    let mut sim = Sim::new(config(per_issue_tokens(None, 10)));
    sim.tick(&[], &[issue("a", "Todo")]);
    sim.send(tokens("a", 11));
    let exit = sim.exit("a", ExitReason::Normal);
    assert!(exit.iter().any(|e| matches!(
        e,
        Effect::Record(Decision::RunEnded {
            outcome: RunEnd::Succeeded,
            ..
        })
    )));
    assert!(hand_to_person(&exit).is_none());
}

#[test]
fn a_retry_that_comes_due_while_the_day_is_held_lets_go_and_runs_when_the_day_turns() {
    let mut sim = Sim::new(config(daily_cost(false)));
    sim.send(Event::DayUsage {
        day: 3,
        usage: Usage::default(),
    });
    let (a, b) = (issue("a", "Todo"), issue("b", "Todo"));
    assert_eq!(spawned(&sim.tick(&[], &[a.clone(), b.clone()])), ["a", "b"]);
    sim.send(priced("a", 1.2));
    // A finishes: its continuation check comes due while the day is held.
    sim.exit("a", ExitReason::Normal);
    sim.advance(2_000);
    let retry = sim.retry("a", Ok(vec![a.clone()]));
    assert!(spawned(&retry).is_empty());
    assert!(retry.iter().any(|e| matches!(
        e,
        Effect::Record(Decision::Released { reason, .. }) if reason.contains("waiting for the next UTC day")
    )));
    assert!(
        sim.s.retries().is_empty(),
        "no retry loop while the day is held"
    );
    sim.exit("b", ExitReason::Normal);
    // The next day, the book's issues run again.
    let next = sim.send(Event::DayUsage {
        day: 4,
        usage: Usage::default(),
    });
    assert!(spawned(&next).contains(&"a".to_owned()), "{next:?}");
}
