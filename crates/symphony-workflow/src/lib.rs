//! The `WORKFLOW.md` contract (SPEC §5, §6): where the file is, how it splits into YAML front
//! matter and a prompt template, the typed configuration with its defaults, `$VAR` and `~`
//! resolution, strict Liquid prompt rendering, and live reload that keeps the last good config.
//!
//! The pipeline is: [`WorkflowDefinition::load`] (file -> raw map + template) ->
//! [`ServiceConfig::resolve`] (defaults, coercion, environment, tracker profile) -> [`Workflow`].
//! [`WorkflowSource`] wraps it for a long-running service.

mod config;
mod definition;
mod environment;
mod error;
mod front_matter;
mod paths;
mod profile;
mod provider;
mod reload;
mod schema;
mod section;
mod template;
mod top_level;
mod unknown_keys;
mod workflow;

pub use config::{
    AgentConfig, HooksConfig, PollingConfig, RepoSource, RunLimits, ServiceConfig, StateConfig,
    TrackerConfig, WorkspaceConfig, CODEX_BACKEND, COMMAND_BACKEND,
};
pub use definition::{resolve_workflow_path, WorkflowDefinition, MAX_WORKFLOW_BYTES};
pub use environment::{Environment, ProcessEnvironment};
pub use error::{ConfigError, TemplateError, WorkflowError};
pub use front_matter::split_front_matter;
pub use profile::{ConfigRegistry, TrackerProfile};
pub use provider::ProviderConfig;
pub use reload::{ReloadOutcome, WorkflowSource, WorkflowWatcher};
pub use schema::front_matter_schema;
pub use section::{ConfigSection, SectionContext, SectionError};
pub use template::{PromptTemplate, DEFAULT_PROMPT};
pub use top_level::closest;
pub use unknown_keys::unknown_key;
pub use workflow::Workflow;
