//! Typed errors carrying the SPEC's category names (SPEC §5.5).

use std::path::PathBuf;

/// The workflow file could not be turned into a [`crate::WorkflowDefinition`].
#[derive(Debug, thiserror::Error)]
pub enum WorkflowError {
    /// The file does not exist or cannot be read.
    #[error("cannot read workflow file {path}: {source}")]
    MissingWorkflowFile {
        /// The path that was tried.
        path: PathBuf,
        /// The I/O failure.
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid UTF-8, too large, or its front matter is not valid YAML.
    #[error("{path}{}: {message}", location_suffix(*.line, *.column))]
    WorkflowParseError {
        /// The workflow file.
        path: PathBuf,
        /// What is wrong, in words.
        message: String,
        /// 1-based line in the workflow file, when known.
        line: Option<usize>,
        /// 1-based column, when known.
        column: Option<usize>,
    },
    /// The front matter is valid YAML but not a map.
    #[error("{path}: the front matter must be a YAML map of settings, but it is {found}")]
    WorkflowFrontMatterNotAMap {
        /// The workflow file.
        path: PathBuf,
        /// What kind of YAML value it is instead (e.g. "a list").
        found: &'static str,
    },
    /// The front matter parsed but its settings are invalid.
    #[error("{path}: {source}")]
    Config {
        /// The workflow file.
        path: PathBuf,
        /// The configuration problem.
        #[source]
        source: ConfigError,
    },
}

fn location_suffix(line: Option<usize>, column: Option<usize>) -> String {
    match (line, column) {
        (Some(line), Some(column)) => format!(":{line}:{column}"),
        (Some(line), None) => format!(":{line}"),
        _ => String::new(),
    }
}

impl WorkflowError {
    /// The SPEC category name of this error, for logs, exit messages and the API.
    pub fn category(&self) -> &'static str {
        match self {
            Self::MissingWorkflowFile { .. } => "missing_workflow_file",
            Self::WorkflowParseError { .. } => "workflow_parse_error",
            Self::WorkflowFrontMatterNotAMap { .. } => "workflow_front_matter_not_a_map",
            Self::Config { source, .. } => source.category(),
        }
    }
}

/// A setting in the front matter is missing, of the wrong type or out of range (SPEC §6.3).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// A value has the wrong type or is out of range.
    #[error("{field}: {message}")]
    Invalid {
        /// Dotted path of the setting, e.g. `hooks.timeout_ms`.
        field: String,
        /// What is wrong with it.
        message: String,
    },
    /// `tracker.kind` is absent or empty.
    #[error("tracker.kind is required; supported kinds: {supported}")]
    MissingTrackerKind {
        /// Comma-separated supported kinds.
        supported: String,
    },
    /// `tracker.kind` names no adapter this build knows.
    #[error("tracker.kind {kind:?} is not supported; supported kinds: {supported}")]
    UnsupportedTrackerKind {
        /// The configured kind.
        kind: String,
        /// Comma-separated supported kinds.
        supported: String,
    },
    /// The adapter rejected `tracker.provider`.
    #[error("tracker.provider is invalid for tracker kind {kind:?}: {message}")]
    InvalidTrackerProvider {
        /// The tracker kind.
        kind: String,
        /// The adapter's explanation.
        message: String,
    },
    /// A secret setting references an environment variable that is unset or empty.
    #[error("{field} references ${variable}, which is unset or empty; export it before starting Symphony")]
    MissingSecret {
        /// Dotted path of the setting.
        field: String,
        /// The environment variable's name.
        variable: String,
    },
    /// A top-level key that neither the core nor a registered extension owns. Kept silently,
    /// a typo (`gate:` for `gates:`) would turn a guarantee off.
    #[error("`{key}` is not a section Symphony knows{}; sections: {known}", suggestion.as_ref().map(|s| format!(" (did you mean `{s}`?)")).unwrap_or_default())]
    UnknownSection {
        /// The key as written.
        key: String,
        /// The known section it most resembles.
        suggestion: Option<String>,
        /// Comma-separated known sections.
        known: String,
    },
    /// A known section of a feature this build does not implement.
    #[error("`{key}` is not supported by this build: {reason}")]
    UnsupportedSection {
        /// The section.
        key: String,
        /// Why, and what happens instead.
        reason: String,
    },
    /// An extension section its owner rejected.
    #[error("{message}")]
    InvalidSection {
        /// The section.
        section: String,
        /// The owner's category, e.g. `invalid_gate_config`.
        category: &'static str,
        /// What is wrong, naming the setting.
        message: String,
    },
}

impl ConfigError {
    /// The category name of this error.
    pub fn category(&self) -> &'static str {
        match self {
            Self::Invalid { .. } => "invalid_config",
            Self::MissingTrackerKind { .. } => "missing_tracker_kind",
            Self::UnsupportedTrackerKind { .. } => "unsupported_tracker_kind",
            Self::InvalidTrackerProvider { .. } => "invalid_tracker_provider",
            Self::MissingSecret { .. } => "missing_secret",
            Self::UnknownSection { .. } => "unknown_config_section",
            Self::UnsupportedSection { .. } => "unsupported_config_section",
            Self::InvalidSection { category, .. } => category,
        }
    }

    pub(crate) fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// The prompt template could not be compiled or rendered (SPEC §5.4, §12.4).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    /// The template is not valid Liquid.
    #[error("the prompt template does not parse: {message}")]
    Parse {
        /// Liquid's explanation, with the position.
        message: String,
    },
    /// Rendering referenced an unknown variable or filter, or failed otherwise.
    #[error("the prompt template failed to render: {message}")]
    Render {
        /// Liquid's explanation.
        message: String,
    },
}

impl TemplateError {
    /// The SPEC category name of this error.
    pub fn category(&self) -> &'static str {
        match self {
            Self::Parse { .. } => "template_parse_error",
            Self::Render { .. } => "template_render_error",
        }
    }
}
