//! The fake's world: repositories with issues, pull requests, labels, comments, statuses and
//! check runs, and Projects v2 boards; rendered as GitHub renders them.

use chrono::{DateTime, Duration, TimeZone, Utc};
use serde_json::{json, Value};

/// A label of a repository.
#[derive(Debug, Clone)]
pub struct Label {
    pub(crate) id: u64,
    pub(crate) name: String,
    pub(crate) color: String,
}

/// A comment on an issue or pull request.
#[derive(Debug, Clone)]
pub struct Comment {
    pub(crate) id: u64,
    /// The Markdown body.
    pub body: String,
    pub(crate) created_at: DateTime<Utc>,
}

/// An issue or a pull request (they share numbers, as on GitHub).
#[derive(Debug, Clone)]
pub struct FakeIssue {
    /// The number in the repository.
    pub number: u64,
    /// The GraphQL node id.
    pub node_id: String,
    pub(crate) id: u64,
    /// Title.
    pub title: String,
    /// Body.
    pub body: Option<String>,
    /// Open or closed.
    pub open: bool,
    /// Label names, spelled as the repository's labels are.
    pub labels: Vec<String>,
    /// Assignee logins.
    pub assignees: Vec<String>,
    pub(crate) created_at: DateTime<Utc>,
    pub(crate) updated_at: DateTime<Utc>,
    pub(crate) closed_at: Option<DateTime<Utc>>,
    /// Numbers of issues in the same repository blocking this one.
    pub blocked_by: Vec<u64>,
    /// Comments, oldest first.
    pub comments: Vec<Comment>,
    /// Set for pull requests.
    pub pull: Option<PullRequest>,
    /// Served with a broken required field (fault injection).
    pub corrupt: bool,
}

/// The pull-request side of a [`FakeIssue`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullRequest {
    /// Head branch.
    pub head: String,
    /// Base branch.
    pub base: String,
    /// Head commit.
    pub head_sha: String,
    /// Draft or ready.
    pub draft: bool,
}

/// A commit status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitStatus {
    /// Commit it is on.
    pub sha: String,
    /// `pending`, `success`, `failure`, `error`.
    pub state: String,
    /// Its context (e.g. `symphony/secrets`).
    pub context: String,
    /// Its description.
    pub description: Option<String>,
}

/// A check run.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckRun {
    /// Its id.
    pub id: u64,
    /// Commit it is on.
    pub head_sha: String,
    /// Name.
    pub name: String,
    /// `queued`, `in_progress`, `completed`.
    pub status: String,
    /// `success`, `failure`, ... when completed.
    pub conclusion: Option<String>,
    /// The `output` object as sent.
    pub output: Value,
}

/// A repository.
#[derive(Debug, Clone)]
pub struct Repo {
    pub(crate) id: u64,
    pub(crate) owner: String,
    pub(crate) name: String,
    pub(crate) labels: Vec<Label>,
    pub(crate) issues: Vec<FakeIssue>,
    pub(crate) statuses: Vec<CommitStatus>,
    pub(crate) check_runs: Vec<CheckRun>,
}

impl Repo {
    pub(crate) fn full_name(&self) -> String {
        format!("{}/{}", self.owner, self.name)
    }

    pub(crate) fn issue(&self, number: u64) -> Option<&FakeIssue> {
        self.issues.iter().find(|i| i.number == number)
    }

    pub(crate) fn issue_mut(&mut self, number: u64) -> Option<&mut FakeIssue> {
        self.issues.iter_mut().find(|i| i.number == number)
    }
}

/// A Projects v2 board.
#[derive(Debug, Clone)]
pub struct Project {
    pub(crate) owner: String,
    pub(crate) number: u64,
    pub(crate) status_field: String,
    pub(crate) priority_field: Option<String>,
    pub(crate) items: Vec<ProjectItem>,
}

/// An item on a board.
#[derive(Debug, Clone)]
pub struct ProjectItem {
    pub(crate) id: String,
    /// Node id of the issue (or pull request) it holds.
    pub(crate) content: String,
    pub(crate) status: Option<String>,
    pub(crate) priority: Option<Value>,
}

/// Everything the fake knows.
#[derive(Debug)]
pub struct World {
    pub(crate) repos: Vec<Repo>,
    pub(crate) projects: Vec<Project>,
    pub(crate) next_id: u64,
    /// Logical time: every change moves it one second on.
    pub(crate) clock: DateTime<Utc>,
}

