//! Executes one GraphQL request against the world, as Linear would: the operation's root
//! fields are resolved (reads with Linear's filter semantics and cursor pagination, the
//! mutations Symphony and its tool use), then each result is cut down to what the query
//! selects. Filters and arguments the fake does not know are errors, never ignored, so a
//! test cannot pass on a filter that was silently dropped. The query's complexity is
//! computed with Linear's documented rule (objects 1, properties 0.1, connections times
//! `first`, default 50).

use apollo_compiler::ast::{Definition, Document, Field, OperationType, Selection, Value as Ast};
use serde_json::{json, Map, Value};

use super::model::World;

/// What a request produced: the response body and the query's complexity.
pub struct Executed {
    /// `{"data": …}` or `{"errors": […], "data": null}`.
    pub body: Value,
    /// Linear's complexity points for the query.
    pub complexity: u64,
}

fn error(message: impl Into<String>, code: &str) -> Value {
    json!({"errors": [{"message": message.into(), "extensions": {"code": code}}], "data": null})
}

fn resolve(value: &Ast, variables: &Value) -> Value {
    match value {
        Ast::Null => Value::Null,
        Ast::Variable(name) => variables.get(name.as_str()).cloned().unwrap_or(Value::Null),
        Ast::String(s) => json!(s),
        Ast::Enum(name) => json!(name.as_str()),
        Ast::Boolean(b) => json!(b),
        Ast::Int(i) => serde_json::from_str(i.as_str()).unwrap_or(Value::Null),
        Ast::Float(f) => serde_json::from_str(f.as_str()).unwrap_or(Value::Null),
        Ast::List(items) => Value::Array(items.iter().map(|v| resolve(v, variables)).collect()),
        Ast::Object(fields) => Value::Object(
            fields
                .iter()
                .map(|(k, v)| (k.to_string(), resolve(v, variables)))
                .collect::<Map<_, _>>(),
        ),
    }
}

fn arguments(field: &Field, variables: &Value) -> Map<String, Value> {
    field
        .arguments
        .iter()
        .map(|a| (a.name.to_string(), resolve(&a.value, variables)))
        .collect()
}

/// Linear's comparators on one value.
fn compare(value: &Value, comparator: &Map<String, Value>) -> Result<bool, String> {
    let text = value.as_str().map(str::to_lowercase);
    comparator.iter().try_fold(true, |all, (op, want)| {
        let ok = match op.as_str() {
            "eq" => value == want,
            "neq" => value != want,
            "eqIgnoreCase" => text.is_some() && text == want.as_str().map(str::to_lowercase),
            "in" => want.as_array().is_some_and(|list| list.contains(value)),
            "nin" => want.as_array().is_some_and(|list| !list.contains(value)),
            "null" => value.is_null() == want.as_bool().unwrap_or(false),
            // Dates are ISO 8601 strings in one format here: they order as text.
            "gt" | "gte" | "lt" | "lte" => {
                let order = match (value, want) {
                    (Value::String(a), Value::String(b)) => a.cmp(b),
                    (Value::Number(a), Value::Number(b)) => a
                        .as_f64()
                        .unwrap_or_default()
                        .total_cmp(&b.as_f64().unwrap_or_default()),
                    _ => return Ok(false),
                };
                match op.as_str() {
                    "gt" => order.is_gt(),
                    "gte" => order.is_ge(),
                    "lt" => order.is_lt(),
                    _ => order.is_le(),
                }
            }
            other => return Err(format!("the fake does not support comparator `{other}`")),
        };
        Ok(all && ok)
    })
}

const COMPARATORS: [&str; 10] = [
    "eq",
    "neq",
    "eqIgnoreCase",
    "in",
    "nin",
    "null",
    "gt",
    "gte",
    "lt",
    "lte",
];

/// Whether `object` passes `filter` (Linear's nested filter objects, `and`/`or`).
pub(crate) fn matches(object: &Value, filter: &Value) -> Result<bool, String> {
    let Some(filter) = filter.as_object() else {
        return Ok(true);
    };
    for (key, sub) in filter {
        let ok = match key.as_str() {
            "and" => sub
                .as_array()
                .into_iter()
                .flatten()
                .try_fold(true, |all, f| Ok::<_, String>(all && matches(object, f)?))?,
            "or" => {
                let list = sub.as_array().cloned().unwrap_or_default();
                let mut any = list.is_empty();
                for f in &list {
                    any |= matches(object, f)?;
                }
                any
            }
            field => {
                let value = object.get(field).cloned().unwrap_or(Value::Null);
                match sub.as_object() {
                    Some(map) if map.keys().all(|k| COMPARATORS.contains(&k.as_str())) => {
                        compare(&value, map)?
                    }
                    Some(_) if value.is_null() => false,
                    Some(_) => matches(&value, sub)?,
                    None => return Err(format!("filter `{field}` must be an object")),
                }
            }
        };
        if !ok {
            return Ok(false);
        }
    }
    Ok(true)
}

