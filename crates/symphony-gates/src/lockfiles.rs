//! Lockfile readers for the `dependencies` gate: each gives the exact packages it pins, with
//! their ecosystem (OSV's names) and, where the lockfile records it, the license.

use std::collections::BTreeSet;

use serde::Deserialize;
use serde_json::Value;

/// One pinned package.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Pinned {
    /// OSV ecosystem: `crates.io`, `npm`, `PyPI`, `Go`.
    pub ecosystem: &'static str,
    /// Package name as the ecosystem spells it (PyPI names normalized per PEP 503).
    pub name: String,
    /// Exact version.
    pub version: String,
    /// SPDX expression, when the lockfile records one.
    pub license: Option<String>,
}

/// A lockfile kind this gate reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `Cargo.lock`
    Cargo,
    /// `package-lock.json` / `npm-shrinkwrap.json`
    Npm,
    /// `requirements*.txt`
    Requirements,
    /// `poetry.lock` / `uv.lock`
    PoetryOrUv,
    /// `Pipfile.lock`
    Pipfile,
    /// `go.sum`
    GoSum,
}

/// Lockfiles this gate cannot read: a change to one is an `error`.
pub const UNREADABLE: &[(&str, &str)] = &[("yarn.lock", "npm"), ("pnpm-lock.yaml", "npm")];

/// The kind of the file at `path`, if it is a lockfile this gate reads.
pub fn kind_of(path: &str) -> Option<Kind> {
    let name = path.rsplit('/').next().unwrap_or(path);
    match name {
        "Cargo.lock" => Some(Kind::Cargo),
        "package-lock.json" | "npm-shrinkwrap.json" => Some(Kind::Npm),
        "poetry.lock" | "uv.lock" => Some(Kind::PoetryOrUv),
        "Pipfile.lock" => Some(Kind::Pipfile),
        "go.sum" => Some(Kind::GoSum),
        n if n.starts_with("requirements") && n.ends_with(".txt") => Some(Kind::Requirements),
        _ => None,
    }
}

/// PEP 503 normalization: lowercase, runs of `-`, `_`, `.` become one `-`.
pub fn pypi_name(name: &str) -> String {
    let mut out = String::new();
    let mut dash = false;
    for c in name.trim().chars() {
        if matches!(c, '-' | '_' | '.') {
            dash = true;
        } else {
            if dash && !out.is_empty() {
                out.push('-');
            }
            dash = false;
            out.extend(c.to_lowercase());
        }
    }
    out
}

#[derive(Deserialize)]
struct TomlLock {
    #[serde(default)]
    package: Vec<TomlPackage>,
}

#[derive(Deserialize)]
struct TomlPackage {
    name: String,
    version: String,
}

