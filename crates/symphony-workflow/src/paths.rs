//! Local path settings as the core resolves them (SPEC §6.1): `~` and `$VAR` expanded,
//! relative to the workflow's folder, lexically normalized. Extension sections use the same
//! rules through `SectionContext::resolve_path`.

use std::path::{Component, Path, PathBuf};

use crate::environment::{expand_path, Environment};
use crate::error::ConfigError;

pub(crate) fn resolve_path(
    field: &str,
    text: &str,
    env: &dyn Environment,
    dir: &Path,
) -> Result<PathBuf, ConfigError> {
    let expanded = expand_path(text, env).map_err(|var| {
        ConfigError::invalid(field, format!("${var} is unset or empty (in {text:?})"))
    })?;
    let path = PathBuf::from(expanded);
    Ok(normalize(&if path.is_absolute() {
        path
    } else {
        dir.join(path)
    }))
}

/// Lexically normalizes an absolute path: drops `.`, applies `..` (never above `/`).
pub(crate) fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other.as_os_str()),
        }
    }
    out
}
