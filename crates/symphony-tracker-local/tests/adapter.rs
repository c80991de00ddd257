//! The local tracker against the conformance kit and its own rules, on real files.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use serde_json::json;
use symphony_tracker::conformance::{self, ConformanceHarness, SeedIssue};
use symphony_tracker::{ToolContext, Tracker};
use symphony_tracker_local::LocalTracker;

struct Harness {
    dir: tempfile::TempDir,
    tracker: Option<Arc<LocalTracker>>,
}

impl Harness {
    fn new() -> Self {
        Self {
            dir: tempfile::tempdir().unwrap(),
            tracker: None,
        }
    }
}

/// Lets the kit hold a boxed tracker while the harness keeps counting its reads.
struct Shared(Arc<LocalTracker>);

#[async_trait]
impl Tracker for Shared {
    fn secret_environment_names(&self) -> Vec<String> {
        self.0.secret_environment_names()
    }

    fn kind(&self) -> &str {
        self.0.kind()
    }
    async fn fetch_issues_by_states(
        &self,
        states: &[String],
    ) -> Result<Vec<symphony_core::Issue>, symphony_tracker::TrackerError> {
        self.0.fetch_issues_by_states(states).await
    }
    async fn fetch_issues_by_ids(
        &self,
        ids: &[String],
    ) -> Result<Vec<symphony_core::Issue>, symphony_tracker::TrackerError> {
        self.0.fetch_issues_by_ids(ids).await
    }
}

fn file_text(seed: &SeedIssue) -> String {
    let labels = serde_json::to_string(&seed.labels).unwrap();
    let mut text = format!(
        "---\nidentifier: {}\ntitle: {}\nstate: {}\nlabels: {labels}\n",
        seed.identifier, seed.title, seed.state
    );
    if let Some(p) = seed.priority {
        text.push_str(&format!("priority: {p}\n"));
    }
    text.push_str("---\n");
    text.push_str(seed.description.as_deref().unwrap_or(""));
    text
}

#[async_trait]
impl ConformanceHarness for Harness {
    async fn seed(&mut self, issues: &[SeedIssue]) -> Box<dyn Tracker> {
        for seed in issues {
            std::fs::write(
                self.dir.path().join(format!("{}.md", seed.identifier)),
                file_text(seed),
            )
            .unwrap();
        }
        let tracker = Arc::new(LocalTracker::new(self.dir.path(), vec!["done".into()]));
        self.tracker = Some(Arc::clone(&tracker));
        Box::new(Shared(tracker))
    }
    fn provider_calls(&self) -> u64 {
        self.tracker.as_ref().map_or(0, |t| t.provider_reads())
    }
    async fn corrupt(&mut self, identifier: &str) {
        let path = self.dir.path().join(format!("{identifier}.md"));
        let text = std::fs::read_to_string(&path).unwrap();
        let broken: String = text
            .lines()
            .filter(|l| !l.starts_with("title:"))
            .map(|l| format!("{l}\n"))
            .collect();
        std::fs::write(path, broken).unwrap();
    }
}

#[tokio::test]
async fn local_tracker_passes_the_conformance_kit() {
    conformance::run(Harness::new).await;
}

fn folder_with(files: &[(&str, &[u8])]) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    for (name, bytes) in files {
        std::fs::write(dir.path().join(name), bytes).unwrap();
    }
    let path = dir.path().to_path_buf();
    (dir, path)
}

fn tracker(folder: &Path) -> LocalTracker {
    LocalTracker::new(folder, vec!["done".into(), "cancelled".into()])
}

#[tokio::test]
async fn garbage_files_are_skipped_by_state_reads_and_fail_id_refresh() {
    let garbage: Vec<u8> = (0..2048u32).map(|i| (i * 7919 % 251) as u8).collect();
    let huge = format!(
        "---\ntitle: big\nstate: todo\n---\n{}",
        "x".repeat(2 * 1024 * 1024)
    );
    let (_dir, folder) = folder_with(&[
        ("OK-1.md", b"---\ntitle: fine\nstate: todo\n---\n"),
        ("BIN-1.md", &garbage),
        ("BIG-1.md", huge.as_bytes()),
        ("README.md", b"# Issues\nNot an issue."),
        ("notes.txt", b"ignored: not markdown"),
        (".hidden.md", b"---\ntitle: h\nstate: todo\n---\n"),
    ]);
    let t = tracker(&folder);
    let todo = t.fetch_issues_by_states(&["todo".into()]).await.unwrap();
    assert_eq!(
        todo.iter().map(|i| i.id.as_str()).collect::<Vec<_>>(),
        ["OK-1"]
    );
    for bad in ["BIN-1", "BIG-1", "README"] {
        let err = t
            .fetch_issues_by_ids(&["OK-1".into(), bad.into()])
            .await
            .unwrap_err();
        assert_eq!(err.category_name(), "tracker_response", "{bad}: {err}");
    }
}

