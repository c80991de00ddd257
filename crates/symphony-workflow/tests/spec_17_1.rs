//! SPEC §17.1 "Workflow and Config Parsing": one test per bullet, named after it.

mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use common::{env, registry, write, MINIMAL};
use symphony_workflow::{
    resolve_workflow_path, ConfigError, ReloadOutcome, Workflow, WorkflowDefinition, WorkflowError,
    WorkflowSource, WorkflowWatcher,
};

fn load(text: &str, vars: &[(&str, &str)]) -> Result<Workflow, WorkflowError> {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "WORKFLOW.md", text);
    Workflow::load(&path, &registry(), &env(vars))
}

fn config_error(text: &str, vars: &[(&str, &str)]) -> ConfigError {
    match load(text, vars).unwrap_err() {
        WorkflowError::Config { source, .. } => source,
        other => panic!("expected a config error, got {other}"),
    }
}

#[test]
fn workflow_file_path_precedence_explicit_runtime_path_is_used() {
    let cwd = Path::new("/srv/app");
    assert_eq!(
        resolve_workflow_path(Some(Path::new("/etc/symphony/flow.md")), cwd),
        PathBuf::from("/etc/symphony/flow.md")
    );
    assert_eq!(
        resolve_workflow_path(Some(Path::new("flows/a.md")), cwd),
        PathBuf::from("/srv/app/flows/a.md")
    );
}

#[test]
fn workflow_file_path_precedence_cwd_default_is_workflow_md() {
    assert_eq!(
        resolve_workflow_path(None, Path::new("/srv/app")),
        PathBuf::from("/srv/app/WORKFLOW.md")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workflow_file_changes_are_detected_and_trigger_reapply_without_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "WORKFLOW.md", MINIMAL);
    let source = Arc::new(WorkflowSource::open(&path, registry(), Arc::new(env(&[]))).unwrap());
    let mut updates = source.subscribe();
    let _watcher = WorkflowWatcher::spawn(Arc::clone(&source)).unwrap();
    assert_eq!(source.current().config.polling.interval_ms, 30_000);

    // Replace the file the way editors do: write a sibling, then rename over it.
    let edited = MINIMAL.replace(
        "---\nWork",
        "polling:\n  interval_ms: 1234\n---\nNew prompt for",
    );
    let tmp = write(dir.path(), ".WORKFLOW.md.swp", &edited);
    std::fs::rename(&tmp, &path).unwrap();

    tokio::time::timeout(Duration::from_secs(30), updates.changed())
        .await
        .expect("the watcher saw the edit")
        .unwrap();
    let current = source.current();
    assert_eq!(current.config.polling.interval_ms, 1234);
    assert!(current
        .definition
        .prompt_template
        .starts_with("New prompt for"));
}

#[test]
fn invalid_workflow_reload_keeps_last_known_good_configuration_and_emits_an_operator_visible_error()
{
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "WORKFLOW.md", MINIMAL);
    let source = WorkflowSource::open(&path, registry(), Arc::new(env(&[]))).unwrap();
    let good = source.current();

    write(
        dir.path(),
        "WORKFLOW.md",
        "---\ntracker: [unclosed\n---\nbody",
    );
    match source.refresh() {
        ReloadOutcome::Rejected {
            error,
            first_report,
        } => {
            assert!(first_report);
            assert_eq!(error.category(), "workflow_parse_error");
        }
        other => panic!("expected a rejected reload, got {other:?}"),
    }
    // The same broken file is reported once, not on every defensive re-read.
    assert!(matches!(
        source.refresh(),
        ReloadOutcome::Rejected {
            first_report: false,
            ..
        }
    ));
    assert!(Arc::ptr_eq(&good, &source.current()));
    assert!(source.last_error().is_some());

    // Fixing the file recovers.
    write(
        dir.path(),
        "WORKFLOW.md",
        &MINIMAL.replace("Work on", "Fixed:"),
    );
    assert!(matches!(source.refresh(), ReloadOutcome::Reloaded(_)));
    assert!(source.last_error().is_none());
    assert!(source
        .current()
        .definition
        .prompt_template
        .starts_with("Fixed:"));
    assert!(matches!(source.refresh(), ReloadOutcome::Unchanged));
}

