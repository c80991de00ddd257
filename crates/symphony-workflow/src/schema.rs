//! The JSON Schema of the front matter, generated from the config types.

use crate::config::FrontMatter;

/// The JSON Schema (2020-12) of WORKFLOW.md front matter, as committed in
/// `docs/workflow.schema.json`.
pub fn front_matter_schema() -> serde_json::Value {
    let schema = schemars::schema_for!(FrontMatter);
    schema.to_value()
}