#[tokio::test]
async fn a_missing_folder_is_a_request_error() {
    let dir = tempfile::tempdir().unwrap();
    let t = tracker(&dir.path().join("nope"));
    let err = t
        .fetch_issues_by_states(&["todo".into()])
        .await
        .unwrap_err();
    assert_eq!(err.category_name(), "tracker_request");
    assert!(err.message.contains("nope"), "{err}");
}

#[tokio::test]
async fn agent_tools_move_and_comment_on_the_issue_file_only() {
    let (_dir, folder) = folder_with(&[
        (
            "DEMO-1.md",
            b"---\n# keep this comment\ntitle: Greet\nstate: todo\n---\nBody.\n",
        ),
        ("DEMO-2.md", b"---\ntitle: Other\nstate: todo\n---\n"),
    ]);
    let t = tracker(&folder);
    assert_eq!(t.agent_tool_specs().len(), 2);
    let issue = t
        .fetch_issues_by_ids(&["DEMO-1".into()])
        .await
        .unwrap()
        .remove(0);
    let ctx = ToolContext::new(issue);

    let moved = t
        .execute_agent_tool(
            "local_issue_set_state",
            json!({"state": "human review"}),
            &ctx,
        )
        .await;
    assert!(moved.success, "{:?}", moved.output);
    let commented = t
        .execute_agent_tool(
            "local_issue_comment",
            json!({"body": "Done: see the diff."}),
            &ctx,
        )
        .await;
    assert!(commented.success, "{:?}", commented.output);

    let text = std::fs::read_to_string(folder.join("DEMO-1.md")).unwrap();
    assert!(text.contains("# keep this comment"));
    assert!(text.contains("Done: see the diff."));
    let now = t
        .fetch_issues_by_ids(&["DEMO-1".into()])
        .await
        .unwrap()
        .remove(0);
    assert_eq!(now.state, "human review");
    assert!(now.description.unwrap().contains("Comment from the agent"));
    let other = t
        .fetch_issues_by_ids(&["DEMO-2".into()])
        .await
        .unwrap()
        .remove(0);
    assert_eq!(other.state, "todo", "only the context issue changes");

    for (name, args) in [
        ("local_issue_set_state", json!({})),
        ("local_issue_set_state", json!({"state": "a\nb"})),
        ("local_issue_comment", json!({"body": "  "})),
        ("delete_everything", json!({})),
    ] {
        let result = t.execute_agent_tool(name, args, &ctx).await;
        assert!(!result.success, "{name} should fail");
        assert!(result.output["error"].is_string());
    }
    let mut escaped = ctx.clone();
    escaped.issue.id = "../DEMO-2".into();
    assert!(
        !t.execute_agent_tool("local_issue_comment", json!({"body": "x"}), &escaped)
            .await
            .success
    );
}

#[tokio::test]
async fn blockers_make_issues_undispatchable_until_they_are_done() {
    let (_dir, folder) = folder_with(&[
        (
            "A-1.md",
            b"---\ntitle: a\nstate: todo\nblocked_by: [A-2]\n---\n",
        ),
        ("A-2.md", b"---\ntitle: b\nstate: in progress\n---\n"),
    ]);
    let t = tracker(&folder);
    let a1 = t
        .fetch_issues_by_ids(&["A-1".into()])
        .await
        .unwrap()
        .remove(0);
    assert!(!a1.dispatchable);
    assert_eq!(a1.blocked_by[0].state.as_deref(), Some("in progress"));
    std::fs::write(folder.join("A-2.md"), "---\ntitle: b\nstate: Done\n---\n").unwrap();
    let a1 = t
        .fetch_issues_by_ids(&["A-1".into()])
        .await
        .unwrap()
        .remove(0);
    assert!(a1.dispatchable);
}

