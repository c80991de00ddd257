//! The whole loop with the real Codex CLI (mock model), the fake GitHub and a local bare
//! `origin`: the agent adds a file with a fake AWS key, the secrets gate fails, the next turn
//! carries the failure, the agent removes the key, the gates pass, and Symphony hands off:
//! the branch is on `origin`, one PR with the generated body, statuses for the gates, the issue
//! in `symphony:human-review`, every verdict in the audit log. Run again, it is still one PR.

mod support;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;
use symphony_testkit::requires::{run, trial, Tool};

use serde_json::Value;
use support::{git, wait_until, Served};
use symphony_testkit::github::{FakeGithub, NewIssue};
use symphony_testkit::{codex, MockModel, Step};

const LIMIT: Duration = Duration::from_secs(180);
const TOKEN: &str = "ghp_HandoffE2e0123456789abcdefABCDEF777777";
const REPO: &str = "acme/widgets";
const KEY: &str = "AKIAQ3EGRT5YK2PJZW4X";

fn start(dir: &Path, log_name: &str) -> Served {
    let log = std::fs::File::create(dir.join(log_name)).unwrap();
    Served::new(
        Command::new(env!("CARGO_BIN_EXE_symphony"))
            .arg("run")
            .current_dir(dir)
            .env("SYMPHONY_LOG", "info")
            .env("SYMPHONY_E2E_GITHUB_TOKEN", TOKEN)
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .stdin(Stdio::null())
            .spawn()
            .unwrap(),
    )
}

