//! Symphony's answers to Claude Code's permission requests (`can_use_tool`), decided from the
//! posture alone: an unattended run never waits for a person. Writes stay in the workspace;
//! reads follow the CLI's own rules (as Codex's workspace-write sandbox, which reads anywhere);
//! network tools only when the workflow allows them; Symphony's own tools always. What the
//! posture refuses fails the attempt (the model does not carry on around it).
//!
//! Paths are judged lexically (`..` resolved against the workspace, `~` taken as outside): the
//! CLI names the path it will touch, and a name that climbs out is refused before anything runs.

use std::path::{Component, Path, PathBuf};

use serde_json::Value;

/// The prefix of the tools Symphony serves (its in-process MCP server is named `symphony`).
pub const SYMPHONY_TOOLS: &str = "mcp__symphony__";

/// What a session may do without asking anyone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Posture {
    /// The workspace: the only place writes may go.
    pub workspace: PathBuf,
    /// Whether `WebFetch` and `WebSearch` may be used.
    pub allow_network: bool,
    /// Whether the session may write at all (a reviewer's may not).
    pub read_only: bool,
}

/// Why a request was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The posture does not allow it.
    Policy,
    /// It needs a person (a question for the user), whom an unattended run does not have.
    NeedsPerson,
}

/// The answer to one permission request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Let it run as asked.
    Allow,
    /// Refuse it, saying why.
    Refuse {
        /// The kind of refusal.
        kind: Refusal,
        /// Why, for the model and the run's error.
        message: String,
    },
}

const WRITE_TOOLS: [&str; 4] = ["Write", "Edit", "MultiEdit", "NotebookEdit"];
const READ_TOOLS: [&str; 5] = ["Read", "Glob", "Grep", "LS", "NotebookRead"];
const NETWORK_TOOLS: [&str; 2] = ["WebFetch", "WebSearch"];
const PERSON_TOOLS: [&str; 2] = ["AskUserQuestion", "ExitPlanMode"];

fn refuse(message: String) -> Decision {
    Decision::Refuse {
        kind: Refusal::Policy,
        message,
    }
}

/// Whether `path` (absolute, or relative to the workspace) names something inside it.
pub fn inside(workspace: &Path, path: &str) -> bool {
    if path.starts_with('~') {
        return false;
    }
    let joined = workspace.join(path);
    let mut normal = PathBuf::new();
    for component in joined.components() {
        match component {
            Component::ParentDir => {
                if !normal.pop() {
                    return false;
                }
            }
            Component::CurDir => {}
            other => normal.push(other),
        }
    }
    normal.starts_with(workspace)
}

/// The path a file tool's input names.
fn target(input: &Value) -> Option<&str> {
    ["file_path", "notebook_path", "path"]
        .iter()
        .find_map(|key| input.get(*key).and_then(Value::as_str))
}

/// Decides whether `tool` may run with `input`; `blocked_path` is the path the CLI named as
/// the reason it asked, when it named one.
pub fn decide(
    posture: &Posture,
    tool: &str,
    input: &Value,
    blocked_path: Option<&str>,
) -> Decision {
    let workspace = &posture.workspace;
    if tool.starts_with(SYMPHONY_TOOLS) {
        return Decision::Allow;
    }
    if PERSON_TOOLS.contains(&tool) {
        return Decision::Refuse {
            kind: Refusal::NeedsPerson,
            message: format!("{tool} needs a person, and this run is unattended"),
        };
    }
    if READ_TOOLS.contains(&tool) {
        return Decision::Allow;
    }
    if WRITE_TOOLS.contains(&tool) {
        if posture.read_only {
            return refuse(format!("{tool}: this session may not write"));
        }
        return match target(input) {
            Some(path) if inside(workspace, path) => Decision::Allow,
            Some(path) => refuse(format!(
                "{tool} of {path:?} is outside the workspace; writes stay in {}",
                workspace.display()
            )),
            None => refuse(format!("{tool} names no file")),
        };
    }
    if tool == "Bash" {
        if posture.read_only {
            return refuse("Bash: this session may not run commands".to_owned());
        }
        return match blocked_path {
            Some(path) if !inside(workspace, path) => refuse(format!(
                "Bash would touch {path:?}, outside the workspace; writes stay in {}",
                workspace.display()
            )),
            _ => Decision::Allow,
        };
    }
    if NETWORK_TOOLS.contains(&tool) {
        return if posture.allow_network {
            Decision::Allow
        } else {
            refuse(format!(
                "{tool}: network tools are off (set claude.allow_network to use them)"
            ))
        };
    }
    refuse(format!("{tool} is not a tool this run allows"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn posture() -> Posture {
        Posture {
            workspace: PathBuf::from("/ws/ABC-1"),
            allow_network: false,
            read_only: false,
        }
    }

    #[test]
    fn writes_stay_in_the_workspace() {
        let p = posture();
        let write = |path: &str| decide(&p, "Write", &json!({"file_path": path}), None);
        assert_eq!(write("src/lib.rs"), Decision::Allow);
        assert_eq!(write("/ws/ABC-1/a/../b.txt"), Decision::Allow);
        for outside in [
            "/etc/passwd",
            "../ABC-2/x",
            "/ws/ABC-1/../ABC-2/x",
            "~/.bashrc",
            "/ws/ABC-10/x",
        ] {
            assert!(
                matches!(
                    write(outside),
                    Decision::Refuse {
                        kind: Refusal::Policy,
                        ..
                    }
                ),
                "{outside}"
            );
        }
        assert!(matches!(
            decide(&p, "Edit", &json!({}), None),
            Decision::Refuse { .. }
        ));
        assert_eq!(
            decide(
                &p,
                "Bash",
                &json!({"command": "echo > out.txt"}),
                Some("/ws/ABC-1/out.txt")
            ),
            Decision::Allow
        );
        assert!(matches!(
            decide(
                &p,
                "Bash",
                &json!({"command": "echo > /tmp/x"}),
                Some("/tmp/x")
            ),
            Decision::Refuse { .. }
        ));
    }

    #[test]
    fn network_people_and_the_unknown() {
        let mut p = posture();
        assert_eq!(
            decide(&p, "mcp__symphony__local_issue_comment", &json!({}), None),
            Decision::Allow
        );
        assert_eq!(
            decide(&p, "Read", &json!({"file_path": "/usr/share/doc"}), None),
            Decision::Allow
        );
        assert!(matches!(
            decide(&p, "WebFetch", &json!({}), None),
            Decision::Refuse {
                kind: Refusal::Policy,
                ..
            }
        ));
        assert!(matches!(
            decide(&p, "AskUserQuestion", &json!({}), None),
            Decision::Refuse {
                kind: Refusal::NeedsPerson,
                ..
            }
        ));
        assert!(matches!(
            decide(&p, "mcp__other__x", &json!({}), None),
            Decision::Refuse { .. }
        ));
        p.allow_network = true;
        assert_eq!(decide(&p, "WebSearch", &json!({}), None), Decision::Allow);
        p.read_only = true;
        assert!(matches!(
            decide(&p, "Write", &json!({"file_path": "a"}), None),
            Decision::Refuse { .. }
        ));
        assert!(matches!(
            decide(&p, "Bash", &json!({"command": "ls"}), None),
            Decision::Refuse { .. }
        ));
    }
}
