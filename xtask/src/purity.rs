//! `cargo xtask check-pure`: the scheduler crate stays pure because Cargo says so. Its normal
//! dependency tree may hold only the crates listed here (what `symphony-core`, serde and
//! serde_json bring); no async runtime, no crate that performs I/O, no Symphony crate but the
//! core. A new dependency fails the check until it is judged and added on purpose.

use std::process::Command;

use anyhow::{bail, Context, Result};

/// The crate whose purity is enforced.
const PURE_CRATE: &str = "symphony-scheduler";

/// Crates that never belong in the pure crate's tree, named in the failure for a clear reason.
const NEVER: &[(&str, &str)] = &[
    ("tokio", "an async runtime"),
    ("mio", "an I/O event loop"),
    ("async-std", "an async runtime"),
    ("futures-io", "async I/O traits"),
    ("socket2", "sockets"),
    ("hyper", "HTTP"),
    ("reqwest", "HTTP"),
    ("octocrab", "the GitHub client"),
    ("rusqlite", "a database"),
    ("gix", "git"),
    ("notify", "file watching"),
    ("nix", "system calls"),
    (
        "tracing",
        "logging (the shell logs the scheduler's Log effects)",
    ),
];

/// Every crate the pure crate's normal tree may contain.
const ALLOWED: &[&str] = &[
    PURE_CRATE,
    "symphony-core",
    // serde and serde_json, with their derive and number formatting.
    "serde",
    "serde_core",
    "serde_derive",
    "serde_json",
    "itoa",
    "memchr",
    "zmij",
    "ryu",
    "proc-macro2",
    "quote",
    "syn",
    "unicode-ident",
    // symphony-core: JSON Schema for its types, timestamps, content hashes.
    "schemars",
    "schemars_derive",
    "serde_derive_internals",
    "dyn-clone",
    "ref-cast",
    "ref-cast-impl",
    "chrono",
    "num-traits",
    "iana-time-zone",
    "sha2",
    "digest",
    "block-buffer",
    "crypto-common",
    "generic-array",
    "typenum",
    "cpufeatures",
    "cfg-if",
    "version_check",
    "autocfg",
];

pub fn run(root: &std::path::Path) -> Result<()> {
    let output = Command::new("cargo")
        .args([
            "tree",
            "--package",
            PURE_CRATE,
            "--edges",
            "normal",
            "--prefix",
            "none",
        ])
        .args(["--format", "{p}"])
        .current_dir(root)
        .output()
        .context("running `cargo tree`")?;
    if !output.status.success() {
        bail!(
            "`cargo tree` failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let tree = String::from_utf8(output.stdout).context("`cargo tree` printed non-UTF-8")?;
    let names = package_names(&tree);
    match violations(&names) {
        problems if problems.is_empty() => {
            println!("{PURE_CRATE} is pure: {} crates, all allowed", names.len());
            Ok(())
        }
        problems => bail!(
            "{PURE_CRATE} must stay pure (no runtime, no I/O, no Symphony crate but the \
             core):\n  {}",
            problems.join("\n  ")
        ),
    }
}

/// The distinct package names of `cargo tree --prefix none --format {p}` output.
fn package_names(tree: &str) -> Vec<String> {
    let mut names: Vec<String> = tree
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .map(str::to_owned)
        .collect();
    names.sort();
    names.dedup();
    names
}

/// Why each name may not be in the pure crate's tree; empty when all may.
fn violations(names: &[String]) -> Vec<String> {
    names
        .iter()
        .filter_map(|name| {
            if let Some((_, what)) = NEVER.iter().find(|(never, _)| never == name) {
                Some(format!("{name}: {what}"))
            } else if name.starts_with("symphony-") && !ALLOWED.contains(&name.as_str()) {
                Some(format!("{name}: a Symphony crate other than symphony-core"))
            } else if !ALLOWED.contains(&name.as_str()) {
                Some(format!(
                    "{name}: not on the list of judged dependencies; if it performs no I/O, add \
                     it to ALLOWED in xtask/src/purity.rs and say why in the commit"
                ))
            } else {
                None
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_current_kind_of_tree_passes() {
        let tree = "symphony-scheduler v0.1.0 (/x)\nserde v1.0.0\nserde v1.0.0 (*)\n\
                    symphony-core v0.1.0 (/y)\nchrono v0.4.0\n";
        assert_eq!(package_names(tree).len(), 4);
        assert!(violations(&package_names(tree)).is_empty());
    }

    #[test]
    fn a_runtime_a_symphony_crate_or_an_unjudged_crate_fails() {
        let names: Vec<String> = ["tokio", "symphony-store", "left-pad", "serde"]
            .map(String::from)
            .to_vec();
        let problems = violations(&names);
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert!(problems[0].starts_with("tokio: an async runtime"));
        assert!(problems[1].contains("a Symphony crate other than symphony-core"));
        assert!(problems[2].starts_with("left-pad: not on the list"));
    }
}
