//! The demo's planner: it approves DEMO-4's plan as a person would on a folder of Markdown
//! issues — by moving the issue from `plan review` to `approved` in its file — so the demo
//! shows plan before code (ADR 0020) offline.

use std::path::Path;

use symphony_core::Issue;

/// The issue the demo plans.
pub const PLANNED: &str = "DEMO-4";

/// Where the demo's planned issue stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plan {
    /// Being planned, approved and coded.
    Waiting,
    /// Handed off (or further).
    Done,
}

/// Takes the person's next step on `issue` (DEMO-4), whose file is in `folder`.
pub fn step(folder: &Path, issue: &Issue) -> Plan {
    match issue.state.as_str() {
        "plan review" => {
            if let Err(e) = approve(&folder.join(format!("{PLANNED}.md"))) {
                eprintln!("demo planner: cannot approve the plan of {PLANNED}: {e}");
            }
            Plan::Waiting
        }
        "human review" | "done" | "needs human" => Plan::Done,
        _ => Plan::Waiting,
    }
}

/// Moves the issue in `path` to `approved`: its front matter's `state:` line rewritten, the
/// file replaced at once (the tracker never reads half of it).
fn approve(path: &Path) -> std::io::Result<()> {
    let text = std::fs::read_to_string(path)?;
    let mut done = false;
    let approved: String = text
        .split_inclusive('\n')
        .map(|line| {
            if !done && line.starts_with("state:") {
                done = true;
                "state: approved\n"
            } else {
                line
            }
        })
        .collect();
    let staged = path.with_extension("md.approving");
    std::fs::write(&staged, approved)?;
    std::fs::rename(&staged, path)
}