#[test]
fn missing_workflow_md_returns_typed_error() {
    let dir = tempfile::tempdir().unwrap();
    let err = WorkflowDefinition::load(&dir.path().join("WORKFLOW.md")).unwrap_err();
    assert!(matches!(err, WorkflowError::MissingWorkflowFile { .. }));
    assert_eq!(err.category(), "missing_workflow_file");
}

#[test]
fn invalid_yaml_front_matter_returns_typed_error() {
    let err = load(
        "---\ntracker:\n  kind: test\n  provider: {project: demo\n---\nbody",
        &[],
    )
    .unwrap_err();
    match &err {
        WorkflowError::WorkflowParseError { line, column, .. } => {
            assert!(line.is_some() && column.is_some(), "{err}");
            // The position is in the file, not in the YAML snippet: line 1 is the fence.
            assert!(line.unwrap() >= 4, "{err}");
        }
        other => panic!("expected workflow_parse_error, got {other:?}"),
    }
    assert_eq!(err.category(), "workflow_parse_error");
}

#[test]
fn front_matter_non_map_returns_typed_error() {
    let err = load("---\n- tracker\n- polling\n---\nbody", &[]).unwrap_err();
    assert!(matches!(
        err,
        WorkflowError::WorkflowFrontMatterNotAMap {
            found: "a list",
            ..
        }
    ));
    assert_eq!(err.category(), "workflow_front_matter_not_a_map");
    let err = load("---\njust a string\n---\n", &[]).unwrap_err();
    assert_eq!(err.category(), "workflow_front_matter_not_a_map");
}

#[test]
fn config_defaults_apply_when_optional_values_are_missing() {
    let wf = load(MINIMAL, &[]).unwrap();
    let c = &wf.config;
    assert_eq!(c.polling.interval_ms, 30_000);
    assert_eq!(
        c.workspace.root,
        std::env::temp_dir().join("symphony_workspaces")
    );
    assert_eq!(c.workspace.repo, None);
    assert_eq!(c.hooks.timeout_ms, 60_000);
    assert_eq!(c.hooks.after_create, None);
    assert_eq!(c.agent.max_concurrent_agents, 10);
    assert_eq!(c.agent.max_turns, 20);
    assert_eq!(c.agent.max_retry_backoff_ms, 300_000);
    assert!(c.agent.max_concurrent_agents_by_state.is_empty());
    // (`codex.command` and its default are the Codex backend's: its crate tests them.)
    assert_eq!(c.run_limits.turn_timeout_ms, 3_600_000);
    assert_eq!(c.run_limits.read_timeout_ms, 5_000);
    assert_eq!(c.run_limits.stall_timeout_ms, 300_000);
    assert_eq!(c.tracker.required_labels, Vec::<String>::new());
    // Adapter-documented defaults fill omitted state lists.
    assert_eq!(c.tracker.active_states, ["Todo", "In Progress"]);
    assert_eq!(c.tracker.terminal_states, ["Done", "Cancelled"]);
    // Empty sections (YAML null) are the same as absent ones.
    let wf = load(
        &MINIMAL.replace("---\nWork", "hooks:\nagent:\n---\nWork"),
        &[],
    )
    .unwrap();
    assert_eq!(wf.config.hooks.timeout_ms, 60_000);
}

#[test]
fn tracker_kind_validation_enforces_an_implementation_supported_adapter() {
    let err = config_error("---\ntracker:\n  kind: jira\n---\n", &[]);
    assert_eq!(err.category(), "unsupported_tracker_kind");
    assert!(err.to_string().contains("supported kinds: test"), "{err}");
    let err = config_error("---\npolling:\n  interval_ms: 5\n---\n", &[]);
    assert_eq!(err.category(), "missing_tracker_kind");
    // Kind matching ignores case and whitespace.
    assert!(load(&MINIMAL.replace("kind: test", "kind: ' Test '"), &[]).is_ok());
}