/// Reads `text` as a lockfile of `kind`. Unpinned requirement lines are returned separately:
/// they cannot be checked.
pub fn read(kind: Kind, text: &str) -> Result<(BTreeSet<Pinned>, Vec<String>), String> {
    let mut pinned = BTreeSet::new();
    let mut unpinned = Vec::new();
    let pin = |ecosystem, name: String, version: String, license: Option<String>| Pinned {
        ecosystem,
        name,
        version,
        license,
    };
    match kind {
        Kind::Cargo | Kind::PoetryOrUv => {
            let lock: TomlLock =
                toml::from_str(text).map_err(|e| format!("does not parse: {e}"))?;
            for p in lock.package {
                pinned.insert(match kind {
                    Kind::Cargo => pin("crates.io", p.name, p.version, None),
                    _ => pin("PyPI", pypi_name(&p.name), p.version, None),
                });
            }
        }
        Kind::Npm => {
            let lock: Value =
                serde_json::from_str(text).map_err(|e| format!("does not parse: {e}"))?;
            if let Some(packages) = lock.get("packages").and_then(Value::as_object) {
                for (key, entry) in packages {
                    let Some(at) = key.rfind("node_modules/") else {
                        continue; // the root project, or a workspace folder
                    };
                    let name = entry
                        .get("name")
                        .and_then(Value::as_str)
                        .unwrap_or(&key[at + "node_modules/".len()..]);
                    if let Some(version) = entry.get("version").and_then(Value::as_str) {
                        let license = entry.get("license").and_then(Value::as_str);
                        pinned.insert(pin(
                            "npm",
                            name.to_owned(),
                            version.to_owned(),
                            license.map(str::to_owned),
                        ));
                    }
                }
            } else {
                npm_v1(lock.get("dependencies"), &mut pinned);
            }
        }
        Kind::Pipfile => {
            let lock: Value =
                serde_json::from_str(text).map_err(|e| format!("does not parse: {e}"))?;
            for section in ["default", "develop"] {
                let Some(map) = lock.get(section).and_then(Value::as_object) else {
                    continue;
                };
                for (name, entry) in map {
                    match entry
                        .get("version")
                        .and_then(Value::as_str)
                        .and_then(|v| v.strip_prefix("=="))
                    {
                        Some(version) => {
                            pinned.insert(pin("PyPI", pypi_name(name), version.to_owned(), None));
                        }
                        None => unpinned.push(name.clone()),
                    }
                }
            }
        }
        Kind::Requirements => {
            for line in text.lines() {
                let line = line.split('#').next().unwrap_or("").trim();
                let line = line.split(" --hash").next().unwrap_or("").trim();
                if line.is_empty() || line.starts_with('-') {
                    continue;
                }
                let requirement = line.split(';').next().unwrap_or("").trim();
                match requirement.split_once("==") {
                    Some((name, version)) if !version.contains([',', '*']) => {
                        let name = name.split('[').next().unwrap_or(name);
                        pinned.insert(pin(
                            "PyPI",
                            pypi_name(name),
                            version.trim().to_owned(),
                            None,
                        ));
                    }
                    _ => unpinned.push(requirement.to_owned()),
                }
            }
        }
        Kind::GoSum => {
            for line in text.lines() {
                let mut parts = line.split_whitespace();
                let (Some(module), Some(version)) = (parts.next(), parts.next()) else {
                    continue;
                };
                let version = version.trim_end_matches("/go.mod");
                pinned.insert(pin(
                    "Go",
                    module.to_owned(),
                    version.trim_start_matches('v').to_owned(),
                    None,
                ));
            }
        }
    }
    Ok((pinned, unpinned))
}

/// npm lockfile v1: nested `dependencies` maps.
fn npm_v1(dependencies: Option<&Value>, out: &mut BTreeSet<Pinned>) {
    let Some(map) = dependencies.and_then(Value::as_object) else {
        return;
    };
    for (name, entry) in map {
        if let Some(version) = entry.get("version").and_then(Value::as_str) {
            out.insert(Pinned {
                ecosystem: "npm",
                name: name.clone(),
                version: version.to_owned(),
                license: None,
            });
        }
        npm_v1(entry.get("dependencies"), out);
    }
}

