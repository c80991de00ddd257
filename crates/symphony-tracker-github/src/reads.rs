//! The two reads: issue lists over REST (conditional, paginated by `Link`) and refresh by
//! node id over GraphQL.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use serde_json::{json, Value};
use symphony_core::BlockerRef;
use symphony_tracker::{TrackerError, TrackerErrorCategory};

use crate::client::Client;
use crate::config::{GithubConfig, ProjectSource};
use crate::exchange::{header, ApiRequest};
use crate::graphql;
use crate::record::{self, GhIssue, Malformed, ProjectFields};

/// GitHub's largest page.
pub(crate) const PAGE_SIZE: usize = 100;
/// Pages followed before a list is declared runaway (50,000 issues).
const MAX_PAGES: usize = 500;
/// Cached pages kept; beyond this the cache starts over (a 200 instead of a 304, once).
const MAX_CACHED_PAGES: usize = 4096;

/// A parsed page kept with its ETag, so a `304` costs neither rate limit nor parsing.
struct CachedPage<T> {
    etag: String,
    page: Arc<Page<T>>,
}

/// One page of a list: each entry parsed on its own, so one bad record spoils only itself.
pub(crate) struct Page<T> {
    pub records: Vec<T>,
    pub next: Option<String>,
    pub last: Option<String>,
}

/// Conditional GETs with their parsed results.
pub(crate) struct PageCache<T> {
    pages: Mutex<HashMap<String, CachedPage<T>>>,
}

impl<T> Default for PageCache<T> {
    fn default() -> Self {
        Self {
            pages: Mutex::new(HashMap::new()),
        }
    }
}

impl<T> PageCache<T> {
    fn get(&self, path: &str) -> Option<(String, Arc<Page<T>>)> {
        let pages = self.pages.lock().unwrap_or_else(|e| e.into_inner());
        pages
            .get(path)
            .map(|c| (c.etag.clone(), Arc::clone(&c.page)))
    }

    fn put(&self, path: &str, etag: String, page: Arc<Page<T>>) {
        let mut pages = self.pages.lock().unwrap_or_else(|e| e.into_inner());
        if pages.len() >= MAX_CACHED_PAGES && !pages.contains_key(path) {
            pages.clear();
        }
        pages.insert(path.to_owned(), CachedPage { etag, page });
    }
}

/// Reads one page of a list conditionally; `parse` keeps or drops each entry.
async fn list_page<T: Send + Sync>(
    client: &Client,
    cache: &PageCache<T>,
    path: &str,
    parse: &(dyn Fn(&Value) -> Option<T> + Sync),
) -> Result<Arc<Page<T>>, TrackerError> {
    let cached = cache.get(path);
    let mut request = ApiRequest::get(path);
    request.etag = cached.as_ref().map(|(etag, _)| etag.as_str());
    let response = client.send(&request).await?;
    if response.not_modified() {
        return match cached {
            Some((_, page)) => Ok(page),
            None => Err(TrackerError::new(
                TrackerErrorCategory::Response,
                format!("GET {path}: GitHub answered 304 to a request without an ETag"),
            )),
        };
    }
    let links = header(&response.headers, "link")
        .map(parse_link_header)
        .unwrap_or_default();
    let value = response.json()?;
    let Value::Array(items) = value else {
        return Err(TrackerError::new(
            TrackerErrorCategory::Response,
            format!("GET {path}: expected a JSON array"),
        ));
    };
    let page = Arc::new(Page {
        records: items.iter().filter_map(parse).collect(),
        next: links.get("next").cloned(),
        last: links.get("last").cloned(),
    });
    if let Some(etag) = response.etag() {
        cache.put(path, etag, Arc::clone(&page));
    }
    Ok(page)
}

/// `<url>; rel="next", <url>; rel="last"` → rel → url.
pub(crate) fn parse_link_header(value: &str) -> HashMap<String, String> {
    let mut links = HashMap::new();
    for part in value.split(',') {
        let mut pieces = part.split(';');
        let Some(url) = pieces
            .next()
            .map(str::trim)
            .and_then(|u| u.strip_prefix('<'))
            .and_then(|u| u.strip_suffix('>'))
        else {
            continue;
        };
        for param in pieces {
            if let Some(rel) = param.trim().strip_prefix("rel=") {
                for name in rel.trim_matches('"').split_whitespace() {
                    links.insert(name.to_owned(), url.to_owned());
                }
            }
        }
    }
    links
}

