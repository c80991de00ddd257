//! The fake server's handle: starting it, shaping its world, arming faults, reading what it
//! saw.

use std::sync::{Arc, Mutex, MutexGuard};

use super::exchange::Exchange;
use super::faults::Fault;
use axum::http::Method;
use serde_json::Value;

use super::model::{
    CheckRun, CommitStatus, FakeIssue, Project, ProjectItem, PullRequest, Repo, World,
};
use super::state::{unix_now, Armed, Budget, NewIssue, Shared};
use super::{rest_issues, server};
use crate::loopback::Loopback;

/// The fake server; stops when dropped.
pub struct FakeGithub {
    shared: Arc<Mutex<Shared>>,
    server: Loopback,
}

impl FakeGithub {
    /// Starts a fake on `127.0.0.1:<ephemeral>` accepting `token`, on its own thread.
    pub fn start(token: &str) -> Self {
        let shared = Arc::new(Mutex::new(Shared {
            world: World::default(),
            token: token.to_owned(),
            base: String::new(),
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
        let state = Arc::clone(&shared);
        let loopback = Loopback::serve("fake-github", move || {
            axum::Router::new()
                .fallback(server::handle)
                .with_state(state)
        });
        // Before anyone knows the address, so before any request.
        shared.lock().unwrap_or_else(|e| e.into_inner()).base =
            format!("http://{}", loopback.addr());
        Self {
            shared,
            server: loopback,
        }
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, Shared> {
        self.shared.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The API base URL (`http://127.0.0.1:<port>`).
    pub fn url(&self) -> String {
        format!("http://{}", self.server.addr())
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
                branches: Default::default(),
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
        rest_issues::file_issue(world, repo, new, None)
    }

    /// Opens a pull request (it takes the next issue number, as on GitHub).
    pub fn create_pull(&self, full_name: &str, title: &str, head: &str) -> u64 {
        let (number, _) = self.create_issue(full_name, NewIssue::new(title, &[]));
        self.update_issue(full_name, number, |issue| {
            issue.pull = Some(PullRequest::new(head, "main", &format!("{number:040x}")));
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
