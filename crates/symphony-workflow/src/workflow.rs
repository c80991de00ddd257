//! A workflow loaded and resolved: its definition and the typed configuration it yields.

use std::path::Path;

use crate::config::ServiceConfig;
use crate::definition::{fingerprint, read_bounded, WorkflowDefinition};
use crate::environment::Environment;
use crate::error::WorkflowError;
use crate::profile::ConfigRegistry;

/// A loaded, resolved workflow: what the service runs with.
#[derive(Debug, Clone)]
pub struct Workflow {
    /// The raw definition (front matter map and prompt template).
    pub definition: WorkflowDefinition,
    /// The typed, resolved configuration.
    pub config: ServiceConfig,
    /// SHA-256 of the file's bytes; tells a real change from a touch.
    pub fingerprint: [u8; 32],
}

impl Workflow {
    /// Loads, parses and resolves the workflow at `path`.
    pub fn load(
        path: &Path,
        registry: &ConfigRegistry,
        env: &dyn Environment,
    ) -> Result<Self, WorkflowError> {
        let bytes = read_bounded(path)?;
        Self::from_bytes(path, &bytes, registry, env)
    }

    /// Parses and resolves workflow contents already read from `path`.
    pub fn from_bytes(
        path: &Path,
        bytes: &[u8],
        registry: &ConfigRegistry,
        env: &dyn Environment,
    ) -> Result<Self, WorkflowError> {
        let definition = WorkflowDefinition::parse(path, bytes)?;
        let config = ServiceConfig::resolve(&definition, registry, env).map_err(|source| {
            WorkflowError::Config {
                path: path.to_path_buf(),
                source,
            }
        })?;
        Ok(Self {
            definition,
            config,
            fingerprint: fingerprint(bytes),
        })
    }
}
