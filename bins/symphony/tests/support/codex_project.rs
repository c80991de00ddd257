//! A project for `symphony run` with the local tracker and the real Codex CLI against a mock
//! model.

use std::path::Path;

use symphony_testkit::{codex, MockModel};

/// A project in `dir`: one local issue `id` in `todo`, Codex `bin` on `model`, and `sections`
/// (YAML) added to the front matter; `codex_extra` (YAML, indented) goes into `codex:`.
pub fn codex_project(
    dir: &Path,
    bin: &Path,
    model: &MockModel,
    id: &str,
    sections: &str,
    codex_extra: &str,
) {
    std::fs::create_dir(dir.join("issues")).unwrap();
    std::fs::write(
        dir.join(format!("issues/{id}.md")),
        "---\ntitle: Add a greeting\nstate: todo\n---\nWrite greeting.txt.\n",
    )
    .unwrap();
    codex::write_config(
        &dir.join("codex"),
        &model.base_url(),
        "never",
        "danger-full-access",
    )
    .unwrap();
    let workflow = format!(
        r#"---
tracker:
  kind: local
  provider:
    path: ./issues
workspace:
  root: ./ws
{sections}
codex:
  command: "{bin} app-server"
  approval_policy: never
  thread_sandbox: danger-full-access
  turn_sandbox_policy:
    type: dangerFullAccess
  home: isolated
  home_config: ./codex/config.toml
  # Codex starts in about a second; a busy CI machine gets more room.
  read_timeout_ms: 30000
{codex_extra}
---
Work on {{{{ issue.identifier }}}}: {{{{ issue.title }}}}.
"#,
        bin = bin.display(),
    );
    std::fs::write(dir.join("WORKFLOW.md"), workflow).unwrap();
}
