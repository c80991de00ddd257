//! `symphony check` builds the workflow's gates, so a bad `gates:` section fails before a run.

use std::process::Command;

#[test]
fn check_builds_the_gates_and_names_a_bad_one() {
    let dir = tempfile::tempdir().unwrap();
    let workflow = |gates: &str| {
        format!("---\ntracker:\n  kind: local\n  provider:\n    path: ./issues\nworkspace:\n  repo: ./origin\n{gates}---\nWork\n")
    };
    std::fs::write(
        dir.path().join("WORKFLOW.md"),
        workflow("gates:\n  needs_human_state: needs human\n  checks:\n    - kind: secrets\n    - kind: command\n      name: tests\n      run: cargo test\n"),
    )
    .unwrap();
    let check = || {
        Command::new(env!("CARGO_BIN_EXE_symphony"))
            .arg("check")
            .current_dir(dir.path())
            .output()
            .unwrap()
    };
    let output = check();
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{text}");
    assert!(
        text.contains("# Gates: secrets, tests (3 feedback round(s), then state \"needs human\")"),
        "{text}"
    );
    std::fs::write(
        dir.path().join("WORKFLOW.md"),
        workflow("gates:\n  checks:\n    - kind: command\n"),
    )
    .unwrap();
    let output = check();
    let text = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(
        text.contains("error[invalid_gate_config]") && text.contains("`run` is required"),
        "{text}"
    );
}

/// `symphony check` in `dir` on a local-tracker workflow with `sections` added.
fn check_sections(dir: &std::path::Path, sections: &str) -> std::process::Output {
    std::fs::write(
        dir.join("WORKFLOW.md"),
        format!("---\ntracker:\n  kind: local\n  provider:\n    path: ./issues\nworkspace:\n  repo: ./origin\n{sections}---\nWork\n"),
    )
    .unwrap();
    Command::new(env!("CARGO_BIN_EXE_symphony"))
        .arg("check")
        .current_dir(dir)
        .output()
        .unwrap()
}

#[test]
fn check_builds_each_reviewer_as_a_run_would() {
    let dir = tempfile::tempdir().unwrap();
    let check = |review: &str| {
        check_sections(
            dir.path(),
            &format!("agent:\n  backend: command\n  command: ./agent.sh\ngates:\n  checks:\n    - kind: ai_review\n{review}"),
        )
    };
    let output = check("      command: ./reviewer.sh\n");
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{text}");
    assert!(
        text.contains("# Reviewers: command running `./reviewer.sh`"),
        "{text}"
    );
    let output = check("      backend: claudee\n");
    let text = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(
        text.contains("error[invalid_gate_config]")
            && text.contains("the reviewer of gate \"ai_review\"")
            && text.contains("\"claudee\" has no implementation"),
        "{text}"
    );
}

#[test]
fn check_reads_the_handoff_section_and_names_what_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let check = |handoff: &str| check_sections(dir.path(), handoff);
    let output = check("handoff:\n  state: human review\n  needs_human_state: needs human\n  push: false\n  draft: true\n");
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{text}");
    assert!(
        text.contains(
            "# Hand-off: commit, no push, propose as a draft, then state \"human review\"; \
             after 3 run(s) in a row with nothing to hand off, state \"needs human\""
        ),
        "{text}"
    );
    let output = check("handoff:\n  push: yes please\n");
    let text = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(text.contains("error[invalid_handoff_config]"), "{text}");
    assert!(
        text.contains("handoff.push: expected true or false"),
        "{text}"
    );
}

/// Gates and hand-off judge a change against its branch point; without `workspace.repo` the
/// service used to skip them silently (a normal exit, nothing checked).
#[test]
fn check_refuses_gates_or_hand_off_without_a_repository() {
    let dir = tempfile::tempdir().unwrap();
    for (section, category) in [
        (
            "gates:\n  checks:\n    - kind: secrets\n",
            "invalid_gate_config",
        ),
        ("handoff:\n  state: review\n", "invalid_handoff_config"),
    ] {
        std::fs::write(
            dir.path().join("WORKFLOW.md"),
            format!("---\ntracker:\n  kind: local\n  provider:\n    path: ./issues\n{section}---\nWork\n"),
        )
        .unwrap();
        let output = Command::new(env!("CARGO_BIN_EXE_symphony"))
            .arg("check")
            .current_dir(dir.path())
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{text}");
        assert!(
            text.contains(&format!("error[{category}]")) && text.contains("needs workspace.repo"),
            "{text}"
        );
    }
}

#[test]
fn check_reads_the_plan_section_and_refuses_one_that_cannot_work() {
    let dir = tempfile::tempdir().unwrap();
    let handoff = "handoff:\n  state: human review\n  needs_human_state: needs human\n";
    let check = |plan: &str, with_handoff: bool| {
        let sections = format!("{}plan:\n{plan}", if with_handoff { handoff } else { "" });
        check_sections(dir.path(), &sections)
    };
    let output = check(
        "  labels: [needs-plan]\n  review_state: plan review\n  approved_state: in progress\n",
        true,
    );
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{text}");
    assert!(
        text.contains(
            "# Plan before code: issues with labels [\"needs-plan\"] write a decision record in \
             docs/adr first, then wait in \"plan review\"; approved by state \"in progress\"; a \
             rejected plan goes back to \"todo\"; after 3 plan(s) without approval, a person"
        ),
        "{text}"
    );
    for (plan, with_handoff, says) in [
        (
            "  labels: [p]\n  review_state: plan review\n  approved_state: in progress\n",
            false,
            "plan needs a `handoff` section",
        ),
        (
            "  labels: [p]\n  review_state: todo\n  approved_state: in progress\n",
            true,
            "is an active state",
        ),
        (
            "  labels: [p]\n  review_state: plan review\n  approved_state: in progress\n  max_round: 2\n",
            true,
            "did you mean `max_rounds`?",
        ),
    ] {
        let output = check(plan, with_handoff);
        let text = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{text}");
        assert!(
            text.contains("invalid_plan_config") && text.contains(says),
            "{plan}: {text}"
        );
    }
}
