//! The `linear_graphql` tool (SPEC §10.5): one GraphQL query or mutation per call, run with
//! Symphony's key, confined to the configured team (and project). The document is parsed
//! and judged on its structure before anything is sent:
//! - exactly one operation, a query or a mutation (no subscriptions);
//! - its root fields from a short list: `issue`, `team`, `viewer`; `issueUpdate`,
//!   `commentCreate`, `attachmentLinkURL`, `issueRelationCreate`;
//! - every issue it names (by argument or variable) is read first and must be in scope; a
//!   `team` must be the configured one; `issueUpdate` may not change the team or project;
//! - no field anywhere that leads out of the team or into the workspace's settings
//!   (`organization`, `teams`, `users`, `integrations`, `webhooks`, a user's issues, …).

use std::collections::BTreeSet;

use apollo_compiler::ast::{Definition, Document, OperationType, Selection, Value as Ast};
use serde_json::{json, Map, Value};
use symphony_tracker::{ToolContext, ToolResult, ToolSpec, TrackerError, TrackerErrorCategory};

use crate::client::{Client, Repeat};
use crate::config::LinearConfig;
use crate::documents::SCOPE;
use crate::record;

/// The tool's name.
pub const TOOL: &str = "linear_graphql";

const QUERY_ROOTS: [&str; 3] = ["issue", "team", "viewer"];
const MUTATION_ROOTS: [&str; 4] = [
    "issueUpdate",
    "commentCreate",
    "attachmentLinkURL",
    "issueRelationCreate",
];
/// Fields that lead out of the team or into workspace settings, refused at any depth.
const DENIED: [&str; 16] = [
    "organization",
    "teams",
    "users",
    "integrations",
    "webhooks",
    "apiKeys",
    "assignedIssues",
    "createdIssues",
    "delegatedIssues",
    "subscribedIssues",
    "teamMemberships",
    "notifications",
    "organizationInvites",
    "authorizedApplications",
    "auditEntries",
    "favorites",
];

/// What the tool offers the agent.
pub(crate) fn spec() -> ToolSpec {
    let examples = crate::documents::tool_examples().join("\n");
    ToolSpec::new(
        TOOL,
        format!(
            "Run one GraphQL query or mutation against Linear with Symphony's credentials, \
             confined to the configured team: read an issue, team or viewer; update an issue, \
             comment on it, link a URL to it, or relate it to another issue of the team. \
             Issues may be named by id or identifier (ENG-123). Examples:\n{examples}"
        ),
        json!({
            "type": "object",
            "properties": {
                "query": {"type": "string", "description": "One GraphQL operation"},
                "variables": {"type": "object", "description": "Its variables"}
            },
            "required": ["query"],
            "additionalProperties": false
        }),
    )
    .mutating()
}

/// What a document asks for, once judged acceptable.
struct Plan {
    mutation: bool,
    /// Issues it names: each must be in scope.
    issues: BTreeSet<String>,
    /// An `issueUpdate` that sets a state, and on which issue.
    moves: Option<String>,
}

fn refuse(message: impl Into<String>) -> ToolResult {
    ToolResult::failure(format!("linear_graphql refused: {}", message.into()))
}

