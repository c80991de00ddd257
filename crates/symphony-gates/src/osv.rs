//! A local OSV-format advisory database (<https://ossf.github.io/osv-schema/>): a folder of
//! OSV JSON records, e.g. an ecosystem's `all.zip` from osv.dev unpacked, or a git checkout of
//! one. Works offline. Versions match when listed in `affected[].versions`, or when inside a
//! `SEMVER` / `ECOSYSTEM` range whose versions compare as semver (npm, crates.io, Go; PyPI
//! records list their versions).
//!
//! What cannot be compared is never "not affected": a range whose versions are not semver, a
//! package version that is not, a range type this reader does not evaluate with no version list
//! beside it — each is an [`Unevaluable`] naming the advisory and the range, which the gate
//! reports as an `error`.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;

use semver::Version;
use serde::Deserialize;

use crate::lockfiles::{pypi_name, Pinned};

#[derive(Debug, Clone, Deserialize)]
struct Record {
    id: String,
    #[serde(default)]
    summary: Option<String>,
    #[serde(default)]
    withdrawn: Option<String>,
    #[serde(default)]
    affected: Vec<Affected>,
}

#[derive(Debug, Clone, Deserialize)]
struct Affected {
    package: Package,
    #[serde(default)]
    ranges: Vec<Range>,
    #[serde(default)]
    versions: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
struct Package {
    ecosystem: String,
    name: String,
}

#[derive(Debug, Clone, Deserialize)]
struct Range {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    events: Vec<Event>,
}

#[derive(Debug, Clone, Default, Deserialize)]
struct Event {
    #[serde(default)]
    introduced: Option<String>,
    #[serde(default)]
    fixed: Option<String>,
    #[serde(default)]
    last_affected: Option<String>,
}

/// One advisory that applies to a pinned package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Match {
    /// The advisory id (`GHSA-…`, `PYSEC-…`, `GO-…`).
    pub id: String,
    /// Its summary.
    pub summary: String,
    /// Versions that fix it, if the record says.
    pub fixed: Vec<String>,
}

/// An advisory that names the package but whose affected versions cannot be compared with
/// the package's version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unevaluable {
    /// The advisory id.
    pub id: String,
    /// The range, as the record gives it (`SEMVER [introduced 0, fixed 1.2.x]`).
    pub range: String,
    /// Why it cannot be evaluated.
    pub reason: String,
}

impl std::fmt::Display for Unevaluable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "advisory {} cannot be evaluated: range {}: {}",
            self.id, self.range, self.reason
        )
    }
}

fn describe(range: &Range) -> String {
    let events: Vec<String> = range
        .events
        .iter()
        .flat_map(|e| {
            [
                e.introduced.as_ref().map(|v| format!("introduced {v}")),
                e.fixed.as_ref().map(|v| format!("fixed {v}")),
                e.last_affected
                    .as_ref()
                    .map(|v| format!("last_affected {v}")),
            ]
        })
        .flatten()
        .collect();
    format!("{} [{}]", range.kind, events.join(", "))
}

/// The loaded database.
#[derive(Debug, Default)]
pub struct OsvDatabase {
    by_package: HashMap<(String, String), Vec<(Record, usize)>>,
    ecosystems: BTreeSet<String>,
    records: usize,
}

/// The ecosystem part of an OSV ecosystem string (`Debian:12` → `Debian`).
fn base_ecosystem(ecosystem: &str) -> &str {
    ecosystem.split(':').next().unwrap_or(ecosystem)
}

fn key(ecosystem: &str, name: &str) -> (String, String) {
    let name = if ecosystem == "PyPI" {
        pypi_name(name)
    } else {
        name.to_owned()
    };
    (ecosystem.to_owned(), name)
}

/// `1.2` → `1.2.0`, `v1.2.3` → `1.2.3`: versions as semver, where they can be.
fn lenient(version: &str) -> Option<Version> {
    let version = version.trim().trim_start_matches('v');
    if let Ok(v) = Version::parse(version) {
        return Some(v);
    }
    let (core, rest) = match version.find(['-', '+']) {
        Some(at) => version.split_at(at),
        None => (version, ""),
    };
    let parts: Vec<&str> = core.split('.').collect();
    if parts.is_empty() || parts.len() > 3 || parts.iter().any(|p| p.parse::<u64>().is_err()) {
        return None;
    }
    let mut padded = parts.join(".");
    for _ in parts.len()..3 {
        padded.push_str(".0");
    }
    Version::parse(&format!("{padded}{rest}")).ok()
}

/// Whether `version` is inside `range` (OSV's evaluation: events in version order).
fn in_range(version: &Version, range: &Range) -> Option<bool> {
    let mut events: Vec<(Version, u8)> = Vec::new();
    for event in &range.events {
        if let Some(v) = &event.introduced {
            let v = if v == "0" {
                Version::new(0, 0, 0)
            } else {
                lenient(v)?
            };
            events.push((v, 0));
        }
        if let Some(v) = &event.fixed {
            events.push((lenient(v)?, 1));
        }
        if let Some(v) = &event.last_affected {
            events.push((lenient(v)?, 2));
        }
    }
    events.sort();
    let mut affected = false;
    for (at, kind) in &events {
        match kind {
            0 if version >= at => affected = true,
            1 if version >= at => affected = false,
            2 if version > at => affected = false,
            _ => {}
        }
    }
    Some(affected)
}

