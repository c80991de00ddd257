//! Checks exchanges against the subset of GitHub's official OpenAPI description in
//! `fixtures/github-openapi.json` (regenerate with `cargo xtask openapi`).
//!
//! The validator speaks OpenAPI 3.0's schema dialect directly (`nullable`, `oneOf`, `$ref`
//! into the shared schema set) instead of converting to JSON Schema for a general validator:
//! it is the one dialect the fixture uses, and the errors name the JSON path that broke.

use std::sync::OnceLock;

use serde_json::Value;

use super::Exchange;

const FIXTURE: &str = include_str!("../../fixtures/github-openapi.json");

fn fixture() -> &'static Value {
    static PARSED: OnceLock<Value> = OnceLock::new();
    PARSED.get_or_init(|| serde_json::from_str(FIXTURE).expect("the OpenAPI fixture is JSON"))
}

/// Where the fixture came from (package, file, version).
pub fn source() -> &'static str {
    fixture()["source"].as_str().unwrap_or_default()
}

/// The operation for `method` and a concrete `path`, matching templates segment by segment.
/// `/repositories/<id>/...` (GitHub's pagination links) is the same operation as
/// `/repos/{owner}/{repo}/...`.
pub fn operation(method: &str, path: &str) -> Option<&'static Value> {
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let segments: Vec<&str> = match segments.as_slice() {
        ["repositories", _id, rest @ ..] => ["repos", "{owner}", "{repo}"]
            .into_iter()
            .chain(rest.iter().copied())
            .collect(),
        _ => segments,
    };
    fixture()["operations"].as_array()?.iter().find(|op| {
        op["method"]
            .as_str()
            .is_some_and(|m| m.eq_ignore_ascii_case(method))
            && op["path"].as_str().is_some_and(|template| {
                let parts: Vec<&str> = template.trim_start_matches('/').split('/').collect();
                // A trailing `{ref}` is a git ref (`heads/feature/x`): it spans the rest.
                let spans = parts.last() == Some(&"{ref}") && segments.len() > parts.len();
                (parts.len() == segments.len() || spans)
                    && parts
                        .iter()
                        .zip(&segments)
                        .all(|(t, s)| (t.starts_with('{') && !s.is_empty()) || t == s)
            })
    })
}

/// Problems with one exchange: unknown operation, unknown or mistyped query parameters, a
/// request or response body that breaks its schema. Empty when it conforms.
pub fn check_exchange(exchange: &Exchange) -> Vec<String> {
    let what = format!("{} {}", exchange.method, exchange.path);
    let Some(op) = operation(&exchange.method, &exchange.path) else {
        return vec![format!("{what}: not an operation of the fixture")];
    };
    let mut problems = Vec::new();
    for pair in exchange.query.as_deref().unwrap_or_default().split('&') {
        if pair.is_empty() {
            continue;
        }
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let param = op["parameters"]
            .as_array()
            .and_then(|ps| ps.iter().find(|p| p["in"] == "query" && p["name"] == name));
        match param {
            None => problems.push(format!(
                "{what}: query parameter `{name}` is not documented"
            )),
            Some(param) => {
                let typed = match param["schema"]["type"].as_str() {
                    Some("integer") => value
                        .parse::<i64>()
                        .map(Value::from)
                        .unwrap_or(Value::String(value.to_owned())),
                    _ => Value::String(super::rest_query::decode(value)),
                };
                validate(
                    &param["schema"],
                    &typed,
                    &format!("{what} ?{name}"),
                    &mut problems,
                );
            }
        }
    }
    if let Some(body) = &exchange.request_body {
        if op["request"].is_null() {
            problems.push(format!("{what}: sends a body the operation does not take"));
        } else {
            validate(
                &op["request"],
                body,
                &format!("{what} request"),
                &mut problems,
            );
        }
    }
    let status = exchange.status.to_string();
    // Conditional requests are documented for every GET, not per operation.
    if exchange.status == 304 && exchange.method == "GET" && exchange.if_none_match.is_some() {
        return problems;
    }
    match op["responses"].get(&status) {
        None => problems.push(format!("{what}: status {status} is not documented")),
        Some(schema) => {
            if let (false, Some(body)) = (schema.is_null(), &exchange.response_body) {
                validate(schema, body, &format!("{what} {status}"), &mut problems);
            }
        }
    }
    problems
}

