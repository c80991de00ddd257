//! `symphony init`: write a commented starter WORKFLOW.md.

use std::io::Write as _;
use std::path::Path;

use crate::cli::{StarterAgent, StarterTracker};
use crate::failure::Failure;

/// The starter workflow; `symphony check` accepts it as written.
pub const STARTER: &str = include_str!("../../templates/WORKFLOW.md");

/// The starter's agent settings (Codex), replaced for another agent.
const CODEX_AGENT: &str = "agent:
  max_concurrent_agents: 2
";

/// Claude Code's, in their place (the run limits stay under `codex:`, where every backend
/// reads them).
const CLAUDE_AGENT: &str = "agent:
  backend: claude             # Claude Code (docs/agents/claude.md)
  max_concurrent_agents: 2
";

const CODEX_SECTION: &str = "codex:
  command: codex app-server   # run with `bash -lc` in the workspace
";

const CLAUDE_SECTION: &str = "claude:
  command: claude             # run with `bash -lc` in the workspace; Symphony adds its flags
  api_key: $ANTHROPIC_API_KEY # the key's variable, never the key: passed to the CLI only
  # model: claude-sonnet-4-5  # default: the CLI's
  # base_url: https://llm-gateway.example.com
  # tools: [Bash, Read, Write, Edit]
  # allow_network: false      # WebFetch / WebSearch (they must be in `tools` too)
  # home: isolated            # a fresh configuration per session (default); inherit: yours
  max_retries: 2              # model request retries inside a turn
codex:
  # The run limits below apply to every agent backend.
";

/// The starter's tracker block (local issue files), replaced for another tracker.
const LOCAL_TRACKER: &str = "tracker:
  # Where issues come from. `local` reads Markdown issue files from a folder.
  kind: local
  provider:
    path: ./issues            # relative to this file's folder
  # Issues in these states are dispatched; these end the work (case-insensitive).
  active_states: [todo, in progress]
  terminal_states: [done, cancelled]
";

/// GitHub Issues, in its place (docs/trackers/github.md).
const GITHUB_TRACKER: &str = "tracker:
  # Where issues come from: GitHub Issues (docs/trackers/github.md).
  kind: github
  provider:
    repo: OWNER/REPO          # the repository whose issues Symphony works on
    token: $GITHUB_TOKEN      # the token's variable, never the token
    state_source: labels      # states from symphony:* labels (or: issue, project)
  # Issues in these states are dispatched; these end the work (case-insensitive).
  active_states: [todo, in-progress]
  terminal_states: [closed]
";

/// Linear, in its place (docs/trackers/linear.md).
const LINEAR_TRACKER: &str = "tracker:
  # Where issues come from: Linear (docs/trackers/linear.md).
  kind: linear
  provider:
    team: ENG                 # the team's key (and/or project_slug: the project's slug id)
    api_key: $LINEAR_API_KEY  # the key's variable, never the key
    # webhook_secret: $LINEAR_WEBHOOK_SECRET   # POST /webhooks/linear (docs/server.md)
  # Issues in these states are dispatched; these end the work (case-insensitive).
  active_states: [Todo, In Progress]
  terminal_states: [Done, Canceled, Cancelled, Duplicate]
# Linear hosts no code: name where pull requests go.
# code_host:
#   kind: github
#   repo: OWNER/REPO
#   token: $GITHUB_TOKEN
";

/// The starter for `agent` reading `tracker`.
pub fn starter(agent: StarterAgent, tracker: StarterTracker) -> String {
    let text = agent_starter(agent);
    match tracker {
        StarterTracker::Local => text,
        StarterTracker::Github => text.replacen(LOCAL_TRACKER, GITHUB_TRACKER, 1),
        StarterTracker::Linear => text.replacen(LOCAL_TRACKER, LINEAR_TRACKER, 1),
    }
}

fn agent_starter(agent: StarterAgent) -> String {
    match agent {
        StarterAgent::Codex => STARTER.to_owned(),
        StarterAgent::Claude => STARTER
            .replacen(CODEX_AGENT, CLAUDE_AGENT, 1)
            .replacen(CODEX_SECTION, CLAUDE_SECTION, 1)
            .lines()
            .filter(|line| {
                !CODEX_ONLY
                    .iter()
                    .any(|key| line.trim_start().starts_with(key))
            })
            .map(|line| format!("{line}\n"))
            .collect(),
    }
}

/// Commented Codex settings the Claude starter leaves out.
const CODEX_ONLY: [&str; 7] = [
    "# Unattended posture (docs/security.md)",
    "# approval_policy:",
    "# thread_sandbox:",
    "# approvals:",
    "# user_input:",
    "# home: isolated                # a fresh CODEX_HOME",
    "# home_config:",
];

pub fn run(
    path: &Path,
    force: bool,
    agent: StarterAgent,
    tracker: StarterTracker,
) -> Result<(), Failure> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true);
    if force {
        options.create(true).truncate(true);
    } else {
        // create_new: never clobber an existing workflow, even in a race.
        options.create_new(true);
    }
    let written = options
        .open(path)
        .and_then(|mut file| file.write_all(starter(agent, tracker).as_bytes()));
    match written {
        Ok(()) => {
            println!("wrote {}", path.display());
            println!(
                "next: edit it, then run `symphony check {}`",
                path.display()
            );
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Err(Failure::new(
            "workflow_exists",
            format!(
                "{} already exists; pass --force to overwrite it",
                path.display()
            ),
        )),
        Err(e) => Err(Failure::new(
            "io_error",
            format!("cannot write {}: {e}", path.display()),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The tracker blocks replace the template's: a template edit that broke the match would
    /// otherwise leave every starter reading local files.
    #[test]
    fn every_tracker_starter_replaces_the_local_block() {
        assert!(STARTER.contains(LOCAL_TRACKER));
        for (tracker, kind) in [
            (StarterTracker::Github, "kind: github"),
            (StarterTracker::Linear, "kind: linear"),
        ] {
            for agent in [StarterAgent::Codex, StarterAgent::Claude] {
                let text = starter(agent, tracker);
                assert!(
                    text.contains(kind) && !text.contains("kind: local"),
                    "{text}"
                );
            }
        }
    }
}
