//! A fake Linear on loopback: one GraphQL endpoint (`POST /graphql`) over a stateful world of
//! teams, workflow states and issues; Linear's authentication (`Authorization: <key>` or
//! `Bearer <oauth token>`), cursor pagination, error shapes (`errors[].extensions.code`),
//! both rate-limit budgets in `X-RateLimit-*` headers (requests and complexity, resets in
//! epoch milliseconds) and `X-Complexity`; and faults armed by tests. Queries are executed
//! (`execute.rs`), not matched by name, so the agent's own `linear_graphql` documents run.

mod execute;
mod model;
pub mod schema;

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

pub use execute::{execute, Executed};

use crate::loopback::Loopback;
pub use model::{FakeIssue, FakeState, FakeTeam, World};

/// A fault served instead of (or after) the normal answer.
#[derive(Debug, Clone, PartialEq)]
pub enum Fault {
    /// Answer with this HTTP status and a plain body.
    Status(u16),
    /// `400` with `RATELIMITED`, the request budget at 0, resetting this many ms from now.
    RateLimited {
        /// Milliseconds until `X-RateLimit-Requests-Reset`.
        reset_in_ms: u64,
    },
    /// `200` with a body that is not JSON.
    MalformedJson,
    /// Do what was asked, then answer with this status (the client cannot know it happened).
    LostAnswer(u16),
    /// Answer with a page that announces a next page without a cursor (a broken connection).
    NoEndCursor,
    /// Answer normally, then move this issue (by identifier) to this state (by name): a list
    /// that changes between pages.
    MoveAfter {
        /// The issue.
        identifier: String,
        /// The state name.
        state: String,
    },
}

/// One request as the fake saw it.
#[derive(Debug, Clone)]
pub struct Exchange {
    /// The operation's name, when it has one.
    pub operation: Option<String>,
    /// The document.
    pub query: String,
    /// The variables.
    pub variables: Value,
    /// The status answered.
    pub status: u16,
    /// The complexity charged.
    pub complexity: u64,
    /// Whether the document was valid on Linear's schema (an invalid one is refused with
    /// Linear's `GRAPHQL_VALIDATION_FAILED`, as Linear refuses it).
    pub valid: bool,
}

struct Shared {
    world: World,
    key: String,
    faults: Vec<Fault>,
    exchanges: Vec<Exchange>,
    requests_left: u64,
    complexity_left: u64,
}

/// The fake server; stops when dropped.
pub struct FakeLinear {
    shared: Arc<Mutex<Shared>>,
    server: Loopback,
}

/// Linear's documented limit on one query's complexity.
const MAX_COMPLEXITY: u64 = 10_000;
/// Linear's documented budgets per hour for an API key.
const REQUESTS_PER_HOUR: u64 = 5_000;
const COMPLEXITY_PER_HOUR: u64 = 3_000_000;

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis() as u64
}