fn audit(dir: &Path) -> Vec<Value> {
    let out = Command::new(env!("CARGO_BIN_EXE_symphony"))
        .args(["audit", "tail", "-n", "500", "--json"])
        .current_dir(dir)
        .env("SYMPHONY_E2E_GITHUB_TOKEN", TOKEN)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn count(entries: &[Value], kind: &str) -> usize {
    entries.iter().filter(|e| e["kind"] == kind).count()
}

fn has_label(fake: &FakeGithub, number: u64, label: &str) -> bool {
    fake.issue(REPO, number).labels.iter().any(|l| l == label)
}

fn a_leaked_key_is_caught_fixed_and_the_change_handed_off_as_one_pull_request() {
    let Some(bin) =
        codex::binary("a_leaked_key_is_caught_fixed_and_the_change_handed_off_as_one_pull_request")
    else {
        return;
    };
    let model = MockModel::start(vec![
        // Run 1, turn 1: the task, done carelessly.
        Step::Shell(format!(
            "printf 'region = eu-west-1\\naws_access_key_id = {KEY}\\n' > settings.ini"
        )),
        Step::Message("Added settings.ini.".into()),
        // Run 1, the gates' feedback turn: the key goes.
        Step::Shell("printf 'region = eu-west-1\\n' > settings.ini".into()),
        Step::Message("Removed the credential; the key comes from the environment.".into()),
        // Run 2 (the issue put back to todo): nothing left to do.
        Step::Message("The change is already complete.".into()),
    ])
    .unwrap();
    let fake = FakeGithub::start(TOKEN);
    let (number, _) = fake.create_issue(
        REPO,
        NewIssue::new("Add the region setting", &["symphony:todo"]),
    );

    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let seed = dir.join("seed");
    std::fs::create_dir(&seed).unwrap();
    git(&seed, &["init", "-q", "-b", "main"]);
    std::fs::write(seed.join("README.md"), "# widgets\n").unwrap();
    git(&seed, &["add", "-A"]);
    git(&seed, &["commit", "-q", "-m", "initial"]);
    let origin = dir.join("origin.git");
    git(dir, &["clone", "-q", "--bare", "seed", "origin.git"]);

    codex::write_config(
        &dir.join("codex"),
        &model.base_url(),
        "never",
        "danger-full-access",
    )
    .unwrap();
    let workflow = format!(
        r#"---
tracker:
  kind: github
  provider:
    repo: {REPO}
    api_url: {api}
    token: $SYMPHONY_E2E_GITHUB_TOKEN
workspace:
  root: ./ws
  repo: {origin}
polling:
  interval_ms: 1000
agent:
  max_turns: 1
codex:
  command: "{codex} app-server"
  approval_policy: never
  thread_sandbox: danger-full-access
  turn_sandbox_policy:
    type: dangerFullAccess
  home: isolated
  home_config: ./codex/config.toml
  read_timeout_ms: 30000
docs: {{}}
gates:
  max_rounds: 2
  checks:
    - kind: secrets
handoff:
  state: human-review
  needs_human_state: needs-human
---
Work on {{{{ issue.identifier }}}}: {{{{ issue.title }}}}.
"#,
        api = fake.url(),
        origin = origin.display(),
        codex = bin.display(),
    );
    std::fs::write(dir.join("WORKFLOW.md"), workflow).unwrap();

    let child = start(dir, "run-1.log");
    wait_until("the hand-off to human review", LIMIT, || {
        has_label(&fake, number, "symphony:human-review")
    });
    wait_until("the hand-off to be audited", LIMIT, || {
        count(&audit(dir), "handed_off") == 1
    });
    child.stop(LIMIT);
    let log = std::fs::read_to_string(dir.join("run-1.log")).unwrap();

    // The feedback turn carried the failure to the model.
    let requests = model.requests();
    let feedback = requests
        .iter()
        .map(|r| r.to_string())
        .find(|r| r.contains("quality gates"))
        .unwrap_or_else(|| panic!("no request carried gate feedback:\n{log}"));
    assert!(feedback.contains("aws-access-key-id"), "{feedback}");
    assert!(feedback.contains("settings.ini"), "{feedback}");

    // Every verdict is audited, in order: fail, then pass, then the hand-off.
    let entries = audit(dir);
    let verdicts: Vec<(u64, String)> = entries
        .iter()
        .filter(|e| e["kind"] == "gate_verdict")
        .map(|e| {
            (
                e["detail"]["round"].as_u64().unwrap(),
                e["detail"]["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        verdicts,
        [(0, "fail".to_owned()), (1, "pass".to_owned())],
        "{log}"
    );
    for kind in [
        "changelog_generated",
        "gates_passed",
        "change_proposed",
        "handed_off",
    ] {
        assert_eq!(count(&entries, kind), 1, "{kind}: {entries:#?}");
    }

    // The branch is on origin, without the key anywhere in its history.
    let proposed = entries
        .iter()
        .find(|e| e["kind"] == "change_proposed")
        .unwrap();
    assert_eq!(proposed["detail"]["pushed"], true, "{proposed}");
    let branch = proposed["detail"]["branch"].as_str().unwrap().to_owned();
    // `#` is not file-safe: the workspace key is sanitized and made unique with a hash.
    let key = branch.strip_prefix("symphony/").unwrap().to_owned();
    assert!(key.starts_with(&format!("widgets_{number}-")), "{key}");
    let head = git(&origin, &["rev-parse", &format!("refs/heads/{branch}")]);
    let ws = dir.join(format!("ws/{key}"));
    assert_eq!(git(&ws, &["rev-parse", "HEAD"]), head);
    let history = git(&origin, &["log", "-p", &format!("main..{branch}")]);
    assert!(!history.contains(KEY), "the key never reached a commit");
    assert_eq!(
        git(&origin, &["show", &format!("{branch}:settings.ini")]),
        "region = eu-west-1"
    );
    assert!(git(
        &origin,
        &["show", &format!("{branch}:changelog.d/{key}.md")]
    )
    .contains("Add the region setting"));

    // One PR with the generated body, statuses on its head, the issue moved with a comment.
    let pulls = fake.pulls(REPO);
    assert_eq!(pulls.len(), 1);
    let pull = &pulls[0];
    assert_eq!(
        pull.title,
        format!("widgets#{number}: Add the region setting")
    );
    let body = pull.body.clone().unwrap();
    assert!(
        body.starts_with(&format!(
            "Closes https://github.example/{REPO}/issues/{number}: Add the region setting"
        )),
        "{body}"
    );
    assert!(body.contains("| secrets | pass |"), "{body}");
    assert!(body.contains("`settings.ini` (added, +1 −0)"), "{body}");
    assert!(body.contains("Symphony-Run: run-"), "{body}");
    let tokens: u64 = body
        .split("## Cost\n\n")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no token count in the body: {body}"));
    assert!(
        tokens > 0 && tokens <= model.usage_served().total(),
        "the session's tokens ({tokens}) are the model's usage: {body}"
    );
    assert!(!body.contains(KEY));
    let spec = pull.pull.as_ref().unwrap();
    assert_eq!(
        (spec.head.as_str(), spec.base.as_str()),
        (branch.as_str(), "main")
    );
    let statuses = fake.statuses(REPO);
    let on_head: Vec<(String, String)> = statuses
        .iter()
        .filter(|s| s.sha == head)
        .map(|s| (s.context.clone(), s.state.clone()))
        .collect();
    assert_eq!(
        on_head,
        [
            ("symphony/secrets".to_owned(), "success".to_owned()),
            ("symphony/gates".to_owned(), "success".to_owned())
        ]
    );
    let issue = fake.issue(REPO, number);
    assert!(!issue.labels.iter().any(|l| l == "symphony:todo"));
    assert_eq!(issue.comments.len(), 1);
    assert!(
        issue.comments[0].body.contains(&format!(
            "https://github.example/{REPO}/pull/{}",
            pull.number
        )),
        "{}",
        issue.comments[0].body
    );

    // Run the hand-off again: the issue is put back, the agent has nothing to add, and the
    // same PR is updated, never a second one.
    fake.update_issue(REPO, number, |i| {
        i.labels.retain(|l| !l.starts_with("symphony:"));
        i.labels.push("symphony:todo".to_owned());
    });
    let child = start(dir, "run-2.log");
    wait_until("the second hand-off", LIMIT, || {
        count(&audit(dir), "handed_off") == 2
    });
    child.stop(LIMIT);
    let log = std::fs::read_to_string(dir.join("run-2.log")).unwrap();
    assert_eq!(fake.pulls(REPO).len(), 1, "still one PR:\n{log}");
    let proposals: Vec<bool> = audit(dir)
        .iter()
        .filter(|e| e["kind"] == "change_proposed")
        .map(|e| e["detail"]["created"].as_bool().unwrap())
        .collect();
    assert_eq!(proposals, [true, false]);
    assert!(has_label(&fake, number, "symphony:human-review"));
    assert_eq!(
        git(&origin, &["rev-parse", &format!("refs/heads/{branch}")]),
        head,
        "nothing new to push"
    );
}

/// A test target of its own harness: each test needs the Codex CLI, and says so (ignored, with
/// the reason) where it is not installed, instead of passing without running.
fn main() -> std::process::ExitCode {
    run(vec![trial(
        "a_leaked_key_is_caught_fixed_and_the_change_handed_off_as_one_pull_request",
        Tool::Codex,
        a_leaked_key_is_caught_fixed_and_the_change_handed_off_as_one_pull_request,
    )])
}
