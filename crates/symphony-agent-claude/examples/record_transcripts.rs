//! Records what the real Claude Code CLI writes on stdout in a few sessions driven by this
//! backend against the scripted Messages mock, into `tests/transcripts/<scenario>.jsonl` (one
//! stdout line per line, as written; the run's temporary folder renamed `/WORK_ROOT`). `cargo
//! xtask bench agent` replays them. Re-record when
//! the pinned CLI version changes:
//!
//! ```sh
//! cargo run -p symphony-agent-claude --example record_transcripts
//! ```

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use symphony_agent::{AgentBackend, SessionSpec, StopSignal};
use symphony_agent_claude::{ClaudeBackend, ClaudeOptions};
use symphony_orchestrator::TrackerTools;
use symphony_testkit::{claude, MockMessages, Reply};
use symphony_tracker::Tracker;
use symphony_tracker_local::LocalTracker;

const KEY_VAR: &str = "SYMPHONY_RECORD_ANTHROPIC_KEY";

/// A wrapper that runs the CLI and appends its stdout to `out`.
fn wrapper(dir: &Path, out: &Path) -> PathBuf {
    let path = dir.join("claude-recorded");
    std::fs::write(
        &path,
        format!(
            "#!/usr/bin/env bash\n\"{}\" \"$@\" | tee -a \"{}\"\nexit ${{PIPESTATUS[0]}}\n",
            claude::location().display(),
            out.display()
        ),
    )
    .expect("write the wrapper");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    path
}

async fn record(name: &str, replies: Vec<Reply>, prompts: &[&str], tools: bool) {
    let out = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/transcripts")
        .join(format!("{name}.jsonl"));
    std::fs::create_dir_all(out.parent().expect("a folder")).expect("mkdir");
    let _ = std::fs::remove_file(&out);
    let mock = MockMessages::start(replies).expect("mock");
    let root = tempfile::tempdir().expect("tempdir");
    let workspace = root.path().join("REC-1");
    std::fs::create_dir(&workspace).expect("workspace");
    let options = ClaudeOptions::from_section(Some(&json!({
        "command": wrapper(root.path(), &out).display().to_string(),
        "api_key": format!("${KEY_VAR}"),
        "base_url": mock.base_url(),
        "max_retries": 0,
    })))
    .expect("options");
    let (events, mut rx) = tokio::sync::mpsc::channel(10_000);
    tokio::spawn(async move { while rx.recv().await.is_some() {} });
    let (_stop, signal) = StopSignal::new();
    let issue = symphony_core::Issue::new("REC-1", "REC-1", "Recorded", "todo");
    let mut spec = SessionSpec::new(workspace, issue.clone(), events, signal);
    spec.read_timeout = Duration::from_secs(30);
    if tools {
        let issues = root.path().join("issues");
        std::fs::create_dir(&issues).expect("issues");
        std::fs::write(
            issues.join("REC-1.md"),
            "---\ntitle: Recorded\nstate: todo\n---\n",
        )
        .expect("issue");
        let tracker: Arc<dyn Tracker> = Arc::new(LocalTracker::new(&issues, vec!["done".into()]));
        spec.tools = Some(Arc::new(TrackerTools::new(tracker, issue)));
    }
    let mut session = ClaudeBackend::new(options)
        .start(spec)
        .await
        .expect("start");
    for prompt in prompts {
        let turn = session.run_turn(prompt).await;
        println!("{name}: {prompt:?} -> {turn:?}");
    }
    session.stop().await;
    // The version check's line is not part of the stream; the run's folder is named
    // `/WORK_ROOT`, so a replay judges paths against a workspace of its own.
    let root_path = root.path().display().to_string();
    let text = std::fs::read_to_string(&out)
        .expect("recorded")
        .replace(&root_path, "/WORK_ROOT");
    let lines: Vec<&str> = text.lines().filter(|l| l.starts_with('{')).collect();
    std::fs::write(&out, lines.join("\n") + "\n").expect("rewrite");
    println!("{}: {} lines", out.display(), lines.len());
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    std::env::set_var(KEY_VAR, "sk-ant-offline-record");
    record(
        "shell_and_edit_two_turns",
        vec![
            Reply::Bash("echo hello > out.txt".into()),
            Reply::Tool {
                name: "Write".into(),
                input: json!({"file_path": "notes.md", "content": "# Notes\n"}),
            },
            Reply::Tool {
                name: "Read".into(),
                input: json!({"file_path": "notes.md"}),
            },
            Reply::Text("Created out.txt and notes.md.".into()),
            Reply::Bash("cat out.txt".into()),
            Reply::Text("Still here.".into()),
        ],
        &["Create the files", "Check them"],
        false,
    )
    .await;
    record(
        "tracker_tools_over_mcp",
        vec![
            Reply::Tool {
                name: "mcp__symphony__local_issue_comment".into(),
                input: json!({"body": "Working on it."}),
            },
            Reply::Tool {
                name: "mcp__symphony__local_issue_set_state".into(),
                input: json!({"state": "done"}),
            },
            Reply::Text("Done.".into()),
        ],
        &["Comment and finish"],
        true,
    )
    .await;
}
