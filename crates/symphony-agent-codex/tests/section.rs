//! The `codex` section as the Codex backend owns it: SPEC §6.3's `codex.command` check, the
//! command kept verbatim, paths resolved at load, unknown keys refused, and the run limits
//! left to the core.

use std::collections::BTreeMap;
use std::sync::Arc;

use symphony_agent::AgentBackendFactory;
use symphony_agent_codex::{CodexBackendFactory, CodexOptions, DEFAULT_CODEX_COMMAND};
use symphony_workflow::{ConfigError, ConfigRegistry, Workflow, WorkflowError, CODEX_BACKEND};

const MINIMAL: &str = "---\ntracker:\n  kind: local\n  provider:\n    path: issues\n";

fn registry() -> ConfigRegistry {
    let mut registry = ConfigRegistry::new().with(Arc::new(symphony_tracker_local::LocalProfile));
    for section in CodexBackendFactory.sections() {
        registry.register_section(section);
    }
    registry
}

fn load(codex: &str, vars: &[(&str, &str)]) -> Result<Workflow, WorkflowError> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("WORKFLOW.md");
    std::fs::write(&path, format!("{MINIMAL}{codex}---\nWork.\n")).unwrap();
    let env: BTreeMap<String, String> = vars
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    Workflow::load(&path, &registry(), &env)
}

fn options(workflow: &Workflow) -> CodexOptions {
    CodexOptions::from_section(workflow.config.extensions.get(CODEX_BACKEND)).unwrap()
}

fn config_error(codex: &str) -> ConfigError {
    match load(codex, &[]).unwrap_err() {
        WorkflowError::Config { source, .. } => source,
        other => panic!("expected a config error, got {other}"),
    }
}

#[test]
fn the_command_defaults_to_the_app_server_and_is_kept_as_a_shell_command_string() {
    assert_eq!(
        options(&load("", &[]).unwrap()).command,
        DEFAULT_CODEX_COMMAND
    );
    let cmd = "FOO=$HOME ~/bin/codex app-server --flag 'a b' | tee log";
    let wf = load(
        &format!("codex:\n  command: \"{cmd}\"\n"),
        &[("HOME", "/home/ada")],
    )
    .unwrap();
    assert_eq!(options(&wf).command, cmd);
}

#[test]
fn an_empty_command_is_refused_at_load_as_spec_6_3_requires() {
    let err = config_error("codex:\n  command: '  '\n");
    assert_eq!(err.category(), "missing_codex_command");
    assert!(err.to_string().contains("codex.command"), "{err}");
}

#[test]
fn an_unknown_key_is_refused_with_the_keys_there_are() {
    let err = config_error("codex:\n  aprovals: accept\n");
    assert_eq!(err.category(), "invalid_codex_config");
    let message = err.to_string();
    assert!(
        message.contains("aprovals") && message.contains("approvals"),
        "{message}"
    );
}

#[test]
fn home_config_is_resolved_at_load_so_the_backend_needs_no_environment() {
    let wf = load(
        "codex:\n  home: isolated\n  home_config: $CONF/codex.toml\n",
        &[("CONF", "/etc/symphony")],
    )
    .unwrap();
    let options = options(&wf);
    assert!(options.isolated_home);
    assert_eq!(
        options.home_config.as_deref(),
        Some(std::path::Path::new("/etc/symphony/codex.toml"))
    );
    let err = config_error("codex:\n  home_config: $UNSET_FOR_THIS_TEST/x.toml\n");
    assert!(err.to_string().contains("UNSET_FOR_THIS_TEST"), "{err}");
}

#[test]
fn the_run_limits_stay_the_cores_beside_the_backends_keys() {
    let wf = load(
        "codex:\n  turn_timeout_ms: 9000\n  approvals: accept\n",
        &[],
    )
    .unwrap();
    assert_eq!(wf.config.run_limits.turn_timeout_ms, 9_000);
    let section = wf.config.extensions.get(CODEX_BACKEND).unwrap();
    assert!(section.get("turn_timeout_ms").is_none(), "{section}");
    assert_eq!(
        options(&wf).approvals,
        symphony_agent_codex::ApprovalAnswer::Accept
    );
}