/// Whether the SPDX `expression` can only be taken under a denied license: it is evaluated as
/// SPDX defines it (`AND` binds tighter than `OR`, parentheses group, `WITH` adds an exception),
/// with every license on `denied` refused — compared case-insensitively, its `-only`,
/// `-or-later` and `+` forms included. Returns the denied license that decided it. An
/// expression that does not parse cannot be judged: that is an error, never "allowed".
pub fn license_denied<'a>(
    expression: &str,
    denied: &'a [String],
) -> Result<Option<&'a str>, String> {
    let parsed = spdx::Expression::parse_mode(expression, spdx::ParseMode::LAX)
        .map_err(|e| format!("license {expression:?} is not an SPDX expression: {e}"))?;
    let denied_by = |req: &spdx::LicenseReq| -> Option<&'a str> {
        let name = match &req.license {
            spdx::LicenseItem::Spdx { id, .. } => id.name.to_owned(),
            spdx::LicenseItem::Other(reference) => reference.to_string(),
        }
        .to_ascii_lowercase();
        denied.iter().map(String::as_str).find(|d| {
            let d = d.trim().to_ascii_lowercase();
            name == d || name.starts_with(&format!("{d}-")) || name == format!("{d}+")
        })
    };
    match parsed.evaluate_with_failures(|req| denied_by(req).is_none()) {
        Ok(()) => Ok(None),
        Err(failures) => Ok(failures
            .iter()
            .find_map(|failure| denied_by(&failure.req))
            .or_else(|| denied.first().map(String::as_str))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(kind: Kind, text: &str) -> Vec<String> {
        read(kind, text)
            .unwrap()
            .0
            .into_iter()
            .map(|p| format!("{}:{}@{}", p.ecosystem, p.name, p.version))
            .collect()
    }

    #[test]
    fn each_lockfile_kind_gives_its_exact_pins() {
        assert_eq!(kind_of("web/package-lock.json"), Some(Kind::Npm));
        assert_eq!(kind_of("requirements-dev.txt"), Some(Kind::Requirements));
        assert_eq!(kind_of("yarn.lock"), None);
        let npm = r#"{"lockfileVersion": 3, "packages": {
            "": {"name": "app"},
            "node_modules/lodash": {"version": "4.17.20", "license": "MIT"},
            "node_modules/a/node_modules/@scope/b": {"version": "1.0.0"}}}"#;
        assert_eq!(
            names(Kind::Npm, npm),
            ["npm:@scope/b@1.0.0", "npm:lodash@4.17.20"]
        );
        let v1 = r#"{"dependencies": {"x": {"version": "1.0.0", "dependencies": {"y": {"version": "2.0.0"}}}}}"#;
        assert_eq!(names(Kind::Npm, v1), ["npm:x@1.0.0", "npm:y@2.0.0"]);
        let (pins, unpinned) = read(
            Kind::Requirements,
            "Django==3.2.0  # web\nrequests[socks]==2.19.0 --hash=sha256:abc\n-r base.txt\nflask>=2\nzope.interface==5.0 ; python_version > '3'\n",
        )
        .unwrap();
        let pins: Vec<String> = pins
            .into_iter()
            .map(|p| format!("{}@{}", p.name, p.version))
            .collect();
        assert_eq!(
            pins,
            ["django@3.2.0", "requests@2.19.0", "zope-interface@5.0"]
        );
        assert_eq!(unpinned, ["flask>=2"]);
        assert_eq!(
            names(
                Kind::PoetryOrUv,
                "[[package]]\nname = \"Jinja2\"\nversion = \"2.10\"\n"
            ),
            ["PyPI:jinja2@2.10"]
        );
        assert_eq!(
            names(
                Kind::GoSum,
                "golang.org/x/text v0.3.5 h1:abc=\ngolang.org/x/text v0.3.5/go.mod h1:def=\n"
            ),
            ["Go:golang.org/x/text@0.3.5"]
        );
        assert!(read(Kind::Npm, "{not json").is_err());
    }

    #[test]
    fn a_license_is_denied_only_when_no_alternative_is_allowed() {
        let denied = vec!["GPL-3.0".to_owned(), "AGPL-3.0".to_owned()];
        let verdict = |expression: &str| license_denied(expression, &denied).unwrap();
        assert_eq!(verdict("GPL-3.0-only"), Some("GPL-3.0"));
        assert_eq!(verdict("(AGPL-3.0-or-later)"), Some("AGPL-3.0"));
        assert_eq!(verdict("MIT OR GPL-3.0-only"), None);
        assert_eq!(verdict("MIT AND GPL-3.0+"), Some("GPL-3.0"));
        assert_eq!(verdict("LGPL-3.0"), None);
        assert_eq!(verdict("MIT"), None);
        // Parentheses group: the GPL is required whichever alternative is taken. (The old
        // reading flattened them into `GPL-3.0-only AND MIT OR Apache-2.0` and let it pass.)
        assert_eq!(
            verdict("GPL-3.0-only AND (MIT OR Apache-2.0)"),
            Some("GPL-3.0")
        );
        assert_eq!(verdict("(GPL-3.0-only AND MIT) OR Apache-2.0"), None);
        assert_eq!(verdict("MIT/Apache-2.0"), None, "crates.io's slash");
        assert_eq!(verdict("Apache-2.0 WITH LLVM-exception OR GPL-3.0"), None);
        assert_eq!(
            verdict("GPL-3.0-or-later WITH Classpath-exception-2.0"),
            Some("GPL-3.0")
        );
    }

    #[test]
    fn a_license_that_is_not_an_expression_cannot_be_judged() {
        let denied = vec!["GPL-3.0".to_owned()];
        for garbage in [
            "SEE LICENSE IN LICENSE.txt",
            "MIT OR (",
            "",
            "MIT AND AND GPL-3.0",
        ] {
            let error = license_denied(garbage, &denied).unwrap_err();
            assert!(
                error.contains("is not an SPDX expression"),
                "{garbage:?}: {error}"
            );
        }
    }
}