#[test]
fn tracker_provider_preserves_adapter_owned_keys_and_validates_them_through_the_adapter() {
    let wf = load(
        "---\ntracker:\n  kind: test\n  provider:\n    project: demo\n    board: {columns: [a, b]}\n    endpoint: https://example.test/api\n---\n",
        &[],
    )
    .unwrap();
    let provider = &wf.config.tracker.provider;
    assert_eq!(
        provider.get_str("endpoint"),
        Some("https://example.test/api")
    );
    assert_eq!(provider.get("board").unwrap()["columns"][1], "b");
    let err = config_error(
        "---\ntracker:\n  kind: test\n  provider:\n    board: x\n---\n",
        &[],
    );
    assert_eq!(err.category(), "invalid_tracker_provider");
    assert!(err.to_string().contains("`project` is required"), "{err}");
}

#[test]
fn var_resolution_works_for_documented_adapter_secret_keys_and_path_values() {
    let text = "---\ntracker:\n  kind: test\n  provider:\n    project: demo\n    api_key: $MY_TOKEN\n    cache_dir: $CACHE/issues\nworkspace:\n  root: ${WS_ROOT}/ws\n---\n";
    let wf = load(
        text,
        &[
            ("MY_TOKEN", "s3cret"),
            ("CACHE", "/var/cache"),
            ("WS_ROOT", "/srv"),
        ],
    )
    .unwrap();
    let provider = &wf.config.tracker.provider;
    assert_eq!(provider.get_str("api_key"), Some("s3cret"));
    assert!(provider.is_secret("api_key"));
    // Which variable a secret came from, so adapters can keep it from agents.
    assert_eq!(provider.secret_variable("api_key"), Some("MY_TOKEN"));
    assert_eq!(provider.secret_variable("cache_dir"), None);
    assert_eq!(provider.get_str("cache_dir"), Some("/var/cache/issues"));
    assert_eq!(wf.config.workspace.root, PathBuf::from("/srv/ws"));
    // Secrets never show in Debug or in the serialized operator view.
    assert!(!format!("{:?}", wf.config).contains("s3cret"));
    assert!(!serde_json::to_string(&wf.config)
        .unwrap()
        .contains("s3cret"));

    // An unset or empty secret is missing.
    for vars in [&[][..], &[("MY_TOKEN", "")][..]] {
        let err = config_error(
            text,
            &[("CACHE", "/c"), ("WS_ROOT", "/s")]
                .iter()
                .chain(vars)
                .copied()
                .collect::<Vec<_>>(),
        );
        assert_eq!(err.category(), "missing_secret");
    }
    // The adapter's documented fallback fills an omitted secret; a non-secret key is not resolved.
    let wf = load(
        "---\ntracker:\n  kind: test\n  provider:\n    project: $NOT_A_SECRET\n---\n",
        &[("TEST_TRACKER_TOKEN", "fallback"), ("NOT_A_SECRET", "x")],
    )
    .unwrap();
    assert_eq!(
        wf.config.tracker.provider.get_str("api_key"),
        Some("fallback")
    );
    assert_eq!(
        wf.config.tracker.provider.secret_variable("api_key"),
        Some("TEST_TRACKER_TOKEN")
    );
    assert_eq!(
        wf.config.tracker.provider.get_str("project"),
        Some("$NOT_A_SECRET")
    );
}

#[test]
fn tilde_path_expansion_works() {
    let wf = load(
        &MINIMAL.replace("---\nWork", "workspace:\n  root: ~/symphony/ws\n---\nWork"),
        &[("HOME", "/home/ada")],
    )
    .unwrap();
    assert_eq!(
        wf.config.workspace.root,
        PathBuf::from("/home/ada/symphony/ws")
    );
    // Relative roots start at the workflow file's folder and are normalized.
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "WORKFLOW.md",
        &MINIMAL.replace("---\nWork", "workspace:\n  root: ./a/../ws\n---\nWork"),
    );
    let wf = Workflow::load(&path, &registry(), &env(&[])).unwrap();
    assert_eq!(wf.config.workspace.root, dir.path().join("ws"));
}

