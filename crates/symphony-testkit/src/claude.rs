//! The pinned Claude Code CLI for offline tests, with the environment that keeps it offline.

use std::path::{Path, PathBuf};

/// The Claude Code version the backend targets; `.ci/run` installs exactly this.
pub const PINNED_VERSION: &str = "2.1.332";

/// Where the `claude` executable is looked for: `$CLAUDE_BIN`, else `.ci/run`'s install
/// under `target/tools/claude`.
pub fn location() -> PathBuf {
    std::env::var_os("CLAUDE_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
            root.canonicalize()
                .unwrap_or(root)
                .join("target/tools/claude/node_modules/.bin/claude")
        })
}

/// Why the CLI cannot be used here, or `None` when it can.
pub fn missing() -> Option<String> {
    let path = location();
    (!path.exists()).then(|| {
        format!(
            "the Claude Code CLI is not installed at {} (`npm install --prefix \
             target/tools/claude --save-exact @anthropic-ai/claude-code@{PINNED_VERSION}`; \
             `.ci/run` does this; or set CLAUDE_BIN)",
            path.display()
        )
    })
}