/// Why an OSV advisory database cannot be used: the file or folder, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {problem}", path.display())]
#[non_exhaustive]
pub struct OsvLoadError {
    /// The file or folder at fault.
    pub path: std::path::PathBuf,
    /// What is wrong with it.
    pub problem: String,
}

impl OsvLoadError {
    fn new(path: &Path, problem: impl std::fmt::Display) -> Self {
        Self {
            path: path.to_path_buf(),
            problem: problem.to_string(),
        }
    }
}

impl OsvDatabase {
    /// Loads every `*.json` record under `dir` (recursively).
    pub fn load(dir: &Path) -> Result<Self, OsvLoadError> {
        if !dir.is_dir() {
            return Err(OsvLoadError::new(dir, "not a folder"));
        }
        let mut db = Self::default();
        let mut folders = vec![dir.to_path_buf()];
        while let Some(folder) = folders.pop() {
            let entries = std::fs::read_dir(&folder).map_err(|e| OsvLoadError::new(&folder, e))?;
            for entry in entries.filter_map(Result::ok) {
                let path = entry.path();
                let name = entry.file_name();
                if name.to_string_lossy().starts_with('.') {
                    continue;
                }
                if path.is_dir() {
                    folders.push(path);
                } else if path.extension().is_some_and(|e| e == "json") {
                    let text =
                        std::fs::read_to_string(&path).map_err(|e| OsvLoadError::new(&path, e))?;
                    let record: Record = serde_json::from_str(&text)
                        .map_err(|e| OsvLoadError::new(&path, format!("not an OSV record: {e}")))?;
                    db.add(record);
                }
            }
        }
        if db.records == 0 {
            return Err(OsvLoadError::new(dir, "holds no OSV records"));
        }
        Ok(db)
    }

    fn add(&mut self, record: Record) {
        self.records += 1;
        if record.withdrawn.is_some() {
            return;
        }
        for (index, affected) in record.affected.iter().enumerate() {
            let ecosystem = base_ecosystem(&affected.package.ecosystem);
            self.ecosystems.insert(ecosystem.to_owned());
            self.by_package
                .entry(key(ecosystem, &affected.package.name))
                .or_default()
                .push((record.clone(), index));
        }
    }

    /// Ecosystems the database has records for.
    pub fn ecosystems(&self) -> &BTreeSet<String> {
        &self.ecosystems
    }

    /// How many records it holds.
    pub fn len(&self) -> usize {
        self.records
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.records == 0
    }

    /// The advisories that apply to `package`; an advisory whose ranges cannot be compared
    /// with its version is an error, not a miss.
    pub fn matches(&self, package: &Pinned) -> Result<Vec<Match>, Unevaluable> {
        let Some(records) = self.by_package.get(&key(package.ecosystem, &package.name)) else {
            return Ok(Vec::new());
        };
        let mut out: Vec<Match> = Vec::new();
        for (record, index) in records {
            let affected = &record.affected[*index];
            if affects(record, affected, &package.version)?
                && !out.iter().any(|m| m.id == record.id)
            {
                out.push(Match {
                    id: record.id.clone(),
                    summary: record
                        .summary
                        .clone()
                        .unwrap_or_else(|| "see the advisory".to_owned()),
                    fixed: affected
                        .ranges
                        .iter()
                        .flat_map(|r| r.events.iter().filter_map(|e| e.fixed.clone()))
                        .collect(),
                });
            }
        }
        Ok(out)
    }
}

