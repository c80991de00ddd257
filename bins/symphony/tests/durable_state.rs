//! Durable state through the real `symphony run` process: a SIGKILL mid-turn loses nothing
//! and duplicates nothing, two instances on one state directory never run the same issue,
//! and bad state files are clear start-up errors.

mod support;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use support::{issue_state, wait_until};

const LIMIT: Duration = Duration::from_secs(120);

fn symphony(dir: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_symphony"));
    command.args(args).current_dir(dir);
    command
}

fn start(dir: &Path, log: &str) -> Child {
    let log = std::fs::File::create(dir.join(log)).unwrap();
    symphony(dir, &["run"])
        .env("SYMPHONY_LOG", "info")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap()
}

/// SIGTERM, then waits; the exit status.
fn terminate(mut child: Child) -> std::process::ExitStatus {
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if start.elapsed() > LIMIT {
            let _ = child.kill();
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The service's database, if it has created it (never created from here).
fn db(dir: &Path) -> Option<rusqlite::Connection> {
    let conn = rusqlite::Connection::open_with_flags(
        dir.join(".symphony/state.db"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE,
    )
    .ok()?;
    conn.busy_timeout(Duration::from_secs(10)).unwrap();
    Some(conn)
}

fn query<T: rusqlite::types::FromSql>(dir: &Path, sql: &str) -> Vec<Vec<T>> {
    let Some(conn) = db(dir) else {
        return Vec::new();
    };
    let mut statement = match conn.prepare(sql) {
        Ok(statement) => statement,
        // Not created yet.
        Err(_) => return Vec::new(),
    };
    let columns = statement.column_count();
    statement
        .query_map([], |row| (0..columns).map(|i| row.get(i)).collect())
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

fn lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(str::to_owned)
        .collect()
}

/// Alive, and not a zombie waiting for a parent that will never reap it.
fn process_running(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        let state = stat.rsplit(')').next().unwrap_or("").trim_start();
        !state.starts_with('Z') && !state.starts_with('X')
    })
}

const RESTART_WORKFLOW: &str = r#"---
tracker:
  kind: local
  provider:
    path: ./issues
workspace:
  root: ./ws
polling:
  interval_ms: 200
agent:
  backend: command
  max_retry_backoff_ms: 60000
  command: |
    echo "$SYMPHONY_ISSUE_IDENTIFIER $$" >> ../../ran.log
    case "$SYMPHONY_ISSUE_IDENTIFIER" in
      FAIL) echo "failing on purpose"; exit 1 ;;
      SLOW)
        if [ ! -e ../../slow.once ]; then
          touch ../../slow.once
          exec sleep 600
        fi ;;
    esac
    echo '::symphony-tool {"name": "local_issue_set_state", "arguments": {"state": "done"}}'
---
Work on {{ issue.identifier }}
"#;