/// The JSON an argument value stands for, variables substituted.
fn resolve(value: &Ast, variables: &Value) -> Value {
    match value {
        Ast::Null => Value::Null,
        Ast::Variable(name) => variables.get(name.as_str()).cloned().unwrap_or(Value::Null),
        Ast::String(s) => Value::String(s.clone()),
        Ast::Enum(name) => Value::String(name.to_string()),
        Ast::Boolean(b) => Value::Bool(*b),
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

fn denied_field(selections: &[Selection]) -> Option<String> {
    selections.iter().find_map(|selection| match selection {
        Selection::Field(field) => {
            if DENIED.contains(&field.name.as_str()) {
                Some(field.name.to_string())
            } else {
                denied_field(&field.selection_set)
            }
        }
        Selection::InlineFragment(inline) => denied_field(&inline.selection_set),
        Selection::FragmentSpread(_) => None,
    })
}

/// Judges `query` on its structure alone; what it names is checked against the tracker next.
fn plan(
    config: &LinearConfig,
    query: &str,
    variables: &Value,
    context: &ToolContext,
) -> Result<Plan, String> {
    let document = Document::parse(query, "linear_graphql.graphql")
        .map_err(|e| format!("the document does not parse: {}", e.errors))?;
    let mut operations = Vec::new();
    for definition in &document.definitions {
        match definition {
            Definition::OperationDefinition(op) => operations.push(op),
            Definition::FragmentDefinition(fragment) => {
                if let Some(field) = denied_field(&fragment.selection_set) {
                    return Err(format!("`{field}` leads outside the team"));
                }
            }
            _ => return Err("only an operation (and its fragments) may be sent".to_owned()),
        }
    }
    let [operation] = operations.as_slice() else {
        return Err(format!(
            "send exactly one operation per call; this document has {}",
            operations.len()
        ));
    };
    let mutation = match operation.operation_type {
        OperationType::Query => false,
        OperationType::Mutation => true,
        OperationType::Subscription => return Err("subscriptions are not offered".to_owned()),
    };
    if let Some(field) = denied_field(&operation.selection_set) {
        return Err(format!("`{field}` leads outside the team"));
    }
    let mut plan = Plan {
        mutation,
        issues: BTreeSet::new(),
        moves: None,
    };
    let allowed: &[&str] = if mutation {
        &MUTATION_ROOTS
    } else {
        &QUERY_ROOTS
    };
    for selection in &operation.selection_set {
        let Selection::Field(field) = selection else {
            return Err("root fields must be named, not spread from fragments".to_owned());
        };
        let name = field.name.as_str();
        if name.starts_with("__") {
            continue;
        }
        if !allowed.contains(&name) {
            return Err(format!(
                "`{name}` is not offered; root fields allowed here: {}",
                allowed.join(", ")
            ));
        }
        let argument = |key: &str| {
            field
                .arguments
                .iter()
                .find(|a| a.name.as_str() == key)
                .map(|a| resolve(&a.value, variables))
                .unwrap_or(Value::Null)
        };
        let mut issue = |value: &Value, what: &str| match value.as_str() {
            Some(id) if !id.trim().is_empty() => {
                plan.issues.insert(id.trim().to_owned());
                Ok(id.trim().to_owned())
            }
            _ => Err(format!("`{name}` needs {what} as a string")),
        };
        match name {
            "issue" => {
                issue(&argument("id"), "`id`")?;
            }
            "team" => {
                let id = argument("id");
                let id = id.as_str().unwrap_or_default();
                let ours = config
                    .team
                    .as_deref()
                    .is_some_and(|t| t.eq_ignore_ascii_case(id))
                    || context
                        .issue
                        .native_ref
                        .as_ref()
                        .and_then(|n| n.get("team_id"))
                        .and_then(Value::as_str)
                        == Some(id);
                if !ours {
                    return Err(format!("team {id:?} is not the configured team"));
                }
            }
            "issueUpdate" => {
                let id = issue(&argument("id"), "`id`")?;
                let input = argument("input");
                for key in ["teamId", "projectId"] {
                    if input.get(key).is_some_and(|v| !v.is_null()) {
                        return Err(format!("`issueUpdate` may not change `{key}`"));
                    }
                }
                if input.get("stateId").is_some_and(Value::is_string) {
                    plan.moves = Some(id);
                }
            }
            "commentCreate" => {
                issue(
                    &argument("input")
                        .get("issueId")
                        .cloned()
                        .unwrap_or_default(),
                    "`input.issueId`",
                )?;
            }
            "attachmentLinkURL" => {
                issue(&argument("issueId"), "`issueId`")?;
            }
            "issueRelationCreate" => {
                let input = argument("input");
                for key in ["issueId", "relatedIssueId"] {
                    issue(&input.get(key).cloned().unwrap_or_default(), key)?;
                }
            }
            _ => {}
        }
    }
    Ok(plan)
}

/// Runs one `linear_graphql` call.
pub(crate) async fn run(
    client: &Client,
    config: &LinearConfig,
    arguments: Value,
    context: &ToolContext,
) -> ToolResult {
    let Some(query) = arguments.get("query").and_then(Value::as_str) else {
        return ToolResult::failure("`query` (a GraphQL document) is required");
    };
    let variables = match arguments.get("variables") {
        None | Some(Value::Null) => json!({}),
        Some(v @ Value::Object(_)) => v.clone(),
        Some(_) => return ToolResult::failure("`variables` must be an object"),
    };
    let plan = match plan(config, query, &variables, context) {
        Ok(plan) => plan,
        Err(why) => return refuse(why),
    };
    for id in &plan.issues {
        match scope_of(client, id).await {
            Ok(Some(node)) if record::in_scope(&node, config) => {}
            Ok(_) => return refuse(format!("issue {id:?} is not in the configured scope")),
            Err(e) => return ToolResult::failure(format!("could not check issue {id:?}: {e}")),
        }
    }
    let repeat = if plan.mutation {
        Repeat::Once
    } else {
        Repeat::Safe
    };
    let data = match client.graphql(query, variables, repeat).await {
        Ok(data) => data,
        Err(e) => return ToolResult::failure(e.to_string()),
    };
    // A move of the session's own issue is the agent's hand-off: report where it went, as
    // Linear now says.
    if let Some(moved) = plan.moves.filter(|id| *id == context.issue.id) {
        if let Ok(Some(node)) = scope_of(client, &moved).await {
            if let Some(state) = node.pointer("/state/name").and_then(Value::as_str) {
                return ToolResult::moved(data, state);
            }
        }
    }
    ToolResult::ok(data)
}

/// Where issue `id` lives (`None`: Linear knows no such issue).
async fn scope_of(client: &Client, id: &str) -> Result<Option<Value>, TrackerError> {
    match client.graphql(SCOPE, json!({"id": id}), Repeat::Safe).await {
        Ok(data) => Ok(data.get("issue").filter(|i| i.is_object()).cloned()),
        // Linear answers an unknown id with an error and no data.
        Err(e) if e.category == TrackerErrorCategory::Response => Ok(None),
        Err(e) => Err(e),
    }
}
