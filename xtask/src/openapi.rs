//! `cargo xtask openapi`: extracts the operations Symphony uses from GitHub's official OpenAPI
//! description (npm `@octokit/openapi`, pinned) into a small fixture the fake GitHub and the
//! adapter are validated against. Descriptions and examples are dropped; every schema the
//! operations reach is kept.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

use anyhow::{bail, Context, Result};
use serde_json::{json, Map, Value};

/// The pinned package; bump deliberately and regenerate.
pub const PACKAGE: &str = "@octokit/openapi@23.0.2";

/// `(method, path template)` of every REST operation Symphony or its fake serves.
const OPERATIONS: &[(&str, &str)] = &[
    ("get", "/repos/{owner}/{repo}/issues"),
    ("post", "/repos/{owner}/{repo}/issues"),
    ("get", "/repos/{owner}/{repo}/issues/{issue_number}"),
    ("patch", "/repos/{owner}/{repo}/issues/{issue_number}"),
    ("get", "/repos/{owner}/{repo}/issues/{issue_number}/labels"),
    ("post", "/repos/{owner}/{repo}/issues/{issue_number}/labels"),
    ("put", "/repos/{owner}/{repo}/issues/{issue_number}/labels"),
    (
        "delete",
        "/repos/{owner}/{repo}/issues/{issue_number}/labels/{name}",
    ),
    (
        "get",
        "/repos/{owner}/{repo}/issues/{issue_number}/comments",
    ),
    (
        "post",
        "/repos/{owner}/{repo}/issues/{issue_number}/comments",
    ),
    (
        "get",
        "/repos/{owner}/{repo}/issues/{issue_number}/dependencies/blocked_by",
    ),
    ("get", "/repos/{owner}/{repo}/labels"),
    ("get", "/repos/{owner}/{repo}/pulls"),
    ("post", "/repos/{owner}/{repo}/pulls"),
    ("get", "/repos/{owner}/{repo}/pulls/{pull_number}"),
    ("patch", "/repos/{owner}/{repo}/pulls/{pull_number}"),
    ("get", "/repos/{owner}/{repo}/pulls/{pull_number}/reviews"),
    ("post", "/repos/{owner}/{repo}/pulls/{pull_number}/reviews"),
    ("get", "/repos/{owner}/{repo}/pulls/{pull_number}/comments"),
    (
        "post",
        "/repos/{owner}/{repo}/pulls/{pull_number}/comments/{comment_id}/replies",
    ),
    (
        "post",
        "/repos/{owner}/{repo}/pulls/{pull_number}/requested_reviewers",
    ),
    ("get", "/repos/{owner}/{repo}/git/ref/{ref}"),
    ("get", "/repos/{owner}/{repo}/commits/{ref}/check-runs"),
    ("get", "/repos/{owner}/{repo}/commits/{ref}/status"),
    ("post", "/repos/{owner}/{repo}/statuses/{sha}"),
    ("get", "/repos/{owner}/{repo}/commits/{ref}/statuses"),
    ("post", "/repos/{owner}/{repo}/check-runs"),
    ("patch", "/repos/{owner}/{repo}/check-runs/{check_run_id}"),
];

/// Keys that only document.
const DROPPED: &[&str] = &[
    "description",
    "examples",
    "example",
    "summary",
    "externalDocs",
    "x-github",
];

pub fn run(root: &Path) -> Result<()> {
    let tools = root.join("target/tools/octokit-openapi");
    let spec_path = tools.join("package/generated/api.github.com.json");
    if !spec_path.is_file() {
        std::fs::create_dir_all(&tools)?;
        let status = Command::new("npm")
            .args(["pack", PACKAGE, "--silent"])
            .current_dir(&tools)
            .status()
            .context("running npm pack (is npm installed?)")?;
        if !status.success() {
            bail!("npm pack {PACKAGE} failed");
        }
        let tarball = std::fs::read_dir(&tools)?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .find(|p| p.extension().is_some_and(|e| e == "tgz"))
            .context("npm pack left no tarball")?;
        let status = Command::new("tar")
            .arg("xzf")
            .arg(&tarball)
            .arg("package/generated/api.github.com.json")
            .current_dir(&tools)
            .status()?;
        if !status.success() {
            bail!("extracting {} failed", tarball.display());
        }
    }
    let spec: Value = serde_json::from_slice(&std::fs::read(&spec_path)?)
        .with_context(|| format!("parsing {}", spec_path.display()))?;
    let subset = extract(&spec)?;
    let out = root.join("crates/symphony-testkit/fixtures/github-openapi.json");
    std::fs::create_dir_all(out.parent().context("fixture folder")?)?;
    let text = serde_json::to_string(&subset)? + "\n";
    std::fs::write(&out, &text)?;
    println!(
        "wrote {} ({} KB, {} operations, {} schemas)",
        out.display(),
        text.len() / 1024,
        OPERATIONS.len(),
        subset["schemas"].as_object().map_or(0, Map::len)
    );
    Ok(())
}