#[test]
fn codex_run_limits_are_the_cores_and_the_rest_needs_the_codex_backend() {
    // The SPEC's run limits are read whichever backend the build has...
    let text = MINIMAL.replace(
        "---\nWork",
        "codex:\n  turn_timeout_ms: 7000\n  stall_timeout_ms: 0\n---\nWork",
    );
    let wf = load(&text, &[]).unwrap();
    assert_eq!(wf.config.run_limits.turn_timeout_ms, 7_000);
    assert_eq!(wf.config.run_limits.stall_timeout(), None);
    // ...but a build without the Codex backend refuses its settings rather than ignore them
    // (the Codex crate's own tests cover `codex.command` with the backend registered).
    let err = config_error(
        &MINIMAL.replace(
            "---\nWork",
            "codex:\n  command: codex app-server\n---\nWork",
        ),
        &[],
    );
    assert_eq!(err.category(), "invalid_config");
    assert!(err.to_string().contains("codex.command"), "{err}");
}

#[test]
fn per_state_concurrency_override_map_normalizes_state_names_and_ignores_invalid_values() {
    let text = MINIMAL.replace(
        "---\nWork",
        "agent:\n  max_concurrent_agents_by_state:\n    ' In Progress ': 2\n    TODO: 1\n    review: 0\n    blocked: -3\n    later: lots\n    half: 1.5\n---\nWork",
    );
    let wf = load(&text, &[]).unwrap();
    let limits = &wf.config.agent.max_concurrent_agents_by_state;
    assert_eq!(limits.len(), 2, "{limits:?}");
    assert_eq!(limits["in progress"], 2);
    assert_eq!(limits["todo"], 1);
    assert_eq!(
        wf.config
            .warnings
            .iter()
            .filter(|w| w.contains("entry ignored"))
            .count(),
        4
    );
}

#[test]
fn prompt_template_renders_issue_and_attempt() {
    let wf = load(MINIMAL, &[]).unwrap();
    let template =
        symphony_workflow::PromptTemplate::compile(&wf.definition.prompt_template).unwrap();
    let issue: symphony_core::Issue = serde_json::from_value(serde_json::json!({
        "id": "1", "identifier": "ABC-9", "title": "t", "state": "Todo"
    }))
    .unwrap();
    assert_eq!(template.render(&issue, None).unwrap(), "Work on ABC-9.");
    let t = symphony_workflow::PromptTemplate::compile("{{ issue.title }} #{{ attempt }}").unwrap();
    assert_eq!(t.render(&issue, Some(2)).unwrap(), "t #2");
}

#[test]
fn prompt_rendering_fails_on_unknown_variables_in_strict_mode() {
    let issue: symphony_core::Issue = serde_json::from_value(serde_json::json!({
        "id": "1", "identifier": "ABC-9", "title": "t", "state": "Todo"
    }))
    .unwrap();
    let t = symphony_workflow::PromptTemplate::compile("{{ issue.assignee }}").unwrap();
    assert_eq!(
        t.render(&issue, None).unwrap_err().category(),
        "template_render_error"
    );
    // On the first run `attempt` is absent, so using it as a value is an error too.
    let t = symphony_workflow::PromptTemplate::compile("{{ attempt }}").unwrap();
    assert_eq!(
        t.render(&issue, None).unwrap_err().category(),
        "template_render_error"
    );
}

/// The watcher reacts to what changes the file, not to reads of it: an idle source is not
/// re-read (each re-read's own open and read used to trigger the next, about 20 a second), and
/// an edit after a quiet spell is still seen.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_watched_workflow_is_not_re_read() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "WORKFLOW.md", MINIMAL);
    let source = Arc::new(WorkflowSource::open(&path, registry(), Arc::new(env(&[]))).unwrap());
    let mut updates = source.subscribe();
    let _watcher = WorkflowWatcher::spawn(Arc::clone(&source)).unwrap();
    // Someone reads the file (as an editor, a backup or `symphony check` would), and the
    // source re-reads it once itself.
    let _ = std::fs::read_to_string(&path).unwrap();
    source.refresh();
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_eq!(
        source.refreshes(),
        1,
        "nothing wrote the file in 5 s, so nothing re-read it but the one explicit refresh"
    );

    let edited = MINIMAL.replace("---\nWork", "polling:\n  interval_ms: 4321\n---\nWork");
    std::fs::write(&path, edited).unwrap();
    tokio::time::timeout(Duration::from_secs(30), updates.changed())
        .await
        .expect("the watcher saw the write")
        .unwrap();
    assert_eq!(source.current().config.polling.interval_ms, 4321);
}
