//! The fake's world: repositories with issues, pull requests, labels, comments, statuses and
//! check runs, and Projects v2 boards; rendered as GitHub renders them.

use chrono::{DateTime, Duration, TimeZone, Utc};
use serde_json::Value;

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
    /// Who wrote it (the token's identity, `symphony-bot`, when written through the API).
    pub user: String,
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
    /// Merged into its base (a merged pull request is also closed).
    pub merged: bool,
    /// Whether it merges cleanly (`None`: GitHub has not computed it yet).
    pub mergeable: Option<bool>,
    /// Reviews, oldest first.
    pub reviews: Vec<Review>,
    /// Review comments (inline), oldest first.
    pub review_comments: Vec<ReviewComment>,
    /// Logins asked to review (and not reviewed since).
    pub requested_reviewers: Vec<String>,
    /// Resolved review threads, by their first comment's id.
    pub resolved_threads: std::collections::BTreeSet<u64>,
}

impl PullRequest {
    /// An open, ready, mergeable pull request of `head` into `base` at `head_sha`.
    pub fn new(head: &str, base: &str, head_sha: &str) -> Self {
        Self {
            head: head.to_owned(),
            base: base.to_owned(),
            head_sha: head_sha.to_owned(),
            draft: false,
            merged: false,
            mergeable: Some(true),
            reviews: Vec::new(),
            review_comments: Vec::new(),
            requested_reviewers: Vec::new(),
            resolved_threads: std::collections::BTreeSet::new(),
        }
    }
}

/// A review of a pull request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Review {
    /// Its id.
    pub id: u64,
    /// Who reviewed.
    pub user: String,
    /// `APPROVED`, `CHANGES_REQUESTED` or `COMMENTED`.
    pub state: String,
    /// Its body.
    pub body: String,
    /// The head it reviewed.
    pub commit_id: String,
    pub(crate) submitted_at: DateTime<Utc>,
}

/// An inline comment on a pull request's diff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewComment {
    /// Its id.
    pub id: u64,
    /// The review it belongs to.
    pub review_id: Option<u64>,
    /// Who wrote it.
    pub user: String,
    /// Path in the repository.
    pub path: String,
    /// Line in the file (`None`: on the whole file).
    pub line: Option<u32>,
    /// Its text.
    pub body: String,
    /// The head it was written on.
    pub commit_id: String,
    /// The comment it answers (same thread), if any.
    pub in_reply_to: Option<u64>,
    pub(crate) created_at: DateTime<Utc>,
}

/// A commit status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitStatus {
    /// Its id.
    pub id: u64,
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
    /// The latest `output` object as sent.
    pub output: Value,
    /// Every annotation received, in order: GitHub appends those of each update.
    pub annotations: Vec<Value>,
    /// The app that owns it (`None`: the app behind the fake's token, Symphony's own).
    pub app: Option<String>,
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
    /// Branch heads the fake knows of (pushed by a test), by branch name.
    pub(crate) branches: std::collections::BTreeMap<String, String>,
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

    /// Pull request `number` (an issue of that number is not one).
    pub(crate) fn pull(&self, number: u64) -> Option<&FakeIssue> {
        self.issue(number).filter(|i| i.pull.is_some())
    }

    pub(crate) fn pull_mut(&mut self, number: u64) -> Option<&mut FakeIssue> {
        self.issue_mut(number).filter(|i| i.pull.is_some())
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
