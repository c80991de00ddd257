//! The committed JSON Schema must match the config types.

use std::path::PathBuf;

#[test]
fn committed_schema_is_up_to_date() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/workflow.schema.json");
    let committed: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())),
    )
    .unwrap();
    assert!(
        committed == symphony_workflow::front_matter_schema(),
        "docs/workflow.schema.json is stale: run `cargo xtask schema` and commit the result"
    );
}

#[test]
fn schema_documents_the_core_sections_and_the_git_extension() {
    let schema = symphony_workflow::front_matter_schema();
    for section in ["tracker", "polling", "workspace", "hooks", "agent", "codex"] {
        assert!(
            schema["properties"][section].is_object(),
            "{section} missing"
        );
    }
    let ws = &schema["$defs"]["WorkspaceSection"]["properties"];
    assert!(ws["repo"]["description"]
        .as_str()
        .unwrap()
        .contains("Extension"));
    assert!(ws["base_branch"].is_object());
    assert_eq!(
        schema["$defs"]["HooksSection"]["properties"]["timeout_ms"]["default"],
        60_000
    );
    // Extensions are open: no additionalProperties: false at the root.
    assert_ne!(
        schema["additionalProperties"],
        serde_json::Value::Bool(false)
    );
}
