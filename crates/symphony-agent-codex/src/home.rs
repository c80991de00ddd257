//! An isolated `CODEX_HOME` per run: the operator's plugins, MCP servers and personal
//! settings stay out; only the workflow's `config.toml` and the operator's credentials go in.

use std::path::{Path, PathBuf};

/// A run's own Codex home, removed when dropped.
#[derive(Debug)]
pub struct IsolatedHome {
    path: PathBuf,
}

impl IsolatedHome {
    /// Creates a fresh home under `parent` with `config` (if any) as its `config.toml` and the
    /// operator's `auth.json` (if any).
    pub fn create(parent: &Path, config: Option<&Path>) -> std::io::Result<Self> {
        std::fs::create_dir_all(parent)?;
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let path = parent.join(format!("codex-home-{}-{nanos}", std::process::id()));
        std::fs::create_dir(&path)?;
        restrict(&path)?;
        let home = Self { path };
        if let Some(config) = config {
            std::fs::copy(config, home.path.join("config.toml")).map_err(|e| {
                std::io::Error::new(
                    e.kind(),
                    format!("cannot copy codex.home_config {}: {e}", config.display()),
                )
            })?;
        }
        if let Some(auth) = operator_home().map(|h| h.join("auth.json")) {
            if auth.is_file() {
                std::fs::copy(&auth, home.path.join("auth.json"))?;
            }
        }
        Ok(home)
    }

    /// Its folder.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for IsolatedHome {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// The operator's Codex home: `$CODEX_HOME`, else `~/.codex`.
fn operator_home() -> Option<PathBuf> {
    std::env::var_os("CODEX_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".codex")))
}

/// Credentials are copied in: only the owner may read the folder.
fn restrict(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o700))
}