async fn handle(
    axum::extract::State(state): axum::extract::State<Arc<Mutex<Shared>>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut shared = state.lock().unwrap_or_else(|e| e.into_inner());
    let presented = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let authorized =
        presented == shared.key || presented.strip_prefix("Bearer ") == Some(shared.key.as_str());
    let request: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let query = request
        .get("query")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let variables = request.get("variables").cloned().unwrap_or(json!({}));
    let operation = query
        .split(['(', '{', ' ', '\n'])
        .skip_while(|w| !matches!(*w, "query" | "mutation"))
        .nth(1)
        .filter(|w| !w.is_empty())
        .map(str::to_owned);
    let fault = if shared.faults.is_empty() {
        None
    } else {
        Some(shared.faults.remove(0))
    };
    shared.requests_left = shared.requests_left.saturating_sub(1);
    let reset = now_ms() + 3_600_000;
    let validation = schema::validate(&query);
    let valid = validation.is_ok();
    let record = |shared: &mut Shared, status: u16, complexity: u64| {
        shared.exchanges.push(Exchange {
            operation: operation.clone(),
            query: query.clone(),
            variables: variables.clone(),
            status,
            complexity,
            valid,
        });
    };
    if !authorized {
        record(&mut shared, 400, 0);
        let body = json!({"errors": [{"message": "Authentication required, not authenticated",
            "extensions": {"code": "AUTHENTICATION_ERROR", "type": "authentication error"}}]});
        return (StatusCode::BAD_REQUEST, json_body(&body)).into_response();
    }
    let headers_for = |shared: &Shared, complexity: u64, requests_reset: u64| {
        [
            ("x-ratelimit-requests-limit", REQUESTS_PER_HOUR.to_string()),
            (
                "x-ratelimit-requests-remaining",
                shared.requests_left.to_string(),
            ),
            ("x-ratelimit-requests-reset", requests_reset.to_string()),
            (
                "x-ratelimit-complexity-limit",
                COMPLEXITY_PER_HOUR.to_string(),
            ),
            (
                "x-ratelimit-complexity-remaining",
                shared.complexity_left.to_string(),
            ),
            ("x-ratelimit-complexity-reset", reset.to_string()),
            ("x-complexity", complexity.to_string()),
        ]
    };
    match &fault {
        Some(Fault::Status(code)) => {
            record(&mut shared, *code, 0);
            let status = StatusCode::from_u16(*code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            return (status, "upstream error").into_response();
        }
        Some(Fault::RateLimited { reset_in_ms }) => {
            record(&mut shared, 400, 0);
            let saved = shared.requests_left;
            shared.requests_left = 0;
            let headers = headers_for(&shared, 0, now_ms() + reset_in_ms);
            shared.requests_left = saved;
            let body = json!({"errors": [{"message": "Rate limit exceeded",
                "extensions": {"code": "RATELIMITED", "type": "ratelimited"}}]});
            return (
                StatusCode::BAD_REQUEST,
                headers_map(&headers),
                json_body(&body),
            )
                .into_response();
        }
        Some(Fault::MalformedJson) => {
            record(&mut shared, 200, 0);
            return (StatusCode::OK, "{\"data\": {\"issues\": [").into_response();
        }
        _ => {}
    }
    if let Err(problems) = validation {
        record(&mut shared, 400, 0);
        let errors: Vec<Value> = problems
            .iter()
            .map(|m| json!({"message": m, "extensions": {"code": "GRAPHQL_VALIDATION_FAILED"}}))
            .collect();
        return (
            StatusCode::BAD_REQUEST,
            json_body(&json!({"errors": errors})),
        )
            .into_response();
    }
    let mut executed = execute(&mut shared.world, &query, &variables);
    if executed.complexity > MAX_COMPLEXITY {
        // Linear refuses a query over its per-query limit before running it.
        record(&mut shared, 400, 0);
        let body = json!({"errors": [{
            "message": format!(
                "Query too complex: {} points, at most {MAX_COMPLEXITY} per query",
                executed.complexity
            ),
            "extensions": {"code": "INVALID_INPUT", "type": "invalid input"}}]});
        return (StatusCode::BAD_REQUEST, json_body(&body)).into_response();
    }
    if fault == Some(Fault::NoEndCursor) {
        if let Some(connection) = executed
            .body
            .get_mut("data")
            .and_then(|d| d.as_object_mut())
            .and_then(|d| d.values_mut().next())
        {
            connection["pageInfo"] = json!({"hasNextPage": true, "endCursor": null});
        }
    }
    shared.complexity_left = shared.complexity_left.saturating_sub(executed.complexity);
    let headers = headers_for(&shared, executed.complexity, reset);
    record(&mut shared, 200, executed.complexity);
    match fault {
        Some(Fault::LostAnswer(code)) => {
            let status = StatusCode::from_u16(code).unwrap_or(StatusCode::BAD_GATEWAY);
            (status, "lost").into_response()
        }
        Some(Fault::MoveAfter { identifier, state }) => {
            move_issue(&mut shared.world, &identifier, &state);
            (
                StatusCode::OK,
                headers_map(&headers),
                json_body(&executed.body),
            )
                .into_response()
        }
        _ => (
            StatusCode::OK,
            headers_map(&headers),
            json_body(&executed.body),
        )
            .into_response(),
    }
}

/// A JSON body with Linear's content type.
fn json_body(value: &Value) -> ([(&'static str, &'static str); 1], String) {
    (
        [("content-type", "application/json; charset=utf-8")],
        value.to_string(),
    )
}

fn headers_map(headers: &[(&'static str, String)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in headers {
        if let Ok(value) = value.parse() {
            map.insert(*name, value);
        }
    }
    map
}

fn move_issue(world: &mut World, identifier: &str, state: &str) {
    let Some(at) = world
        .issues
        .iter()
        .position(|i| i.identifier.eq_ignore_ascii_case(identifier))
    else {
        return;
    };
    let team = world.issues[at].team.clone();
    let state_id = world
        .teams
        .iter()
        .find(|t| t.key == team)
        .and_then(|t| t.states.iter().find(|s| s.name.eq_ignore_ascii_case(state)))
        .map(|s| s.id.clone());
    if let Some(state_id) = state_id {
        let now = world.tick();
        world.issues[at].state_id = state_id;
        world.issues[at].updated = now;
    }
}

impl FakeLinear {
    /// Starts a fake on `127.0.0.1:<ephemeral>` accepting `key`, with team `ENG` and Linear's
    /// default workflow (Backlog, Todo, In Progress, In Review, Done, Canceled, Duplicate).
    pub fn start(key: &str) -> Self {
        let shared = Arc::new(Mutex::new(Shared {
            world: World {
                viewer: "symphony-bot@fake.test".to_owned(),
                ..World::default()
            },
            key: key.to_owned(),
            faults: Vec::new(),
            exchanges: Vec::new(),
            requests_left: REQUESTS_PER_HOUR,
            complexity_left: COMPLEXITY_PER_HOUR,
        }));
        let state = Arc::clone(&shared);
        let server = Loopback::serve("fake-linear", move || {
            axum::Router::new()
                .route("/graphql", axum::routing::post(handle))
                .with_state(state)
        });
        let fake = Self { shared, server };
        fake.add_team("ENG");
        fake
    }

    fn lock(&self) -> MutexGuard<'_, Shared> {
        self.shared.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The GraphQL endpoint.
    pub fn endpoint(&self) -> String {
        format!("http://{}/graphql", self.server.addr())
    }

    /// Adds team `key` with Linear's default workflow.
    pub fn add_team(&self, key: &str) {
        let states = [
            ("Backlog", "backlog"),
            ("Todo", "unstarted"),
            ("In Progress", "started"),
            ("In Review", "started"),
            ("Done", "completed"),
            ("Canceled", "canceled"),
            ("Duplicate", "canceled"),
        ]
        .iter()
        .map(|(name, kind)| FakeState {
            id: format!(
                "state-{}-{}",
                key.to_lowercase(),
                name.to_lowercase().replace(' ', "-")
            ),
            name: (*name).to_owned(),
            kind: (*kind).to_owned(),
        })
        .collect();
        self.lock().world.teams.push(FakeTeam {
            id: format!("team-{}", key.to_lowercase()),
            key: key.to_owned(),
            states,
        });
    }

    /// Files an issue in `team` in state `state` (by name, any case: spelled as the team
    /// spells it); returns `(id, identifier)`.
    pub fn create_issue(
        &self,
        team: &str,
        title: &str,
        state: &str,
        labels: &[&str],
    ) -> (String, String) {
        let mut shared = self.lock();
        let world = &mut shared.world;
        let state_id = world
            .teams
            .iter()
            .find(|t| t.key == team)
            .and_then(|t| t.states.iter().find(|s| s.name.eq_ignore_ascii_case(state)))
            .map(|s| s.id.clone())
            .unwrap_or_else(|| panic!("team {team} has no state {state}"));
        let number = world.issues.iter().filter(|i| i.team == team).count() + 1;
        let now = world.tick();
        let identifier = format!("{team}-{number}");
        let id = format!(
            "issue-{:08x}-{}",
            now * 2654435761 % 0xffff_ffff,
            identifier.to_lowercase()
        );
        world.issues.push(FakeIssue {
            id: id.clone(),
            identifier: identifier.clone(),
            title: title.to_owned(),
            description: None,
            priority: 0,
            team: team.to_owned(),
            project: None,
            state_id,
            labels: labels.iter().map(|l| (*l).to_owned()).collect(),
            assignee: None,
            blocked_by: Vec::new(),
            comments: Vec::new(),
            attachments: Vec::new(),
            created: now,
            updated: now,
            corrupt: false,
        });
        (id, identifier)
    }

    /// Changes issue `identifier` in place.
    pub fn update_issue(&self, identifier: &str, change: impl FnOnce(&mut FakeIssue)) {
        let mut shared = self.lock();
        let now = shared.world.tick();
        let issue = shared
            .world
            .issues
            .iter_mut()
            .find(|i| i.identifier == identifier)
            .unwrap_or_else(|| panic!("no issue {identifier}"));
        change(issue);
        issue.updated = now;
    }

    /// Moves issue `identifier` to the state named `state` (as a person would).
    pub fn set_state(&self, identifier: &str, state: &str) {
        move_issue(&mut self.lock().world, identifier, state);
    }

    /// Issue `identifier` as Linear keeps it.
    pub fn issue(&self, identifier: &str) -> FakeIssue {
        self.lock()
            .world
            .issues
            .iter()
            .find(|i| i.identifier == identifier)
            .cloned()
            .unwrap_or_else(|| panic!("no issue {identifier}"))
    }

    /// The name of the state issue `identifier` is in.
    pub fn state_of(&self, identifier: &str) -> String {
        let shared = self.lock();
        let issue = shared
            .world
            .issues
            .iter()
            .find(|i| i.identifier == identifier)
            .unwrap_or_else(|| panic!("no issue {identifier}"));
        shared
            .world
            .state(&issue.state_id)
            .map(|(_, s)| s.name.clone())
            .unwrap_or_default()
    }

    /// Arms `fault` for the next request (faults are served in the order armed).
    pub fn arm(&self, fault: Fault) {
        self.lock().faults.push(fault);
    }

    /// Faults armed and not yet served.
    pub fn armed(&self) -> usize {
        self.lock().faults.len()
    }

    /// Every request so far.
    pub fn exchanges(&self) -> Vec<Exchange> {
        self.lock().exchanges.clone()
    }

    /// Panics naming every request whose document was not valid on Linear's schema.
    pub fn assert_all_valid(&self) {
        let invalid: Vec<String> = self
            .exchanges()
            .into_iter()
            .filter(|e| !e.valid)
            .map(|e| e.query)
            .collect();
        assert!(
            invalid.is_empty(),
            "documents not valid on Linear's schema: {invalid:#?}"
        );
    }

    /// How many requests were made.
    pub fn request_count(&self) -> usize {
        self.lock().exchanges.len()
    }
}
