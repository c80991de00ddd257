//! Where the workflow file is.

use std::path::{Path, PathBuf};

use crate::failure::Failure;

/// The workflow path: explicit, else ./WORKFLOW.md (SPEC §5.1), made absolute.
pub(crate) fn workflow_path(explicit: Option<&Path>) -> Result<PathBuf, Failure> {
    let cwd = std::env::current_dir().map_err(|e| {
        Failure::new(
            "missing_workflow_file",
            format!("cannot read the current directory: {e}"),
        )
    })?;
    Ok(symphony_workflow::resolve_workflow_path(explicit, &cwd))
}