/// A page of `items` after `after` (a cursor is the id of the last item seen).
fn page(items: Vec<Value>, args: &Map<String, Value>) -> Result<Value, String> {
    let first = args.get("first").and_then(Value::as_u64).unwrap_or(50);
    if first > 250 {
        return Err("first must be at most 250".to_owned());
    }
    let start = match args.get("after").and_then(Value::as_str) {
        None => 0,
        Some(cursor) => {
            items
                .iter()
                .position(|i| i.get("id").and_then(Value::as_str) == Some(cursor))
                .ok_or_else(|| format!("cursor {cursor:?} is not valid"))?
                + 1
        }
    };
    let slice: Vec<Value> = items
        .iter()
        .skip(start)
        .take(first as usize)
        .cloned()
        .collect();
    let more = start + slice.len() < items.len();
    let end = slice.last().and_then(|i| i.get("id")).cloned();
    Ok(json!({"nodes": slice, "pageInfo": {"hasNextPage": more, "endCursor": end}}))
}

fn check_known(args: &Map<String, Value>, known: &[&str]) -> Result<(), String> {
    match args.keys().find(|k| !known.contains(&k.as_str())) {
        Some(k) => Err(format!("the fake does not support argument `{k}`")),
        None => Ok(()),
    }
}

fn query_root(world: &World, field: &Field, variables: &Value) -> Result<Value, String> {
    let args = arguments(field, variables);
    match field.name.as_str() {
        "issues" => {
            check_known(&args, &["filter", "first", "after", "orderBy"])?;
            let filter = args.get("filter").cloned().unwrap_or(Value::Null);
            let mut items = Vec::new();
            for issue in &world.issues {
                let object = world.issue_json(issue, 1);
                if matches(&object, &filter)? {
                    items.push(object);
                }
            }
            // Linear: creation order by default; `updatedAt` gives the most recently
            // updated first.
            match args.get("orderBy").and_then(Value::as_str) {
                None | Some("createdAt") => {}
                Some("updatedAt") => items.sort_by(|a, b| {
                    let stamp = |v: &Value| {
                        v.get("updatedAt")
                            .and_then(Value::as_str)
                            .map(str::to_owned)
                    };
                    stamp(b).cmp(&stamp(a))
                }),
                Some(other) => return Err(format!("orderBy {other} is not a PaginationOrderBy")),
            }
            page(items, &args)
        }
        "issue" => {
            check_known(&args, &["id"])?;
            let id = args.get("id").and_then(Value::as_str).unwrap_or_default();
            world
                .issue(id)
                .map(|i| world.issue_json(i, 1))
                .ok_or_else(|| "Entity not found: Issue".to_owned())
        }
        "workflowStates" => {
            check_known(&args, &["filter", "first", "after"])?;
            let filter = args.get("filter").cloned().unwrap_or(Value::Null);
            let mut items = Vec::new();
            for state in world.all_states() {
                if matches(&state, &filter)? {
                    items.push(state);
                }
            }
            page(items, &args)
        }
        "team" => {
            let id = args.get("id").and_then(Value::as_str).unwrap_or_default();
            match world.team_object(id) {
                Value::Null => Err("Entity not found: Team".to_owned()),
                team => Ok(team),
            }
        }
        "viewer" => Ok(world.viewer_json()),
        other => Err(format!("the fake does not serve Query.{other}")),
    }
}

fn mutation_root(world: &mut World, field: &Field, variables: &Value) -> Result<Value, String> {
    let args = arguments(field, variables);
    let input = args.get("input").cloned().unwrap_or(Value::Null);
    let text = |v: &Value, key: &str| v.get(key).and_then(Value::as_str).map(str::to_owned);
    let find = |world: &World, id: Option<String>| {
        let id = id.unwrap_or_default();
        world
            .issues
            .iter()
            .position(|i| i.id == id || i.identifier.eq_ignore_ascii_case(&id))
            .ok_or_else(|| "Entity not found: Issue".to_owned())
    };
    match field.name.as_str() {
        "issueUpdate" => {
            let at = find(world, text(&Value::Object(args.clone()), "id"))?;
            let now = world.tick();
            if let Some(state) = text(&input, "stateId") {
                let team = world.issues[at].team.clone();
                match world.state(&state) {
                    Some((t, _)) if t.key == team => world.issues[at].state_id = state,
                    _ => return Err("Invalid state for this team".to_owned()),
                }
            }
            if let Some(title) = text(&input, "title") {
                world.issues[at].title = title;
            }
            world.issues[at].updated = now;
            Ok(json!({"success": true, "issue": world.issue_json(&world.issues[at], 1)}))
        }
        "commentCreate" => {
            let at = find(world, text(&input, "issueId"))?;
            let body = text(&input, "body").unwrap_or_default();
            world.issues[at].comments.push(body.clone());
            Ok(json!({"success": true, "comment": {"body": body}}))
        }
        "attachmentLinkURL" => {
            let at = find(world, text(&Value::Object(args.clone()), "issueId"))?;
            let url = text(&Value::Object(args.clone()), "url").unwrap_or_default();
            world.issues[at].attachments.push(url.clone());
            Ok(json!({"success": true, "attachment": {"url": url}}))
        }
        "issueRelationCreate" => {
            let blocker = find(world, text(&input, "issueId"))?;
            let blocked = find(world, text(&input, "relatedIssueId"))?;
            let id = world.issues[blocker].id.clone();
            world.issues[blocked].blocked_by.push(id);
            Ok(json!({"success": true}))
        }
        other => Err(format!("the fake does not serve Mutation.{other}")),
    }
}

