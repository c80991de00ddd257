//! The REST endpoints the fake serves, routed by hand so every path is answered (unknown ones
//! with GitHub's 404 body).

use axum::http::{Method, StatusCode};
use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use super::model::{self, CheckRun, Comment, CommitStatus, FakeIssue, World};
use super::{NewIssue, Reply, Shared};

/// Files an issue in repository `repo`; `created` backdates it.
pub(crate) fn file_issue(
    world: &mut World,
    repo: usize,
    new: NewIssue,
    created: Option<DateTime<Utc>>,
) -> (u64, String) {
    let now = world.tick();
    let id = world.fresh_id();
    // GitHub trims label names, refuses empty ones, and keeps one label per name
    // (case-insensitively): "Bug" and "bug" are the same label.
    let mut labels: Vec<String> = Vec::new();
    for name in new.labels.iter().filter(|l| !l.trim().is_empty()) {
        let canonical = world.ensure_label(repo, name);
        if !labels.contains(&canonical) {
            labels.push(canonical);
        }
    }
    let repo = &mut world.repos[repo];
    let number = repo.issues.iter().map(|i| i.number).max().unwrap_or(0) + 1;
    let node_id = format!("I_kwDOfake{}_{number}", repo.id);
    repo.issues.push(FakeIssue {
        number,
        node_id: node_id.clone(),
        id,
        title: new.title,
        body: new.body,
        open: !new.closed,
        labels,
        assignees: new.assignees,
        created_at: created.unwrap_or(now),
        updated_at: now,
        closed_at: new.closed.then_some(now),
        blocked_by: Vec::new(),
        comments: Vec::new(),
        pull: None,
        corrupt: false,
    });
    (number, node_id)
}

/// The repository a request path is about (`/repos/o/r/...` or `/repositories/<id>/...`).
pub(crate) fn repo_of_path(world: &World, path: &str) -> Option<usize> {
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match segments.as_slice() {
        ["repos", owner, name, ..] => world.repo_index(owner, name),
        ["repositories", id, ..] => id.parse().ok().and_then(|id| world.repo_index_by_id(id)),
        _ => None,
    }
}

fn query_pairs(query: Option<&str>) -> Vec<(String, String)> {
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

fn param<'q>(pairs: &'q [(String, String)], key: &str) -> Option<&'q str> {
    pairs
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

fn not_found() -> Reply {
    Reply::error(StatusCode::NOT_FOUND, "Not Found")
}

fn invalid(message: &str) -> Reply {
    let mut reply = Reply::error(StatusCode::UNPROCESSABLE_ENTITY, "Validation Failed");
    if let Some(body) = reply.body.as_mut() {
        body["errors"] = json!([{ "resource": "Issue", "code": "invalid", "message": message }]);
    }
    reply
}

