//! The fake Linear's world: teams with their workflow states, issues with labels, relations,
//! comments and attachments, and how each is shown as a GraphQL object (every field
//! materialized; the executor projects what a query selects).

use serde_json::{json, Value};

/// A workflow state of a team.
#[derive(Debug, Clone)]
pub struct FakeState {
    /// Its id.
    pub id: String,
    /// Its name, as the team spells it.
    pub name: String,
    /// Linear's state type: triage, backlog, unstarted, started, completed, canceled.
    pub kind: String,
}

/// A team.
#[derive(Debug, Clone)]
pub struct FakeTeam {
    /// Its id.
    pub id: String,
    /// Its key (`ENG`).
    pub key: String,
    /// Its workflow.
    pub states: Vec<FakeState>,
}

/// An issue as Linear keeps it.
#[derive(Debug, Clone)]
pub struct FakeIssue {
    /// Its id.
    pub id: String,
    /// `ENG-7`.
    pub identifier: String,
    /// Title.
    pub title: String,
    /// Description (Markdown).
    pub description: Option<String>,
    /// 0 (none) to 4 (low).
    pub priority: u8,
    /// The team's key.
    pub team: String,
    /// The project's slug id.
    pub project: Option<String>,
    /// The state's id.
    pub state_id: String,
    /// Label names.
    pub labels: Vec<String>,
    /// Assignee email.
    pub assignee: Option<String>,
    /// Ids of issues that block this one.
    pub blocked_by: Vec<String>,
    /// Comment bodies, oldest first.
    pub comments: Vec<String>,
    /// Linked URLs.
    pub attachments: Vec<String>,
    /// Creation order (createdAt is derived from it).
    pub created: u64,
    /// Bumped on every change (updatedAt).
    pub updated: u64,
    /// A broken record: its title is gone (tests of malformed data).
    pub corrupt: bool,
}

/// Everything the fake knows.
#[derive(Debug, Default)]
pub struct World {
    /// Teams.
    pub teams: Vec<FakeTeam>,
    /// Issues, in creation order.
    pub issues: Vec<FakeIssue>,
    /// The viewer's (the key owner's) email.
    pub viewer: String,
    /// A clock for created/updated stamps.
    pub clock: u64,
}

/// The fake clock's tick `n` as Linear writes times (one tick is a second after a fixed
/// start, so stamps order as text).
fn stamp(n: u64) -> String {
    let start = chrono::DateTime::parse_from_rfc3339("2026-12-01T00:00:00Z")
        .expect("a valid start")
        .to_utc();
    (start + chrono::Duration::seconds(n as i64))
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

impl World {
    /// The state with `id`, and its team.
    pub fn state(&self, id: &str) -> Option<(&FakeTeam, &FakeState)> {
        self.teams
            .iter()
            .find_map(|t| t.states.iter().find(|s| s.id == id).map(|s| (t, s)))
    }

    /// The issue with `id` or identifier.
    pub fn issue(&self, id: &str) -> Option<&FakeIssue> {
        self.issues
            .iter()
            .find(|i| i.id == id || i.identifier.eq_ignore_ascii_case(id))
    }

    fn user(&self, email: &str) -> Value {
        json!({"id": format!("user-{email}"), "email": email, "name": email,
               "isMe": email == self.viewer})
    }

    fn state_json(&self, id: &str) -> Value {
        match self.state(id) {
            Some((team, state)) => json!({"id": state.id, "name": state.name, "type": state.kind,
                                          "team": {"id": team.id, "key": team.key}}),
            None => Value::Null,
        }
    }

    fn team_json(&self, key: &str) -> Value {
        match self.teams.iter().find(|t| t.key == key) {
            Some(team) => json!({"id": team.id, "key": team.key, "name": team.key}),
            None => Value::Null,
        }
    }

    /// An issue as a GraphQL object; `depth` 0 stops at its own fields (a related issue).
    pub fn issue_json(&self, issue: &FakeIssue, depth: u8) -> Value {
        let mut value = json!({
            "__typename": "Issue",
            "id": issue.id,
            "identifier": issue.identifier,
            "title": if issue.corrupt { Value::Null } else { json!(issue.title) },
            "description": issue.description,
            "priority": issue.priority,
            "url": format!("https://linear.app/fake/issue/{}", issue.identifier.to_lowercase()),
            "branchName": format!("{}-work", issue.identifier.to_lowercase()),
            "createdAt": stamp(issue.created),
            "updatedAt": stamp(issue.updated),
            "state": self.state_json(&issue.state_id),
            "team": self.team_json(&issue.team),
            "project": issue.project.as_ref().map(|p| json!({"slugId": p, "name": p})),
            "assignee": issue.assignee.as_deref().map(|e| self.user(e)),
        });
        if depth == 0 {
            return value;
        }
        let related = |id: &String| self.issue(id).map(|b| self.issue_json(b, 0));
        value["labels"] =
            json!({"nodes": issue.labels.iter().map(|l| json!({"name": l})).collect::<Vec<_>>()});
        value["inverseRelations"] = json!({"nodes": issue.blocked_by.iter().filter_map(related)
            .map(|b| json!({"type": "blocks", "issue": b})).collect::<Vec<_>>()});
        value["relations"] = json!({"nodes": self.issues.iter()
            .filter(|other| other.blocked_by.contains(&issue.id))
            .map(|other| json!({"type": "blocks", "relatedIssue": self.issue_json(other, 0)}))
            .collect::<Vec<_>>()});
        value["comments"] =
            json!({"nodes": issue.comments.iter().map(|c| json!({"body": c})).collect::<Vec<_>>()});
        value["attachments"] = json!({"nodes": issue.attachments.iter().map(|u| json!({"url": u})).collect::<Vec<_>>()});
        value
    }

    /// The viewer as a GraphQL object.
    pub fn viewer_json(&self) -> Value {
        self.user(&self.viewer)
    }

    /// Team `key` with its states, as a GraphQL object.
    pub fn team_object(&self, id_or_key: &str) -> Value {
        match self
            .teams
            .iter()
            .find(|t| t.id == id_or_key || t.key.eq_ignore_ascii_case(id_or_key))
        {
            Some(team) => {
                let mut value = self.team_json(&team.key);
                value["states"] = json!({"nodes": team.states.iter()
                    .map(|s| self.state_json(&s.id)).collect::<Vec<_>>()});
                value
            }
            None => Value::Null,
        }
    }

    /// Every workflow state, as GraphQL objects.
    pub fn all_states(&self) -> Vec<Value> {
        self.teams
            .iter()
            .flat_map(|t| t.states.iter().map(|s| self.state_json(&s.id)))
            .collect()
    }

    /// Advances the clock.
    pub fn tick(&mut self) -> u64 {
        self.clock += 1;
        self.clock
    }
}
