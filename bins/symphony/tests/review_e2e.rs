//! The review loop through the real `symphony` binary (ADR 0018): `symphony review` writes a
//! person's review into the local issue file, the running service makes it the agent's next
//! round; a SIGKILL in the middle of that round loses neither the watch, nor its round count,
//! nor the feedback, and the restarted service acts on it once; `symphony review --merge`
//! ends the issue and removes its workspace.

mod support;

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use support::{git, issue_state, prompts, wait_until, Served};

const LIMIT: Duration = Duration::from_secs(120);

/// The agent saves its prompt beside the project and its pid, hangs while `hang` exists,
/// then adds a line to `notes.txt`.
const WORKFLOW: &str = r#"---
tracker:
  kind: local
  provider:
    path: ./issues
workspace:
  root: ./ws
  repo: ./origin
polling:
  interval_ms: 200
agent:
  backend: command
  max_turns: 1
  max_retry_backoff_ms: 500
  command: |
    mkdir -p ../../prompts
    cat > ../../prompts/$(date +%s%N).txt
    echo $$ > ../../agent.pid
    while [ -e ../../hang ]; do sleep 0.1; done
    echo "notes" >> notes.txt
handoff:
  state: human review
  needs_human_state: needs human
review:
  poll_interval_ms: 200
---
Write notes for {{ issue.identifier }}.
"#;

fn project(dir: &Path) {
    let origin = dir.join("origin");
    std::fs::create_dir_all(&origin).unwrap();
    git(&origin, &["init", "-q", "-b", "main"]);
    std::fs::write(origin.join("README.md"), "# demo\n").unwrap();
    git(&origin, &["add", "-A"]);
    git(&origin, &["commit", "-q", "-m", "initial"]);
    std::fs::create_dir_all(dir.join("issues")).unwrap();
    std::fs::write(
        dir.join("issues/R-1.md"),
        "---\ntitle: Add notes\nstate: todo\n---\nWrite some notes.\n",
    )
    .unwrap();
    std::fs::write(dir.join("WORKFLOW.md"), WORKFLOW).unwrap();
}

fn start(dir: &Path, log: &str) -> Served {
    Served::new(support::run_logging(dir, log))
}

fn symphony(dir: &Path, args: &[&str]) -> Output {
    let output = Command::new(env!("CARGO_BIN_EXE_symphony"))
        .args(args)
        .current_dir(dir)
        .env_remove("SYMPHONY_LOG")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "symphony {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// Rows of a query on the state database (read-only; empty until it exists).
fn query(dir: &Path, sql: &str) -> Vec<Vec<Option<String>>> {
    let Ok(conn) = rusqlite::Connection::open_with_flags(
        dir.join(".symphony/state.db"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    ) else {
        return Vec::new();
    };
    conn.busy_timeout(Duration::from_secs(10)).unwrap();
    let Ok(mut statement) = conn.prepare(sql) else {
        return Vec::new();
    };
    let columns = statement.column_count();
    statement
        .query_map([], |row| {
            (0..columns)
                .map(|i| row.get::<_, rusqlite::types::Value>(i))
                .map(|v| {
                    v.map(|v| match v {
                        rusqlite::types::Value::Null => None,
                        rusqlite::types::Value::Integer(i) => Some(i.to_string()),
                        rusqlite::types::Value::Text(t) => Some(t),
                        other => Some(format!("{other:?}")),
                    })
                })
                .collect()
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

fn audited(dir: &Path, kind: &str) -> usize {
    query(
        dir,
        &format!("SELECT COUNT(*) FROM audit WHERE kind = '{kind}'"),
    )
    .first()
    .and_then(|row| row[0].as_deref()?.parse().ok())
    .unwrap_or(0)
}

#[test]
fn a_review_round_survives_a_sigkill_and_a_merge_ends_the_issue() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    project(dir);
    let mut first = start(dir, "first.log");
    wait_until("the hand-off", LIMIT, || {
        issue_state(dir, "R-1") == "human review" && audited(dir, "review_watched") == 1
    });

    // The round's run hangs; the service is killed in the middle of it.
    std::fs::write(dir.join("hang"), "").unwrap();
    symphony(
        dir,
        &[
            "review",
            "R-1",
            "--request-changes",
            "Greet the reader.\n- notes.txt:1: start with hello",
            "--by",
            "ada",
        ],
    );
    wait_until("the round's run", LIMIT, || prompts(dir).len() == 2);
    first.kill().unwrap();
    first.wait().unwrap();
    drop(first);
    let agent: u32 = std::fs::read_to_string(dir.join("agent.pid"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let _ = Command::new("kill")
        .args(["-KILL", &agent.to_string()])
        .status();
    let watch = query(
        dir,
        "SELECT round, pending FROM review_watches WHERE issue_id = 'R-1'",
    );
    assert_eq!(watch.len(), 1, "the watch survives the kill");
    assert_eq!(watch[0][0].as_deref(), Some("1"));
    let pending = watch[0][1].clone().unwrap_or_default();
    assert!(pending.contains("start with hello"), "{pending}");
    assert_eq!(audited(dir, "review_feedback_taken"), 1);

    // The restarted service answers the same round, once.
    std::fs::remove_file(dir.join("hang")).unwrap();
    let second = start(dir, "second.log");
    wait_until("the round answered", LIMIT, || {
        audited(dir, "review_round_addressed") == 1 && issue_state(dir, "R-1") == "human review"
    });
    let last = prompts(dir).pop().unwrap();
    assert!(last.contains("## Review round 1"), "{last}");
    assert!(
        last.contains("ada on `notes.txt:1`: start with hello"),
        "{last}"
    );
    std::thread::sleep(Duration::from_millis(800));
    assert_eq!(audited(dir, "review_feedback_taken"), 1, "taken once");
    assert_eq!(audited(dir, "review_round_started"), 1, "moved once");
    let watch = query(dir, "SELECT round, pending FROM review_watches");
    assert_eq!(watch, vec![vec![Some("1".to_owned()), None]]);

    // A merge ends it.
    symphony(dir, &["review", "R-1", "--merge"]);
    wait_until("the merge", LIMIT, || issue_state(dir, "R-1") == "done");
    wait_until("the workspace removed", LIMIT, || {
        !dir.join("ws/R-1").exists()
    });
    assert!(query(dir, "SELECT issue_id FROM review_watches").is_empty());
    second.stop(LIMIT);
    let prompts = prompts(dir);
    assert_eq!(
        prompts.len(),
        3,
        "the first run, the killed round, its answer"
    );
}