pub(crate) fn route(
    shared: &mut Shared,
    method: &Method,
    path: &str,
    query: Option<&str>,
    body: Option<&Value>,
) -> Reply {
    let Some(repo) = repo_of_path(&shared.world, path) else {
        return not_found();
    };
    let segments: Vec<String> = path
        .trim_start_matches('/')
        .split('/')
        .map(decode)
        .collect();
    // After `/repos/o/r` (3 segments) or `/repositories/id` (2 segments).
    let skip = if segments[0] == "repos" { 3 } else { 2 };
    let rest: Vec<&str> = segments[skip..].iter().map(String::as_str).collect();
    let pairs = query_pairs(query);
    let base = shared.base.clone();
    let world = &mut shared.world;
    let number = |s: &str| s.parse::<u64>().ok();
    match (method.as_str(), rest.as_slice()) {
        ("GET", ["issues"]) => list_issues(world, repo, &base, &pairs),
        ("POST", ["issues"]) => create_issue(world, repo, &base, body),
        ("GET", ["issues", n]) => with_issue(world, repo, number(n), |world, repo, n| {
            let r = &world.repos[repo];
            Reply::json(
                StatusCode::OK,
                model::issue_json(&base, r, r.issue(n).expect("exists")),
            )
        }),
        ("PATCH", ["issues", n]) => with_issue(world, repo, number(n), |world, repo, n| {
            patch_issue(world, repo, n, &base, body)
        }),
        ("GET", ["issues", n, "labels"]) => with_issue(world, repo, number(n), |world, repo, n| {
            labels_of(world, repo, n, &base)
        }),
        ("POST" | "PUT", ["issues", n, "labels"]) => {
            let replace = method == Method::PUT;
            with_issue(world, repo, number(n), |world, repo, n| {
                set_labels(world, repo, n, &base, body, replace)
            })
        }
        ("DELETE", ["issues", n, "labels", name]) => {
            with_issue(world, repo, number(n), |world, repo, n| {
                let now = world.tick();
                let issue = world.repos[repo].issue_mut(n).expect("exists");
                let before = issue.labels.len();
                issue.labels.retain(|l| !l.eq_ignore_ascii_case(name));
                if issue.labels.len() == before {
                    return Reply::error(StatusCode::NOT_FOUND, "Label does not exist");
                }
                issue.updated_at = now;
                labels_of(world, repo, n, &base)
            })
        }
        ("GET", ["issues", n, "comments"]) => {
            with_issue(world, repo, number(n), |world, repo, n| {
                let r = &world.repos[repo];
                let issue = r.issue(n).expect("exists");
                let list: Vec<Value> = issue
                    .comments
                    .iter()
                    .map(|c| model::comment_json(&base, r, issue, c))
                    .collect();
                Reply::json(StatusCode::OK, Value::Array(list))
            })
        }
        ("POST", ["issues", n, "comments"]) => {
            with_issue(world, repo, number(n), |world, repo, n| {
                let Some(text) = body.and_then(|b| b.get("body")).and_then(Value::as_str) else {
                    return invalid("body is required");
                };
                let now = world.tick();
                let id = world.fresh_id();
                let issue = world.repos[repo].issue_mut(n).expect("exists");
                issue.comments.push(Comment {
                    id,
                    body: text.to_owned(),
                    created_at: now,
                });
                issue.updated_at = now;
                let r = &world.repos[repo];
                let issue = r.issue(n).expect("exists");
                let comment = issue.comments.last().expect("just pushed");
                Reply::json(
                    StatusCode::CREATED,
                    model::comment_json(&base, r, issue, comment),
                )
            })
        }
        ("GET", ["issues", n, "dependencies", "blocked_by"]) => {
            with_issue(world, repo, number(n), |world, repo, n| {
                let r = &world.repos[repo];
                let list: Vec<Value> = r
                    .issue(n)
                    .expect("exists")
                    .blocked_by
                    .iter()
                    .filter_map(|b| r.issue(*b))
                    .map(|b| model::issue_json(&base, r, b))
                    .collect();
                Reply::json(StatusCode::OK, Value::Array(list))
            })
        }
        ("GET", ["labels"]) => {
            let r = &world.repos[repo];
            let list: Vec<Value> = r
                .labels
                .iter()
                .map(|l| model::label_json(&base, r, l))
                .collect();
            Reply::json(StatusCode::OK, Value::Array(list))
        }
        ("GET", ["pulls"]) => {
            let r = &world.repos[repo];
            let state = param(&pairs, "state").unwrap_or("open");
            let head = param(&pairs, "head");
            let list: Vec<Value> = r
                .issues
                .iter()
                .filter(|i| i.pull.is_some())
                .filter(|i| state == "all" || (state == "open") == i.open)
                .filter(|i| {
                    head.is_none_or(|h| {
                        let branch = h.split_once(':').map_or(h, |(_, b)| b);
                        i.pull.as_ref().is_some_and(|p| p.head == branch)
                    })
                })
                .map(|i| model::pull_json(&base, r, i))
                .collect();
            Reply::json(StatusCode::OK, Value::Array(list))
        }
        ("POST", ["pulls"]) => create_pull(world, repo, &base, body),
        ("GET", ["pulls", n]) => {
            let r = &world.repos[repo];
            match number(n)
                .and_then(|n| r.issue(n))
                .filter(|i| i.pull.is_some())
            {
                Some(pull) => Reply::json(StatusCode::OK, model::pull_json(&base, r, pull)),
                None => not_found(),
            }
        }
        ("PATCH", ["pulls", n]) => {
            let now = world.tick();
            let r = &mut world.repos[repo];
            let Some(pull) = number(n)
                .and_then(|n| r.issue_mut(n))
                .filter(|i| i.pull.is_some())
            else {
                return not_found();
            };
            if let Some(title) = body.and_then(|b| b.get("title")).and_then(Value::as_str) {
                pull.title = title.to_owned();
            }
            if let Some(text) = body.and_then(|b| b.get("body")).and_then(Value::as_str) {
                pull.body = Some(text.to_owned());
            }
            pull.updated_at = now;
            let pull = pull.clone();
            Reply::json(
                StatusCode::OK,
                model::pull_json(&base, &world.repos[repo], &pull),
            )
        }
        ("POST", ["statuses", sha]) => {
            let state = body
                .and_then(|b| b.get("state"))
                .and_then(Value::as_str)
                .unwrap_or("");
            if !["error", "failure", "pending", "success"].contains(&state) {
                return invalid("state must be error, failure, pending or success");
            }
            let status = CommitStatus {
                sha: (*sha).to_owned(),
                state: state.to_owned(),
                context: body
                    .and_then(|b| b.get("context"))
                    .and_then(Value::as_str)
                    .unwrap_or("default")
                    .to_owned(),
                description: body
                    .and_then(|b| b.get("description"))
                    .and_then(Value::as_str)
                    .map(str::to_owned),
            };
            let id = world.fresh_id();
            world.repos[repo].statuses.push(status.clone());
            Reply::json(
                StatusCode::CREATED,
                model::status_json(&base, &world.repos[repo], id, &status),
            )
        }
        ("GET", ["commits", sha, "statuses"]) => {
            let r = &world.repos[repo];
            let list: Vec<Value> = r
                .statuses
                .iter()
                .rev()
                .filter(|s| s.sha == *sha)
                .enumerate()
                .map(|(i, s)| model::status_json(&base, r, i as u64 + 1, s))
                .collect();
            Reply::json(StatusCode::OK, Value::Array(list))
        }
        ("POST", ["check-runs"]) => {
            let Some(name) = body.and_then(|b| b.get("name")).and_then(Value::as_str) else {
                return invalid("name is required");
            };
            let Some(head_sha) = body.and_then(|b| b.get("head_sha")).and_then(Value::as_str)
            else {
                return invalid("head_sha is required");
            };
            let annotations = match annotations_of(body) {
                Ok(list) => list,
                Err(reply) => return reply,
            };
            let id = world.fresh_id();
            let run = CheckRun {
                id,
                head_sha: head_sha.to_owned(),
                name: name.to_owned(),
                status: body
                    .and_then(|b| b.get("status"))
                    .and_then(Value::as_str)
                    .unwrap_or("queued")
                    .to_owned(),
                conclusion: body
                    .and_then(|b| b.get("conclusion"))
                    .and_then(Value::as_str)
                    .map(str::to_owned),
                output: body
                    .and_then(|b| b.get("output"))
                    .cloned()
                    .unwrap_or(Value::Null),
                annotations,
            };
            world.repos[repo].check_runs.push(run.clone());
            Reply::json(
                StatusCode::CREATED,
                model::check_run_json(&base, &world.repos[repo], &run),
            )
        }
        ("PATCH", ["check-runs", id]) => {
            let annotations = match annotations_of(body) {
                Ok(list) => list,
                Err(reply) => return reply,
            };
            let r = &mut world.repos[repo];
            let Some(run) = number(id).and_then(|id| r.check_runs.iter_mut().find(|c| c.id == id))
            else {
                return not_found();
            };
            let field = |key: &str| body.and_then(|b| b.get(key)).and_then(Value::as_str);
            if let Some(status) = field("status") {
                run.status = status.to_owned();
            }
            if let Some(conclusion) = field("conclusion") {
                run.conclusion = Some(conclusion.to_owned());
            }
            if let Some(output) = body.and_then(|b| b.get("output")) {
                run.output = output.clone();
            }
            run.annotations.extend(annotations);
            let run = run.clone();
            Reply::json(
                StatusCode::OK,
                model::check_run_json(&base, &world.repos[repo], &run),
            )
        }
        _ => not_found(),
    }
}