/// `value` cut down to `selections` (aliases honoured, fragments applied).
fn project(value: &Value, selections: &[Selection], fragments: &Document) -> Value {
    match value {
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|i| project(i, selections, fragments))
                .collect(),
        ),
        Value::Object(object) => {
            let mut out = Map::new();
            collect(object, selections, fragments, &mut out);
            Value::Object(out)
        }
        other => other.clone(),
    }
}

fn collect(
    object: &Map<String, Value>,
    selections: &[Selection],
    doc: &Document,
    out: &mut Map<String, Value>,
) {
    for selection in selections {
        match selection {
            Selection::Field(field) => {
                let key = field.alias.as_ref().unwrap_or(&field.name).to_string();
                let value = object
                    .get(field.name.as_str())
                    .cloned()
                    .unwrap_or(Value::Null);
                out.insert(key, project(&value, &field.selection_set, doc));
            }
            Selection::InlineFragment(inline) => collect(object, &inline.selection_set, doc, out),
            Selection::FragmentSpread(spread) => {
                for definition in &doc.definitions {
                    if let Definition::FragmentDefinition(f) = definition {
                        if f.name == spread.fragment_name {
                            collect(object, &f.selection_set, doc, out);
                        }
                    }
                }
            }
        }
    }
}

/// Linear's complexity rule over a selection set.
fn complexity(selections: &[Selection], doc: &Document, variables: &Value) -> f64 {
    selections
        .iter()
        .map(|selection| match selection {
            Selection::Field(field) if field.selection_set.is_empty() => 0.1,
            Selection::Field(field) => {
                let first = arguments(field, variables)
                    .get("first")
                    .and_then(Value::as_f64);
                let connection = first.is_some()
                    || field.selection_set.iter().any(|s| {
                        matches!(s, Selection::Field(f) if f.name == "nodes" || f.name == "edges")
                    });
                let children = complexity(&field.selection_set, doc, variables);
                1.0 + if connection {
                    first.unwrap_or(50.0) * children
                } else {
                    children
                }
            }
            Selection::InlineFragment(inline) => complexity(&inline.selection_set, doc, variables),
            Selection::FragmentSpread(spread) => doc
                .definitions
                .iter()
                .filter_map(|d| match d {
                    Definition::FragmentDefinition(f) if f.name == spread.fragment_name => {
                        Some(complexity(&f.selection_set, doc, variables))
                    }
                    _ => None,
                })
                .sum(),
        })
        .sum()
}

/// Runs `query` with `variables` against `world`.
pub fn execute(world: &mut World, query: &str, variables: &Value) -> Executed {
    let doc = match Document::parse(query, "request.graphql") {
        Ok(doc) => doc,
        Err(e) => {
            return Executed {
                body: error(
                    format!("Syntax Error: {}", e.errors),
                    "GRAPHQL_PARSE_FAILED",
                ),
                complexity: 0,
            }
        }
    };
    let operations: Vec<_> = doc
        .definitions
        .iter()
        .filter_map(|d| match d {
            Definition::OperationDefinition(op) => Some(op.clone()),
            _ => None,
        })
        .collect();
    let [operation] = operations.as_slice() else {
        return Executed {
            body: error(
                "Must provide exactly one operation",
                "GRAPHQL_VALIDATION_FAILED",
            ),
            complexity: 0,
        };
    };
    let points = complexity(&operation.selection_set, &doc, variables).ceil() as u64;
    let mut data = Map::new();
    for selection in &operation.selection_set {
        let Selection::Field(field) = selection else {
            continue;
        };
        let result = match operation.operation_type {
            OperationType::Mutation => mutation_root(world, field, variables),
            _ => query_root(world, field, variables),
        };
        match result {
            Ok(value) => {
                let key = field.alias.as_ref().unwrap_or(&field.name).to_string();
                data.insert(key, project(&value, &field.selection_set, &doc));
            }
            Err(message) => {
                let code = if message.starts_with("Entity not found") {
                    "INPUT_ERROR"
                } else {
                    "INVALID_INPUT"
                };
                return Executed {
                    body: error(message, code),
                    complexity: points,
                };
            }
        }
    }
    Executed {
        body: json!({"data": data}),
        complexity: points,
    }
}
