//! Helpers shared by the service tests: this build's adapters and a polling wait.

#![allow(dead_code)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use symphony_agent::{AgentBackend, CommandBackend};
use symphony_orchestrator::Wiring;
use symphony_tracker::Tracker;
use symphony_tracker_local::LocalProfile;
use symphony_tracker_local::LocalTracker;
use symphony_workflow::{ConfigRegistry, ServiceConfig};

/// The local tracker kind and the orchestrator's own sections (`gates`, `handoff`, `docs`).
pub fn registry() -> ConfigRegistry {
    let mut registry = ConfigRegistry::new().with(Arc::new(LocalProfile));
    for section in symphony_orchestrator::config_sections(
        symphony_gates::GateRegistry::builtin(),
        symphony_code_host::CodeHostRegistry::new().with(std::sync::Arc::new(
            symphony_tracker_local::LocalCodeHostFactory,
        )),
    ) {
        registry.register_section(section);
    }
    registry.register_section(symphony_orchestrator::budgets_section(Vec::new()));
    registry
}

/// The local tracker and the command backend, as the binary wires them.
pub struct LocalWiring;

impl Wiring for LocalWiring {
    fn tracker(
        &self,
        config: &ServiceConfig,
    ) -> Result<Arc<dyn Tracker>, symphony_tracker::TrackerError> {
        Ok(Arc::new(LocalTracker::from_config(&config.tracker)?))
    }
    fn backend(
        &self,
        config: &ServiceConfig,
    ) -> Result<Arc<dyn AgentBackend>, symphony_agent::BackendBuildError> {
        command_backend(config)
    }

    fn code_hosts(&self) -> symphony_code_host::CodeHostRegistry {
        symphony_code_host::CodeHostRegistry::new().with(std::sync::Arc::new(
            symphony_tracker_local::LocalCodeHostFactory,
        ))
    }
}

/// The command backend for `config.agent.command`.
pub fn command_backend(
    config: &ServiceConfig,
) -> Result<Arc<dyn AgentBackend>, symphony_agent::BackendBuildError> {
    let command = config.agent.command.clone().ok_or_else(|| {
        symphony_agent::BackendBuildError::Invalid("agent.command is required".into())
    })?;
    Ok(Arc::new(CommandBackend::new(command)))
}

/// Resolves when `done` holds (checked every 50 ms) or after `limit`.
pub async fn until(limit: Duration, done: impl Fn() -> bool) {
    let start = Instant::now();
    while !done() && start.elapsed() < limit {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Runs `git` in `dir` as a test user; panics (naming the command) when it fails.
pub fn git(dir: &std::path::Path, args: &[&str]) {
    let status = std::process::Command::new("git")
        .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
        .args(args)
        .current_dir(dir)
        .status()
        .unwrap_or_else(|e| panic!("git is required for these tests: {e}"));
    assert!(status.success(), "git {args:?}");
}

/// `dir/origin`: a repository on `main` with one commit (a README), for workspaces to check out.
pub fn origin(dir: &std::path::Path) -> std::path::PathBuf {
    let origin = dir.join("origin");
    std::fs::create_dir(&origin).unwrap();
    git(&origin, &["init", "-q", "-b", "main"]);
    std::fs::write(origin.join("README.md"), "# demo\n").unwrap();
    git(&origin, &["add", "-A"]);
    git(&origin, &["commit", "-q", "-m", "initial"]);
    origin
}
