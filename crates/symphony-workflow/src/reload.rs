//! Dynamic reload (SPEC §6.2): a file watcher plus a defensive re-read before use. A broken edit
//! keeps the last good workflow, is reported once, and clears when the file is fixed.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use notify::event::{AccessKind, AccessMode};
use notify::{EventKind, RecursiveMode, Watcher};
use tokio::sync::{mpsc, watch};

use crate::definition::{fingerprint, read_workflow_bytes};
use crate::environment::Environment;
use crate::error::WorkflowError;
use crate::profile::ConfigRegistry;
use crate::workflow::Workflow;

/// What a [`WorkflowSource::refresh`] found.
#[derive(Debug, Clone)]
pub enum ReloadOutcome {
    /// The file's bytes are those of the current workflow.
    Unchanged,
    /// The file changed and the new workflow is now current.
    Reloaded(Arc<Workflow>),
    /// The file changed but is invalid; the last good workflow stays current.
    Rejected {
        /// Why the new contents were refused.
        error: Arc<WorkflowError>,
        /// `true` the first time this error is seen, so callers report it once.
        first_report: bool,
    },
}

struct State {
    current: Arc<Workflow>,
    /// The message of the error last reported, so a broken file is reported once, not per tick.
    last_error: Option<Arc<WorkflowError>>,
}

/// The live workflow of a running service: the last good [`Workflow`] and the means to re-read it.
pub struct WorkflowSource {
    path: PathBuf,
    registry: ConfigRegistry,
    env: Arc<dyn Environment + Send + Sync>,
    state: Mutex<State>,
    updates: watch::Sender<Arc<Workflow>>,
    /// Re-reads since `open`.
    refreshes: AtomicU64,
}

impl WorkflowSource {
    /// Loads the workflow at start-up; unlike a reload, a failure here is fatal (SPEC §6.3).
    pub fn open(
        path: &Path,
        registry: ConfigRegistry,
        env: Arc<dyn Environment + Send + Sync>,
    ) -> Result<Self, WorkflowError> {
        let workflow = Arc::new(Workflow::load(path, &registry, env.as_ref())?);
        let (updates, _) = watch::channel(Arc::clone(&workflow));
        Ok(Self {
            path: path.to_path_buf(),
            registry,
            env,
            state: Mutex::new(State {
                current: workflow,
                last_error: None,
            }),
            updates,
            refreshes: AtomicU64::new(0),
        })
    }

    /// How many times the file was re-read since it was opened: for diagnostics, and for
    /// tests that an idle service leaves its workflow alone.
    pub fn refreshes(&self) -> u64 {
        self.refreshes.load(Ordering::Relaxed)
    }

    /// The workflow file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The last good workflow, without touching the file.
    pub fn current(&self) -> Arc<Workflow> {
        Arc::clone(&self.lock().current)
    }

    /// The error of the latest rejected reload, while the file stays broken.
    pub fn last_error(&self) -> Option<Arc<WorkflowError>> {
        self.lock().last_error.clone()
    }

    /// A receiver that sees every workflow that becomes current.
    pub fn subscribe(&self) -> watch::Receiver<Arc<Workflow>> {
        self.updates.subscribe()
    }

    /// Re-reads the file and makes it current if it changed and is valid. Cheap when nothing
    /// changed (one small read and a hash), so callers may do it before every dispatch.
    pub fn refresh(&self) -> ReloadOutcome {
        self.refreshes.fetch_add(1, Ordering::Relaxed);
        let loaded = read_workflow_bytes(&self.path).and_then(|bytes| {
            let print = fingerprint(&bytes);
            if print == self.lock().current.fingerprint {
                return Ok(None);
            }
            Workflow::from_bytes(&self.path, &bytes, &self.registry, self.env.as_ref()).map(Some)
        });
        let mut state = self.lock();
        match loaded {
            Ok(None) => {
                if state.last_error.take().is_some() {
                    tracing::info!(path = %self.path.display(), "workflow file is valid again; errors cleared");
                }
                ReloadOutcome::Unchanged
            }
            Ok(Some(workflow)) => {
                let workflow = Arc::new(workflow);
                state.current = Arc::clone(&workflow);
                state.last_error = None;
                drop(state);
                for warning in &workflow.config.warnings {
                    tracing::warn!(path = %self.path.display(), "{warning}");
                }
                tracing::info!(path = %self.path.display(), "workflow reloaded");
                self.updates.send_replace(Arc::clone(&workflow));
                ReloadOutcome::Reloaded(workflow)
            }
            Err(error) => {
                let message = error.to_string();
                let first_report = state
                    .last_error
                    .as_ref()
                    .is_none_or(|previous| previous.to_string() != message);
                let error = Arc::new(error);
                if first_report {
                    tracing::error!(
                        path = %self.path.display(),
                        category = error.category(),
                        "workflow reload rejected, keeping the last good configuration: {message}"
                    );
                    state.last_error = Some(Arc::clone(&error));
                }
                ReloadOutcome::Rejected {
                    error,
                    first_report,
                }
            }
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // The state is replaced whole under the lock, so a panic elsewhere cannot leave it torn.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Watches the workflow file and refreshes its [`WorkflowSource`] on change. Dropping it stops.
pub struct WorkflowWatcher {
    _watcher: notify::RecommendedWatcher,
    task: tokio::task::JoinHandle<()>,
}

/// Editors save in bursts (write, rename, chmod); one re-read after the burst is enough.
const DEBOUNCE: Duration = Duration::from_millis(50);

impl WorkflowWatcher {
    /// Starts watching; must be called inside a tokio runtime.
    pub fn spawn(source: Arc<WorkflowSource>) -> Result<Self, notify::Error> {
        // One pending signal is all a re-read needs: the rest of a burst is dropped.
        let (tx, mut rx) = mpsc::channel::<()>(1);
        let file_name = source.path().file_name().map(ToOwned::to_owned);
        // Watch the folder, not the file: editors replace files by rename, which ends a
        // watch on the old inode.
        let dir = source
            .path()
            .parent()
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
        let mut watcher =
            notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
                let relevant = match &event {
                    Ok(event) => {
                        changes_the_file(&event.kind)
                            && (event.paths.is_empty()
                                || event
                                    .paths
                                    .iter()
                                    .any(|p| p.file_name() == file_name.as_deref()))
                    }
                    Err(_) => true,
                };
                if relevant {
                    let _ = tx.try_send(());
                }
            })?;
        watcher.watch(&dir, RecursiveMode::NonRecursive)?;
        let task = tokio::spawn(async move {
            while rx.recv().await.is_some() {
                tokio::time::sleep(DEBOUNCE).await;
                while rx.try_recv().is_ok() {}
                let source = Arc::clone(&source);
                // The re-read is blocking file I/O and Liquid-free parsing; keep it off the reactor.
                let _ = tokio::task::spawn_blocking(move || source.refresh()).await;
            }
        });
        Ok(Self {
            _watcher: watcher,
            task,
        })
    }
}

/// Whether an event of `kind` can mean the file's contents changed. Opening, reading and
/// closing a file unwritten cannot — and counting them made every re-read trigger the next
/// (about 20 reloads a second while idle). A close after writing, a create, a modify, a
/// rename or remove, or an event the platform cannot classify all can.
fn changes_the_file(kind: &EventKind) -> bool {
    match kind {
        EventKind::Access(AccessKind::Close(AccessMode::Write)) => true,
        EventKind::Access(_) => false,
        _ => true,
    }
}

impl Drop for WorkflowWatcher {
    fn drop(&mut self) {
        self.task.abort();
    }
}
