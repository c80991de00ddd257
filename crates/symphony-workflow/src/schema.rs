//! The JSON Schema of the front matter: the core sections generated from the config types, plus
//! every extension section a registry declares.

use serde_json::Value;

use crate::config::raw::FrontMatter;
use crate::profile::ConfigRegistry;

/// The JSON Schema (2020-12) of WORKFLOW.md front matter as `registry`'s build accepts it:
/// the core sections, each registered extension section, and nothing else (an unknown
/// top-level key is an error at load, so it is `additionalProperties: false` here too).
pub fn front_matter_schema(registry: &ConfigRegistry) -> Value {
    let mut schema = schemars::schema_for!(FrontMatter).to_value();
    for section in registry.sections() {
        let mut fragment = section.schema();
        if let Value::Object(map) = &mut fragment {
            map.entry("description")
                .or_insert_with(|| Value::String(format!("Extension: {}.", section.owner())));
        }
        match schema["properties"].get(section.key()).map(schema_defs_ref) {
            // A section sharing a core key (`codex`: the core's run limits, the Codex
            // backend's launch settings) documents its keys beside the core's.
            Some(Some(defs)) => merge_section(&mut schema["$defs"][defs], fragment),
            Some(None) => merge_section(&mut schema["properties"][section.key()], fragment),
            None => schema["properties"][section.key()] = fragment,
        }
    }
    // `agent.backend` takes the kinds this build registers, so editors flag any other.
    if let Some(backend) = schema
        .pointer_mut("/$defs/AgentSection/properties/backend")
        .and_then(Value::as_object_mut)
    {
        backend.insert("enum".into(), registry.agent_backends().into());
    }
    schema["additionalProperties"] = Value::Bool(false);
    schema
}

/// The `$defs` name a core property refers to (`{"$ref": "#/$defs/CodexSection"}`), if any.
fn schema_defs_ref(property: &Value) -> Option<String> {
    property
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| r.strip_prefix("#/$defs/"))
        .map(str::to_owned)
}

/// Folds an extension's fragment into the core property of the same key: its properties join
/// the core's, and its `additionalProperties` (a section refusing unknown keys) applies; the
/// description stays the core's, which says who owns what.
fn merge_section(core: &mut Value, fragment: Value) {
    let Value::Object(fragment) = fragment else {
        return;
    };
    let Some(core) = core.as_object_mut() else {
        return;
    };
    let properties = core
        .entry("properties")
        .or_insert_with(|| Value::Object(Default::default()));
    if let (Some(into), Some(Value::Object(from))) =
        (properties.as_object_mut(), fragment.get("properties"))
    {
        for (key, value) in from {
            into.entry(key.clone()).or_insert_with(|| value.clone());
        }
    }
    if let Some(additional) = fragment.get("additionalProperties") {
        core.insert("additionalProperties".into(), additional.clone());
    }
}
