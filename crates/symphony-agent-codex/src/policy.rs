//! Symphony's answers to the app-server's approval and user-input requests (SPEC §10.5). The
//! run is unattended, so nothing may wait for a person: every request gets an answer at once,
//! and a refusal ends the attempt with a category the operator can act on.

use std::path::Path;

/// How the Codex runner answers command and file-change approval requests (`codex.approvals`).
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    serde::Serialize,
    serde::Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ApprovalAnswer {
    /// Accept when the command runs in, or the change stays in, the workspace;
    /// otherwise refuse and fail the attempt (`approval_refused`).
    #[default]
    Workspace,
    /// Accept everything for the rest of the session (high trust).
    Accept,
    /// Refuse everything and fail the attempt.
    Fail,
}

/// How the Codex runner answers user-input requests (`codex.user_input`).
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    serde::Serialize,
    serde::Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum UserInputAnswer {
    /// Fail the attempt with `turn_input_required` (nobody is there to answer).
    #[default]
    Fail,
    /// Answer each question with its first offered option (the agent's own recommendation).
    FirstOption,
}

/// Whether `path` is `workspace` or inside it, lexically (the app-server reports absolute,
/// normalized paths; anything with `..` is refused rather than resolved).
pub(crate) fn inside(workspace: &Path, path: &Path) -> bool {
    path.is_absolute()
        && !path
            .components()
            .any(|c| matches!(c, std::path::Component::ParentDir))
        && path.starts_with(workspace)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn containment_is_lexical_and_refuses_dot_dot() {
        let ws = Path::new("/ws/A-1");
        assert!(inside(ws, Path::new("/ws/A-1")));
        assert!(inside(ws, Path::new("/ws/A-1/src")));
        assert!(!inside(ws, Path::new("/ws/A-10")));
        assert!(!inside(ws, Path::new("/ws/A-1/../B")));
        assert!(!inside(ws, Path::new("relative")));
    }
}
