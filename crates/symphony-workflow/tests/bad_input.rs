//! Hostile and broken workflow files: each gives a typed error with a readable message (the
//! messages are snapshots: they are what a user reads), never a panic.

mod common;

use common::{env, registry, write, MINIMAL};
use symphony_workflow::{PromptTemplate, Workflow, WorkflowError, MAX_WORKFLOW_BYTES};

/// Loads `bytes` as WORKFLOW.md and returns `category: message` with the temp path hidden.
fn failure(bytes: &[u8], vars: &[(&str, &str)]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("WORKFLOW.md");
    std::fs::write(&path, bytes).unwrap();
    let err = Workflow::load(&path, &registry(), &env(vars)).unwrap_err();
    format!("{}: {err}", err.category()).replace(&dir.path().display().to_string(), "[DIR]")
}

#[test]
fn binary_garbage_is_a_parse_error() {
    let garbage: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    insta::assert_snapshot!(failure(&garbage, &[]));
}

#[test]
fn a_10_mb_file_is_refused_before_parsing() {
    let mut big = b"---\ntracker:\n  kind: test\n---\n".to_vec();
    big.resize(10 * 1024 * 1024, b'a');
    assert!(big.len() as u64 > MAX_WORKFLOW_BYTES);
    insta::assert_snapshot!(failure(&big, &[]));
}

#[test]
fn a_yaml_alias_bomb_fails_fast_with_bounded_memory() {
    // Nine levels of nine-fold aliases: ~387 million strings if expanded.
    let mut yaml = String::from(
        "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
    );
    let names = ["a", "b", "c", "d", "e", "f", "g", "h", "i"];
    for pair in names.windows(2) {
        let (prev, next) = (pair[0], pair[1]);
        let refs = vec![format!("*{prev}"); 9].join(",");
        yaml.push_str(&format!("{next}: &{next} [{refs}]\n"));
    }
    let text = format!("---\n{yaml}---\nbody\n");
    insta::assert_snapshot!(failure(text.as_bytes(), &[]));
}

#[test]
fn front_matter_that_is_a_list() {
    insta::assert_snapshot!(failure(b"---\n- a\n- b\n---\nbody\n", &[]));
}

#[test]
fn unclosed_front_matter() {
    insta::assert_snapshot!(failure(b"---\ntracker:\n  kind: test\n", &[]));
}

#[test]
fn invalid_yaml_points_at_the_file_line() {
    insta::assert_snapshot!(failure(
        b"---\ntracker:\n  kind: test\n   provider: x\n---\n",
        &[]
    ));
}

#[test]
fn missing_workflow_file() {
    let dir = tempfile::tempdir().unwrap();
    let err = Workflow::load(&dir.path().join("WORKFLOW.md"), &registry(), &env(&[])).unwrap_err();
    let shown =
        format!("{}: {err}", err.category()).replace(&dir.path().display().to_string(), "[DIR]");
    insta::assert_snapshot!(shown);
}

#[test]
fn a_missing_secret_names_the_variable() {
    let text = MINIMAL.replace("project: demo", "project: demo\n    api_key: $MISSING");
    insta::assert_snapshot!(failure(text.as_bytes(), &[]));
}

#[test]
fn a_wrongly_typed_value_names_the_field() {
    let text = MINIMAL.replace("---\nWork", "hooks:\n  timeout_ms: soon\n---\nWork");
    insta::assert_snapshot!(failure(text.as_bytes(), &[]));
}

#[test]
fn an_out_of_range_value_names_the_field() {
    let text = MINIMAL.replace("---\nWork", "agent:\n  max_turns: 0\n---\nWork");
    insta::assert_snapshot!(failure(text.as_bytes(), &[]));
}

#[test]
fn an_unsupported_tracker_kind_lists_the_supported_ones() {
    insta::assert_snapshot!(failure(b"---\ntracker:\n  kind: jira\n---\n", &[]));
}

#[test]
fn a_path_with_an_unset_variable_names_it() {
    let text = MINIMAL.replace("---\nWork", "workspace:\n  root: $NOPE/ws\n---\nWork");
    insta::assert_snapshot!(failure(text.as_bytes(), &[]));
}

#[test]
fn template_with_an_unclosed_tag() {
    let err = PromptTemplate::compile("Fix {% if issue.title %}{{ issue.title }}").unwrap_err();
    insta::assert_snapshot!(format!("{}: {err}", err.category()));
}

