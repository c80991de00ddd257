//! Test support: a resolved configuration of a local-tracker workflow, as the loader makes it.

use symphony_workflow::ServiceConfig;

/// The configuration of a local-tracker workflow with these active and terminal states.
pub fn local_config(active: &str, terminal: &str) -> ServiceConfig {
    let text = format!(
        "---\ntracker:\n  kind: local\n  provider:\n    path: ./issues\n  \
         active_states: [{active}]\n  terminal_states: [{terminal}]\n---\n"
    );
    let registry = symphony_workflow::ConfigRegistry::new()
        .with(std::sync::Arc::new(symphony_tracker_local::LocalProfile));
    symphony_workflow::Workflow::from_bytes(
        std::path::Path::new("/tmp/WORKFLOW.md"),
        text.as_bytes(),
        &registry,
        &symphony_workflow::ProcessEnvironment,
    )
    .expect("the test workflow loads")
    .config
}

/// The plan stage of a local workflow (active `todo, approved`; terminal `done`) with
/// `section` as its `plan:`.
pub fn planning(section: serde_json::Value) -> crate::planning_config::PlanningConfig {
    crate::planning_config::PlanningConfig::from_section(
        Some(&section),
        &local_config("todo, approved", "done"),
        None,
    )
    .expect("the test plan is valid")
    .expect("present")
}