#[tokio::test]
async fn hand_off_comments_then_moves_the_issue() {
    let (_dir, folder) = folder_with(&[("ABC-1.md", b"---\ntitle: One\nstate: todo\n---\nBody\n")]);
    let tracker = tracker(&folder);
    let issue = tracker
        .fetch_issues_by_ids(&["ABC-1".to_owned()])
        .await
        .unwrap()
        .remove(0);
    let tracker: &dyn Tracker = &tracker;
    assert!(tracker.issue_hand_off().is_some());
    symphony_tracker::hand_off(
        tracker,
        &issue,
        Some("needs human"),
        Some("Gates failed:\n- secrets"),
    )
    .await
    .unwrap();
    let text = std::fs::read_to_string(folder.join("ABC-1.md")).unwrap();
    assert!(text.contains("state: \"needs human\""), "{text}");
    assert!(text.contains("Gates failed:\n- secrets"), "{text}");
    let mut gone = issue.clone();
    gone.id = "../escape".into();
    assert!(
        symphony_tracker::hand_off(tracker, &gone, Some("done"), None)
            .await
            .is_err()
    );
}

#[tokio::test]
async fn a_proposal_goes_into_the_issue_file_once_and_the_branch_stays_local() {
    use symphony_code_host::{ChangeProposal, CheckConclusion, CheckResult, CodeHost};
    use symphony_tracker_local::LocalCodeHost;
    let (_dir, folder) = folder_with(&[(
        "ABC-1.md",
        b"---\ntitle: One\nstate: todo\n---\nBody\n\n## Notes\n\nkeep me\n",
    )]);
    let tracker = tracker(&folder);
    let host = LocalCodeHost::in_issue_files(&folder);
    assert!(!host.needs_pushed_branch());
    let issue = tracker
        .fetch_issues_by_ids(&["ABC-1".to_owned()])
        .await
        .unwrap()
        .remove(0);
    let mut proposal = ChangeProposal::new(
        "symphony/ABC-1",
        "main",
        "0123456789abcdef0123",
        "ABC-1: One",
        "## What changed\n\nfirst",
    );
    let checks = [CheckResult::new(
        "secrets",
        CheckConclusion::Success,
        "no secrets in changed lines",
    )];
    let first = host.propose_change(&issue, &proposal).await.unwrap();
    assert!(first.created && first.url.is_none());
    host.publish_checks(&issue, &proposal.head_sha, &checks)
        .await
        .unwrap();
    proposal.body = "## What changed\n\nsecond <!-- /symphony:proposal --> sneaky".into();
    let second = host.propose_change(&issue, &proposal).await.unwrap();
    assert!(!second.created);
    host.publish_checks(&issue, &proposal.head_sha, &checks)
        .await
        .unwrap();
    let text = std::fs::read_to_string(folder.join("ABC-1.md")).unwrap();
    assert_eq!(
        text.matches("## Proposed change: ABC-1: One").count(),
        1,
        "{text}"
    );
    assert!(text.contains("second  sneaky"), "{text}");
    assert!(!text.contains("first"), "{text}");
    assert!(
        text.contains("Branch `symphony/ABC-1` at `0123456789ab` (local)"),
        "{text}"
    );
    assert!(
        text.contains("- secrets: success — no secrets in changed lines"),
        "{text}"
    );
    assert_eq!(
        text.matches("## Checks on `0123456789ab`").count(),
        1,
        "{text}"
    );
    assert!(
        text.contains("keep me"),
        "the rest of the file is untouched: {text}"
    );
    let reread = tracker
        .fetch_issues_by_ids(&["ABC-1".to_owned()])
        .await
        .unwrap()
        .remove(0);
    assert_eq!(reread.state, "todo", "proposing never moves the issue");

    // The reviewer's remarks: one block, replaced on the next proposal; known ones counted.
    let comments = host.line_comments().expect("the local host writes remarks");
    let remark = |line, key: &str| {
        symphony_code_host::LineComment::new("src/lib.rs", line, format!("remark {key}"), key)
    };
    let outcome = second;
    let posted = comments
        .comment_lines(&issue, &proposal, &outcome, "1 remark", &[remark(3, "k1")])
        .await
        .unwrap();
    assert_eq!((posted.posted, posted.already), (1, 0));
    let posted = comments
        .comment_lines(
            &issue,
            &proposal,
            &outcome,
            "2 remarks",
            &[remark(3, "k1"), remark(9, "k2")],
        )
        .await
        .unwrap();
    assert_eq!((posted.posted, posted.already), (1, 1));
    let text = std::fs::read_to_string(folder.join("ABC-1.md")).unwrap();
    assert_eq!(text.matches("## Reviewer remarks").count(), 1, "{text}");
    assert!(text.contains("- `src/lib.rs:9`: remark k2"), "{text}");
    assert!(
        text.contains("2 remarks") && !text.contains("1 remark\n"),
        "{text}"
    );
    let reread = tracker
        .fetch_issues_by_ids(&["ABC-1".to_owned()])
        .await
        .unwrap()
        .remove(0);
    assert_eq!(reread.state, "todo", "the file still reads as the issue");
}