/// The annotations of a check-run request; GitHub refuses more than 50 in one request.
fn annotations_of(body: Option<&Value>) -> Result<Vec<Value>, Reply> {
    let list = body
        .and_then(|b| b.get("output"))
        .and_then(|o| o.get("annotations"))
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if list.len() > 50 {
        return Err(invalid("Only 50 annotations are allowed per request"));
    }
    Ok(list)
}

fn with_issue(
    world: &mut World,
    repo: usize,
    number: Option<u64>,
    then: impl FnOnce(&mut World, usize, u64) -> Reply,
) -> Reply {
    match number.filter(|n| world.repos[repo].issue(*n).is_some()) {
        Some(n) => then(world, repo, n),
        None => not_found(),
    }
}

fn labels_of(world: &World, repo: usize, number: u64, base: &str) -> Reply {
    let r = &world.repos[repo];
    let issue = r.issue(number).expect("exists");
    let list: Vec<Value> = issue
        .labels
        .iter()
        .filter_map(|name| r.labels.iter().find(|l| &l.name == name))
        .map(|l| model::label_json(base, r, l))
        .collect();
    Reply::json(StatusCode::OK, Value::Array(list))
}

fn label_names(body: Option<&Value>) -> Option<Vec<String>> {
    let list = match body? {
        Value::Array(list) => list,
        value => value.get("labels")?.as_array()?,
    };
    list.iter()
        .map(|l| match l {
            Value::String(s) => Some(s.clone()),
            other => other.get("name").and_then(Value::as_str).map(str::to_owned),
        })
        .collect()
}

