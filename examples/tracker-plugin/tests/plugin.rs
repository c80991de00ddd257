//! The example adapter passes Symphony's conformance kit, and its CLI runs the service.

use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use symphony_example_jsonl_tracker::JsonlTracker;
use symphony_tracker::conformance::{self, ConformanceHarness, SeedIssue};
use symphony_tracker::Tracker;

struct Harness {
    dir: tempfile::TempDir,
    tracker: Option<Arc<JsonlTracker>>,
}

struct Shared(Arc<JsonlTracker>);

#[async_trait]
impl Tracker for Shared {
    fn secret_environment_names(&self) -> Vec<String> {
        self.0.secret_environment_names()
    }

    fn kind(&self) -> &str {
        "jsonl"
    }
    async fn fetch_issues_by_states(
        &self,
        s: &[String],
    ) -> Result<Vec<symphony_core::Issue>, symphony_tracker::TrackerError> {
        self.0.fetch_issues_by_states(s).await
    }
    async fn fetch_issues_by_ids(
        &self,
        i: &[String],
    ) -> Result<Vec<symphony_core::Issue>, symphony_tracker::TrackerError> {
        self.0.fetch_issues_by_ids(i).await
    }
}

fn line(id: &str, title: Option<&str>, state: &str, labels: &[String]) -> String {
    let mut v = serde_json::json!({"id": id, "state": state, "labels": labels});
    if let Some(t) = title {
        v["title"] = t.into();
    }
    v.to_string()
}

#[async_trait]
impl ConformanceHarness for Harness {
    async fn seed(&mut self, issues: &[SeedIssue]) -> Box<dyn Tracker> {
        let text: Vec<String> = issues
            .iter()
            .map(|s| line(&s.identifier, Some(&s.title), &s.state, &s.labels))
            .collect();
        let path = self.dir.path().join("issues.jsonl");
        std::fs::write(&path, text.join("\n")).unwrap();
        let tracker = Arc::new(JsonlTracker::new(path));
        self.tracker = Some(tracker.clone());
        Box::new(Shared(tracker))
    }
    fn provider_calls(&self) -> u64 {
        self.tracker.as_ref().map_or(0, |t| t.reads())
    }
    async fn corrupt(&mut self, identifier: &str) {
        let path = self.dir.path().join("issues.jsonl");
        let text = std::fs::read_to_string(&path).unwrap();
        let fixed: Vec<String> = text
            .lines()
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).unwrap();
                if v["id"] == identifier {
                    line(identifier, None, v["state"].as_str().unwrap(), &[])
                } else {
                    l.to_owned()
                }
            })
            .collect();
        std::fs::write(path, fixed.join("\n")).unwrap();
    }
}

#[tokio::test]
async fn the_example_adapter_passes_the_conformance_kit() {
    conformance::run(|| Harness {
        dir: tempfile::tempdir().unwrap(),
        tracker: None,
    })
    .await;
}

#[test]
fn the_example_cli_runs_the_service_with_the_plugin_tracker_and_stops_cleanly_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("issues.jsonl"),
        line("J-1", Some("From a plugin"), "open", &[]) + "\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("WORKFLOW.md"),
        "---\ntracker:\n  kind: jsonl\n  provider:\n    path: ./issues.jsonl\nworkspace:\n  root: ./ws\npolling:\n  interval_ms: 200\nagent:\n  backend: command\n  command: \"echo $SYMPHONY_ISSUE_IDENTIFIER >> ../../ran.log\"\n  max_turns: 1\n---\nWork on {{ issue.identifier }}\n",
    )
    .unwrap();
    let bin = env!("CARGO_BIN_EXE_symphony-jsonl");
    let check = Command::new(bin)
        .args(["check"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
    let mut child = Command::new(bin)
        .args(["run"])
        .current_dir(dir.path())
        .spawn()
        .unwrap();
    let ran = dir.path().join("ran.log");
    let start = Instant::now();
    while !ran.exists() && start.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let status = child.wait().unwrap();
    assert!(
        std::fs::read_to_string(&ran)
            .unwrap_or_default()
            .contains("J-1"),
        "the plugin's issue was never worked on"
    );
    assert!(
        status.success(),
        "symphony run exits 0 after SIGTERM: {status}"
    );
}
