//! Keep-a-Changelog fragments: one file per issue in `changelog.d/`, collected at release.

use std::path::{Path, PathBuf};

use symphony_core::WorkspaceKey;

use crate::{one_line, DocsError};

/// Keep a Changelog's categories.
pub const CATEGORIES: [&str; 6] = [
    "Added",
    "Changed",
    "Deprecated",
    "Removed",
    "Fixed",
    "Security",
];

/// The fragment's path for `identifier` (made file-safe).
pub fn fragment_path(dir: &Path, identifier: &str) -> PathBuf {
    dir.join(format!(
        "{}.md",
        WorkspaceKey::from_identifier(identifier).as_str()
    ))
}

/// Writes `### <category>\n- <entry> (<identifier>)` unless the change already has a
/// fragment for this issue (the agent's own wins). Returns the path written, if any.
pub fn ensure_fragment(
    dir: &Path,
    identifier: &str,
    category: &str,
    entry: &str,
) -> Result<Option<PathBuf>, DocsError> {
    let category = CATEGORIES
        .iter()
        .find(|c| c.eq_ignore_ascii_case(category.trim()))
        .ok_or_else(|| {
            DocsError::Invalid(format!(
                "changelog category {category:?} is not one of {}",
                CATEGORIES.join(", ")
            ))
        })?;
    let entry = one_line(entry, 300);
    if entry.is_empty() {
        return Err(DocsError::Invalid(
            "a changelog entry needs text".to_owned(),
        ));
    }
    let path = fragment_path(dir, identifier);
    if path.exists() {
        return Ok(None);
    }
    std::fs::create_dir_all(dir).map_err(|e| DocsError::io(dir, e))?;
    let text = format!(
        "### {category}\n\n- {entry} ({})\n",
        one_line(identifier, 100)
    );
    std::fs::write(&path, text).map_err(|e| DocsError::io(&path, e))?;
    Ok(Some(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fragment_is_written_once_with_a_safe_name() {
        let dir = tempfile::tempdir().unwrap();
        let written = ensure_fragment(
            dir.path(),
            "widgets#12",
            "added",
            "Greeting\non the home page",
        )
        .unwrap()
        .unwrap();
        assert_eq!(written.parent().unwrap(), dir.path());
        assert!(!written.file_name().unwrap().to_string_lossy().contains('#'));
        assert_eq!(
            std::fs::read_to_string(&written).unwrap(),
            "### Added\n\n- Greeting on the home page (widgets#12)\n"
        );
        assert_eq!(
            ensure_fragment(dir.path(), "widgets#12", "Fixed", "other").unwrap(),
            None
        );
        assert!(ensure_fragment(dir.path(), "X-1", "Improved", "x").is_err());
        let escaped = fragment_path(dir.path(), "../../etc/passwd");
        assert_eq!(escaped.parent().unwrap(), dir.path());
    }
}
