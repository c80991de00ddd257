//! The `code_host` section, validated at load and on every reload by the kinds a build has.

use serde_json::Value;
use symphony_workflow::{ConfigSection, SectionContext, SectionError};

use crate::registry::{CodeHostRegistry, SECTION};

/// `code_host:` as a WORKFLOW.md section owned by the code-host kinds of `registry`.
#[derive(Debug, Clone)]
pub struct CodeHostSection(pub CodeHostRegistry);

impl ConfigSection for CodeHostSection {
    fn key(&self) -> &str {
        SECTION
    }

    fn owner(&self) -> &str {
        "code host (pull requests, gate verdicts)"
    }

    fn error_category(&self) -> &'static str {
        "invalid_code_host_config"
    }

    fn schema(&self) -> Value {
        self.0.section_schema()
    }

    fn validate(&self, _value: &Value, context: &SectionContext<'_>) -> Result<(), SectionError> {
        self.0
            .validate(context)
            .map_err(|e| SectionError::new(e.to_string()))
    }
}