fn set_labels(
    world: &mut World,
    repo: usize,
    number: u64,
    base: &str,
    body: Option<&Value>,
    replace: bool,
) -> Reply {
    let Some(names) = label_names(body) else {
        return invalid("labels must be a list of names");
    };
    let canonical: Vec<String> = names.iter().map(|n| world.ensure_label(repo, n)).collect();
    let now = world.tick();
    let issue = world.repos[repo].issue_mut(number).expect("exists");
    if replace {
        issue.labels.clear();
    }
    for name in canonical {
        if !issue.labels.contains(&name) {
            issue.labels.push(name);
        }
    }
    issue.updated_at = now;
    labels_of(world, repo, number, base)
}

fn patch_issue(
    world: &mut World,
    repo: usize,
    number: u64,
    base: &str,
    body: Option<&Value>,
) -> Reply {
    let Some(body) = body.filter(|b| b.is_object()) else {
        return invalid("the body must be a JSON object");
    };
    let labels = match body.get("labels") {
        Some(_) => match label_names(Some(body)) {
            Some(names) => Some(
                names
                    .iter()
                    .map(|n| world.ensure_label(repo, n))
                    .collect::<Vec<_>>(),
            ),
            None => return invalid("labels must be a list of names"),
        },
        None => None,
    };
    let now = world.tick();
    let issue = world.repos[repo].issue_mut(number).expect("exists");
    if let Some(title) = body.get("title").and_then(Value::as_str) {
        issue.title = title.to_owned();
    }
    if let Some(text) = body.get("body") {
        issue.body = text.as_str().map(str::to_owned);
    }
    match body.get("state").and_then(Value::as_str) {
        Some("closed") => {
            if issue.open {
                issue.closed_at = Some(now);
            }
            issue.open = false;
        }
        Some("open") => {
            issue.open = true;
            issue.closed_at = None;
        }
        Some(_) => return invalid("state must be open or closed"),
        None => {}
    }
    if let Some(labels) = labels {
        issue.labels = labels;
    }
    if let Some(list) = body.get("assignees").and_then(Value::as_array) {
        issue.assignees = list
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect();
    }
    issue.updated_at = now;
    let r = &world.repos[repo];
    Reply::json(
        StatusCode::OK,
        model::issue_json(base, r, r.issue(number).expect("exists")),
    )
}

fn create_issue(world: &mut World, repo: usize, base: &str, body: Option<&Value>) -> Reply {
    let Some(title) = body.and_then(|b| b.get("title")).and_then(Value::as_str) else {
        return invalid("title is required");
    };
    let new = NewIssue {
        title: title.to_owned(),
        body: body
            .and_then(|b| b.get("body"))
            .and_then(Value::as_str)
            .map(str::to_owned),
        labels: label_names(body).unwrap_or_default(),
        assignees: Vec::new(),
        closed: false,
    };
    let (number, _) = file_issue(world, repo, new, None);
    let r = &world.repos[repo];
    Reply::json(
        StatusCode::CREATED,
        model::issue_json(base, r, r.issue(number).expect("exists")),
    )
}

