//! A fake GitHub and an adapter pointed at it, for each state source.

#![allow(dead_code)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use serde_json::{json, Value};
use symphony_testkit::github::{FakeGithub, NewIssue};
use symphony_tracker_github::{GithubConfig, GithubTracker, Pause};
use symphony_workflow::ProviderConfig;

/// A token shaped like a real one, so a leak is easy to grep for.
pub const TOKEN: &str = "ghp_CanaryToken0123456789abcdefABCDEF0000";
pub const REPO: &str = "acme/widgets";
pub const BOARD_OWNER: &str = "acme";
pub const BOARD: u64 = 7;

/// Where states come from in a test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Labels,
    Issue,
    Project,
}

pub const ALL_SOURCES: [Source; 3] = [Source::Labels, Source::Issue, Source::Project];

impl Source {
    /// An active state name under this source.
    pub fn active(self) -> &'static str {
        match self {
            Source::Labels => "todo",
            Source::Issue => "open",
            Source::Project => "Todo",
        }
    }

    /// A terminal state name under this source.
    pub fn terminal(self) -> &'static str {
        match self {
            Source::Labels | Source::Issue => "closed",
            Source::Project => "Done",
        }
    }
}

/// Waits recorded instead of slept.
#[derive(Debug, Default)]
pub struct RecordedPauses(pub Mutex<Vec<Duration>>);

#[async_trait]
impl Pause for RecordedPauses {
    async fn pause(&self, duration: Duration) {
        self.0.lock().unwrap().push(duration);
    }
}

impl RecordedPauses {
    pub fn all(&self) -> Vec<Duration> {
        self.0.lock().unwrap().clone()
    }
}

pub struct Setup {
    pub fake: FakeGithub,
    pub tracker: GithubTracker,
    pub pauses: Arc<RecordedPauses>,
    pub source: Source,
}

pub fn provider(fake: &FakeGithub, source: Source, extra: Value) -> ProviderConfig {
    let mut values = json!({"repo": REPO, "token": TOKEN, "api_url": fake.url()});
    match source {
        Source::Labels => {}
        Source::Issue => values["state_source"] = json!("issue"),
        Source::Project => {
            values["state_source"] = json!("project");
            values["project"] =
                json!({"owner": BOARD_OWNER, "number": BOARD, "priority_field": "Priority"});
        }
    }
    if let Value::Object(extra) = extra {
        for (k, v) in extra {
            values[k] = v;
        }
    }
    ProviderConfig::new(values.as_object().cloned().unwrap())
}

impl Setup {
    pub fn new(source: Source) -> Self {
        Self::with(source, json!({}))
    }

    pub fn with(source: Source, extra: Value) -> Self {
        let fake = FakeGithub::start(TOKEN);
        fake.create_repo(REPO);
        fake.create_project(BOARD_OWNER, BOARD, "Status", Some("Priority"));
        let config = GithubConfig::from_provider(
            &provider(&fake, source, extra),
            vec![source.terminal().to_owned()],
        )
        .expect("valid config");
        let pauses = Arc::new(RecordedPauses::default());
        let tracker = GithubTracker::with_pause(config, pauses.clone()).expect("tracker");
        Self {
            fake,
            tracker,
            pauses,
            source,
        }
    }

    /// Files an issue in `state` (as this source spells states) with `labels`.
    pub fn file(&self, title: &str, state: &str, labels: &[&str]) -> (u64, String) {
        self.file_in(REPO, title, state, labels)
    }

    pub fn file_in(&self, repo: &str, title: &str, state: &str, labels: &[&str]) -> (u64, String) {
        let mut new = NewIssue::new(title, labels);
        match self.source {
            Source::Labels if state == "closed" => new.closed = true,
            Source::Labels => new.labels.push(format!("symphony:{state}")),
            Source::Issue => new.closed = state == "closed",
            Source::Project => new.closed = state == "Done",
        }
        let (number, node) = self.fake.create_issue(repo, new);
        if self.source == Source::Project {
            self.fake
                .add_to_project(BOARD_OWNER, BOARD, repo, number, Some(state), None);
        }
        (number, node)
    }

    /// Moves issue `number` to `state`.
    pub fn move_to(&self, number: u64, state: &str) {
        match self.source {
            Source::Labels => self.fake.update_issue(REPO, number, |i| {
                i.labels.retain(|l| !l.starts_with("symphony:"));
                if state == "closed" {
                    i.open = false;
                } else {
                    i.open = true;
                    i.labels.push(format!("symphony:{state}"));
                }
            }),
            Source::Issue => self
                .fake
                .update_issue(REPO, number, |i| i.open = state == "open"),
            Source::Project => {
                let node = self.fake.issue(REPO, number).node_id;
                self.fake
                    .set_project_status(BOARD_OWNER, BOARD, &node, Some(state));
            }
        }
    }

    pub fn states(&self, states: &[&str]) -> Vec<String> {
        states.iter().map(|s| (*s).to_owned()).collect()
    }
}
