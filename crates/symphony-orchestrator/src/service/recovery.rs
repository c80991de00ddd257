//! Taking up durable state: at start-up, and on every lease renewal for work of instances
//! that died meanwhile. Agents those instances left running are stopped before their issues
//! are dispatched again, so an issue never has two agents.

use std::time::Duration;

use symphony_process::{kill_orphaned_group, OrphanOutcome, ProcessIdentity};
use symphony_store::{wall_clock_ms, Recovery, Store, StoreError};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::persist::Persistence;
use symphony_scheduler::{Event, RestoredRetry};

/// Registers this instance, takes over the work of instances that are gone, stops their
/// orphaned agents, and returns the retries to restore. An unreadable store fails start-up.
pub(super) async fn at_start(
    store: &dyn Store,
    persistence: &Persistence,
) -> Result<Vec<RestoredRetry>, StoreError> {
    let recovery = store.recover(wall_clock_ms()).await?;
    Ok(take_up(recovery, persistence).await)
}

/// Renews leases every third of the lease, restoring whatever it takes over.
pub(super) fn spawn_heartbeat(
    lease_ms: u64,
    persistence: Persistence,
    events: mpsc::Sender<Event>,
) -> JoinHandle<()> {
    let period = Duration::from_millis((lease_ms / 3).max(50));
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(period).await;
            match persistence.heartbeat().await {
                Ok(recovery) => {
                    let retries = take_up(recovery, &persistence).await;
                    if !retries.is_empty() && events.send(Event::Restore(retries)).await.is_err() {
                        return;
                    }
                }
                Err(e) => tracing::error!(
                    category = e.category(),
                    "lease renewal failed; claims lapse unless the next one succeeds: {e}"
                ),
            }
        }
    })
}

async fn take_up(recovery: Recovery, persistence: &Persistence) -> Vec<RestoredRetry> {
    for instance in &recovery.departed {
        tracing::warn!(instance, "taking over the work of an instance that is gone");
    }
    for run in &recovery.interrupted {
        tracing::warn!(
            issue_id = run.issue_id,
            issue_identifier = run.identifier,
            run_id = run.id,
            "run interrupted: its orchestrator stopped while it ran; queued for a retry"
        );
    }
    for orphan in recovery.orphans {
        let leader = ProcessIdentity {
            pid: orphan.pid,
            start_ticks: orphan.pid_start,
        };
        let outcome = tokio::task::spawn_blocking(move || kill_orphaned_group(leader))
            .await
            .unwrap_or(OrphanOutcome::Gone);
        if outcome == OrphanOutcome::Killed {
            tracing::warn!(
                pid = orphan.pid,
                run_id = orphan.run_id,
                "stopped an agent left running by an orchestrator that is gone"
            );
        }
        persistence.audit(
            "orphan_stopped",
            None,
            serde_json::json!({"run_id": orphan.run_id, "pid": orphan.pid,
                               "outcome": format!("{outcome:?}")}),
        );
    }
    let now = wall_clock_ms();
    recovery
        .retries
        .into_iter()
        .map(|r| RestoredRetry {
            issue_id: r.issue_id,
            identifier: r.identifier,
            attempt: r.attempt,
            due_in_ms: r.due_at_ms.saturating_sub(now),
            error: r.error,
        })
        .collect()
}
