//! The `dependencies` gate: when a lockfile changes (Cargo.lock, package-lock.json,
//! requirements*.txt, poetry.lock, uv.lock, Pipfile.lock, go.sum), the packages it adds or
//! upgrades are checked against local advisory databases — RustSec format
//! (`crates/<name>/RUSTSEC-*.md`) for crates.io and/or OSV JSON records for any ecosystem — so
//! it works offline, and against a license deny-list where the lockfile records licenses.
//! Every report names each database's revision and age; a missing or stale database, or an
//! ecosystem no database covers, is an `error` — never a pass.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use semver::{Version, VersionReq};
use serde::Deserialize;

use crate::gate::{Gate, GateContext};
use crate::lockfiles::{self, Pinned};
use crate::osv::OsvDatabase;
use crate::report::{Finding, GateReport, GateStatus, Severity};

/// Settings of a `dependencies` gate.
#[derive(Debug, Clone)]
pub struct DependencySettings {
    /// A checkout of the RustSec advisory database (crates.io).
    pub rustsec_db: Option<PathBuf>,
    /// A folder of OSV records (any ecosystem; the ecosystems it holds are the ones covered).
    pub osv_db: Option<PathBuf>,
    /// SPDX license ids no new package may be under (where the lockfile records licenses).
    pub deny_licenses: Vec<String>,
    /// Older than this, a database is stale (an error).
    pub max_age: Duration,
}

impl Default for DependencySettings {
    fn default() -> Self {
        Self {
            rustsec_db: None,
            osv_db: None,
            deny_licenses: Vec::new(),
            max_age: Duration::from_secs(30 * 86_400),
        }
    }
}