fn create_pull(world: &mut World, repo: usize, base: &str, body: Option<&Value>) -> Reply {
    let field = |key: &str| {
        body.and_then(|b| b.get(key))
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    let (Some(title), Some(head), Some(base_branch)) =
        (field("title"), field("head"), field("base"))
    else {
        return invalid("title, head and base are required");
    };
    let branch = head
        .split_once(':')
        .map_or(head.clone(), |(_, b)| b.to_owned());
    if world.repos[repo]
        .issues
        .iter()
        .any(|i| i.open && i.pull.as_ref().is_some_and(|p| p.head == branch))
    {
        return invalid(&format!("A pull request already exists for {head}."));
    }
    let new = NewIssue {
        title,
        body: field("body"),
        ..NewIssue::default()
    };
    let (number, _) = file_issue(world, repo, new, None);
    let issue = world.repos[repo].issue_mut(number).expect("exists");
    issue.pull = Some(super::PullRequest {
        head: branch,
        base: base_branch,
        head_sha: format!("{number:040x}"),
        draft: body
            .and_then(|b| b.get("draft"))
            .and_then(Value::as_bool)
            .unwrap_or(false),
    });
    let r = &world.repos[repo];
    Reply::json(
        StatusCode::CREATED,
        model::pull_json(base, r, r.issue(number).expect("exists")),
    )
}

fn list_issues(world: &World, repo: usize, base: &str, pairs: &[(String, String)]) -> Reply {
    let r = &world.repos[repo];
    let state = param(pairs, "state").unwrap_or("open");
    if !["open", "closed", "all"].contains(&state) {
        return invalid("state must be open, closed or all");
    }
    let wanted_labels: Vec<String> = param(pairs, "labels")
        .map(|l| {
            l.split(',')
                .map(|s| s.trim().to_lowercase())
                .filter(|s| !s.is_empty())
                .collect()
        })
        .unwrap_or_default();
    let since = param(pairs, "since").and_then(|s| DateTime::parse_from_rfc3339(s).ok());
    let assignee = param(pairs, "assignee");
    let per_page = param(pairs, "per_page")
        .and_then(|p| p.parse::<usize>().ok())
        .unwrap_or(30)
        .clamp(1, 100);
    let page = param(pairs, "page")
        .and_then(|p| p.parse::<usize>().ok())
        .unwrap_or(1)
        .max(1);
    let mut issues: Vec<&FakeIssue> = r
        .issues
        .iter()
        .filter(|i| state == "all" || (state == "open") == i.open)
        .filter(|i| {
            wanted_labels
                .iter()
                .all(|w| i.labels.iter().any(|l| l.to_lowercase() == *w))
        })
        .filter(|i| since.is_none_or(|s| i.updated_at >= s))
        .filter(|i| match assignee {
            None => true,
            Some("*") => !i.assignees.is_empty(),
            Some("none") => i.assignees.is_empty(),
            Some(login) => i.assignees.iter().any(|a| a.eq_ignore_ascii_case(login)),
        })
        .collect();
    let by_updated = param(pairs, "sort") == Some("updated");
    issues.sort_by_key(|i| {
        (
            if by_updated {
                i.updated_at
            } else {
                i.created_at
            },
            i.number,
        )
    });
    if param(pairs, "direction").unwrap_or("desc") == "desc" {
        issues.reverse();
    }
    let pages = issues.len().div_ceil(per_page).max(1);
    let list: Vec<Value> = issues
        .iter()
        .skip((page - 1) * per_page)
        .take(per_page)
        .map(|i| model::issue_json(base, r, i))
        .collect();
    let mut reply = Reply::json(StatusCode::OK, Value::Array(list));
    // GitHub's links point at /repositories/<id>/..., with the query kept and `page` set.
    let link = |n: usize| {
        let mut query: Vec<String> = pairs
            .iter()
            .filter(|(k, _)| k != "page")
            .map(|(k, v)| format!("{k}={}", encode(v)))
            .collect();
        query.push(format!("page={n}"));
        format!("<{base}/repositories/{}/issues?{}>", r.id, query.join("&"))
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

fn encode(text: &str) -> String {
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
