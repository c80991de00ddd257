//! `github_api`: the agent's way to act on the repository (labels, comments, pull requests)
//! with Symphony's token, confined to the configured repository. The agent sees results,
//! never the token.

use http::Method;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde_json::{json, Value};
use symphony_tracker::{ToolResult, ToolSpec};

use crate::client::Client;
use crate::config::{GithubConfig, StateSource, CLOSED};
use crate::exchange::ApiRequest;
use crate::record::strip_prefix_ignore_case;

/// The tool's name.
pub const GITHUB_API: &str = "github_api";

/// Response bodies larger than this are cut (and say so).
const MAX_RESULT_BYTES: usize = 256 * 1024;
const MAX_PATH_BYTES: usize = 1024;

pub(crate) fn spec(config: &GithubConfig) -> ToolSpec {
    ToolSpec::new(
            GITHUB_API.to_owned(),
            format!(
                "Call the GitHub REST API for the repository {repo} with Symphony's credentials. \
             `path` must start with /repos/{repo}; e.g. POST /repos/{repo}/issues/7/labels \
             {{\"labels\": [\"symphony:human-review\"]}}, DELETE \
             /repos/{repo}/issues/7/labels/symphony:todo, POST /repos/{repo}/issues/7/comments \
             {{\"body\": \"...\"}}. Returns {{status, body}}.",
                repo = config.full_name()
            ),
            json!({
                "type": "object",
                "properties": {
                    "method": {"type": "string", "enum": ["GET", "POST", "PATCH", "PUT", "DELETE"]},
                    "path": {"type": "string", "minLength": 1, "maxLength": MAX_PATH_BYTES},
                    "query": {"type": "object", "additionalProperties": {"type": ["string", "number", "boolean"]}},
                    "body": {}
                },
                "required": ["method", "path"],
                "additionalProperties": false
            }),
        ).mutating()
}

/// Why a call is refused before anything is sent.
pub(crate) fn check_path(path: &str, config: &GithubConfig) -> Result<(), String> {
    let outside = || {
        format!(
            "path {path:?} is outside the repository; github_api only reaches /repos/{}",
            config.full_name()
        )
    };
    if path.len() > MAX_PATH_BYTES
        || path.chars().any(|c| {
            c.is_control() || (c.is_whitespace() && c != ' ') || matches!(c, '?' | '#' | '\\' | '%')
        })
    {
        return Err(format!(
            "path {path:?} must be a plain path: no query (use `query`), fragment, escapes, \
             backslashes, tabs or newlines"
        ));
    }
    let segments: Vec<&str> = path
        .strip_prefix('/')
        .ok_or_else(outside)?
        .split('/')
        .collect();
    if segments
        .iter()
        .any(|s| s.is_empty() || *s == "." || *s == "..")
    {
        return Err(outside());
    }
    match segments.as_slice() {
        ["repos", owner, repo, ..]
            if owner.eq_ignore_ascii_case(&config.owner)
                && repo.eq_ignore_ascii_case(&config.repo) =>
        {
            Ok(())
        }
        _ => Err(outside()),
    }
}

fn method(arguments: &Value) -> Result<Method, String> {
    match arguments
        .get("method")
        .and_then(Value::as_str)
        .map(str::to_ascii_uppercase)
        .as_deref()
    {
        Some("GET") => Ok(Method::GET),
        Some("POST") => Ok(Method::POST),
        Some("PATCH") => Ok(Method::PATCH),
        Some("PUT") => Ok(Method::PUT),
        Some("DELETE") => Ok(Method::DELETE),
        _ => Err("`method` must be one of GET, POST, PATCH, PUT, DELETE".to_owned()),
    }
}

fn query_string(arguments: &Value) -> Result<String, String> {
    let Some(query) = arguments.get("query").filter(|q| !q.is_null()) else {
        return Ok(String::new());
    };
    let map = query
        .as_object()
        .ok_or("`query` must be an object of names to values")?;
    let mut parts = Vec::new();
    for (name, value) in map {
        let value = match value {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            _ => {
                return Err(format!(
                    "query value `{name}` must be a string, number or boolean"
                ))
            }
        };
        parts.push(format!(
            "{}={}",
            percent_encode(name),
            percent_encode(&value)
        ));
    }
    Ok(if parts.is_empty() {
        String::new()
    } else {
        format!("?{}", parts.join("&"))
    })
}

/// What a query value keeps as it is: RFC 3986's unreserved characters.
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');
/// What a path segment keeps as it is: the unreserved characters, `:` and `@`.
const PATH_SEGMENT: &AsciiSet = &QUERY_VALUE.remove(b':').remove(b'@');