/// The gate.
#[derive(Debug, Clone)]
pub struct DependenciesGate {
    settings: DependencySettings,
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

async fn database_info(db: &Path, marker: &str) -> Result<DatabaseInfo, String> {
    if !tokio::fs::metadata(db.join(marker))
        .await
        .is_ok_and(|m| m.is_dir())
    {
        return Err(format!(
            "{} is not there or not a folder",
            db.join(marker).display()
        ));
    }
    let output = symphony_process::child_command("git")
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
    let newest = tokio::fs::metadata(db.join(marker))
        .await
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
        let output = symphony_process::child_command("git")
            .args(["show", &format!("{base}:{path}")])
            .current_dir(workspace)
            .output()
            .await;
        match output {
            Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout).into_owned(),
            _ => String::new(), // a new lockfile: everything in it is introduced
        }
    }

    /// The packages `lockfile` adds or upgrades, and its unpinned requirements.
    async fn introduced(
        context: &GateContext,
        lockfile: &str,
        kind: lockfiles::Kind,
    ) -> Result<(Vec<Pinned>, Vec<String>), String> {
        let new_text = tokio::fs::read_to_string(context.workspace.join(lockfile))
            .await
            .map_err(|e| format!("{lockfile}: {e}"))?;
        let (new, unpinned) =
            lockfiles::read(kind, &new_text).map_err(|e| format!("{lockfile} {e}"))?;
        let old_text = Self::old_text(&context.workspace, &context.change.base, lockfile).await;
        let old: BTreeSet<(&str, String, String)> = if old_text.is_empty() {
            BTreeSet::new()
        } else {
            lockfiles::read(kind, &old_text)
                .map_err(|e| format!("{lockfile} (before the change) {e}"))?
                .0
                .into_iter()
                .map(|p| (p.ecosystem, p.name, p.version))
                .collect()
        };
        let introduced = new
            .into_iter()
            .filter(|p| !old.contains(&(p.ecosystem, p.name.clone(), p.version.clone())))
            .collect();
        Ok((introduced, unpinned))
    }

    fn rustsec_findings(
        db: &Path,
        lockfile: &str,
        package: &Pinned,
    ) -> Result<Vec<Finding>, String> {
        let name = &package.name;
        let Ok(entries) = std::fs::read_dir(db.join("crates").join(name)) else {
            return Ok(Vec::new());
        };
        // The crate has advisories: a version that does not parse cannot be compared with them.
        let version = Version::parse(&package.version).map_err(|e| {
            format!(
                "{name} {} in {lockfile} has RustSec advisories, but its version is not semver \
                 ({e}); this gate cannot tell whether it is affected",
                package.version
            )
        })?;
        let mut findings = Vec::new();
        for entry in entries.filter_map(Result::ok) {
            let path = entry.path();
            if path.extension().is_none_or(|e| e != "md") {
                continue;
            }
            let text =
                std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            let Some(front) = advisory_front_matter(&text) else {
                return Err(format!("{}: no ```toml front matter", path.display()));
            };
            let file: AdvisoryFile =
                toml::from_str(front).map_err(|e| format!("{}: {e}", path.display()))?;
            if file.advisory.withdrawn.is_some() || &file.advisory.package != name {
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
        Ok(findings)
    }

    /// `"<kind> database <revision> (<n> day(s) old)"`, or why it cannot be used.
    async fn database(&self, kind: &str, db: &Path, marker: &str) -> Result<String, String> {
        let info = database_info(db, marker)
            .await
            .map_err(|e| format!("{kind} advisory database missing: {e}"))?;
        let about = format!(
            "{kind} database {} ({} day(s) old)",
            info.revision,
            info.age.as_secs() / 86_400
        );
        if info.age > self.settings.max_age {
            return Err(format!(
                "{about} is older than {} day(s): update it",
                self.settings.max_age.as_secs() / 86_400
            ));
        }
        Ok(about)
    }

    /// The report, or why the gate cannot tell (an `error`).
    async fn judge(&self, context: &GateContext) -> Result<GateReport, String> {
        let changed: Vec<&str> = context
            .change
            .files
            .iter()
            .filter(|f| !matches!(f.change, symphony_change::FileChange::Deleted))
            .map(|f| f.path.as_str())
            .collect();
        let file_name = |path: &str| path.rsplit('/').next().unwrap_or(path).to_owned();
        if let Some((lock, ecosystem)) = changed.iter().find_map(|p| {
            lockfiles::UNREADABLE
                .iter()
                .find(|(l, _)| *l == file_name(p))
                .map(|(_, e)| (p, e))
        }) {
            return Err(format!(
                "{lock} changed but this gate cannot read that format, so no {ecosystem} \
                 advisory database can be consulted; this gate cannot tell"
            ));
        }
        let lockfiles: Vec<(&str, lockfiles::Kind)> = changed
            .iter()
            .filter_map(|p| lockfiles::kind_of(p).map(|k| (*p, k)))
            .collect();
        if lockfiles.is_empty() {
            return Ok(GateReport::new(
                "dependencies",
                GateStatus::Pass,
                "no lockfile changed",
            ));
        }
        let mut introduced: Vec<(&str, Pinned)> = Vec::new();
        let mut unpinned = Vec::new();
        for (lockfile, kind) in &lockfiles {
            let (pins, loose) = Self::introduced(context, lockfile, *kind).await?;
            introduced.extend(pins.into_iter().map(|p| (*lockfile, p)));
            unpinned.extend(loose.into_iter().map(|l| format!("{lockfile}: {l}")));
        }
        let ecosystems: BTreeSet<&str> = introduced.iter().map(|(_, p)| p.ecosystem).collect();
        let mut about = Vec::new();
        let rustsec = match &self.settings.rustsec_db {
            Some(db) if ecosystems.contains("crates.io") => {
                about.push(self.database("RustSec", db, "crates").await?);
                Some(db.clone())
            }
            _ => None,
        };
        let osv = match &self.settings.osv_db {
            Some(db) if !ecosystems.is_empty() => {
                about.push(self.database("OSV", db, ".").await?);
                let dir = db.clone();
                let loaded = tokio::task::spawn_blocking(move || OsvDatabase::load(&dir))
                    .await
                    .map_err(|e| format!("loading the OSV database failed: {e}"))?
                    .map_err(|e| format!("OSV advisory database unusable: {e}"))?;
                Some(loaded)
            }
            _ => None,
        };
        for ecosystem in &ecosystems {
            let covered = (*ecosystem == "crates.io" && rustsec.is_some())
                || osv
                    .as_ref()
                    .is_some_and(|db| db.ecosystems().contains(*ecosystem));
            if !covered {
                let lock = introduced
                    .iter()
                    .find(|(_, p)| p.ecosystem == *ecosystem)
                    .map_or("a lockfile", |(l, _)| *l);
                return Err(format!(
                    "{lock} changed but no {ecosystem} advisory database is configured \
                     (`osv_db` with {ecosystem} records{}); this gate cannot tell",
                    if *ecosystem == "crates.io" {
                        ", or `rustsec_db`"
                    } else {
                        ""
                    }
                ));
            }
        }
        // The RustSec advisories are files: read them on a blocking thread, not the reactor.
        let mut findings: Vec<Finding> = match &rustsec {
            Some(db) => {
                let db = db.clone();
                let crates: Vec<(String, Pinned)> = introduced
                    .iter()
                    .filter(|(_, p)| p.ecosystem == "crates.io")
                    .map(|(lockfile, p)| ((*lockfile).to_owned(), p.clone()))
                    .collect();
                tokio::task::spawn_blocking(move || {
                    crates
                        .iter()
                        .try_fold(Vec::new(), |mut all, (lockfile, package)| {
                            all.extend(Self::rustsec_findings(&db, lockfile, package)?);
                            Ok::<_, String>(all)
                        })
                })
                .await
                .map_err(|e| format!("reading the RustSec database failed: {e}"))??
            }
            None => Vec::new(),
        };
        let mut unlicensed = 0;
        for (lockfile, package) in &introduced {
            if let Some(db) = &osv {
                let matches = db.matches(package).map_err(|e| {
                    format!(
                        "{} {} ({}) in {lockfile}: {e}; this gate cannot tell whether it is affected",
                        package.name, package.version, package.ecosystem
                    )
                })?;
                for m in matches {
                    if findings.iter().any(|f| f.rule == m.id) {
                        continue;
                    }
                    let fixed = if m.fixed.is_empty() {
                        "none".to_owned()
                    } else {
                        m.fixed.join(", ")
                    };
                    findings.push(Finding::new(
                        m.id.clone(),
                        format!(
                            "{} {} ({}): {}; fixed in: {fixed}",
                            package.name, package.version, package.ecosystem, m.summary
                        ),
                        Some((*lockfile).to_owned()),
                        None,
                        Severity::Error,
                        &format!("{}@{}", package.name, package.version),
                    ));
                }
            }
            if self.settings.deny_licenses.is_empty() {
                continue;
            }
            let Some(license) = &package.license else {
                unlicensed += 1;
                continue;
            };
            let verdict = lockfiles::license_denied(license, &self.settings.deny_licenses)
                .map_err(|e| {
                    format!(
                        "{} {} in {lockfile}: {e}; the deny-list cannot be checked",
                        package.name, package.version
                    )
                })?;
            if let Some(denied) = verdict {
                findings.push(Finding::new(
                    "license-denied",
                    format!(
                        "{} {} is licensed {license}, and {denied} is on the deny-list",
                        package.name, package.version
                    ),
                    Some((*lockfile).to_owned()),
                    None,
                    Severity::Error,
                    &format!("{}@{}:{license}", package.name, package.version),
                ));
            }
        }
        let mut report = GateReport::from_findings("dependencies", findings, "dependency problems");
        report.summary = format!(
            "{} among {} added or upgraded package(s)",
            report.summary,
            introduced.len()
        );
        if !about.is_empty() {
            report.summary.push_str(&format!("; {}", about.join("; ")));
        }
        if unlicensed > 0 {
            report.summary.push_str(&format!(
                "; {unlicensed} package(s) have no license in their lockfile (not checked \
                 against the deny-list)"
            ));
        }
        if !unpinned.is_empty() {
            report.summary.push_str(&format!(
                "; not pinned, so not checked: {}",
                unpinned.join(", ")
            ));
        }
        Ok(report)
    }
}

#[async_trait]
impl Gate for DependenciesGate {
    fn kind(&self) -> &str {
        "dependencies"
    }

    async fn run(&self, context: &GateContext) -> GateReport {
        match self.judge(context).await {
            Ok(report) => report,
            Err(why) => GateReport::new("dependencies", GateStatus::Error, why),
        }
    }
}