#[test]
fn a_sigkill_mid_turn_loses_nothing_and_runs_nothing_twice() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    std::fs::create_dir_all(dir.join("issues")).unwrap();
    for (name, priority) in [("SLOW", 1), ("FAIL", 2)] {
        std::fs::write(
            dir.join(format!("issues/{name}.md")),
            format!("---\ntitle: {name}\nstate: todo\npriority: {priority}\n---\n"),
        )
        .unwrap();
    }
    std::fs::write(dir.join("WORKFLOW.md"), RESTART_WORKFLOW).unwrap();

    let first = start(dir, "first.log");
    // SLOW is mid-turn with its process recorded, and FAIL waits in the retry queue.
    wait_until("SLOW mid-turn and FAIL queued", LIMIT, || {
        let slow_pid = query::<i64>(dir, "SELECT pid FROM runs WHERE identifier = 'SLOW' AND pid IS NOT NULL AND ended_at IS NULL");
        let queued = query::<i64>(dir, "SELECT attempt FROM retries WHERE identifier = 'FAIL'");
        let started = lines(&dir.join("ran.log"))
            .iter()
            .any(|l| l.starts_with("SLOW "));
        !slow_pid.is_empty() && !queued.is_empty() && started
    });
    let queued_before: Vec<Vec<i64>> = query(
        dir,
        "SELECT attempt, due_at FROM retries WHERE identifier = 'FAIL'",
    );
    let agent_pid: u32 = lines(&dir.join("ran.log"))
        .iter()
        .find_map(|l| l.strip_prefix("SLOW ").map(|p| p.parse().unwrap()))
        .unwrap();
    let recorded: Vec<Vec<i64>> = query(dir, "SELECT pid FROM runs WHERE identifier = 'SLOW'");
    assert_eq!(
        recorded,
        vec![vec![i64::from(agent_pid)]],
        "the store recorded the agent's process group leader"
    );
    let mut first = first;
    first.kill().unwrap();
    first.wait().unwrap();
    assert!(
        process_running(agent_pid),
        "the SIGKILL left SLOW's agent running as an orphan"
    );

    let second = start(dir, "second.log");
    wait_until("the restart to adopt FAIL's retry", LIMIT, || {
        let owners = query::<String>(dir, "SELECT c.owner FROM retries r JOIN claims c USING (issue_id) WHERE r.identifier = 'FAIL'");
        let instances = query::<String>(dir, "SELECT id FROM instances");
        owners.len() == 1 && instances.len() == 1 && owners[0] == instances[0]
    });
    let queued_after: Vec<Vec<i64>> = query(
        dir,
        "SELECT attempt, due_at FROM retries WHERE identifier = 'FAIL'",
    );
    assert_eq!(
        queued_after, queued_before,
        "the retry queue is back with its due times"
    );
    wait_until("the orphaned agent to be stopped", LIMIT, || {
        !process_running(agent_pid)
    });
    wait_until("SLOW to be done", LIMIT, || {
        issue_state(dir, "SLOW") == "done"
    });
    // FAIL's next attempt starts when it was due before the kill, not earlier.
    wait_until("FAIL's next attempt", LIMIT, || {
        !query::<i64>(
            dir,
            "SELECT id FROM runs WHERE identifier = 'FAIL' AND attempt = 1",
        )
        .is_empty()
    });
    let started: Vec<Vec<i64>> = query(
        dir,
        "SELECT started_at FROM runs WHERE identifier = 'FAIL' AND attempt = 1",
    );
    assert!(
        started[0][0] >= queued_before[0][1],
        "attempt 1 started at {} before it was due at {}",
        started[0][0],
        queued_before[0][1]
    );
    // Settle: a second run of SLOW would have started by now.
    std::thread::sleep(Duration::from_secs(2));
    assert!(terminate(second).success());

    let slow_runs = lines(&dir.join("ran.log"))
        .iter()
        .filter(|l| l.starts_with("SLOW "))
        .count();
    assert_eq!(slow_runs, 2, "SLOW ran once before the kill and once after");
    let outcomes: Vec<Vec<String>> = query(
        dir,
        "SELECT outcome FROM runs WHERE identifier = 'SLOW' ORDER BY id",
    );
    // The second run ends "succeeded", or "stopped" if a tick saw the issue done (the agent's
    // own doing) while its process was still exiting; either way it ran once.
    assert_eq!(outcomes.len(), 2);
    assert_eq!(outcomes[0], vec!["interrupted".to_owned()]);
    assert!(
        outcomes[1] == vec!["succeeded".to_owned()] || outcomes[1] == vec!["stopped".to_owned()],
        "{outcomes:?}"
    );
    let workspaces: Vec<Vec<String>> =
        query(dir, "SELECT workspace FROM runs WHERE identifier = 'SLOW'");
    let expected = std::fs::canonicalize(dir).unwrap().join("ws/SLOW");
    assert_eq!(workspaces[0][0], expected.display().to_string());
    // The history and the audit trail say the same through the CLI.
    let runs = symphony(dir, &["runs", "--issue", "SLOW"])
        .output()
        .unwrap();
    let runs = String::from_utf8_lossy(&runs.stdout);
    assert!(
        runs.contains("interrupted") && runs.lines().count() == 3,
        "a header and the two runs: {runs}"
    );
    let verify = symphony(dir, &["audit", "verify"]).output().unwrap();
    assert!(verify.status.success(), "{verify:?}");
    let tail = symphony(dir, &["audit", "tail", "-n", "1000"])
        .output()
        .unwrap();
    let tail = String::from_utf8_lossy(&tail.stdout);
    for kind in [
        "run_interrupted",
        "orphan_stopped",
        "retries_adopted",
        "dispatch",
        "retry_scheduled",
    ] {
        assert!(tail.contains(kind), "no {kind} in the audit log:\n{tail}");
    }
}

const SHARED_WORKFLOW: &str = r#"---
tracker:
  kind: local
  provider:
    path: ./issues
