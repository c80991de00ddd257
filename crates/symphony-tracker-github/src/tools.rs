//! `github_api`: the agent's way to act on the repository (labels, comments, pull requests)
//! with Symphony's token, confined to the configured repository. The agent sees results,
//! never the token.

use http::Method;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde_json::{json, Value};
use symphony_tracker::{ToolResult, ToolSpec};

use crate::client::Client;
use crate::config::GithubConfig;
use crate::exchange::ApiRequest;

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

pub(crate) fn method(arguments: &Value) -> Result<Method, String> {
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

    use crate::config::test_config as config;

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