fn percent_encode(text: &str) -> String {
    utf8_percent_encode(text, QUERY_VALUE).to_string()
}

/// One path segment, percent-encoded: label names (`symphony:todo`, `needs review`,
/// `area/ui`) may hold characters a URI path segment cannot.
pub(crate) fn encode_segment(segment: &str) -> String {
    utf8_percent_encode(segment, PATH_SEGMENT).to_string()
}

fn encode_path(path: &str) -> String {
    path.split('/')
        .map(encode_segment)
        .collect::<Vec<_>>()
        .join("/")
}

/// Whether `arguments` describe a call that can change issue `number`'s state: a write to the
/// issue itself (`PATCH .../issues/N`: state, labels) or to its labels
/// (`.../issues/N/labels[/name]`). Reads and writes elsewhere cannot.
pub(crate) fn may_move_issue(config: &GithubConfig, arguments: &Value, number: u64) -> bool {
    if method(arguments).map_or(true, |m| m == Method::GET) {
        return false;
    }
    let Some(path) = arguments.get("path").and_then(Value::as_str) else {
        return false;
    };
    let issue = format!("/repos/{}/issues/{number}", config.full_name()).to_ascii_lowercase();
    let path = path.trim_end_matches('/').to_ascii_lowercase();
    if path == issue {
        return true;
    }
    let labels = format!("{issue}/labels");
    if path != labels && !path.starts_with(&format!("{labels}/")) {
        return false;
    }
    // A labels call moves the issue only when labels are its states, and only when it names
    // a state label: the one it removes, or one among those it adds or sets (setting labels
    // without one takes the issue out of scope, which is no move either).
    let StateSource::Labels { prefix } = &config.state_source else {
        return false;
    };
    let is_state = |name: &str| strip_prefix_ignore_case(name, prefix).is_some();
    if let Some(removed) = path.strip_prefix(&format!("{labels}/")) {
        return is_state(removed);
    }
    let named: Option<Vec<String>> = match arguments.get("body") {
        Some(Value::Array(items)) => label_names(items),
        Some(Value::Object(body)) => match body.get("labels") {
            Some(Value::Array(items)) => label_names(items),
            _ => None,
        },
        _ => None,
    };
    // What it names cannot be told: read around it, as for any possible move.
    named.is_none_or(|names| names.iter().any(|name| is_state(name)))
}

/// Label names as GitHub accepts them in a body: strings, or objects with a `name`.
fn label_names(items: &[Value]) -> Option<Vec<String>> {
    items
        .iter()
        .map(|item| match item {
            Value::String(name) => Some(name.clone()),
            other => other.get("name").and_then(Value::as_str).map(str::to_owned),
        })
        .collect()
}

/// The issue's state after a successful call on its labels, from GitHub's answer (the labels
/// the issue now has), when that answer settles it: the labels state source, an issue that was
/// open (a labels call does not open or close it) and exactly one state label. `None` leaves
/// the question to a read.
pub(crate) fn state_after_labels_call(
    config: &GithubConfig,
    arguments: &Value,
    output: &Value,
    before: Option<&str>,
) -> Option<String> {
    let StateSource::Labels { prefix } = &config.state_source else {
        return None;
    };
    let path = arguments.get("path").and_then(Value::as_str)?;
    let labels_call = path.trim_end_matches('/').ends_with("/labels") || path.contains("/labels/");
    let open = before.is_some_and(|state| !state.eq_ignore_ascii_case(CLOSED));
    let status = output.get("status").and_then(Value::as_u64)?;
    if !labels_call || !open || !(200..300).contains(&status) {
        return None;
    }
    let states: Vec<&str> = output
        .get("body")?
        .as_array()?
        .iter()
        .filter_map(|label| label.get("name").and_then(Value::as_str))
        .filter_map(|name| strip_prefix_ignore_case(name, prefix).map(str::trim))
        .filter(|state| !state.is_empty())
        .collect();
    match states.as_slice() {
        [state] => Some((*state).to_owned()),
        _ => None,
    }
}