impl Default for World {
    fn default() -> Self {
        Self {
            repos: Vec::new(),
            projects: Vec::new(),
            next_id: 1000,
            // A day ago, whole seconds: recent enough for `since` filters, and time moves
            // one second per change from there.
            clock: Utc
                .timestamp_opt(Utc::now().timestamp() - 86_400, 0)
                .single()
                .unwrap_or_default(),
        }
    }
}

impl World {
    pub(crate) fn tick(&mut self) -> DateTime<Utc> {
        self.clock += Duration::seconds(1);
        self.clock
    }

    pub(crate) fn fresh_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    pub(crate) fn repo(&self, owner: &str, name: &str) -> Option<&Repo> {
        self.repos
            .iter()
            .find(|r| r.owner.eq_ignore_ascii_case(owner) && r.name.eq_ignore_ascii_case(name))
    }

    pub(crate) fn repo_index(&self, owner: &str, name: &str) -> Option<usize> {
        self.repos
            .iter()
            .position(|r| r.owner.eq_ignore_ascii_case(owner) && r.name.eq_ignore_ascii_case(name))
    }

    pub(crate) fn repo_index_by_id(&self, id: u64) -> Option<usize> {
        self.repos.iter().position(|r| r.id == id)
    }

    /// The repository and issue with this node id.
    pub(crate) fn node(&self, node_id: &str) -> Option<(&Repo, &FakeIssue)> {
        self.repos.iter().find_map(|r| {
            r.issues
                .iter()
                .find(|i| i.node_id == node_id)
                .map(|i| (r, i))
        })
    }

    /// The canonical spelling of `name` in repository `repo`, creating the label if needed
    /// (adding an unknown label to an issue creates it, as on GitHub).
    pub(crate) fn ensure_label(&mut self, repo: usize, name: &str) -> String {
        let name = name.trim();
        if let Some(label) = self.repos[repo]
            .labels
            .iter()
            .find(|l| l.name.eq_ignore_ascii_case(name))
        {
            return label.name.clone();
        }
        let id = self.fresh_id();
        self.repos[repo].labels.push(Label {
            id,
            name: name.to_owned(),
            color: "ededed".to_owned(),
        });
        name.to_owned()
    }
}

const DOCS: &str = "https://docs.github.com/rest";

/// A GitHub error body.
pub(crate) fn error_body(message: &str, status: u16) -> Value {
    json!({ "message": message, "documentation_url": DOCS, "status": status.to_string() })
}

fn timestamp(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

pub(crate) fn user(base: &str, login: &str) -> Value {
    let id = login
        .bytes()
        .fold(7u64, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(b)))
        % 1_000_000;
    let url = format!("{base}/users/{login}");
    json!({
        "login": login, "id": id, "node_id": format!("U_fake{id}"),
        "avatar_url": format!("https://avatars.example/u/{id}"), "gravatar_id": "",
        "url": url, "html_url": format!("https://github.example/{login}"),
        "followers_url": format!("{url}/followers"),
        "following_url": format!("{url}/following{{/other_user}}"),
        "gists_url": format!("{url}/gists{{/gist_id}}"),
        "starred_url": format!("{url}/starred{{/owner}}{{/repo}}"),
        "subscriptions_url": format!("{url}/subscriptions"),
        "organizations_url": format!("{url}/orgs"), "repos_url": format!("{url}/repos"),
        "events_url": format!("{url}/events{{/privacy}}"),
        "received_events_url": format!("{url}/received_events"),
        "type": "User", "site_admin": false, "user_view_type": "public"
    })
}

pub(crate) fn label_json(base: &str, repo: &Repo, label: &Label) -> Value {
    json!({
        "id": label.id,
        "node_id": format!("LA_fake{}", label.id),
        "url": format!("{base}/repos/{}/labels/{}", repo.full_name(), label.name),
        "name": label.name,
        "description": null,
        "color": label.color,
        "default": false
    })
}

