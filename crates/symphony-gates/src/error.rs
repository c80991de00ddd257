//! How a gate stage fails before any gate judges.

/// Why gates could not be set up. (A change that cannot be read is a
/// [`ChangeError`](symphony_change::ChangeError).)
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GateError {
    /// A gate's configuration is invalid (bad path filter, bad rules file).
    #[error("invalid gate configuration: {0}")]
    Config(String),
}

impl GateError {
    /// The error's category name.
    pub fn category(&self) -> &'static str {
        match self {
            Self::Config(_) => "invalid_gate_config",
        }
    }
}
