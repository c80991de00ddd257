//! `symphony run`: the long-running service.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use symphony_orchestrator::{Service, ServiceOptions};
use symphony_store::{SqliteStore, Store, StoreOptions};
use symphony_workflow::{ProcessEnvironment, WorkflowSource, WorkflowWatcher};

use crate::failure::Failure;
use crate::trackers;
use crate::wiring::BinaryWiring;

pub fn run(path: &Path) -> Result<(), Failure> {
    runtime()?.block_on(serve(path, shutdown_signal()))
}

pub(crate) fn runtime() -> Result<tokio::runtime::Runtime, Failure> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| {
            Failure::new(
                "startup_failed",
                format!("cannot start the async runtime: {e}"),
            )
        })
}

/// Loads the workflow (fatal if invalid, SPEC §6.3), watches it, and runs the service until
/// `shutdown` resolves.
pub(crate) async fn serve(
    path: &Path,
    shutdown: impl std::future::Future<Output = ()>,
) -> Result<(), Failure> {
    let source = Arc::new(WorkflowSource::open(
        path,
        trackers::registry(),
        Arc::new(ProcessEnvironment),
    )?);
    for warning in &source.current().config.warnings {
        tracing::warn!("{warning}");
    }
    let _watcher = WorkflowWatcher::spawn(Arc::clone(&source)).map_err(|e| {
        Failure::new(
            "startup_failed",
            format!("cannot watch {}: {e}", path.display()),
        )
    })?;
    let state = &source.current().config.state;
    let store = SqliteStore::open(
        &state.dir,
        StoreOptions {
            lease: Duration::from_millis(state.lease_ms),
            events_per_run: state.events_per_run,
            ..StoreOptions::default()
        },
    )
    .map_err(|e| Failure::new(e.category(), e.to_string()))?;
    tracing::info!(
        workflow = %path.display(),
        state = %store.path().display(),
        instance = %store.instance().id,
        "symphony started"
    );
    Service::new(source, Arc::new(BinaryWiring), ServiceOptions::default())
        .with_store(Arc::new(store))
        .run(shutdown)
        .await
        .map_err(|e| Failure::new("startup_failed", e))?;
    tracing::info!("symphony stopped");
    Ok(())
}

/// Resolves on SIGINT or SIGTERM.
async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(mut terminate) => {
            tokio::select! {
                _ = interrupt => {}
                _ = terminate.recv() => {}
            }
        }
        Err(_) => {
            let _ = interrupt.await;
        }
    }
}
