//! Helpers shared by the tests that drive the real `symphony` binary.

#![allow(dead_code)]

pub mod codex_project;
pub mod github_origin;

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

/// Polls `done` every 50 ms; fails the test naming `what` after `limit`.
pub fn wait_until(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < limit, "timed out waiting for: {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The `state:` of local issue file `issues/<id>.md` under `dir` (quotes removed).
pub fn issue_state(dir: &Path, id: &str) -> String {
    std::fs::read_to_string(dir.join(format!("issues/{id}.md")))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("state:"))
        .unwrap_or("")
        .trim()
        .trim_matches('"')
        .to_owned()
}

/// A `symphony run` started by a test: killed when dropped, so a test that fails before it
/// stops the service (an assertion in the middle) leaves no service running behind it.
pub struct Served(Option<Child>);

impl std::ops::Deref for Served {
    type Target = Child;
    fn deref(&self) -> &Child {
        self.0.as_ref().expect("running until dropped")
    }
}

impl std::ops::DerefMut for Served {
    fn deref_mut(&mut self) -> &mut Child {
        self.0.as_mut().expect("running until dropped")
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        if let Some(mut child) = self.0.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Served {
    /// Guards `child`.
    pub fn new(child: Child) -> Self {
        Self(Some(child))
    }

    /// Stops it as [`terminate`] does.
    pub fn stop(mut self, limit: Duration) {
        if let Some(child) = self.0.take() {
            terminate(child, limit);
        }
    }
}

/// Sends SIGTERM to `child` and waits for it (SIGKILL after `limit`).
pub fn terminate(mut child: Child, limit: Duration) {
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > limit {
            let _ = child.kill();
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The port of the server `symphony run` announced in its log (`url=http://127.0.0.1:PORT/`).
pub fn port_in(log: &Path) -> Option<u16> {
    let text = std::fs::read_to_string(log).ok()?;
    let at = text.find("http://127.0.0.1:")? + "http://127.0.0.1:".len();
    text[at..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect::<String>()
        .parse()
        .ok()
}

/// `symphony run` in `dir` with `SYMPHONY_LOG=log_filter` and `envs`, stdout and stderr to
/// `dir/log`; killed if the test ends before stopping it.
pub fn run_with(dir: &Path, log: &str, log_filter: &str, envs: &[(&str, &str)]) -> Served {
    let file = std::fs::File::create(dir.join(log)).expect("log file");
    Served::new(
        Command::new(env!("CARGO_BIN_EXE_symphony"))
            .arg("run")
            .current_dir(dir)
            .envs(envs.iter().copied())
            .env("SYMPHONY_LOG", log_filter)
            .stdout(file.try_clone().expect("log file"))
            .stderr(file)
            .stdin(std::process::Stdio::null())
            .spawn()
            .expect("symphony starts"),
    )
}

/// `symphony run` in `dir` at `info`, logging to `dir/log`.
pub fn run_logging(dir: &Path, log: &str) -> Child {
    Command::new(env!("CARGO_BIN_EXE_symphony"))
        .arg("run")
        .current_dir(dir)
        .env("SYMPHONY_LOG", "info")
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(dir.join(log)).expect("log file"))
        .spawn()
        .expect("symphony starts")
}

/// Stops `child` with SIGTERM; returns its log `dir/log`, having checked it stopped cleanly.
pub fn stop_logging(dir: &Path, log: &str, mut child: Child) -> String {
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let status = child.wait().expect("symphony ends");
    let log = std::fs::read_to_string(dir.join(log)).expect("the log");
    assert!(status.success(), "{log}");
    log
}

/// Starts `symphony run --port 0` in `dir` with `SYMPHONY_LOG=log_filter`, logs to
/// `dir/symphony.log`, and waits (up to `limit`) for the port it announces.
pub fn start_serving(dir: &Path, log_filter: &str, limit: Duration) -> (Served, u16) {
    start_serving_with(dir, log_filter, limit, &[])
}

/// [`start_serving`] with extra environment variables.
pub fn start_serving_with(
    dir: &Path,
    log_filter: &str,
    limit: Duration,
    envs: &[(&str, &str)],
) -> (Served, u16) {
    start_serving_under(dir, log_filter, limit, envs, &[])
}

/// [`start_serving_with`] run by `wrapper` (a program and its arguments, e.g. `faketime -f
/// +3600`), which runs `symphony` with the rest of the command line.
pub fn start_serving_under(
    dir: &Path,
    log_filter: &str,
    limit: Duration,
    envs: &[(&str, &str)],
    wrapper: &[&str],
) -> (Served, u16) {
    let log = dir.join("symphony.log");
    let symphony = env!("CARGO_BIN_EXE_symphony");
    let mut command = match wrapper.split_first() {
        Some((program, args)) => {
            let mut command = Command::new(program);
            command.args(args).arg(symphony);
            command
        }
        None => Command::new(symphony),
    };
    let child = command
        .args(["run", "--port", "0"])
        .current_dir(dir)
        .envs(envs.iter().copied())
        .env("SYMPHONY_LOG", log_filter)
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(&log).expect("log file"))
        .spawn()
        .expect("symphony starts");
    let served = Served::new(child);
    wait_until("the server's address in the log", limit, || {
        port_in(&log).is_some()
    });
    (served, port_in(&log).expect("a port"))
}

/// One HTTP/1.1 request to `127.0.0.1:port` over a real socket: `(status, body)`.
pub fn http(port: u16, method: &str, path: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"
    )
    .unwrap();
    let mut raw = String::new();
    stream.read_to_string(&mut raw).unwrap();
    let status = raw
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = raw.split_once("\r\n\r\n").map_or("", |(_, b)| b).to_owned();
    (status, body)
}

/// Runs `git` in `dir` as a test user and returns its trimmed output; panics, naming the
/// command and what git said, when it fails.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("git is required for this test");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// The prompts a shell agent saved under `dir/prompts`, oldest first.
pub fn prompts(dir: &Path) -> Vec<String> {
    let mut paths: Vec<_> = std::fs::read_dir(dir.join("prompts"))
        .map(|d| d.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default();
    paths.sort();
    paths
        .iter()
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect()
}

/// Moves local issue `issues/<id>.md` under `dir` to `state`, as a person editing the file
/// would: its `state:` line rewritten, the file replaced at once.
pub fn move_issue(dir: &Path, id: &str, state: &str) {
    let path = dir.join(format!("issues/{id}.md"));
    let text = std::fs::read_to_string(&path).unwrap();
    let mut moved = false;
    let updated: String = text
        .split_inclusive('\n')
        .map(|line| {
            if !moved && line.starts_with("state:") {
                moved = true;
                format!("state: {state:?}\n")
            } else {
                line.to_owned()
            }
        })
        .collect();
    assert!(moved, "{id} has no state line: {text}");
    let staged = path.with_extension("md.moving");
    std::fs::write(&staged, updated).unwrap();
    std::fs::rename(&staged, &path).unwrap();
}

/// `symphony runs --json` in `dir`, newest first.
pub fn runs(dir: &Path) -> Vec<serde_json::Value> {
    json_lines(dir, &["runs", "--json"], &[])
}

/// The JSON lines `symphony <args>` prints in `dir`, with `env` set (a workflow's `$VAR`s).
pub fn json_lines(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Vec<serde_json::Value> {
    let out = Command::new(env!("CARGO_BIN_EXE_symphony"))
        .args(args)
        .current_dir(dir)
        .envs(env.iter().copied())
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

/// Every file under `dir`, as bytes (the state database and its WAL included): where a
/// canary secret must not be.
pub fn all_files(dir: &Path, out: &mut Vec<(String, Vec<u8>)>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if entry.file_type().unwrap().is_dir() {
            all_files(&path, out);
        } else if let Ok(bytes) = std::fs::read(&path) {
            out.push((path.display().to_string(), bytes));
        }
    }
}

/// Whether `needle` occurs in `haystack`.
pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}
