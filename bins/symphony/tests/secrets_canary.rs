//! A canary tracker token, and every child program `symphony run` starts: the four hooks, the
//! agent, a command gate and every `git` (through a wrapper first on `PATH` that records its
//! environment). None of them may see the token, under its own variable or `GITHUB_TOKEN`.
//! Hooks used to inherit both.

mod support;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use support::{git, wait_until, Served};
use symphony_testkit::github::{FakeGithub, NewIssue};

const LIMIT: Duration = Duration::from_secs(120);
const CANARY: &str = "ghp_CanaryChildren0123456789abcdefABCDEF55";
const REPO: &str = "acme/widgets";

/// `symphony run` in `dir` with the canary in the environment and the git wrapper first on
/// `PATH`.
fn start(dir: &Path, log: &str) -> Served {
    let path = format!(
        "{}:{}",
        dir.join("bin").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    Served::new(
        Command::new(env!("CARGO_BIN_EXE_symphony"))
            .arg("run")
            .current_dir(dir)
            .env("SYMPHONY_LOG", "info")
            .env("CANARY_TRACKER_TOKEN", CANARY)
            .env("GITHUB_TOKEN", CANARY)
            .env("PATH", path)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.join(log)).unwrap())
            .stdin(Stdio::null())
            .spawn()
            .unwrap(),
    )
}

#[test]
fn no_child_program_sees_the_trackers_token() {
    let fake = FakeGithub::start(CANARY);
    let (number, _) = fake.create_issue(REPO, NewIssue::new("Add notes", &["symphony:todo"]));
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();

    let seed = dir.join("seed");
    std::fs::create_dir(&seed).unwrap();
    git(&seed, &["init", "-q", "-b", "main"]);
    std::fs::write(seed.join("README.md"), "# widgets\n").unwrap();
    git(&seed, &["add", "-A"]);
    git(&seed, &["commit", "-q", "-m", "initial"]);
    git(dir, &["clone", "-q", "--bare", "seed", "origin.git"]);

    // Every git Symphony runs records its environment, then does its work.
    let real_git = String::from_utf8(
        Command::new("bash")
            .args(["-c", "command -v git"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    std::fs::create_dir(dir.join("bin")).unwrap();
    let wrapper = dir.join("bin/git");
    std::fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\nenv >> '{}'\nexec '{}' \"$@\"\n",
            dir.join("env-git.txt").display(),
            real_git.trim()
        ),
    )
    .unwrap();
    let mut mode = std::fs::metadata(&wrapper).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut mode, 0o755);
    std::fs::set_permissions(&wrapper, mode).unwrap();

    let dump = |name: &str| format!("env > ../../env-{name}.txt");
    let workflow = format!(
        r#"---
tracker:
  kind: github
  provider:
    repo: {REPO}
    api_url: {api}
    token: $CANARY_TRACKER_TOKEN
workspace:
  root: ./ws
  repo: {origin}
hooks:
  after_create: "{after_create}"
  before_run: "{before_run}"
  after_run: "{after_run}"
  before_remove: "{before_remove}"
polling:
  interval_ms: 300
agent:
  backend: command
  max_turns: 1
  command: "cat > /dev/null; {agent}; echo notes >> notes.txt"
gates:
  needs_human_state: needs-human
  checks:
    - kind: command
      name: env
      run: "{gate}"
handoff:
  state: human-review
---
Work on {{{{ issue.identifier }}}}.
"#,
        api = fake.url(),
        origin = dir.join("origin.git").display(),
        after_create = dump("after_create"),
        before_run = dump("before_run"),
        after_run = dump("after_run"),
        before_remove = dump("before_remove"),
        agent = dump("agent"),
        gate = dump("gate"),
    );
    std::fs::write(dir.join("WORKFLOW.md"), workflow).unwrap();

    // Run 1: the issue is worked on, gated and handed off (a pushed branch, a PR).
    let child = start(dir, "run-1.log");
    wait_until("the hand-off", LIMIT, || {
        fake.issue(REPO, number)
            .labels
            .iter()
            .any(|l| l == "symphony:human-review")
    });
    wait_until("after_run", LIMIT, || {
        dir.join("env-after_run.txt").exists()
    });
    child.stop(LIMIT);
    // Run 2: the issue was closed meanwhile, so start-up cleanup removes its workspace.
    fake.update_issue(REPO, number, |i| i.open = false);
    let child = start(dir, "run-2.log");
    wait_until("before_remove", LIMIT, || {
        dir.join("env-before_remove.txt").exists()
    });
    child.stop(LIMIT);

    for child in [
        "after_create",
        "before_run",
        "agent",
        "gate",
        "after_run",
        "before_remove",
        "git",
    ] {
        let env = std::fs::read_to_string(dir.join(format!("env-{child}.txt")))
            .unwrap_or_else(|e| panic!("{child} left no environment: {e}"));
        assert!(env.contains("PATH="), "{child}: the environment is there");
        assert!(
            !env.contains(CANARY),
            "{child} saw the tracker's token:\n{}",
            env.lines()
                .filter(|l| l.contains(CANARY))
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
    assert!(
        !fake.pulls(REPO).is_empty(),
        "the hand-off pushed and proposed through the wrapped git"
    );
    // Hook and workspace logs name the issue by id as well as identifier (SPEC 13.1).
    let node = fake.issue(REPO, number).node_id;
    let log = std::fs::read_to_string(dir.join("run-1.log")).unwrap()
        + &std::fs::read_to_string(dir.join("run-2.log")).unwrap();
    for message in [
        "created workspace",
        "hook started",
        "hook succeeded",
        "removed workspace",
    ] {
        let line = log
            .lines()
            .find(|l| l.contains(message))
            .unwrap_or_else(|| panic!("no {message:?} line:\n{log}"));
        assert!(
            line.contains(&format!("issue_id=\"{node}\""))
                || line.contains(&format!("issue_id={node}")),
            "{message}: {line}"
        );
    }
}