pub(crate) async fn execute(
    client: &Client,
    config: &GithubConfig,
    arguments: &Value,
) -> ToolResult {
    let prepared = (|| {
        let method = method(arguments)?;
        let path = arguments
            .get("path")
            .and_then(Value::as_str)
            .ok_or("`path` is required, e.g. /repos/owner/name/issues/1")?;
        check_path(path, config)?;
        let query = query_string(arguments)?;
        let body = arguments.get("body").filter(|b| !b.is_null()).cloned();
        if method == Method::GET && body.is_some() {
            return Err("a GET takes no `body`; use `query`".to_owned());
        }
        Ok::<_, String>((method, format!("{}{query}", encode_path(path)), body))
    })();
    let (method, target, body) = match prepared {
        Ok(parts) => parts,
        Err(message) => return ToolResult::failure(message),
    };
    tracing::info!(tool = GITHUB_API, %method, path = %target, "agent GitHub call");
    let request = ApiRequest {
        idempotent: method == Method::GET,
        method,
        path: &target,
        body: body.as_ref(),
        etag: None,
        graphql: false,
    };
    match client.send(&request).await {
        Ok(response) => {
            let status = response.status.as_u16();
            let body = if response.body.is_empty() {
                Value::Null
            } else if response.body.len() > MAX_RESULT_BYTES {
                json!({"truncated": true, "bytes": response.body.len(),
                       "text": String::from_utf8_lossy(&response.body[..MAX_RESULT_BYTES])})
            } else {
                serde_json::from_slice(&response.body).unwrap_or_else(|_| {
                    Value::String(String::from_utf8_lossy(&response.body).into_owned())
                })
            };
            ToolResult::ok(json!({ "status": status, "body": body }))
        }
        Err(error) => {
            let mut output = json!({ "error": error.message, "category": error.category_name() });
            if let Some(wait) = error.retry_after {
                output["retry_after_s"] = json!(wait.as_secs());
            }
            ToolResult::failure_with(output)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use symphony_workflow::ProviderConfig;

    fn config() -> GithubConfig {
        let provider = ProviderConfig::new(
            json!({"repo": "acme/widgets", "token": "t"})
                .as_object()
                .cloned()
                .unwrap_or_default(),
        );
        GithubConfig::from_provider(&provider, Vec::new()).expect("config")
    }

    #[test]
    fn only_a_call_that_names_a_state_label_or_edits_the_issue_may_move_it() {
        let config = config();
        let call = |method: &str, path: &str, body: Value| {
            may_move_issue(
                &config,
                &json!({"method": method, "path": path, "body": body}),
                7,
            )
        };
        let labels = "/repos/acme/widgets/issues/7/labels";
        assert!(call(
            "PATCH",
            "/repos/acme/widgets/issues/7",
            json!({"state": "closed"})
        ));
        assert!(call(
            "PUT",
            labels,
            json!({"labels": ["symphony:done", "docs"]})
        ));
        assert!(call("POST", labels, json!(["Symphony:Human-Review"])));
        assert!(call(
            "POST",
            labels,
            json!({"labels": [{"name": "symphony:todo"}]})
        ));
        assert!(call(
            "DELETE",
            &format!("{labels}/symphony:todo"),
            Value::Null
        ));
        assert!(
            call("POST", labels, json!("unreadable")),
            "unknown: read around it"
        );
        assert!(!call("POST", labels, json!({"labels": ["docs"]})));
        assert!(!call("PUT", labels, json!(["docs", "bug"])));
        assert!(!call("DELETE", &format!("{labels}/docs"), Value::Null));
        assert!(!call("GET", "/repos/acme/widgets/issues/7", Value::Null));
        assert!(!call(
            "POST",
            "/repos/acme/widgets/issues/7/comments",
            json!({"body": "x"})
        ));
        assert!(!call(
            "POST",
            "/repos/acme/widgets/issues/8/labels",
            json!(["symphony:done"])
        ));
    }

    #[test]
    fn paths_inside_the_repository_pass() {
        let config = config();
        for path in [
            "/repos/acme/widgets",
            "/repos/acme/widgets/issues/7/labels",
            "/repos/ACME/Widgets/issues/7/labels/symphony:todo",
        ] {
            assert_eq!(check_path(path, &config), Ok(()), "{path}");
        }
    }

    #[test]
    fn paths_outside_the_repository_are_refused() {
        let config = config();
        for path in [
            "/user",
            "/graphql",
            "/repos/acme/other/issues",
            "/repos/acme/widgets/../other",
            "/repos/acme/widgets/%2e%2e/other",
            "/repos/acme//widgets",
            "repos/acme/widgets",
            "/repos/acme/widgets?x=1",
            "/repos/acme/widgets\\..\\x",
            "https://evil.example/repos/acme/widgets",
            "/repos/acme/widgets/issues\n",
            "/orgs/acme",
        ] {
            assert!(check_path(path, &config).is_err(), "{path} must be refused");
        }
    }

    #[test]
    fn label_names_are_encoded_in_paths_and_queries() {
        assert_eq!(
            encode_path("/repos/a/b/issues/1/labels/needs review"),
            "/repos/a/b/issues/1/labels/needs%20review"
        );
        assert_eq!(
            query_string(&json!({"query": {"labels": "a b,c"}})).unwrap(),
            "?labels=a%20b%2Cc"
        );
    }
}