/// Validates `value` against an OpenAPI 3.0 schema object; problems go to `out`.
pub fn validate(schema: &Value, value: &Value, at: &str, out: &mut Vec<String>) {
    if let Some(target) = schema.get("$ref").and_then(Value::as_str) {
        let name = target.trim_start_matches("#/components/schemas/");
        match fixture()["schemas"].get(name) {
            Some(resolved) => validate(resolved, value, at, out),
            None => out.push(format!("{at}: unresolvable {target}")),
        }
        return;
    }
    if value.is_null() && schema.get("nullable").and_then(Value::as_bool) == Some(true) {
        return;
    }
    if let Some(all) = schema.get("allOf").and_then(Value::as_array) {
        for s in all {
            validate(s, value, at, out);
        }
    }
    for key in ["oneOf", "anyOf"] {
        // GitHub's `oneOf` alternatives overlap in places; one match is enough.
        if let Some(options) = schema.get(key).and_then(Value::as_array) {
            let fits = options.iter().any(|s| {
                let mut scratch = Vec::new();
                validate(s, value, at, &mut scratch);
                scratch.is_empty()
            });
            if !fits {
                out.push(format!(
                    "{at}: matches none of the {key} alternatives: {}",
                    short(value)
                ));
            }
        }
    }
    if let Some(kind) = schema.get("type").and_then(Value::as_str) {
        let ok = match kind {
            "object" => value.is_object(),
            "array" => value.is_array(),
            "string" => value.is_string(),
            "integer" => value.is_i64() || value.is_u64(),
            "number" => value.is_number(),
            "boolean" => value.is_boolean(),
            _ => true,
        };
        if !ok {
            out.push(format!("{at}: expected {kind}, found {}", short(value)));
            return;
        }
    }
    if let Some(options) = schema.get("enum").and_then(Value::as_array) {
        if !options.contains(value) {
            out.push(format!(
                "{at}: {} is not one of {}",
                short(value),
                short(&Value::Array(options.clone()))
            ));
        }
    }
    if let (Some("date-time"), Some(text)) =
        (schema.get("format").and_then(Value::as_str), value.as_str())
    {
        if chrono::DateTime::parse_from_rfc3339(text).is_err() {
            out.push(format!("{at}: {text:?} is not an RFC 3339 date-time"));
        }
    }
    if let Some(map) = value.as_object() {
        if let Some(required) = schema.get("required").and_then(Value::as_array) {
            for name in required.iter().filter_map(Value::as_str) {
                if !map.contains_key(name) {
                    out.push(format!("{at}: required field `{name}` is missing"));
                }
            }
        }
        let properties = schema.get("properties").and_then(Value::as_object);
        for (name, field) in map {
            let here = format!("{at}.{name}");
            match properties.and_then(|p| p.get(name)) {
                Some(s) => validate(s, field, &here, out),
                None => match schema.get("additionalProperties") {
                    Some(Value::Bool(false)) => out.push(format!("{here}: not an allowed field")),
                    Some(extra) if extra.is_object() => validate(extra, field, &here, out),
                    _ => {}
                },
            }
        }
    }
    if let (Some(items), Some(list)) = (schema.get("items"), value.as_array()) {
        for (i, item) in list.iter().enumerate() {
            validate(items, item, &format!("{at}[{i}]"), out);
        }
    }
}

fn short(value: &Value) -> String {
    let text = value.to_string();
    if text.len() > 80 {
        format!(
            "{}…",
            &text[..text.char_indices().nth(80).map_or(text.len(), |(i, _)| i)]
        )
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn issue_schema() -> Value {
        json!({"$ref": "#/components/schemas/issue"})
    }

    #[test]
    fn the_fixture_is_small_and_names_its_source() {
        assert!(
            FIXTURE.len() < 1024 * 1024,
            "fixture is {} bytes",
            FIXTURE.len()
        );
        assert!(source().starts_with("@octokit/openapi@"), "{}", source());
    }

    #[test]
    fn operations_match_templates_and_pagination_links() {
        assert!(operation("GET", "/repos/a/b/issues").is_some());
        assert!(operation("GET", "/repositories/12/issues").is_some());
        assert!(operation("DELETE", "/repos/a/b/issues/3/labels/symphony:todo").is_some());
        assert!(operation("GET", "/repos/a/b/issues/3/labels/x").is_none());
        assert!(operation("GET", "/user").is_none());
    }

    #[test]
    fn schema_violations_are_reported_with_their_path() {
        let mut problems = Vec::new();
        validate(
            &issue_schema(),
            &json!({"number": "seven"}),
            "issue",
            &mut problems,
        );
        assert!(
            problems
                .iter()
                .any(|p| p.contains("issue.number: expected integer")),
            "{problems:?}"
        );
        assert!(
            problems
                .iter()
                .any(|p| p.contains("required field `node_id`")),
            "{problems:?}"
        );
        let mut problems = Vec::new();
        validate(
            &json!({"$ref": "#/components/schemas/label"}),
            &json!({"id": 1, "node_id": "x", "url": "u", "name": "n", "description": null, "color": "c", "default": "no"}),
            "label",
            &mut problems,
        );
        assert_eq!(problems, ["label.default: expected boolean, found \"no\""]);
    }

    #[test]
    fn undocumented_query_parameters_and_statuses_are_problems() {
        let exchange = Exchange {
            method: "GET".into(),
            path: "/repos/a/b/issues".into(),
            query: Some("state=opened&per_page=100&bogus=1".into()),
            if_none_match: None,
            authorization: None,
            user_agents: vec!["symphony/test".into()],
            request_body: None,
            status: 418,
            response_body: None,
            faulted: false,
            counted: true,
        };
        let problems = check_exchange(&exchange);
        assert!(
            problems
                .iter()
                .any(|p| p.contains("\"opened\" is not one of")),
            "{problems:?}"
        );
        assert!(
            problems
                .iter()
                .any(|p| p.contains("`bogus` is not documented")),
            "{problems:?}"
        );
        assert!(
            problems.iter().any(|p| p.contains("status 418")),
            "{problems:?}"
        );
    }
}
