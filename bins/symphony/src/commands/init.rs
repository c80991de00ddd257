//! `symphony init`: write a commented starter WORKFLOW.md.

use std::io::Write as _;
use std::path::Path;

use crate::cli::StarterAgent;
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

/// The starter for `agent`.
pub fn starter(agent: StarterAgent) -> String {
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

pub fn run(path: &Path, force: bool, agent: StarterAgent) -> Result<(), Failure> {
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
        .and_then(|mut file| file.write_all(starter(agent).as_bytes()));
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
