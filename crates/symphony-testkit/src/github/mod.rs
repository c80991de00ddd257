//! A fake GitHub on loopback: stateful, paginated by `Link` with GitHub's
//! `/repositories/{id}` URLs, weak ETags answered with `304` (free of rate-limit cost, as on
//! GitHub), `x-ratelimit-*` headers per resource, GitHub's error bodies, and fault injection.
//! It serves the REST endpoints Symphony uses and the GraphQL operations it sends (matched by
//! operation name; the fake does not execute arbitrary GraphQL).
//!
//! Every exchange is recorded, so tests can count requests and check both sides against
//! GitHub's OpenAPI description ([`openapi`]).

mod graphql;
mod model;
pub mod openapi;
mod rest;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

pub use model::{CheckRun, Comment, CommitStatus, FakeIssue, PullRequest};
use model::{Project, ProjectItem, Repo, World};

/// A fault served instead of (or before) the normal answer.
#[derive(Debug, Clone, PartialEq)]
pub enum Fault {
    /// Answer with this status and GitHub's error body.
    Status(u16),
    /// `403` "secondary rate limit" with `retry-after: <seconds>`.
    SecondaryRateLimit {
        /// The `retry-after` value.
        retry_after_s: u64,
    },
    /// `403` with `x-ratelimit-remaining: 0` and a reset this far ahead; the budget is back
    /// for the next request.
    PrimaryRateLimit {
        /// Seconds until `x-ratelimit-reset`.
        reset_in_s: u64,
    },
    /// Wait this long, then answer normally.
    Slow(Duration),
    /// `200` with a body that is not JSON.
    MalformedJson,
    /// Do what was asked, then answer with this status instead: the client cannot tell
    /// whether its write happened (a lost answer).
    LostAnswer(u16),
    /// Answer normally, then file an issue (with this title and labels) dated before every
    /// other, so the next page of a created-ascending list repeats an entry.
    BackdatedIssueAfter {
        /// Title of the new issue.
        title: String,
        /// Its labels.
        labels: Vec<String>,
    },
}

/// One exchange, as seen by the fake.
#[derive(Debug, Clone)]
pub struct Exchange {
    /// Method.
    pub method: String,
    /// Path without the query.
    pub path: String,
    /// The query string, if any.
    pub query: Option<String>,
    /// `If-None-Match`, if sent.
    pub if_none_match: Option<String>,
    /// The `Authorization` header, if sent.
    pub authorization: Option<String>,
    /// Every `User-Agent` value sent (GitHub refuses a request without one; there should be
    /// exactly one).
    pub user_agents: Vec<String>,
    /// The request body, parsed when JSON.
    pub request_body: Option<Value>,
    /// Response status.
    pub status: u16,
    /// Response body, parsed when JSON.
    pub response_body: Option<Value>,
    /// Whether a [`Fault`] shaped the answer (such answers are deliberately off-spec).
    pub faulted: bool,
    /// Whether the exchange cost rate limit.
    pub counted: bool,
}

#[derive(Debug, Clone, Copy)]
struct Budget {
    limit: u64,
    used: u64,
}

struct Armed {
    method: Option<Method>,
    path_contains: String,
    fault: Fault,
    times: u32,
}

pub(crate) struct Shared {
    world: World,
    token: String,
    base: String,
    core: Budget,
    graphql: Budget,
    reset: u64,
    faults: Vec<Armed>,
    exchanges: Vec<Exchange>,
}

