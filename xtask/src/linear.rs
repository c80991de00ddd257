//! `cargo xtask linear`: reads Linear's GraphQL schema out of the pinned `@linear/sdk` npm
//! package (`linear_schema.rs`), checks every document the Linear adapter sends (and its
//! tool's examples) against it, and regenerates the subset the fake Linear validates every
//! request against (`crates/symphony-testkit/fixtures/linear-graphql.graphql`).

use std::path::Path;

use anyhow::{bail, Context, Result};

/// The pinned package; bump deliberately and regenerate.
pub const PACKAGE: &str = "@linear/sdk@98.0.0";

/// The root fields Symphony's documents and the tool reach.
const ROOTS: [(&str, &str); 9] = [
    ("Query", "issues"),
    ("Query", "issue"),
    ("Query", "workflowStates"),
    ("Query", "team"),
    ("Query", "viewer"),
    ("Mutation", "issueUpdate"),
    ("Mutation", "commentCreate"),
    ("Mutation", "attachmentLinkURL"),
    ("Mutation", "issueRelationCreate"),
];

pub fn run(root: &Path) -> Result<()> {
    let package = crate::npm_package::installed(root, "linear-sdk", PACKAGE)?;
    let tools = root.join("target/tools/linear-sdk");
    let dist = package.join("dist");
    let mut types = None;
    for entry in std::fs::read_dir(&dist).context("reading the package's dist")? {
        let path = entry?.path();
        if path.to_string_lossy().ends_with(".d.mts") {
            let text = std::fs::read_to_string(&path)?;
            if text.contains("\ntype Scalars = {") {
                types = Some(text);
                break;
            }
        }
    }
    let Some(types) = types else {
        bail!("no generated types (`type Scalars`) in {}", dist.display());
    };
    let sdl = crate::linear_schema::to_sdl(&types, &ROOTS)?;
    let full = tools.join("linear.graphql");
    std::fs::write(&full, sdl)?;
    let fixtures = root.join("crates/symphony-testkit/fixtures");
    std::fs::copy(
        package.join("LICENSE"),
        fixtures.join("linear-graphql.LICENSE"),
    )
    .context("copying the package's license")?;
    crate::graphql::run_schema_example(
        root,
        "symphony-tracker-linear",
        &[
            full.into_os_string(),
            fixtures.join("linear-graphql.graphql").into(),
            format!("{PACKAGE} (dist types)").into(),
        ],
        "Linear's",
    )
}
