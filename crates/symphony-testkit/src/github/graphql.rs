//! The GraphQL operations Symphony sends, validated against GitHub's schema (the part Symphony
//! uses, `graphql_schema`), answered from the fake's world by operation name, with GitHub's
//! shapes: `null` plus a `NOT_FOUND` error for an unknown node id, at most 100
//! ids per `nodes` call, cursor pagination for board items.

use axum::http::StatusCode;
use serde_json::{json, Value};

use super::exchange::Reply;
use super::graphql_reviews;
use super::model::Project;
use super::render;
use super::state::Shared;

fn operation_name(document: &str) -> Option<&str> {
    let document = document.trim_start();
    let rest = document
        .strip_prefix("query ")
        .or_else(|| document.strip_prefix("mutation "))?;
    let end = rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))?;
    Some(&rest[..end])
}

fn errors(messages: &[Value]) -> Reply {
    Reply::json(StatusCode::OK, json!({ "errors": messages }))
}

pub(crate) fn answer(shared: &mut Shared, body: Option<&Value>) -> Reply {
    let Some(document) = body.and_then(|b| b.get("query")).and_then(Value::as_str) else {
        return Reply::error(StatusCode::BAD_REQUEST, "Problems parsing JSON");
    };
    let empty = json!({});
    let variables = body.and_then(|b| b.get("variables")).unwrap_or(&empty);
    // GitHub validates a document against its schema before it runs any of it.
    if let Err(problems) = super::graphql_schema::validate(document) {
        return errors(&problems);
    }
    match operation_name(document) {
        Some("SymphonyRefresh") => nodes(shared, variables, None),
        Some("SymphonyRefreshProject") => {
            let fields = (
                variables
                    .get("status")
                    .and_then(Value::as_str)
                    .unwrap_or("Status"),
                variables
                    .get("priority")
                    .and_then(Value::as_str)
                    .unwrap_or(""),
            );
            nodes(shared, variables, Some(fields))
        }
        Some("SymphonyProjectItems") => project_items(shared, variables),
        Some("SymphonyReviewThreads") => graphql_reviews::threads(shared, variables),
        Some("SymphonyResolveThread") => graphql_reviews::resolve(shared, variables),
        other => errors(&[json!({
            "message": format!("the fake serves Symphony's operations only, not {other:?}")
        })]),
    }
}

fn field_value(value: Option<&Value>) -> Value {
    match value {
        None | Some(Value::Null) => Value::Null,
        Some(Value::Number(n)) => json!({ "number": n }),
        Some(Value::String(s)) => json!({ "name": s }),
        Some(other) => other.clone(),
    }
}

fn item_fields(
    project: &Project,
    status: Option<&String>,
    priority: Option<&Value>,
    status_name: &str,
    priority_name: &str,
) -> (Value, Value) {
    let status = if project.status_field.eq_ignore_ascii_case(status_name) {
        status.map_or(Value::Null, |s| json!({ "name": s }))
    } else {
        Value::Null
    };
    let priority = if project
        .priority_field
        .as_deref()
        .is_some_and(|p| p.eq_ignore_ascii_case(priority_name))
    {
        field_value(priority)
    } else {
        Value::Null
    };
    (status, priority)
}

fn nodes(shared: &mut Shared, variables: &Value, project_fields: Option<(&str, &str)>) -> Reply {
    let Some(ids) = variables.get("ids").and_then(Value::as_array) else {
        return errors(&[
            json!({"message": "Variable $ids of type [ID!]! was provided invalid value"}),
        ]);
    };
    if ids.len() > 100 {
        return errors(&[json!({
            "message": "You may not provide more than 100 node ids; you provided 101."
        })]);
    }
    let world = &shared.world;
    let mut out = Vec::new();
    let mut problems = Vec::new();
    for (index, id) in ids.iter().enumerate() {
        let id = id.as_str().unwrap_or_default();
        match world.node(id) {
            Some((repo, issue)) => {
                let mut node = render::issue_node(repo, issue);
                if let (Some((status_name, priority_name)), true) =
                    (project_fields, issue.pull.is_none())
                {
                    let items: Vec<Value> = world
                        .projects
                        .iter()
                        .flat_map(|p| p.items.iter().map(move |i| (p, i)))
                        .filter(|(_, item)| item.content == issue.node_id)
                        .map(|(p, item)| {
                            let (status, priority) = item_fields(
                                p,
                                item.status.as_ref(),
                                item.priority.as_ref(),
                                status_name,
                                priority_name,
                            );
                            json!({
                                "id": item.id,
                                "project": { "number": p.number, "owner": { "login": p.owner } },
                                "status": status,
                                "priority": priority,
                            })
                        })
                        .collect();
                    node["projectItems"] = json!({ "nodes": items });
                }
                out.push(node);
            }
            None => {
                out.push(Value::Null);
                problems.push(json!({
                    "type": "NOT_FOUND",
                    "path": ["nodes", index],
                    "locations": [{"line": 2, "column": 3}],
                    "message": format!("Could not resolve to a node with the global id of '{id}'")
                }));
            }
        }
    }
    let mut body = json!({ "data": { "nodes": out } });
    if !problems.is_empty() {
        body["errors"] = Value::Array(problems);
    }
    Reply::json(StatusCode::OK, body)
}

const PAGE: usize = 100;

fn project_items(shared: &mut Shared, variables: &Value) -> Reply {
    let owner = variables
        .get("owner")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let number = variables.get("number").and_then(Value::as_u64).unwrap_or(0);
    let status_name = variables
        .get("status")
        .and_then(Value::as_str)
        .unwrap_or("Status");
    let priority_name = variables
        .get("priority")
        .and_then(Value::as_str)
        .unwrap_or("");
    let world = &shared.world;
    let Some(project) = world
        .projects
        .iter()
        .find(|p| p.owner.eq_ignore_ascii_case(owner) && p.number == number)
    else {
        return Reply::json(
            StatusCode::OK,
            json!({
                "data": { "repositoryOwner": { "projectV2": null } },
                "errors": [{
                    "type": "NOT_FOUND",
                    "path": ["repositoryOwner", "projectV2"],
                    "message": format!("Could not resolve to a ProjectV2 with the number {number}.")
                }]
            }),
        );
    };
    let start = match variables.get("after").and_then(Value::as_str) {
        Some(cursor) => match cursor
            .strip_prefix("cursor:")
            .and_then(|n| n.parse::<usize>().ok())
        {
            Some(n) => n,
            None => {
                return errors(&[
                    json!({"message": format!("`{cursor}` does not appear to be a valid cursor.")}),
                ])
            }
        },
        None => 0,
    };
    let page: Vec<Value> = project
        .items
        .iter()
        .skip(start)
        .take(PAGE)
        .map(|item| {
            let (status, priority) = item_fields(
                project,
                item.status.as_ref(),
                item.priority.as_ref(),
                status_name,
                priority_name,
            );
            let content = world
                .node(&item.content)
                .map_or(Value::Null, |(repo, issue)| render::issue_node(repo, issue));
            json!({ "id": item.id, "status": status, "priority": priority, "content": content })
        })
        .collect();
    let end = start + page.len();
    let body = json!({
        "data": { "repositoryOwner": { "projectV2": { "items": {
            "pageInfo": { "hasNextPage": end < project.items.len(), "endCursor": format!("cursor:{end}") },
            "nodes": page
        }}}}
    });
    Reply::json(StatusCode::OK, body)
}
