//! What this build can be configured with: the built-in tracker kinds and extension sections,
//! and those of any plugins installed by [`crate::main_with`].

use std::sync::Arc;

use symphony_workflow::ConfigRegistry;

use crate::plugins::plugins;

/// Every tracker kind and extension section this process can be configured with.
pub fn registry() -> ConfigRegistry {
    let mut registry = ConfigRegistry::new()
        .with(Arc::new(symphony_tracker_local::LocalProfile))
        .with(Arc::new(symphony_tracker_github::GithubProfile))
        .with(Arc::new(symphony_tracker_linear::LinearProfile))
        .with_section(Arc::new(symphony_server::ServerSection));
    let wiring = crate::wiring::BinaryWiring;
    let gates = symphony_orchestrator::Wiring::gates(&wiring);
    let code_hosts = symphony_orchestrator::Wiring::code_hosts(&wiring);
    for section in symphony_orchestrator::config_sections(gates, code_hosts) {
        registry.register_section(section);
    }
    let agents = crate::wiring::agent_backends();
    registry.register_section(symphony_orchestrator::budgets_section(
        agents.self_pricing_kinds(),
    ));
    for kind in agents.kinds() {
        registry.register_agent_backend(&kind);
    }
    for section in agents.sections() {
        registry.register_section(section);
    }
    for plugin in plugins() {
        registry.register(plugin.profile());
        for section in plugin.sections() {
            registry.register_section(section);
        }
    }
    registry
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Editors validate with `symphony schema`: a section the loader accepts but the schema
    /// lacks would be flagged as an error there, and one the schema has but the loader refuses
    /// would pass there and fail at load.
    #[test]
    fn the_schema_has_exactly_the_sections_the_loader_accepts() {
        let registry = registry();
        let schema = symphony_workflow::front_matter_schema(&registry);
        let mut documented: Vec<&str> = schema["properties"]
            .as_object()
            .expect("properties")
            .keys()
            .map(String::as_str)
            .collect();
        let mut accepted = registry.top_level_keys();
        documented.sort_unstable();
        accepted.sort_unstable();
        assert_eq!(documented, accepted);
        for key in ["gates", "handoff", "docs", "server"] {
            assert!(accepted.contains(&key), "{key} is not registered");
            assert_eq!(
                schema["properties"][key]["additionalProperties"],
                serde_json::Value::Bool(false),
                "{key} refuses unknown keys, so its schema must too"
            );
        }
        assert_eq!(
            schema["additionalProperties"],
            serde_json::Value::Bool(false)
        );
    }
}
