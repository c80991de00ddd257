//! `symphony issues`: what the tracker returns, and whether the scheduler would dispatch each
//! issue now — the answer to "why isn't my issue picked up?".

use std::fmt::Write as _;
use std::path::Path;

use symphony_orchestrator::{
    scheduler_config, sort_for_dispatch, Effect, Event, FetchPurpose, Scheduler,
};
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

    // Ask the scheduler itself: one tick with these candidates, as a fresh service would run it.
    let mut scheduler = Scheduler::new(config);
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