#[test]
fn template_with_an_unknown_filter() {
    let err = PromptTemplate::compile("{{ issue.title | shout }}").unwrap_err();
    assert_eq!(err.category(), "template_render_error");
    // Liquid lists every available filter; the first line is what matters to the reader.
    insta::assert_snapshot!(format!(
        "{}: {}",
        err.category(),
        err.to_string()
            .lines()
            .take(3)
            .collect::<Vec<_>>()
            .join("\n")
    ));
}

#[test]
fn typos_in_core_sections_are_warned_about_not_fatal() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "WORKFLOW.md",
        &MINIMAL.replace(
            "---\nWork",
            "hooks:\n  timout_ms: 5\nworkspace:\n  repo: ./repo\nnotify:\n  url: http://x\n---\nWork",
        ),
    );
    let wf = Workflow::load(&path, &registry(), &env(&[])).unwrap();
    assert_eq!(
        wf.config.warnings,
        ["hooks.timout_ms is not a known setting; it is ignored"]
    );
    // A registered extension section is kept for its owner, after the owner validated it.
    assert_eq!(wf.config.extensions["notify"]["url"], "http://x");
}

/// Kept silently, `gate:` for `gates:` turned every gate off; now it is refused with the
/// section it most resembles.
#[test]
fn a_misspelt_section_is_an_error_with_a_suggestion() {
    insta::assert_snapshot!(failure(
        MINIMAL
            .replace("---\nWork", "notfy:\n  url: x\n---\nWork")
            .as_bytes(),
        &[]
    ));
    // Nothing close: the known sections are listed.
    let error = failure(
        MINIMAL.replace("---\nWork", "zzz: 1\n---\nWork").as_bytes(),
        &[],
    );
    assert!(error.starts_with("unknown_config_section: "), "{error}");
    assert!(!error.contains("did you mean"), "{error}");
    assert!(error.contains("tracker, polling"), "{error}");
    assert!(error.contains("notify"), "{error}");
}

#[test]
fn a_worker_section_is_refused_until_ssh_workers_exist() {
    insta::assert_snapshot!(failure(
        MINIMAL
            .replace("---\nWork", "worker:\n  ssh_hosts: [a, b]\n---\nWork")
            .as_bytes(),
        &[]
    ));
}

#[test]
fn an_extension_section_is_validated_at_load_by_its_owner() {
    // Invalid in itself.
    insta::assert_snapshot!(failure(
        MINIMAL
            .replace(
                "---\nWork",
                "workspace:\n  repo: ./r\nnotify:\n  link: x\n---\nWork"
            )
            .as_bytes(),
        &[]
    ));
    // Invalid against the core configuration it needs.
    let error = failure(
        MINIMAL
            .replace("---\nWork", "notify:\n  url: x\n---\nWork")
            .as_bytes(),
        &[],
    );
    assert_eq!(
        error,
        "invalid_notify_config: [DIR]/WORKFLOW.md: notify needs workspace.repo"
    );
}

#[test]
fn errors_are_typed_not_stringly() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "WORKFLOW.md", "---\n[1, 2]\n---\n");
    assert!(matches!(
        Workflow::load(&path, &registry(), &env(&[])),
        Err(WorkflowError::WorkflowFrontMatterNotAMap { .. })
    ));
}

#[test]
fn a_missing_tracker_kind_lists_the_supported_ones() {
    insta::assert_snapshot!(failure(
        b"---\npolling:\n  interval_ms: 1000\n---\nPrompt\n",
        &[]
    ));
}

#[test]
fn codex_settings_in_a_build_without_the_codex_backend() {
    // (An empty `codex.command` with the backend registered: the Codex crate's tests.)
    let text = MINIMAL.replace("---\nWork", "codex:\n  command: ''\n---\nWork");
    insta::assert_snapshot!(failure(text.as_bytes(), &[]));
}

#[test]
fn a_provider_the_adapter_rejects() {
    insta::assert_snapshot!(failure(b"---\ntracker:\n  kind: test\n---\n", &[]));
}

#[test]
fn a_secret_that_is_not_a_string() {
    let text = MINIMAL.replace("project: demo", "project: demo\n    api_key: [1, 2]");
    insta::assert_snapshot!(failure(text.as_bytes(), &[]));
}

#[test]
fn the_command_backend_without_a_command() {
    let text = MINIMAL.replace("---\nWork", "agent:\n  backend: command\n---\nWork");
    insta::assert_snapshot!(failure(text.as_bytes(), &[]));
}

#[test]
fn an_unknown_agent_backend() {
    let text = MINIMAL.replace("---\nWork", "agent:\n  backend: claude\n---\nWork");
    insta::assert_snapshot!(failure(text.as_bytes(), &[]));
}