/// Whether one `affected` entry covers `version`.
fn affects(record: &Record, affected: &Affected, version: &str) -> Result<bool, Unevaluable> {
    if affected.versions.iter().any(|v| v == version) {
        return Ok(true);
    }
    let unevaluable = |range: String, reason: String| Unevaluable {
        id: record.id.clone(),
        range,
        reason,
    };
    let mut evaluated = false;
    for range in &affected.ranges {
        match range.kind.as_str() {
            "SEMVER" | "ECOSYSTEM" => {
                let Some(parsed) = lenient(version) else {
                    return Err(unevaluable(
                        describe(range),
                        format!("the package version {version:?} does not compare as semver"),
                    ));
                };
                match in_range(&parsed, range) {
                    Some(true) => return Ok(true),
                    Some(false) => evaluated = true,
                    None => {
                        return Err(unevaluable(
                            describe(range),
                            "its versions do not compare as semver".to_owned(),
                        ))
                    }
                }
            }
            // Commit ranges locate the fix in the source; the version list carries them.
            "GIT" => {}
            other => {
                return Err(unevaluable(
                    describe(range),
                    format!("range type {other:?} is not one this gate evaluates"),
                ))
            }
        }
    }
    if evaluated || !affected.versions.is_empty() {
        // Outside every comparable range, or absent from the enumerated versions.
        return Ok(false);
    }
    let ranges: Vec<String> = affected.ranges.iter().map(describe).collect();
    Err(unevaluable(
        if ranges.is_empty() {
            "(none)".to_owned()
        } else {
            ranges.join("; ")
        },
        "the record gives neither a comparable range nor a list of versions".to_owned(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pinned(ecosystem: &'static str, name: &str, version: &str) -> Pinned {
        Pinned {
            ecosystem,
            name: name.to_owned(),
            version: version.to_owned(),
            license: None,
        }
    }

    #[test]
    fn ranges_and_version_lists_match_as_osv_says() {
        let mut db = OsvDatabase::default();
        let record = |value: serde_json::Value| serde_json::from_value::<Record>(value).unwrap();
        db.add(record(json!({
            "id": "GHSA-lodash", "summary": "Prototype pollution",
            "affected": [{"package": {"ecosystem": "npm", "name": "lodash"},
                "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "4.17.21"}]}]}]
        })));
        db.add(record(json!({
            "id": "PYSEC-django", "affected": [{"package": {"ecosystem": "PyPI", "name": "Django"},
                "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "3.2"}, {"last_affected": "3.2.4"}]}],
                "versions": ["3.2", "3.2.1"]}]
        })));
        db.add(record(json!({
            "id": "GO-old", "withdrawn": "2026-01-01T00:00:00Z",
            "affected": [{"package": {"ecosystem": "Go", "name": "x"}, "versions": ["1.0.0"]}]
        })));
        assert_eq!(
            db.matches(&pinned("npm", "lodash", "4.17.20")).unwrap()[0].fixed,
            ["4.17.21"]
        );
        assert!(db
            .matches(&pinned("npm", "lodash", "4.17.21"))
            .unwrap()
            .is_empty());
        assert_eq!(
            db.matches(&pinned("PyPI", "django", "3.2.1")).unwrap()[0].id,
            "PYSEC-django"
        );
        assert_eq!(
            db.matches(&pinned("PyPI", "django", "3.2.4"))
                .unwrap()
                .len(),
            1,
            "last_affected"
        );
        assert!(db
            .matches(&pinned("PyPI", "django", "3.2.5"))
            .unwrap()
            .is_empty());
        assert!(
            db.matches(&pinned("Go", "x", "1.0.0")).unwrap().is_empty(),
            "withdrawn"
        );
        assert_eq!(
            db.ecosystems().iter().collect::<Vec<_>>(),
            ["PyPI", "npm"],
            "withdrawn records cover nothing"
        );
        assert_eq!(lenient("v1.2"), Version::parse("1.2.0").ok());
        assert_eq!(lenient("2.0.0-rc.1"), Version::parse("2.0.0-rc.1").ok());
        assert_eq!(lenient("1.0.post1"), None);
    }

    /// Before, a range that could not be compared counted as "not affected".
    #[test]
    fn what_cannot_be_compared_is_an_error_naming_the_advisory_and_the_range() {
        let mut db = OsvDatabase::default();
        let record = |value: serde_json::Value| serde_json::from_value::<Record>(value).unwrap();
        db.add(record(json!({
            "id": "GHSA-weird", "affected": [{"package": {"ecosystem": "npm", "name": "weird"},
                "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "2.x"}]}]}]
        })));
        db.add(record(json!({
            "id": "GHSA-calver", "affected": [{"package": {"ecosystem": "npm", "name": "calver"},
                "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2.0.0"}]}]}]
        })));
        db.add(record(json!({
            "id": "GO-git-only", "affected": [{"package": {"ecosystem": "Go", "name": "g"},
                "ranges": [{"type": "GIT", "repo": "https://example.com/g", "events": [{"introduced": "0"}, {"fixed": "abc123"}]}]}]
        })));
        db.add(record(json!({
            "id": "GHSA-future", "affected": [{"package": {"ecosystem": "npm", "name": "future"},
                "ranges": [{"type": "CALVER", "events": [{"introduced": "0"}]}]}]
        })));
        let error = db.matches(&pinned("npm", "weird", "1.0.0")).unwrap_err();
        assert_eq!(error.id, "GHSA-weird");
        assert_eq!(error.range, "SEMVER [introduced 0, fixed 2.x]");
        assert!(error.to_string().contains("GHSA-weird"), "{error}");
        let error = db
            .matches(&pinned("npm", "calver", "2024.01.post3"))
            .unwrap_err();
        assert!(error.reason.contains("\"2024.01.post3\""), "{error}");
        let error = db.matches(&pinned("Go", "g", "1.0.0")).unwrap_err();
        assert!(error.reason.contains("neither"), "{error}");
        let error = db.matches(&pinned("npm", "future", "1.0.0")).unwrap_err();
        assert!(error.reason.contains("\"CALVER\""), "{error}");
        // A comparable version outside a comparable range is a clean miss.
        assert!(db
            .matches(&pinned("npm", "calver", "2.0.0"))
            .unwrap()
            .is_empty());
    }
}
