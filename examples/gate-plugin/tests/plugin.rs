//! The plugin gate registered by kind, configured from a WORKFLOW.md `gates` section, run on
//! a change.

use std::path::Path;
use std::sync::Arc;

use serde_json::json;
use symphony_example_todo_gate::{TodoReferenceFactory, KIND};
use symphony_gates::{
    AddedLine, ChangeSet, ChangedFile, FileChange, GateContext, GateRegistry, GateStatus,
    GatesConfig,
};

fn change(lines: &[&str]) -> GateContext {
    let mut file = ChangedFile::new("src/lib.rs", FileChange::Modified);
    file.added = lines
        .iter()
        .enumerate()
        .map(|(i, text)| AddedLine::new(i as u32 + 10, *text))
        .collect();
    GateContext::new(".", Arc::new(ChangeSet::new("", vec![file])))
}

#[tokio::test]
async fn the_plugin_runs_when_workflow_names_its_kind() {
    // What `gates:` in WORKFLOW.md parses to.
    let section =
        json!({"checks": [{"kind": KIND, "name": "todos", "marker": "TODO"}, {"kind": "secrets"}]});
    let config = GatesConfig::from_section(Some(&section)).unwrap();

    let unknown = GateRegistry::builtin()
        .build(&config, Path::new("."))
        .err()
        .unwrap();
    assert!(
        unknown
            .to_string()
            .contains("unknown kind \"todo_reference\""),
        "{unknown}"
    );

    let mut registry = GateRegistry::builtin();
    registry.register(Arc::new(TodoReferenceFactory));
    let runners = registry.build(&config, Path::new(".")).unwrap();
    let todos = runners.iter().find(|r| r.name() == "todos").unwrap();

    let report = todos
        .run(&change(&["// TODO(#42): cache this", "let x = 1;"]))
        .await;
    assert_eq!(report.status, GateStatus::Pass, "{report:?}");
    let report = todos
        .run(&change(&["let y = 2; // TODO handle errors"]))
        .await;
    assert_eq!(report.status, GateStatus::Fail);
    assert_eq!(report.findings[0].line, Some(10));
    assert!(report.findings[0].message.contains("TODO(#123)"));

    let bad = GatesConfig::from_section(Some(&json!({"checks": [{"kind": KIND, "markers": "x"}]})))
        .unwrap();
    let error = registry
        .build(&bad, Path::new("."))
        .err()
        .unwrap()
        .to_string();
    assert!(error.contains("`markers` is not an option"), "{error}");
}

/// A registered plugin kind is in the `gates:` schema with its own options, and only those.
#[test]
fn the_plugin_kind_and_its_options_are_in_the_schema() {
    let mut registry = GateRegistry::builtin();
    registry.register(Arc::new(TodoReferenceFactory));
    let schema = registry.section_schema();
    let check = &schema["properties"]["checks"]["items"];
    assert!(check["properties"]["kind"]["enum"]
        .as_array()
        .unwrap()
        .contains(&json!(KIND)));
    let ours = check["allOf"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["if"]["properties"]["kind"]["const"] == KIND)
        .unwrap();
    assert_eq!(ours["then"]["properties"]["marker"]["type"], "string");
}
