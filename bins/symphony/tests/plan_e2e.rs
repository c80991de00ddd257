//! Plan before code (ADR 0020) through the real `symphony` binary on the local tracker, with a
//! shell agent: a plan proposed, rejected, revised, approved, coded and handed off with its
//! record; and each way a plan cannot go on ending with a person, never with code.

mod support;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use support::{git, issue_state, move_issue, wait_until, Served};

const LIMIT: Duration = Duration::from_secs(120);

/// The agent saves each prompt, then: asked for a plan, writes (or revises) the draft where
/// Symphony says, and with `reckless-<issue>` present also changes code; asked to code an
/// approved plan, writes `feature.txt`, unless `lazy-<issue>` is present; a fix turn it ignores.
const AGENT: &str = r###"
    mkdir -p ../../prompts
    prompt=$(cat)
    printf '%s' "$prompt" > "../../prompts/$(date +%s%N)-$SYMPHONY_ISSUE_IDENTIFIER.txt"
    case "$prompt" in
      *"## Approved plan"*)
        [ -e "../../lazy-$SYMPHONY_ISSUE_IDENTIFIER" ] || echo "the feature" > feature.txt ;;
      *"## Plan before code"*)
        adr=$(printf '%s\n' "$prompt" | sed -n 's/.*decision record in Markdown at `\([^`]*\)`.*/\1/p' | head -n 1)
        mkdir -p "$(dirname "$adr")"
        if [ -e "$adr" ]; then echo "Revised: a feature flag first." >> "$adr";
        else printf '# Plan\n\nUse a feature file.\n' > "$adr"; fi
        [ -e "../../reckless-$SYMPHONY_ISSUE_IDENTIFIER" ] && echo "too soon" > feature.txt
        ;;
    esac
    exit 0
"###;

fn workflow(plan_extra: &str, handoff_extra: &str) -> String {
    let agent: String = AGENT.lines().map(|l| format!("  {l}\n")).collect();
    format!(
        "---
tracker:
  kind: local
  provider:
    path: ./issues
  active_states: [todo, approved]
  terminal_states: [done]
workspace:
  root: ./ws
  repo: ./origin
polling:
  interval_ms: 200
agent:
  backend: command
  max_turns: 1
  max_concurrent_agents: 4
  max_retry_backoff_ms: 500
  command: |
{agent}handoff:
  state: human review
  needs_human_state: needs human
{handoff_extra}plan:
  labels: [needs-plan]
  review_state: plan review
  approved_state: approved
{plan_extra}---
Work on {{{{ issue.identifier }}}}.
"
    )
}

fn project(dir: &Path, workflow: &str, issues: &[(&str, &str)]) {
    let origin = dir.join("origin");
    std::fs::create_dir_all(&origin).unwrap();
    git(&origin, &["init", "-q", "-b", "main"]);
    std::fs::write(origin.join("README.md"), "# project\n").unwrap();
    git(&origin, &["add", "-A"]);
    git(&origin, &["commit", "-q", "-m", "initial"]);
    std::fs::create_dir_all(dir.join("issues")).unwrap();
    for (id, state) in issues {
        std::fs::write(
            dir.join(format!("issues/{id}.md")),
            format!("---\ntitle: Feature {id}\nstate: {state}\nlabels: [needs-plan]\n---\nAdd the feature.\n"),
        )
        .unwrap();
    }
    std::fs::write(dir.join("WORKFLOW.md"), workflow).unwrap();
}

fn start(dir: &Path) -> Served {
    Served::new(
        Command::new(env!("CARGO_BIN_EXE_symphony"))
            .arg("run")
            .current_dir(dir)
            .env("SYMPHONY_LOG", "info")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.join("symphony.log")).unwrap())
            .spawn()
            .unwrap(),
    )
}

/// How many audit entries of `kind` name `id`, read with `symphony audit tail`.
fn audited(dir: &Path, kind: &str, id: &str) -> usize {
    let out = Command::new(env!("CARGO_BIN_EXE_symphony"))
        .args(["audit", "tail", "-n", "1000", "--json"])
        .current_dir(dir)
        .env_remove("SYMPHONY_LOG")
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|e| e["kind"] == kind && e["identifier"] == id)
        .count()
}

fn issue_text(dir: &Path, id: &str) -> String {
    std::fs::read_to_string(dir.join(format!("issues/{id}.md"))).unwrap()
}

