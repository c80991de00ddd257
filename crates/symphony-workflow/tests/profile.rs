//! The tracker-profile seam as config resolution uses it.

mod common;

use common::{env, registry, write, MINIMAL};
use symphony_workflow::{Workflow, WorkflowError};

fn load(text: &str) -> Result<Workflow, WorkflowError> {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "WORKFLOW.md", text);
    Workflow::load(&path, &registry(), &env(&[]))
}

#[test]
fn default_states_may_depend_on_the_provider_block() {
    let simple = MINIMAL.replace(
        "    project: demo\n",
        "    project: demo\n    mode: simple\n",
    );
    let workflow = load(&simple).unwrap();
    assert_eq!(workflow.config.tracker.active_states, vec!["open"]);
    assert_eq!(workflow.config.tracker.terminal_states, vec!["closed"]);
    let workflow = load(MINIMAL).unwrap();
    assert_eq!(
        workflow.config.tracker.active_states,
        vec!["Todo", "In Progress"]
    );
    // Explicit states still win.
    let explicit = simple.replace("  provider:\n", "  active_states: [ready]\n  provider:\n");
    let workflow = load(&explicit).unwrap();
    assert_eq!(workflow.config.tracker.active_states, vec!["ready"]);
}