/// The fake server; stops when dropped.
pub struct FakeGithub {
    shared: Arc<Mutex<Shared>>,
    addr: SocketAddr,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// What to file with [`FakeGithub::create_issue`].
#[derive(Debug, Clone, Default)]
pub struct NewIssue {
    /// Title.
    pub title: String,
    /// Body.
    pub body: Option<String>,
    /// Labels (created in the repository when new).
    pub labels: Vec<String>,
    /// Assignee logins.
    pub assignees: Vec<String>,
    /// Closed instead of open.
    pub closed: bool,
}

impl NewIssue {
    /// An open issue with this title and labels.
    pub fn new(title: &str, labels: &[&str]) -> Self {
        Self {
            title: title.to_owned(),
            labels: labels.iter().map(|l| (*l).to_owned()).collect(),
            ..Self::default()
        }
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl FakeGithub {
    /// Starts a fake on `127.0.0.1:<ephemeral>` accepting `token`, on its own thread.
    pub fn start(token: &str) -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        listener
            .set_nonblocking(true)
            .expect("nonblocking listener");
        let addr = listener.local_addr().expect("local addr");
        let shared = Arc::new(Mutex::new(Shared {
            world: World::default(),
            token: token.to_owned(),
            base: format!("http://{addr}"),
            core: Budget {
                limit: 5000,
                used: 0,
            },
            graphql: Budget {
                limit: 5000,
                used: 0,
            },
            reset: unix_now() + 3600,
            faults: Vec::new(),
            exchanges: Vec::new(),
        }));
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let state = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name("fake-github".into())
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("fake github runtime");
                runtime.block_on(async move {
                    let listener =
                        tokio::net::TcpListener::from_std(listener).expect("tokio listener");
                    let app = axum::Router::new().fallback(handle).with_state(state);
                    let _ = axum::serve(listener, app)
                        .with_graceful_shutdown(async {
                            let _ = rx.await;
                        })
                        .await;
                });
            })
            .expect("spawn fake github");
        Self {
            shared,
            addr,
            shutdown: Some(tx),
            thread: Some(thread),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Shared> {
        self.shared.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The API base URL (`http://127.0.0.1:<port>`).
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Creates repository `owner/name` (idempotent).
    pub fn create_repo(&self, full_name: &str) {
        let (owner, name) = full_name.split_once('/').expect("owner/name");
        let mut shared = self.lock();
        if shared.world.repo(owner, name).is_none() {
            let id = shared.world.fresh_id();
            shared.world.repos.push(Repo {
                id,
                owner: owner.to_owned(),
                name: name.to_owned(),
                labels: Vec::new(),
                issues: Vec::new(),
                statuses: Vec::new(),
                check_runs: Vec::new(),
            });
        }
    }

    /// Files an issue in `full_name` (created if needed); returns its number and node id.
    pub fn create_issue(&self, full_name: &str, new: NewIssue) -> (u64, String) {
        self.create_repo(full_name);
        let (owner, name) = full_name.split_once('/').expect("owner/name");
        let mut shared = self.lock();
        let world = &mut shared.world;
        let repo = world.repo_index(owner, name).expect("repo exists");
        rest::file_issue(world, repo, new, None)
    }

    /// Opens a pull request (it takes the next issue number, as on GitHub).
    pub fn create_pull(&self, full_name: &str, title: &str, head: &str) -> u64 {
        let (number, _) = self.create_issue(full_name, NewIssue::new(title, &[]));
        self.update_issue(full_name, number, |issue| {
            issue.pull = Some(PullRequest {
                head: head.to_owned(),
                base: "main".to_owned(),
                head_sha: format!("{:040x}", number),
                draft: false,
            });
        });
        number
    }

    /// Changes an issue in place (and moves its `updated_at`).
    pub fn update_issue(&self, full_name: &str, number: u64, change: impl FnOnce(&mut FakeIssue)) {
        let (owner, name) = full_name.split_once('/').expect("owner/name");
        let mut shared = self.lock();
        let now = shared.world.tick();
        let world = &mut shared.world;
        let repo = world.repo_index(owner, name).expect("repo exists");
        let issue = world.repos[repo].issue_mut(number).expect("issue exists");
        change(issue);
        issue.updated_at = now;
        if !issue.open && issue.closed_at.is_none() {
            issue.closed_at = Some(now);
        }
        if issue.open {
            issue.closed_at = None;
        }
        let labels = issue.labels.clone();
        let mut canonical: Vec<String> = Vec::new();
        for name in labels.iter().filter(|l| !l.trim().is_empty()) {
            let name = world.ensure_label(repo, name);
            if !canonical.contains(&name) {
                canonical.push(name);
            }
        }
        if let Some(issue) = world.repos[repo].issue_mut(number) {
            issue.labels = canonical;
        }
    }

    fn read_repo<T>(&self, full_name: &str, read: impl FnOnce(&Repo) -> T) -> Option<T> {
        let (owner, name) = full_name.split_once('/').expect("owner/name");
        self.lock().world.repo(owner, name).map(read)
    }

    /// A copy of an issue.
    pub fn issue(&self, full_name: &str, number: u64) -> FakeIssue {
        self.read_repo(full_name, |r| r.issue(number).cloned())
            .flatten()
            .expect("issue exists")
    }

    /// Every pull request of `full_name` (open or not), by number.
    pub fn pulls(&self, full_name: &str) -> Vec<FakeIssue> {
        self.read_repo(full_name, |r| {
            r.issues
                .iter()
                .filter(|i| i.pull.is_some())
                .cloned()
                .collect()
        })
        .unwrap_or_default()
    }

    /// Commit statuses posted to `full_name`.
    pub fn statuses(&self, full_name: &str) -> Vec<CommitStatus> {
        self.read_repo(full_name, |r| r.statuses.clone())
            .unwrap_or_default()
    }

    /// Check runs created in `full_name`.
    pub fn check_runs(&self, full_name: &str) -> Vec<CheckRun> {
        self.read_repo(full_name, |r| r.check_runs.clone())
            .unwrap_or_default()
    }

    /// Creates board `owner`/#`number` whose state field is `status_field`.
    pub fn create_project(
        &self,
        owner: &str,
        number: u64,
        status_field: &str,
        priority_field: Option<&str>,
    ) {
        self.lock().world.projects.push(Project {
            owner: owner.to_owned(),
            number,
            status_field: status_field.to_owned(),
            priority_field: priority_field.map(str::to_owned),
            items: Vec::new(),
        });
    }

    /// Puts issue `number` of `full_name` on a board with a status and priority value.
    pub fn add_to_project(
        &self,
        owner: &str,
        project: u64,
        full_name: &str,
        number: u64,
        status: Option<&str>,
        priority: Option<Value>,
    ) -> String {
        let node = self.issue(full_name, number).node_id;
        let mut shared = self.lock();
        let id = shared.world.fresh_id();
        let board = shared
            .world
            .projects
            .iter_mut()
            .find(|p| p.owner.eq_ignore_ascii_case(owner) && p.number == project)
            .expect("board exists");
        let item_id = format!("PVTI_fake{id}");
        board.items.push(ProjectItem {
            id: item_id.clone(),
            content: node,
            status: status.map(str::to_owned),
            priority,
        });
        item_id
    }

    /// Sets the status of the board item holding issue `node_id`.
    pub fn set_project_status(
        &self,
        owner: &str,
        project: u64,
        node_id: &str,
        status: Option<&str>,
    ) {
        let mut shared = self.lock();
        let board = shared
            .world
            .projects
            .iter_mut()
            .find(|p| p.owner.eq_ignore_ascii_case(owner) && p.number == project)
            .expect("board exists");
        let item = board
            .items
            .iter_mut()
            .find(|i| i.content == node_id)
            .expect("item exists");
        item.status = status.map(str::to_owned);
    }

    /// Serves `fault` to the next `times` requests whose path contains `path_contains`.
    pub fn inject(&self, path_contains: &str, fault: Fault, times: u32) {
        self.lock().faults.push(Armed {
            method: None,
            path_contains: path_contains.to_owned(),
            fault,
            times,
        });
    }

    /// Like [`Self::inject`], for requests with `method` only (`POST` to a list that is also
    /// read, say).
    pub fn inject_for(&self, method: &str, path_contains: &str, fault: Fault, times: u32) {
        self.lock().faults.push(Armed {
            method: Method::from_bytes(method.as_bytes()).ok(),
            path_contains: path_contains.to_owned(),
            fault,
            times,
        });
    }

    /// Every exchange so far.
    pub fn exchanges(&self) -> Vec<Exchange> {
        self.lock().exchanges.clone()
    }

    /// Requests received so far.
    pub fn request_count(&self) -> usize {
        self.lock().exchanges.len()
    }

    /// Rate-limit units spent so far (REST core plus GraphQL).
    pub fn rate_limit_used(&self) -> u64 {
        let shared = self.lock();
        shared.core.used + shared.graphql.used
    }
}

impl Drop for FakeGithub {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// A response being built: status, JSON body (or none), extra headers.
pub(crate) struct Reply {
    pub status: StatusCode,
    pub body: Option<Value>,
    pub headers: Vec<(&'static str, String)>,
}

impl Reply {
    pub(crate) fn json(status: StatusCode, body: Value) -> Self {
        Self {
            status,
            body: Some(body),
            headers: Vec::new(),
        }
    }

    pub(crate) fn error(status: StatusCode, message: &str) -> Self {
        Self::json(status, model::error_body(message, status.as_u16()))
    }

    pub(crate) fn empty(status: StatusCode) -> Self {
        Self {
            status,
            body: None,
            headers: Vec::new(),
        }
    }
}

fn take_fault(shared: &mut Shared, method: &Method, path: &str) -> Option<Fault> {
    let armed = shared.faults.iter_mut().find(|a| {
        a.times > 0
            && path.contains(&a.path_contains)
            && a.method.as_ref().is_none_or(|m| m == method)
    })?;
    armed.times -= 1;
    let fault = armed.fault.clone();
    shared.faults.retain(|a| a.times > 0);
    Some(fault)
}

fn weak_etag(body: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(body);
    let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
    format!("W/\"{hex}\"")
}

async fn handle(
    axum::extract::State(state): axum::extract::State<Arc<Mutex<Shared>>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_owned();
    let query = uri.query().map(str::to_owned);
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let if_none_match = header("if-none-match");
    let authorization = header("authorization");
    let user_agents: Vec<String> = headers
        .get_all(axum::http::header::USER_AGENT)
        .iter()
        .filter_map(|v| v.to_str().ok().map(str::to_owned))
        .collect();
    let request_body: Option<Value> = serde_json::from_slice(&body).ok();
    let fault = {
        let mut shared = state.lock().unwrap_or_else(|e| e.into_inner());
        take_fault(&mut shared, &method, &path)
    };
    if let Some(Fault::Slow(delay)) = &fault {
        tokio::time::sleep(*delay).await;
    }
    let mut shared = state.lock().unwrap_or_else(|e| e.into_inner());
    let graphql_call = path == "/graphql" || path == "/api/graphql";
    let authorized = authorization.as_deref().is_some_and(|a| {
        a.strip_prefix("Bearer ")
            .or_else(|| a.strip_prefix("token "))
            .is_some_and(|t| t == shared.token)
    });
    let mut faulted = fault.is_some() && !matches!(fault, Some(Fault::Slow(_)));
    let mut reply = if user_agents.is_empty() {
        // GitHub's answer to a request without a User-Agent.
        Reply::error(
            StatusCode::FORBIDDEN,
            "Request forbidden by administrative rules. Please make sure your request has a \
             User-Agent header (https://docs.github.com/en/rest/overview/resources-in-the-rest-api#user-agent-required).",
        )
    } else if !authorized {
        Reply::error(StatusCode::UNAUTHORIZED, "Bad credentials")
    } else {
        match &fault {
            Some(Fault::Status(code)) => {
                let status =
                    StatusCode::from_u16(*code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
                Reply::error(status, status.canonical_reason().unwrap_or("Server Error"))
            }
            Some(Fault::SecondaryRateLimit { retry_after_s }) => {
                let mut reply = Reply::error(
                    StatusCode::FORBIDDEN,
                    "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
                );
                reply
                    .headers
                    .push(("retry-after", retry_after_s.to_string()));
                reply
            }
            Some(Fault::PrimaryRateLimit { reset_in_s }) => {
                let mut reply = Reply::error(
                    StatusCode::FORBIDDEN,
                    "API rate limit exceeded for user ID 1.",
                );
                reply.headers.push(("x-ratelimit-remaining", "0".into()));
                reply
                    .headers
                    .push(("x-ratelimit-reset", (unix_now() + reset_in_s).to_string()));
                reply
            }
            _ if graphql_call && method == Method::POST => {
                graphql::answer(&mut shared, request_body.as_ref())
            }
            Some(Fault::LostAnswer(code)) => {
                let _done = rest::route(
                    &mut shared,
                    &method,
                    &path,
                    query.as_deref(),
                    request_body.as_ref(),
                );
                let status = StatusCode::from_u16(*code).unwrap_or(StatusCode::BAD_GATEWAY);
                Reply::error(status, status.canonical_reason().unwrap_or("Server Error"))
            }
            _ => rest::route(
                &mut shared,
                &method,
                &path,
                query.as_deref(),
                request_body.as_ref(),
            ),
        }
    };
    // Serialize once: the ETag is over the exact bytes a 200 would carry.
    let bytes = reply
        .body
        .as_ref()
        .map(|b| serde_json::to_vec(b).unwrap_or_default());
    let mut counted = authorized;
    if method == Method::GET && reply.status == StatusCode::OK {
        if let Some(bytes) = &bytes {
            let etag = weak_etag(bytes);
            if if_none_match.as_deref() == Some(etag.as_str()) {
                reply = Reply::empty(StatusCode::NOT_MODIFIED);
                counted = false;
            }
            reply.headers.push(("etag", etag));
        }
    }
    let budget_key = if graphql_call { "graphql" } else { "core" };
    let budget = if graphql_call {
        &mut shared.graphql
    } else {
        &mut shared.core
    };
    if counted {
        budget.used += 1;
    }
    let (limit, used) = (budget.limit, budget.used);
    let reset = shared.reset;
    let mut rate_headers = vec![
        ("x-ratelimit-limit", limit.to_string()),
        (
            "x-ratelimit-remaining",
            limit.saturating_sub(used).to_string(),
        ),
        ("x-ratelimit-reset", reset.to_string()),
        ("x-ratelimit-used", used.to_string()),
        ("x-ratelimit-resource", budget_key.to_string()),
    ];
    // A fault's own rate headers win.
    rate_headers.retain(|(name, _)| !reply.headers.iter().any(|(n, _)| n == name));
    let malformed = matches!(fault, Some(Fault::MalformedJson)) && authorized;
    if let Some(Fault::BackdatedIssueAfter { title, labels }) = &fault {
        if let Some(repo) = rest::repo_of_path(&shared.world, &path) {
            let new = NewIssue {
                title: title.clone(),
                labels: labels.clone(),
                ..NewIssue::default()
            };
            rest::file_issue(
                &mut shared.world,
                repo,
                new,
                Some(chrono::DateTime::UNIX_EPOCH),
            );
        }
        faulted = false;
    }
    let response_body = if reply.status == StatusCode::NOT_MODIFIED {
        None
    } else {
        reply.body.clone()
    };
    shared.exchanges.push(Exchange {
        method: method.to_string(),
        path: path.clone(),
        query,
        if_none_match,
        authorization,
        user_agents,
        request_body,
        status: reply.status.as_u16(),
        response_body,
        faulted,
        counted,
    });
    drop(shared);
    let mut response = if reply.status == StatusCode::NOT_MODIFIED {
        reply.status.into_response()
    } else if malformed {
        (reply.status, "{\"message\": \"half a bod").into_response()
    } else {
        match bytes {
            Some(bytes) => (reply.status, bytes).into_response(),
            None => reply.status.into_response(),
        }
    };
    let out = response.headers_mut();
    if reply.status != StatusCode::NOT_MODIFIED && (reply.body.is_some() || malformed) {
        out.insert(
            "content-type",
            HeaderValue::from_static("application/json; charset=utf-8"),
        );
    }
    out.insert(
        "x-github-api-version-selected",
        HeaderValue::from_static("2022-11-28"),
    );
    for (name, value) in rate_headers.into_iter().chain(reply.headers) {
        if let Ok(value) = HeaderValue::from_str(&value) {
            out.insert(name, value);
        }
    }
    response
}