fn prompts_of(dir: &Path, id: &str) -> Vec<String> {
    let mut paths: Vec<_> = std::fs::read_dir(dir.join("prompts"))
        .map(|d| d.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default();
    paths.retain(|p: &std::path::PathBuf| p.to_string_lossy().ends_with(&format!("-{id}.txt")));
    paths.sort();
    paths
        .iter()
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect()
}

#[test]
fn a_rejected_plan_is_revised_then_approved_coded_and_handed_off_with_its_record() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    project(dir, &workflow("", ""), &[("P-1", "todo")]);
    let service = start(dir);

    // Round 1: the plan, and nothing else, waits for a person.
    wait_until("the first plan", LIMIT, || {
        issue_state(dir, "P-1") == "plan review"
    });
    let text = issue_text(dir, "P-1");
    assert!(
        text.contains("**Plan for review** (round 1 of at most 3)")
            && text.contains("Use a feature file.")
            && text.contains("move this issue to **approved**"),
        "{text}"
    );
    let ws = dir.join("ws/P-1");
    let log = git(&ws, &["log", "--format=%B", "origin/main..HEAD"]);
    assert!(log.contains("Symphony-Plan-Round: 1"), "{log}");
    assert!(!ws.join("feature.txt").exists(), "no code before approval");
    assert_eq!(
        audited(dir, "change_proposed", "P-1"),
        0,
        "nothing handed off"
    );

    // Rejected: the next round revises the draft it is shown.
    move_issue(dir, "P-1", "todo");
    wait_until("the second plan", LIMIT, || {
        issue_state(dir, "P-1") == "plan review"
            && issue_text(dir, "P-1").contains("(round 2 of at most 3)")
    });
    let second = prompts_of(dir, "P-1").pop().unwrap();
    assert!(
        second.contains("The plan of round 1 was not approved")
            && second.contains("Use a feature file."),
        "{second}"
    );
    assert!(issue_text(dir, "P-1").contains("Revised: a feature flag first."));

    // Approved: coded with the approved plan, handed off with its record.
    move_issue(dir, "P-1", "approved");
    wait_until("the hand-off", LIMIT, || {
        issue_state(dir, "P-1") == "human review"
    });
    let coding = prompts_of(dir, "P-1").pop().unwrap();
    assert!(
        coding.contains("## Approved plan") && coding.contains("Revised: a feature flag first."),
        "{coding}"
    );
    let files = git(&ws, &["diff", "--name-only", "origin/main..HEAD"]);
    assert!(
        files.contains("feature.txt") && files.contains("docs/adr/0001-feature-p-1.md"),
        "the record ships with the change: {files}"
    );
    let proposal = issue_text(dir, "P-1");
    assert!(proposal.contains("## Proposed change: P-1"), "{proposal}");
    assert!(
        proposal.contains("`docs/adr/0001-feature-p-1.md` (added"),
        "{proposal}"
    );
    assert_eq!(audited(dir, "plan_proposed", "P-1"), 2);
    assert_eq!(audited(dir, "plan_approved", "P-1"), 1);
    assert_eq!(audited(dir, "change_proposed", "P-1"), 1);
    assert_eq!(
        prompts_of(dir, "P-1").len(),
        3,
        "two plans and one coding run"
    );
    service.stop(LIMIT);
}

#[test]
fn a_plan_that_cannot_go_on_goes_to_a_person_never_to_code() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    project(
        dir,
        &workflow(
            "  max_rounds: 1\n  fix_turns: 1\n",
            "  max_empty_attempts: 1\n",
        ),
        &[
            // Writes code with its plan, and ignores the fix turn.
            ("P-2", "todo"),
            // Marked approved with no plan on its branch.
            ("P-3", "approved"),
            // Rejected once, with one round allowed.
            ("P-4", "todo"),
            // Approved, and its coding run changes nothing.
            ("P-5", "todo"),
        ],
    );
    std::fs::write(dir.join("reckless-P-2"), "").unwrap();
    std::fs::write(dir.join("lazy-P-5"), "").unwrap();
    let service = start(dir);

    wait_until("P-2 and P-3 to a person", LIMIT, || {
        issue_state(dir, "P-2") == "needs human" && issue_state(dir, "P-3") == "needs human"
    });
    let p2 = issue_text(dir, "P-2");
    assert!(
        p2.contains("changed files besides the plan (feature.txt)")
            && p2.contains("plan_touched_code"),
        "{p2}"
    );
    let p2_prompts = prompts_of(dir, "P-2");
    assert_eq!(p2_prompts.len(), 2, "the plan's turn and one fix turn");
    assert!(
        p2_prompts[1].contains("Undo those changes"),
        "{}",
        p2_prompts[1]
    );
    let p2_log = git(
        &dir.join("ws/P-2"),
        &["log", "--format=%B", "origin/main..HEAD"],
    );
    assert!(p2_log.is_empty(), "nothing committed: {p2_log}");
    assert!(
        dir.join("ws/P-2/feature.txt").exists(),
        "the workspace is kept for the person"
    );
    let p3 = issue_text(dir, "P-3");
    assert!(p3.contains("plan_missing_on_approval"), "{p3}");
    assert!(prompts_of(dir, "P-3").is_empty(), "no agent ran for P-3");

    wait_until("P-4 and P-5 plans", LIMIT, || {
        issue_state(dir, "P-4") == "plan review" && issue_state(dir, "P-5") == "plan review"
    });
    move_issue(dir, "P-4", "todo");
    move_issue(dir, "P-5", "approved");
    wait_until("P-4 and P-5 to a person", LIMIT, || {
        issue_state(dir, "P-4") == "needs human" && issue_state(dir, "P-5") == "needs human"
    });
    let p4 = issue_text(dir, "P-4");
    assert!(p4.contains("plan_rounds_exhausted"), "{p4}");
    assert_eq!(
        prompts_of(dir, "P-4").len(),
        1,
        "no second plan past the limit"
    );
    let p5 = issue_text(dir, "P-5");
    assert!(p5.contains("none of the runs changed anything"), "{p5}");
    for id in ["P-2", "P-3", "P-4", "P-5"] {
        assert_eq!(
            audited(dir, "change_proposed", id),
            0,
            "{id} was never handed off"
        );
    }
    service.stop(LIMIT);
}
