//! The pinned Codex CLI and its configuration for offline tests.

use std::path::{Path, PathBuf};

/// The Codex version the runner targets; `.ci/run` installs exactly this.
pub const PINNED_VERSION: &str = "0.169.0";

/// The `codex` executable: `$CODEX_BIN`, else the copy `.ci/run` installs under
/// `target/tools/codex`. When it is missing, a test under CI (`CI` set to anything) panics;
/// elsewhere it gets `None` and says loudly that it did not run.
pub fn binary(test: &str) -> Option<PathBuf> {
    let candidate = location();
    if candidate.exists() {
        return Some(candidate);
    }
    let message = format!(
        "{test}: the Codex CLI is not installed at {} (install it with `npm install --prefix \
         target/tools/codex @openai/codex@{PINNED_VERSION}`, or set CODEX_BIN)",
        candidate.display()
    );
    if crate::ci::ci() {
        panic!("{message}");
    }
    eprintln!("NOT RUN: {message}");
    None
}

/// Where the `codex` executable is looked for: `$CODEX_BIN`, else `.ci/run`'s install.
pub fn location() -> PathBuf {
    std::env::var_os("CODEX_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
            root.canonicalize()
                .unwrap_or(root)
                .join("target/tools/codex/node_modules/.bin/codex")
        })
}

/// Writes `<home>/config.toml` for a mock model at `base_url`: no retries, no plugin or app
/// sync (they would try to reach the network), the given approval policy and sandbox.
pub fn write_config(
    home: &Path,
    base_url: &str,
    approval_policy: &str,
    sandbox: &str,
) -> std::io::Result<PathBuf> {
    std::fs::create_dir_all(home)?;
    let path = home.join("config.toml");
    std::fs::write(
        &path,
        format!(
            r#"model = "mock-model"
model_provider = "mock_provider"
approval_policy = "{approval_policy}"
sandbox_mode = "{sandbox}"

[model_providers.mock_provider]
name = "Mock provider for tests"
base_url = "{base_url}"
wire_api = "responses"
request_max_retries = 0
stream_max_retries = 0

[features]
unbounded_connection_retries = false
plugins = false
apps = false
remote_plugin = false
"#
        ),
    )?;
    Ok(path)
}
