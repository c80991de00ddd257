//! The REST handlers behind `rest::route` that read or change issues, pulls, labels and
//! check-run annotations.

use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde_json::Value;

use super::exchange::Reply;
use super::model::{FakeIssue, World};
use super::render;
use super::rest_query::{paged, param};
use super::state::NewIssue;

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

/// The annotations of a check-run request; GitHub refuses more than 50 in one request.
pub(crate) fn annotations_of(body: Option<&Value>) -> Result<Vec<Value>, Reply> {
    let list = body
        .and_then(|b| b.get("output"))
        .and_then(|o| o.get("annotations"))
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if list.len() > 50 {
        return Err(Reply::invalid(
            "Only 50 annotations are allowed per request",
        ));
    }
    Ok(list)
}

pub(crate) fn with_issue(
    world: &mut World,
    repo: usize,
    number: Option<u64>,
    then: impl FnOnce(&mut World, usize, u64) -> Reply,
) -> Reply {
    match number.filter(|n| world.repos[repo].issue(*n).is_some()) {
        Some(n) => then(world, repo, n),
        None => Reply::not_found(),
    }
}

pub(crate) fn labels_of(world: &World, repo: usize, number: u64, base: &str) -> Reply {
    let r = &world.repos[repo];
    let issue = r.issue(number).expect("exists");
    let list: Vec<Value> = issue
        .labels
        .iter()
        .filter_map(|name| r.labels.iter().find(|l| &l.name == name))
        .map(|l| render::label_json(base, r, l))
        .collect();
    Reply::json(StatusCode::OK, Value::Array(list))
}

pub(crate) fn label_names(body: Option<&Value>) -> Option<Vec<String>> {
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

pub(crate) fn set_labels(
    world: &mut World,
    repo: usize,
    number: u64,
    base: &str,
    body: Option<&Value>,
    replace: bool,
) -> Reply {
    let Some(names) = label_names(body) else {
        return Reply::invalid("labels must be a list of names");
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

pub(crate) fn patch_issue(
    world: &mut World,
    repo: usize,
    number: u64,
    base: &str,
    body: Option<&Value>,
) -> Reply {
    let Some(body) = body.filter(|b| b.is_object()) else {
        return Reply::invalid("the body must be a JSON object");
    };
    let labels = match body.get("labels") {
        Some(_) => match label_names(Some(body)) {
            Some(names) => Some(
                names
                    .iter()
                    .map(|n| world.ensure_label(repo, n))
                    .collect::<Vec<_>>(),
            ),
            None => return Reply::invalid("labels must be a list of names"),
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
        Some(_) => return Reply::invalid("state must be open or closed"),
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
        render::issue_json(base, r, r.issue(number).expect("exists")),
    )
}

pub(crate) fn create_issue(
    world: &mut World,
    repo: usize,
    base: &str,
    body: Option<&Value>,
) -> Reply {
    let Some(title) = body.and_then(|b| b.get("title")).and_then(Value::as_str) else {
        return Reply::invalid("title is required");
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
        render::issue_json(base, r, r.issue(number).expect("exists")),
    )
}

pub(crate) fn create_pull(
    world: &mut World,
    repo: usize,
    base: &str,
    body: Option<&Value>,
) -> Reply {
    let field = |key: &str| {
        body.and_then(|b| b.get(key))
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    let (Some(title), Some(head), Some(base_branch)) =
        (field("title"), field("head"), field("base"))
    else {
        return Reply::invalid("title, head and base are required");
    };
    let branch = head
        .split_once(':')
        .map_or(head.clone(), |(_, b)| b.to_owned());
    if world.repos[repo]
        .issues
        .iter()
        .any(|i| i.open && i.pull.as_ref().is_some_and(|p| p.head == branch))
    {
        return Reply::invalid(&format!("A pull request already exists for {head}."));
    }
    let new = NewIssue {
        title,
        body: field("body"),
        ..NewIssue::default()
    };
    let (number, _) = file_issue(world, repo, new, None);
    // The head is the branch's as pushed, when the fake was told of it.
    let head_sha = world.repos[repo]
        .branches
        .get(&branch)
        .cloned()
        .unwrap_or_else(|| format!("{number:040x}"));
    let issue = world.repos[repo].issue_mut(number).expect("exists");
    let mut pull = super::PullRequest::new(&branch, &base_branch, &head_sha);
    pull.draft = body
        .and_then(|b| b.get("draft"))
        .and_then(Value::as_bool)
        .unwrap_or(false);
    issue.pull = Some(pull);
    let r = &world.repos[repo];
    Reply::json(
        StatusCode::CREATED,
        render::pull_json(base, r, r.issue(number).expect("exists")),
    )
}

pub(crate) fn list_issues(
    world: &World,
    repo: usize,
    base: &str,
    pairs: &[(String, String)],
) -> Reply {
    let r = &world.repos[repo];
    let state = param(pairs, "state").unwrap_or("open");
    if !["open", "closed", "all"].contains(&state) {
        return Reply::invalid("state must be open, closed or all");
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
    paged(
        base,
        r.id,
        "issues",
        pairs,
        issues,
        |issue| render::issue_json(base, r, issue),
        |shown, _| Value::Array(shown),
    )
}
