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
        schema["properties"][section.key()] = fragment;
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
