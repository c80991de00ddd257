//! The `dependencies` gate: when a lockfile changes, the packages it adds or upgrades are
//! checked against a local advisory database (RustSec format: `crates/<name>/RUSTSEC-*.md`
//! with TOML front matter), so it works offline. Every report names the database's revision
//! and age; a missing or stale database, or a lockfile of an ecosystem without a database, is
//! an `error` — never a pass.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use semver::{Version, VersionReq};
use serde::Deserialize;

use crate::gate::{Gate, GateContext};
use crate::report::{Finding, GateReport, GateStatus, Severity};

/// Settings of a `dependencies` gate.
#[derive(Debug, Clone)]
pub struct DependencySettings {
    /// A checkout of the RustSec advisory database.
    pub rustsec_db: Option<PathBuf>,
    /// Older than this, the database is stale (an error).
    pub max_age: Duration,
}

/// The gate.
#[derive(Debug, Clone)]
pub struct DependenciesGate {
    settings: DependencySettings,
}

/// Lockfiles whose ecosystems have no advisory source here yet.
const UNSUPPORTED: &[(&str, &str)] = &[
    ("package-lock.json", "npm"),
    ("yarn.lock", "npm"),
    ("pnpm-lock.yaml", "npm"),
    ("poetry.lock", "PyPI"),
    ("uv.lock", "PyPI"),
    ("Pipfile.lock", "PyPI"),
    ("go.sum", "Go"),
];

#[derive(Debug, Deserialize)]
struct LockFile {
    #[serde(default)]
    package: Vec<LockedPackage>,
}

#[derive(Debug, Deserialize)]
struct LockedPackage {
    name: String,
    version: String,
}

#[derive(Debug, Deserialize)]
struct AdvisoryFile {
    advisory: Advisory,
    #[serde(default)]
    versions: Versions,
}

#[derive(Debug, Deserialize)]
struct Advisory {
    id: String,
    package: String,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    informational: Option<String>,
    #[serde(default)]
    withdrawn: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct Versions {
    #[serde(default)]
    patched: Vec<String>,
    #[serde(default)]
    unaffected: Vec<String>,
}

/// The database's identity for reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatabaseInfo {
    /// Git revision, or `unknown` outside git.
    pub revision: String,
    /// Age of the newest commit (or file).
    pub age: Duration,
}

fn packages(text: &str) -> Result<BTreeMap<String, Vec<Version>>, String> {
    let lock: LockFile =
        toml::from_str(text).map_err(|e| format!("Cargo.lock does not parse: {e}"))?;
    let mut map: BTreeMap<String, Vec<Version>> = BTreeMap::new();
    for package in lock.package {
        if let Ok(version) = Version::parse(&package.version) {
            map.entry(package.name).or_default().push(version);
        }
    }
    Ok(map)
}

/// `(name, version)` in `new` that `old` does not have (added or upgraded).
fn introduced(
    old: &BTreeMap<String, Vec<Version>>,
    new: &BTreeMap<String, Vec<Version>>,
) -> Vec<(String, Version)> {
    let mut out = Vec::new();
    for (name, versions) in new {
        for version in versions {
            if !old.get(name).is_some_and(|v| v.contains(version)) {
                out.push((name.clone(), version.clone()));
            }
        }
    }
    out
}

fn advisory_front_matter(text: &str) -> Option<&str> {
    let start = text.find("```toml")? + "```toml".len();
    let end = text[start..].find("```")? + start;
    Some(&text[start..end])
}

fn vulnerable(version: &Version, versions: &Versions) -> Result<bool, String> {
    for req in versions.patched.iter().chain(&versions.unaffected) {
        let req =
            VersionReq::parse(req).map_err(|e| format!("version requirement {req:?}: {e}"))?;
        if req.matches(version) {
            return Ok(false);
        }
    }
    Ok(true)
}

async fn database_info(db: &Path) -> Result<DatabaseInfo, String> {
    if !db.join("crates").is_dir() {
        return Err(format!(
            "{} is not a RustSec advisory database (no crates/ folder)",
            db.display()
        ));
    }
    let output = tokio::process::Command::new("git")
        .args(["log", "-1", "--format=%H %ct"])
        .current_dir(db)
        .output()
        .await;
    let now = SystemTime::now();
    if let Some(output) = output.ok().filter(|o| o.status.success()) {
        let text = String::from_utf8_lossy(&output.stdout);
        if let Some((revision, time)) = text.trim().split_once(' ') {
            let at = time.parse::<u64>().map_err(|e| e.to_string())?;
            let at = SystemTime::UNIX_EPOCH + Duration::from_secs(at);
            return Ok(DatabaseInfo {
                revision: revision.chars().take(12).collect(),
                age: now.duration_since(at).unwrap_or_default(),
            });
        }
    }
    let newest = std::fs::metadata(db.join("crates"))
        .and_then(|m| m.modified())
        .map_err(|e| e.to_string())?;
    Ok(DatabaseInfo {
        revision: "unknown (not a git checkout)".to_owned(),
        age: now.duration_since(newest).unwrap_or_default(),
    })
}

impl DependenciesGate {
    /// A gate over `settings`.
    pub fn new(settings: DependencySettings) -> Self {
        Self { settings }
    }

