//! `symphony issues`: what the tracker returns, and whether the scheduler would dispatch each
//! issue now — the answer to "why isn't my issue picked up?".

use std::fmt::Write as _;
use std::path::Path;

use symphony_orchestrator::{
    scheduler_config, sort_for_dispatch, Effect, Event, FetchPurpose, Scheduler,
};
use symphony_store::Store as _;
use symphony_workflow::{ProcessEnvironment, Workflow};

use crate::failure::Failure;
use crate::trackers;
use crate::wiring::BinaryWiring;

pub fn run(path: &Path) -> Result<(), Failure> {
    let workflow = Workflow::load(path, &trackers::registry(), &ProcessEnvironment)?;
    let config = scheduler_config(&workflow.config);
    let mut states = workflow.config.tracker.active_states.clone();
    states.extend(workflow.config.tracker.terminal_states.iter().cloned());
    // Adapters may need the runtime while they are built (octocrab spawns a worker), so the
    // tracker is made inside it.
    let mut issues = super::run::runtime()?.block_on(async {
        let tracker = symphony_orchestrator::Wiring::tracker(&BinaryWiring, &workflow.config)
            .map_err(|e| Failure::new("startup_failed", e.to_string()))?;
        tracker.fetch_issues_by_states(&states).await.map_err(|e| {
            Failure::new(
                e.category_name(),
                format!("the tracker failed: {}", e.message),
            )
        })
    })?;
    sort_for_dispatch(&mut issues);

    // Ask the scheduler itself: one tick with these candidates, as a fresh service would run it,
    // knowing what the budgets have used (ADR 0023) when there is durable state to ask.
    let budgeted = !config.budgets.per_issue.is_unset()
        || !config.budgets.overrides.is_empty()
        || !config.budgets.per_day.is_unset();
    let mut scheduler = Scheduler::new(config);
    let state_dir = &workflow.config.state.dir;
    if budgeted && state_dir.join(symphony_store::DATABASE_FILE).is_file() {
        let store = super::state::open(state_dir)?;
        let known = super::run::runtime()?.block_on(async {
            let day = symphony_store::utc_day(symphony_store::wall_clock_ms());
            let used = store.day_usage(day).await?;
            let mut known = vec![Event::DayUsage { day, usage: used }];
            for issue in &issues {
                let spend = store.issue_spend(&issue.id, None).await?;
                known.push(Event::PriorSpend {
                    issue_id: issue.id.clone(),
                    spend,
                });
            }
            Ok::<_, symphony_store::StoreError>(known)
        });
        for event in known.map_err(|e| Failure::new(e.category(), e.to_string()))? {
            scheduler.handle(event, 0);
        }
    }
    scheduler.handle(
        Event::Tick {
            preflight_error: None,
        },
        0,
    );
    let effects = scheduler.handle(
        Event::Fetched {
            purpose: FetchPurpose::Candidates,
            result: Ok(issues.clone()),
        },
        0,
    );
    let dispatched: Vec<&str> = effects
        .iter()
        .filter_map(|e| match e {
            Effect::SpawnWorker { issue, .. } => Some(issue.id.as_str()),
            _ => None,
        })
        .collect();

    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<14} {:<14} {:>8}  dispatch now?",
        "IDENTIFIER", "STATE", "PRIORITY"
    );
    for issue in &issues {
        let verdict = if dispatched.contains(&issue.id.as_str()) {
            "yes".to_owned()
        } else {
            match scheduler.explain(issue) {
                Ok(()) => "yes".to_owned(),
                Err(why) => format!("no: {why}"),
            }
        };
        let priority = issue
            .priority
            .map_or_else(|| "-".to_owned(), |p| p.to_string());
        let _ = writeln!(
            out,
            "{:<14} {:<14} {:>8}  {verdict}",
            issue.identifier, issue.state, priority
        );
    }
    let _ = writeln!(
        out,
        "\n{} issue(s); {} would be dispatched now by a fresh service",
        issues.len(),
        dispatched.len()
    );
    print!("{out}");
    Ok(())
}
