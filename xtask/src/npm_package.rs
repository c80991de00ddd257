//! The pinned npm packages the schema tasks read (`graphql`, `linear`): installed once into
//! `target/tools/<folder>`, again only when the pinned version changes.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

/// `package` (`@scope/name@version`) installed under `root/target/tools/<folder>`; the
/// package's own folder.
pub fn installed(root: &Path, folder: &str, package: &str) -> Result<PathBuf> {
    let (name, version) = package
        .rsplit_once('@')
        .filter(|(name, _)| !name.is_empty())
        .with_context(|| format!("{package} is not name@version"))?;
    let tools = root.join("target/tools").join(folder);
    let dir = tools.join("node_modules").join(name);
    let current = std::fs::read_to_string(dir.join("package.json"))
        .is_ok_and(|p| p.contains(&format!("\"version\": \"{version}\"")));
    if !current {
        std::fs::create_dir_all(&tools)?;
        let status = Command::new("npm")
            .args(["install", "--prefix"])
            .arg(&tools)
            .args([
                "--no-audit",
                "--no-fund",
                "--ignore-scripts",
                "--save-exact",
                package,
            ])
            .status()
            .context("running npm install (is npm installed?)")?;
        if !status.success() {
            bail!("npm install {package} failed");
        }
    }
    Ok(dir)
}
