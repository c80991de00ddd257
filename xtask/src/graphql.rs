//! `cargo xtask graphql`: checks every GraphQL document the GitHub adapter sends against
//! GitHub's published schema (npm `@octokit/graphql-schema`, pinned) and regenerates the part
//! of the schema they use, which the fake GitHub and the committed test validate against
//! (`crates/symphony-testkit/fixtures/github-graphql.graphql`). The walk over the schema runs
//! as an example of `symphony-tracker-github` (`examples/graphql_schema.rs`), which has the
//! documents and a GraphQL compiler; this task fetches the package and runs it.

use std::ffi::OsString;
use std::path::Path;
use std::process::Command;

use anyhow::{bail, Context, Result};

/// The pinned package; bump deliberately and regenerate.
pub const PACKAGE: &str = "@octokit/graphql-schema@15.26.1";

pub fn run(root: &Path) -> Result<()> {
    let package = crate::npm_package::installed(root, "graphql-schema", PACKAGE)?;
    let schema = package.join("schema.graphql");
    let fixtures = root.join("crates/symphony-testkit/fixtures");
    std::fs::copy(
        package.join("LICENSE.md"),
        fixtures.join("github-graphql.LICENSE"),
    )
    .context("copying the package's license")?;
    run_schema_example(
        root,
        "symphony-tracker-github",
        &[
            schema.into_os_string(),
            fixtures.join("github-graphql-additions.graphql").into(),
            fixtures.join("github-graphql.graphql").into(),
            format!("{PACKAGE} schema.graphql").into(),
        ],
        "GitHub's",
    )
}

/// Runs `package`'s `graphql_schema` example with `args`: it checks the adapter's documents
/// against the provider's schema and writes the fixture; fails naming `provider`'s schema.
pub(crate) fn run_schema_example(
    root: &Path,
    package: &str,
    args: &[OsString],
    provider: &str,
) -> Result<()> {
    let status = Command::new("cargo")
        .args([
            "run",
            "--quiet",
            "-p",
            package,
            "--example",
            "graphql_schema",
            "--",
        ])
        .args(args)
        .current_dir(root)
        .status()
        .context("running the graphql_schema example")?;
    if !status.success() {
        bail!("the documents do not validate on {provider} schema (see above)");
    }
    Ok(())
}
