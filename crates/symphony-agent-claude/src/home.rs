//! An isolated configuration per session (`claude.home: isolated`): `CLAUDE_CONFIG_DIR` and
//! `CLAUDE_CODE_TMPDIR` in a fresh folder, so the operator's `~/.claude*` (settings, hooks,
//! MCP servers, memory) is never read or written, and the session's transcript — what
//! `--resume` reads — lives as long as the session does.

use std::path::{Path, PathBuf};

/// A session's own configuration folder, removed when dropped.
#[derive(Debug)]
pub struct IsolatedHome {
    path: PathBuf,
}

impl IsolatedHome {
    /// Creates `<parent>/<session id's first 12 hex digits>/{config,tmp}`, readable by the
    /// owner only. The name is short so the CLI's control socket under `tmp` stays within a
    /// socket path's 103 bytes; 48 random bits keep it unique (a clash is an error, not a
    /// shared folder: `create_dir` refuses a folder that exists).
    pub fn create(parent: &Path, session_id: &str) -> std::io::Result<Self> {
        use std::os::unix::fs::PermissionsExt;
        std::fs::create_dir_all(parent)?;
        let short: String = session_id
            .chars()
            .filter(char::is_ascii_hexdigit)
            .take(12)
            .collect();
        let path = parent.join(short);
        std::fs::create_dir(&path)?;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o700))?;
        let home = Self { path };
        std::fs::create_dir(home.config())?;
        std::fs::create_dir(home.tmp())?;
        Ok(home)
    }

    /// `CLAUDE_CONFIG_DIR`.
    pub fn config(&self) -> PathBuf {
        self.path.join("config")
    }

    /// `CLAUDE_CODE_TMPDIR`.
    pub fn tmp(&self) -> PathBuf {
        self.path.join("tmp")
    }
}

impl Drop for IsolatedHome {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// A fresh version-4 UUID (what `--session-id` accepts).
pub fn new_session_id() -> std::io::Result<String> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|e| std::io::Error::other(e.to_string()))?;
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    Ok(format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_ids_are_v4_uuids_and_homes_go_away() {
        let id = new_session_id().unwrap();
        let parts: Vec<&str> = id.split('-').collect();
        assert_eq!(
            parts.iter().map(|p| p.len()).collect::<Vec<_>>(),
            [8, 4, 4, 4, 12]
        );
        assert!(parts[2].starts_with('4'), "{id}");
        assert!(matches!(&parts[3][..1], "8" | "9" | "a" | "b"), "{id}");
        assert_ne!(id, new_session_id().unwrap());
        let dir = tempfile::tempdir().unwrap();
        let home = IsolatedHome::create(dir.path(), &id).unwrap();
        assert!(home.config().is_dir() && home.tmp().is_dir());
        let root = home.config().parent().unwrap().to_path_buf();
        drop(home);
        assert!(!root.exists());
    }
}
