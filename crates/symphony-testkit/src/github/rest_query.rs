//! Reading a REST request's path and query, and writing URLs back.

use axum::http::StatusCode;
use serde_json::Value;

use super::exchange::Reply;
use super::model::World;

/// The repository a request path is about (`/repos/o/r/...` or `/repositories/<id>/...`).
pub(crate) fn repo_of_path(world: &World, path: &str) -> Option<usize> {
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match segments.as_slice() {
        ["repos", owner, name, ..] => world.repo_index(owner, name),
        ["repositories", id, ..] => id.parse().ok().and_then(|id| world.repo_index_by_id(id)),
        _ => None,
    }
}

pub(crate) fn query_pairs(query: Option<&str>) -> Vec<(String, String)> {
    query
        .unwrap_or_default()
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(k), decode(v))
        })
        .collect()
}

/// Percent-decodes a path segment or query value (`+` is a space, as in forms).
pub(crate) fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(b) => {
                        out.push(b);
                        i += 3;
                        continue;
                    }
                    None => out.push(b'%'),
                }
            }
            b'+' => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

pub(crate) fn param<'q>(pairs: &'q [(String, String)], key: &str) -> Option<&'q str> {
    pairs
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

pub(crate) fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~:".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// Page `page` of `per_page` (from the query; GitHub's defaults 1 and 30, at most 100) of
/// `items`, each rendered by `render`, the page made a body by `wrap` (given the total), with
/// GitHub's `Link` header pointing at `/repositories/<id>/<list>` with the query kept.
pub(crate) fn paged<T>(
    base: &str,
    repo_id: u64,
    list: &str,
    pairs: &[(String, String)],
    items: Vec<T>,
    render: impl Fn(T) -> Value,
    wrap: impl FnOnce(Vec<Value>, usize) -> Value,
) -> Reply {
    let per_page = param(pairs, "per_page")
        .and_then(|p| p.parse::<usize>().ok())
        .unwrap_or(30)
        .clamp(1, 100);
    let page = param(pairs, "page")
        .and_then(|p| p.parse::<usize>().ok())
        .unwrap_or(1)
        .max(1);
    let total = items.len();
    let pages = total.div_ceil(per_page).max(1);
    let shown: Vec<Value> = items
        .into_iter()
        .skip((page - 1) * per_page)
        .take(per_page)
        .map(render)
        .collect();
    let mut reply = Reply::json(StatusCode::OK, wrap(shown, total));
    let link = |n: usize| {
        let mut query: Vec<String> = pairs
            .iter()
            .filter(|(k, _)| k != "page")
            .map(|(k, v)| format!("{k}={}", encode(v)))
            .collect();
        query.push(format!("page={n}"));
        format!("<{base}/repositories/{repo_id}/{list}?{}>", query.join("&"))
    };
    let mut links = Vec::new();
    if page < pages {
        links.push(format!("{}; rel=\"next\"", link(page + 1)));
        links.push(format!("{}; rel=\"last\"", link(pages)));
    }
    if page > 1 {
        links.push(format!("{}; rel=\"prev\"", link(page - 1)));
        links.push(format!("{}; rel=\"first\"", link(1)));
    }
    if !links.is_empty() {
        reply.headers.push(("link", links.join(", ")));
    }
    reply
}