/// Every issue of a REST list, following `next` links, in page order. Fails as a whole on
/// any page failure, a `next` link that leaves the API, a page that repeats an issue (the
/// list moved under us) or a runaway list.
pub(crate) async fn list_issues(
    client: &Client,
    cache: &PageCache<Result<GhIssue, Malformed>>,
    first_path: String,
) -> Result<Vec<Result<GhIssue, Malformed>>, TrackerError> {
    let parse = |item: &Value| -> Option<Result<GhIssue, Malformed>> {
        if record::is_pull_request(item) {
            return None;
        }
        Some(record::from_rest(item).map_err(|e| {
            let number = item.get("number").and_then(Value::as_u64).unwrap_or(0);
            format!("issue #{number}: {e}")
        }))
    };
    let mut records = Vec::new();
    let mut seen = HashSet::new();
    let mut path = first_path;
    let mut announced_last: Option<String> = None;
    for _ in 0..MAX_PAGES {
        let page = list_page(client, cache, &path, &parse).await?;
        for issue in page.records.iter().flatten() {
            if !seen.insert(issue.node_id.clone()) {
                return Err(TrackerError::new(
                    TrackerErrorCategory::Pagination,
                    format!(
                        "issue #{} appeared on two pages of {path}: the list changed while \
                         it was read",
                        issue.number
                    ),
                ));
            }
        }
        records.extend(page.records.iter().cloned());
        if announced_last.is_none() {
            announced_last = page.last.clone();
        }
        match &page.next {
            Some(next) => {
                path = client.relative_path(next).ok_or_else(|| {
                    TrackerError::new(
                        TrackerErrorCategory::Pagination,
                        format!("the next-page link {next:?} leaves the configured API"),
                    )
                })?;
            }
            None => {
                // A list that announced a last page must end on it.
                if let Some(last) = &announced_last {
                    let here = client.relative_path(last);
                    if here.as_deref() != Some(path.as_str()) && page.last.is_some() {
                        return Err(TrackerError::new(
                            TrackerErrorCategory::Pagination,
                            format!(
                                "{path} has no next link but announced {last} as the last page"
                            ),
                        ));
                    }
                }
                return Ok(records);
            }
        }
    }
    Err(TrackerError::new(
        TrackerErrorCategory::Pagination,
        format!("more than {MAX_PAGES} pages of issues; narrow the scope"),
    ))
}

/// Blockers of issue `number` (REST `dependencies/blocked_by`), conditionally.
pub(crate) async fn blockers(
    client: &Client,
    cache: &PageCache<BlockerRef>,
    config: &GithubConfig,
    number: u64,
) -> Result<Vec<BlockerRef>, TrackerError> {
    let path = format!(
        "/repos/{}/{}/issues/{number}/dependencies/blocked_by?per_page={PAGE_SIZE}",
        config.owner, config.repo
    );
    // Blockers are best-effort metadata: an unusable entry is dropped, not fatal.
    let parse = |item: &Value| record::blocker_from_rest(item, config);
    let page = list_page(client, cache, &path, &parse).await?;
    Ok(page.records.clone())
}

/// Issues by node id, 100 per query. `None` for an id GitHub does not know (or that is not
/// an issue); an error for an issue node it cannot normalize.
pub(crate) async fn refresh(
    client: &Client,
    config: &GithubConfig,
    ids: &[String],
) -> Result<Vec<GhIssue>, TrackerError> {
    let project = match &config.state_source {
        crate::config::StateSource::Project(p) => Some(p),
        _ => None,
    };
    let document = graphql::document(if project.is_some() {
        graphql::REFRESH_WITH_PROJECT
    } else {
        graphql::REFRESH
    });
    let mut found = Vec::new();
    for chunk in ids.chunks(PAGE_SIZE) {
        let mut variables = json!({ "ids": chunk });
        if let Some(p) = project {
            variables["status"] = json!(p.status_field);
            variables["priority"] = json!(p.priority_field.clone().unwrap_or_default());
        }
        let (data, errors) = client.graphql(&document, variables).await?;
        // Unknown ids come back as `null` with a NOT_FOUND error; anything else is a failure.
        let fatal: Vec<Value> = errors
            .into_iter()
            .filter(|e| e.get("type").and_then(Value::as_str) != Some("NOT_FOUND"))
            .collect();
        if !fatal.is_empty() {
            return Err(TrackerError::new(
                TrackerErrorCategory::Response,
                format!(
                    "GitHub GraphQL refresh failed: {}",
                    crate::exchange::graphql_messages(&fatal)
                ),
            ));
        }
        let nodes = data
            .get("nodes")
            .and_then(Value::as_array)
            .filter(|n| n.len() == chunk.len())
            .ok_or_else(|| {
                TrackerError::new(
                    TrackerErrorCategory::Response,
                    format!(
                        "GitHub GraphQL refresh: `nodes` is not a list of {} entries",
                        chunk.len()
                    ),
                )
            })?;
        for (id, node) in chunk.iter().zip(nodes) {
            if node.is_null() || node.get("__typename").and_then(Value::as_str) != Some("Issue") {
                continue;
            }
            let mut issue = record::from_graphql(node, config).map_err(|e| {
                TrackerError::new(
                    TrackerErrorCategory::Response,
                    format!("issue {id} is malformed: {e}"),
                )
            })?;
            if let Some(p) = project {
                issue.project = board_item(node, p);
            }
            found.push(issue);
        }
    }
    Ok(found)
}