workspace:
  root: ./ws
polling:
  interval_ms: 100
agent:
  backend: command
  max_concurrent_agents: 5
  command: |
    echo "$SYMPHONY_ISSUE_IDENTIFIER" >> ../../ran.log
    sleep 0.5
    echo '::symphony-tool {"name": "local_issue_set_state", "arguments": {"state": "done"}}'
---
Work on {{ issue.identifier }}
"#;

#[test]
fn two_instances_on_one_state_directory_never_run_the_same_issue() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    std::fs::create_dir_all(dir.join("issues")).unwrap();
    let issues: Vec<String> = (1..=50).map(|n| format!("I-{n:02}")).collect();
    for issue in &issues {
        std::fs::write(
            dir.join(format!("issues/{issue}.md")),
            format!("---\ntitle: {issue}\nstate: todo\n---\n"),
        )
        .unwrap();
    }
    std::fs::write(dir.join("WORKFLOW.md"), SHARED_WORKFLOW).unwrap();
    let a = start(dir, "a.log");
    let b = start(dir, "b.log");
    wait_until("every issue done", LIMIT, || {
        issues.iter().all(|i| issue_state(dir, i) == "done")
    });
    // Let continuation checks release their claims.
    std::thread::sleep(Duration::from_secs(2));
    let logs = || {
        format!(
            "a.log:\n{}\nb.log:\n{}",
            std::fs::read_to_string(dir.join("a.log")).unwrap_or_default(),
            std::fs::read_to_string(dir.join("b.log")).unwrap_or_default()
        )
    };
    let (a, b) = (terminate(a), terminate(b));
    assert!(
        a.success() && b.success(),
        "both ran to a clean stop: {a:?} {b:?}\n{}",
        logs()
    );

    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for line in lines(&dir.join("ran.log")) {
        *counts.entry(line).or_default() += 1;
    }
    let twice: Vec<_> = counts.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "issues run more than once: {twice:?}");
    assert_eq!(counts.len(), 50, "every issue ran");
    let by_instance: Vec<Vec<String>> = query(dir, "SELECT instance FROM runs GROUP BY instance");
    assert_eq!(
        by_instance.len(),
        2,
        "both instances did part of the work\n{}",
        logs()
    );
    let verify = symphony(dir, &["audit", "verify"]).output().unwrap();
    assert!(verify.status.success(), "{verify:?}");
}

#[test]
fn a_corrupt_state_database_is_a_clear_start_up_error_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    std::fs::create_dir_all(dir.join("issues")).unwrap();
    std::fs::create_dir_all(dir.join(".symphony")).unwrap();
    std::fs::write(dir.join("WORKFLOW.md"), SHARED_WORKFLOW).unwrap();
    std::fs::write(
        dir.join(".symphony/state.db"),
        "this is not a database\n".repeat(500),
    )
    .unwrap();
    let output = symphony(dir, &["run"]).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    let file = dir.join(".symphony/state.db");
    assert!(
        stderr.contains("error[store_corrupt]") && stderr.contains(&file.display().to_string()),
        "{stderr}"
    );
}

#[test]
fn reading_state_that_does_not_exist_says_where_it_looked() {
    let dir = tempfile::tempdir().unwrap();
    let output = symphony(dir.path(), &["runs", "--state-dir", "nowhere"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("error[store_missing]") && stderr.contains("nowhere/state.db"),
        "{stderr}"
    );
    assert!(!dir.path().join("nowhere").exists(), "nothing is created");
}

#[test]
fn a_locked_state_database_is_a_clear_start_up_error_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    std::fs::create_dir_all(dir.join("issues")).unwrap();
    std::fs::create_dir_all(dir.join(".symphony")).unwrap();
    std::fs::write(dir.join("WORKFLOW.md"), SHARED_WORKFLOW).unwrap();
    let file = dir.join(".symphony/state.db");
    // Another program holds the database exclusively for longer than Symphony waits.
    let holder = rusqlite::Connection::open(&file).unwrap();
    holder
        .execute_batch("CREATE TABLE other (x); BEGIN EXCLUSIVE; INSERT INTO other VALUES (1);")
        .unwrap();
    let output = symphony(dir, &["run"]).output().unwrap();
    drop(holder);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("error[store_locked]") && stderr.contains(&file.display().to_string()),
        "{stderr}"
    );
}