fn extract(spec: &Value) -> Result<Value> {
    let components = &spec["components"];
    let mut operations = Vec::new();
    let mut wanted = BTreeSet::new();
    for (method, path) in OPERATIONS {
        let op = spec["paths"][path][method].clone();
        if op.is_null() {
            bail!("{method} {path} is not in the description");
        }
        let op = inline(&op, components);
        let parameters: Vec<Value> = op["parameters"]
            .as_array()
            .map(|ps| {
                ps.iter()
                    .map(|p| {
                        json!({"name": p["name"], "in": p["in"], "required": p["required"], "schema": p["schema"]})
                    })
                    .collect()
            })
            .unwrap_or_default();
        let request = op["requestBody"]["content"]["application/json"]["schema"].clone();
        let mut responses = Map::new();
        if let Some(map) = op["responses"].as_object() {
            for (status, response) in map {
                responses.insert(
                    status.clone(),
                    response["content"]["application/json"]["schema"].clone(),
                );
            }
        }
        let entry = strip(&json!({
            "method": method,
            "path": path,
            "parameters": parameters,
            "request": request,
            "responses": responses,
        }));
        collect_refs(&entry, &mut wanted);
        operations.push(entry);
    }
    let mut schemas = BTreeMap::new();
    let mut queue: Vec<String> = wanted.into_iter().collect();
    while let Some(name) = queue.pop() {
        if schemas.contains_key(&name) {
            continue;
        }
        let schema = strip(&components["schemas"][&name]);
        if schema.is_null() {
            bail!("schema {name} is referenced but missing");
        }
        let mut more = BTreeSet::new();
        collect_refs(&schema, &mut more);
        queue.extend(more.into_iter().filter(|n| !schemas.contains_key(n)));
        schemas.insert(name, schema);
    }
    Ok(json!({
        "source": format!("{PACKAGE} generated/api.github.com.json {}", spec["info"]["version"].as_str().unwrap_or("")),
        "operations": operations,
        "schemas": schemas,
    }))
}

/// Replaces `$ref`s to parameters, responses and headers with their targets; schema refs
/// stay references (the schema set is shared).
fn inline(value: &Value, components: &Value) -> Value {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(target)) = map.get("$ref") {
                for kind in ["parameters", "responses", "headers", "requestBodies"] {
                    if let Some(name) = target.strip_prefix(&format!("#/components/{kind}/")) {
                        return inline(&components[kind][name], components);
                    }
                }
            }
            Value::Object(
                map.iter()
                    .map(|(k, v)| (k.clone(), inline(v, components)))
                    .collect(),
            )
        }
        Value::Array(items) => Value::Array(items.iter().map(|v| inline(v, components)).collect()),
        other => other.clone(),
    }
}

fn strip(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(k, _)| !DROPPED.contains(&k.as_str()))
                .map(|(k, v)| {
                    // `properties` keys are field names, never documentation keys.
                    if k == "properties" {
                        let fields = v
                            .as_object()
                            .map(|f| f.iter().map(|(n, s)| (n.clone(), strip(s))).collect())
                            .unwrap_or_default();
                        (k.clone(), Value::Object(fields))
                    } else {
                        (k.clone(), strip(v))
                    }
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(strip).collect()),
        other => other.clone(),
    }
}

fn collect_refs(value: &Value, into: &mut BTreeSet<String>) {
    match value {
        Value::Object(map) => {
            if let Some(name) = map
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(|r| r.strip_prefix("#/components/schemas/"))
            {
                into.insert(name.to_owned());
            }
            map.values().for_each(|v| collect_refs(v, into));
        }
        Value::Array(items) => items.iter().for_each(|v| collect_refs(v, into)),
        _ => {}
    }
}
