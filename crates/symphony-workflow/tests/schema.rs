//! The JSON Schema covers the core sections and every registered extension section, and
//! nothing else: an unknown top-level key is an error at load and in editors alike.

mod common;

#[test]
fn schema_documents_the_core_sections_and_the_git_extension() {
    let schema = symphony_workflow::front_matter_schema(&common::registry());
    for section in [
        "tracker",
        "polling",
        "workspace",
        "hooks",
        "agent",
        "codex",
        "state",
    ] {
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
}

#[test]
fn registered_sections_are_in_the_schema_and_nothing_else_is_accepted() {
    let schema = symphony_workflow::front_matter_schema(&common::registry());
    let notify = &schema["properties"]["notify"];
    assert_eq!(notify["required"], serde_json::json!(["url"]));
    assert_eq!(notify["description"], "Extension: test notifications.");
    assert_eq!(
        schema["additionalProperties"],
        serde_json::Value::Bool(false)
    );
    let bare = symphony_workflow::front_matter_schema(&symphony_workflow::ConfigRegistry::new());
    assert!(bare["properties"]["notify"].is_null());
}