/// The item of the configured board among an issue's `projectItems`.
fn board_item(node: &Value, project: &ProjectSource) -> Option<ProjectFields> {
    node.get("projectItems")?
        .get("nodes")?
        .as_array()?
        .iter()
        .find(|item| {
            let board = item.get("project");
            board.and_then(|p| p.get("number")).and_then(Value::as_u64) == Some(project.number)
                && board
                    .and_then(|p| p.get("owner"))
                    .and_then(|o| o.get("login"))
                    .and_then(Value::as_str)
                    .is_some_and(|l| l.eq_ignore_ascii_case(&project.owner))
        })
        .map(project_fields)
}

fn field_text(value: Option<&Value>) -> Option<String> {
    let value = value?;
    value
        .get("name")
        .or_else(|| value.get("text"))
        .and_then(Value::as_str)
        .map(str::to_owned)
        .or_else(|| {
            value
                .get("number")
                .and_then(Value::as_f64)
                .map(|n| n.to_string())
        })
}

fn project_fields(item: &Value) -> ProjectFields {
    ProjectFields {
        item_id: item
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
        status: field_text(item.get("status")),
        priority: item.get("priority").and_then(|p| {
            p.get("number")
                .and_then(Value::as_f64)
                .map(|n| n as i64)
                .or_else(|| {
                    field_text(Some(p))
                        .as_deref()
                        .and_then(record::parse_priority)
                })
        }),
    }
}

/// Every issue of this repository on the board, in board order, with its board fields.
pub(crate) async fn project_items(
    client: &Client,
    config: &GithubConfig,
    project: &ProjectSource,
) -> Result<Vec<Result<GhIssue, Malformed>>, TrackerError> {
    let document = graphql::document(graphql::PROJECT_ITEMS);
    let mut after: Option<String> = None;
    let mut records = Vec::new();
    let mut cursors = HashSet::new();
    for _ in 0..MAX_PAGES {
        let variables = json!({
            "owner": project.owner,
            "number": project.number,
            "after": after,
            "status": project.status_field,
            "priority": project.priority_field.clone().unwrap_or_default(),
        });
        let (data, errors) = client.graphql(&document, variables).await?;
        if !errors.is_empty() {
            return Err(TrackerError::new(
                TrackerErrorCategory::Response,
                format!(
                    "reading board {}/{} failed: {}",
                    project.owner,
                    project.number,
                    crate::exchange::graphql_messages(&errors)
                ),
            ));
        }
        let items = data
            .get("repositoryOwner")
            .and_then(|o| o.get("projectV2"))
            .and_then(|p| p.get("items"))
            .ok_or_else(|| {
                TrackerError::new(
                    TrackerErrorCategory::Response,
                    format!(
                        "board {} #{} not found or not visible to the token",
                        project.owner, project.number
                    ),
                )
            })?;
        for item in items
            .get("nodes")
            .and_then(Value::as_array)
            .map_or(&[][..], Vec::as_slice)
        {
            let Some(content) = item
                .get("content")
                .filter(|c| c.get("__typename").and_then(Value::as_str) == Some("Issue"))
            else {
                continue; // draft issues and pull requests are never dispatchable
            };
            if record::graphql_repository(content)
                .is_some_and(|r| !r.eq_ignore_ascii_case(&config.full_name()))
            {
                continue;
            }
            records.push(record::from_graphql(content, config).map(|mut issue| {
                issue.project = Some(project_fields(item));
                issue
            }));
        }
        let info = items.get("pageInfo");
        let more = info
            .and_then(|i| i.get("hasNextPage"))
            .and_then(Value::as_bool)
            .unwrap_or(false);
        if !more {
            return Ok(records);
        }
        let cursor = info
            .and_then(|i| i.get("endCursor"))
            .and_then(Value::as_str)
            .map(str::to_owned)
            .filter(|c| cursors.insert(c.clone()))
            .ok_or_else(|| {
                TrackerError::new(
                    TrackerErrorCategory::Pagination,
                    "the board's page says there is more but gives no new cursor",
                )
            })?;
        after = Some(cursor);
    }
    Err(TrackerError::new(
        TrackerErrorCategory::Pagination,
        format!("more than {MAX_PAGES} pages of board items"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_headers_parse_into_relations() {
        let links = parse_link_header(
            "<https://api.github.com/repositories/1/issues?page=2>; rel=\"next\", \
             <https://api.github.com/repositories/1/issues?page=5>; rel=\"last\"",
        );
        assert_eq!(
            links["next"],
            "https://api.github.com/repositories/1/issues?page=2"
        );
        assert_eq!(
            links["last"],
            "https://api.github.com/repositories/1/issues?page=5"
        );
        assert!(parse_link_header("garbage").is_empty());
    }
}