    async fn old_text(workspace: &Path, base: &str, path: &str) -> String {
        let output = tokio::process::Command::new("git")
            .args(["show", &format!("{base}:{path}")])
            .current_dir(workspace)
            .output()
            .await;
        match output {
            Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout).into_owned(),
            _ => String::new(), // a new lockfile: everything in it is introduced
        }
    }

    async fn check_cargo(
        &self,
        context: &GateContext,
        lockfile: &str,
        db: &Path,
    ) -> Result<Vec<Finding>, String> {
        let new_text = std::fs::read_to_string(context.workspace.join(lockfile))
            .map_err(|e| format!("{lockfile}: {e}"))?;
        let new = packages(&new_text)?;
        let old_text = Self::old_text(&context.workspace, &context.change.base, lockfile).await;
        let old = if old_text.is_empty() {
            BTreeMap::new()
        } else {
            packages(&old_text)?
        };
        let mut findings = Vec::new();
        for (name, version) in introduced(&old, &new) {
            let folder = db.join("crates").join(&name);
            let Ok(entries) = std::fs::read_dir(&folder) else {
                continue;
            };
            for entry in entries.filter_map(Result::ok) {
                let path = entry.path();
                if path.extension().is_none_or(|e| e != "md") {
                    continue;
                }
                let text = std::fs::read_to_string(&path)
                    .map_err(|e| format!("{}: {e}", path.display()))?;
                let Some(front) = advisory_front_matter(&text) else {
                    return Err(format!("{}: no ```toml front matter", path.display()));
                };
                let file: AdvisoryFile =
                    toml::from_str(front).map_err(|e| format!("{}: {e}", path.display()))?;
                if file.advisory.withdrawn.is_some() || file.advisory.package != name {
                    continue;
                }
                if !vulnerable(&version, &file.versions)
                    .map_err(|e| format!("{}: {e}", path.display()))?
                {
                    continue;
                }
                let (severity, kind) = match &file.advisory.informational {
                    Some(kind) => (Severity::Warning, kind.as_str()),
                    None => (Severity::Error, "vulnerability"),
                };
                let mut finding = Finding::new(
                    file.advisory.id.clone(),
                    format!(
                        "{name} {version} ({kind}): {}; patched: {}",
                        file.advisory.title.as_deref().unwrap_or("see the advisory"),
                        if file.versions.patched.is_empty() {
                            "none".to_owned()
                        } else {
                            file.versions.patched.join(", ")
                        }
                    ),
                    Some(lockfile.to_owned()),
                    None,
                    severity,
                    &format!("{name}@{version}"),
                );
                // Informational advisories (unmaintained, unsound) are reported, not blocking.
                finding.in_change = severity == Severity::Error;
                findings.push(finding);
            }
        }
        Ok(findings)
    }
}

#[async_trait]
impl Gate for DependenciesGate {
    fn kind(&self) -> &str {
        "dependencies"
    }

    async fn run(&self, context: &GateContext) -> GateReport {
        let name = |path: &str| path.rsplit('/').next().unwrap_or(path).to_owned();
        let lockfiles: Vec<String> = context
            .change
            .files
            .iter()
            .filter(|f| !matches!(f.change, crate::change::FileChange::Deleted))
            .map(|f| f.path.clone())
            .filter(|p| name(p) == "Cargo.lock" || UNSUPPORTED.iter().any(|(l, _)| *l == name(p)))
            .collect();
        if lockfiles.is_empty() {
            return GateReport::new("dependencies", GateStatus::Pass, "no lockfile changed");
        }
        if let Some((lock, ecosystem)) = lockfiles.iter().find_map(|p| {
            UNSUPPORTED
                .iter()
                .find(|(l, _)| *l == name(p))
                .map(|(_, e)| (p, e))
        }) {
            return GateReport::new(
                "dependencies",
                GateStatus::Error,
                format!("{lock} changed but no {ecosystem} advisory database is configured; this gate cannot tell"),
            );
        }
        let Some(db) = &self.settings.rustsec_db else {
            return GateReport::new(
                "dependencies",
                GateStatus::Error,
                "Cargo.lock changed but `rustsec_db` is not configured",
            );
        };
        let info = match database_info(db).await {
            Ok(info) => info,
            Err(e) => {
                return GateReport::new(
                    "dependencies",
                    GateStatus::Error,
                    format!("advisory database missing: {e}"),
                )
            }
        };
        let about = format!(
            "RustSec database {} ({} day(s) old)",
            info.revision,
            info.age.as_secs() / 86_400
        );
        if info.age > self.settings.max_age {
            return GateReport::new(
                "dependencies",
                GateStatus::Error,
                format!(
                    "{about} is older than {} day(s): update it",
                    self.settings.max_age.as_secs() / 86_400
                ),
            );
        }
        let mut findings = Vec::new();
        for lockfile in &lockfiles {
            match self.check_cargo(context, lockfile, db).await {
                Ok(found) => findings.extend(found),
                Err(e) => {
                    return GateReport::new(
                        "dependencies",
                        GateStatus::Error,
                        format!("{e} ({about})"),
                    )
                }
            }
        }
        let mut report =
            GateReport::from_findings("dependencies", findings, "vulnerable dependencies");
        report.summary = format!("{}; {about}", report.summary);
        report
    }
}