/// An issue (or a pull request's issue face) as the REST issues endpoints render it.
pub(crate) fn issue_json(base: &str, repo: &Repo, issue: &FakeIssue, world: &World) -> Value {
    let url = format!("{base}/repos/{}/issues/{}", repo.full_name(), issue.number);
    let labels: Vec<Value> = issue
        .labels
        .iter()
        .filter_map(|name| repo.labels.iter().find(|l| &l.name == name))
        .map(|l| label_json(base, repo, l))
        .collect();
    let assignees: Vec<Value> = issue.assignees.iter().map(|a| user(base, a)).collect();
    let open_blockers = issue
        .blocked_by
        .iter()
        .filter(|n| repo.issue(**n).is_some_and(|b| b.open))
        .count();
    let blocking = repo
        .issues
        .iter()
        .filter(|i| i.blocked_by.contains(&issue.number))
        .count();
    let mut value = json!({
        "id": issue.id,
        "node_id": issue.node_id,
        "url": url,
        "repository_url": format!("{base}/repos/{}", repo.full_name()),
        "labels_url": format!("{url}/labels{{/name}}"),
        "comments_url": format!("{url}/comments"),
        "events_url": format!("{url}/events"),
        "html_url": format!("https://github.example/{}/issues/{}", repo.full_name(), issue.number),
        "number": issue.number,
        "state": if issue.open { "open" } else { "closed" },
        "state_reason": if issue.open { Value::Null } else { json!("completed") },
        "title": issue.title,
        "body": issue.body,
        "user": user(base, "octocat"),
        "labels": labels,
        "assignee": assignees.first().cloned().unwrap_or(Value::Null),
        "assignees": assignees,
        "milestone": null,
        "locked": false,
        "active_lock_reason": null,
        "comments": issue.comments.len(),
        "closed_at": issue.closed_at.map(timestamp),
        "created_at": timestamp(issue.created_at),
        "updated_at": timestamp(issue.updated_at),
        "author_association": "OWNER",
        "issue_dependencies_summary": {
            "blocked_by": open_blockers,
            "blocking": blocking,
            "total_blocked_by": issue.blocked_by.len(),
            "total_blocking": blocking
        }
    });
    if issue.pull.is_some() {
        value["pull_request"] = json!({
            "url": format!("{base}/repos/{}/pulls/{}", repo.full_name(), issue.number),
            "html_url": format!("https://github.example/{}/pull/{}", repo.full_name(), issue.number),
            "diff_url": format!("https://github.example/{}/pull/{}.diff", repo.full_name(), issue.number),
            "patch_url": format!("https://github.example/{}/pull/{}.patch", repo.full_name(), issue.number),
            "merged_at": null
        });
    }
    if issue.corrupt {
        value["title"] = Value::Null;
    }
    let _ = world;
    value
}

/// A comment as REST renders it.
pub(crate) fn comment_json(base: &str, repo: &Repo, issue: &FakeIssue, comment: &Comment) -> Value {
    json!({
        "id": comment.id,
        "node_id": format!("IC_fake{}", comment.id),
        "url": format!("{base}/repos/{}/issues/comments/{}", repo.full_name(), comment.id),
        "html_url": format!("https://github.example/{}/issues/{}#issuecomment-{}", repo.full_name(), issue.number, comment.id),
        "issue_url": format!("{base}/repos/{}/issues/{}", repo.full_name(), issue.number),
        "body": comment.body,
        "user": user(base, "symphony-bot"),
        "created_at": timestamp(comment.created_at),
        "updated_at": timestamp(comment.created_at),
        "author_association": "CONTRIBUTOR"
    })
}

/// An issue node as GraphQL renders the fields Symphony's `SymphonyIssue` fragment asks for.
pub(crate) fn issue_node(repo: &Repo, issue: &FakeIssue) -> Value {
    if issue.pull.is_some() {
        return json!({ "__typename": "PullRequest" });
    }
    let blockers: Vec<Value> = issue
        .blocked_by
        .iter()
        .filter_map(|n| repo.issue(*n))
        .map(|b| {
            json!({
                "id": b.node_id, "number": b.number,
                "state": if b.open { "OPEN" } else { "CLOSED" },
                "repository": { "nameWithOwner": repo.full_name() }
            })
        })
        .collect();
    let open_blockers = issue
        .blocked_by
        .iter()
        .filter(|n| repo.issue(**n).is_some_and(|b| b.open))
        .count();
    json!({
        "__typename": "Issue",
        "id": issue.node_id,
        "number": issue.number,
        "title": if issue.corrupt { Value::Null } else { json!(issue.title) },
        "body": issue.body.clone().unwrap_or_default(),
        "state": if issue.open { "OPEN" } else { "CLOSED" },
        "url": format!("https://github.example/{}/issues/{}", repo.full_name(), issue.number),
        "createdAt": timestamp(issue.created_at),
        "updatedAt": timestamp(issue.updated_at),
        "repository": { "nameWithOwner": repo.full_name() },
        "labels": { "nodes": issue.labels.iter().map(|l| json!({"name": l})).collect::<Vec<_>>() },
        "assignees": { "nodes": issue.assignees.iter().map(|a| json!({"login": a})).collect::<Vec<_>>() },
        "issueDependenciesSummary": { "blockedBy": open_blockers, "totalBlockedBy": issue.blocked_by.len() },
        "blockedBy": { "nodes": blockers }
    })
}
