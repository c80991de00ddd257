//! A command's failure: an error category for scripts and a message for people.

use std::fmt;
use std::process::ExitCode;

/// Why a command failed, shown on stderr as `error[category]: message`.
#[derive(Debug)]
pub struct Failure {
    category: &'static str,
    message: String,
}

impl Failure {
    /// A failure with a category name and a message.
    pub fn new(category: &'static str, message: impl Into<String>) -> Self {
        Self {
            category,
            message: message.into(),
        }
    }

    /// The documented exit code (see `symphony --help`).
    pub fn exit_code(&self) -> ExitCode {
        ExitCode::from(1)
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "error[{}]: {}", self.category, self.message)
    }
}

impl From<symphony_workflow::WorkflowError> for Failure {
    fn from(e: symphony_workflow::WorkflowError) -> Self {
        Self::new(e.category(), e.to_string())
    }
}

impl From<symphony_workflow::TemplateError> for Failure {
    fn from(e: symphony_workflow::TemplateError) -> Self {
        Self::new(e.category(), e.to_string())
    }
}
