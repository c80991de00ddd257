//! `symphony run`: the long-running service.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use symphony_orchestrator::{Service, ServiceOptions};
use symphony_server::{Server, ServerConfig, ServiceHandles};
use symphony_store::{SqliteStore, Store, StoreOptions};
use symphony_workflow::{ProcessEnvironment, WorkflowSource, WorkflowWatcher};

use crate::failure::Failure;
use crate::trackers;
use crate::wiring::BinaryWiring;

pub fn run(path: &Path, port: Option<u16>) -> Result<(), Failure> {
    runtime()?.block_on(serve(path, port, shutdown_signal()))
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
    port: Option<u16>,
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
    let server = ServerConfig::from_section(
        source.current().config.extensions.get("server"),
        port,
        |name| std::env::var(name).ok(),
    )
    .map_err(|e| Failure::new("invalid_server_config", e))?;
    // Receivers are built from the configuration at start, as the server's address is.
    let webhooks = server
        .as_ref()
        .map(|config| crate::webhooks::receivers(&source.current().config, config))
        .unwrap_or_default();
    let store: Arc<dyn symphony_store::Store> = Arc::new(store);
    // Full agent logs per run, next to the state database that names the runs.
    let run_logs = state.dir.join("runs");
    let options = ServiceOptions {
        run_logs: Some(run_logs.clone()),
        ..ServiceOptions::default()
    };
    let service =
        Service::new(source, Arc::new(BinaryWiring), options).with_store(Arc::clone(&store));
    // The HTTP surface stops after the service: it can report the shutdown as it happens.
    let (stop_server, server_stopped) = tokio::sync::oneshot::channel::<()>();
    let server_task = match server {
        Some(config) => {
            let handles = ServiceHandles {
                snapshot: service.snapshot(),
                control: service.control(),
                metrics: service.metrics(),
                store: Some(store),
                run_logs: Some(run_logs),
            };
            let server = Server::bind(&config, Arc::new(handles), webhooks)
                .await
                .map_err(|e| Failure::new(e.category(), e.to_string()))?;
            let addr = server.local_addr();
            tracing::info!(url = %format!("http://{addr}/"), "dashboard, API and metrics listening");
            Some(tokio::spawn(server.serve(async {
                let _ = server_stopped.await;
            })))
        }
        None => None,
    };
    let outcome = service.run(shutdown).await;
    let _ = stop_server.send(());
    if let Some(task) = server_task {
        let _ = task.await;
    }
    outcome.map_err(|e| Failure::new("startup_failed", e.to_string()))?;
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
