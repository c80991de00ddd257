//! Whether durable state is being written: set by the persistence task, read by the service
//! (which holds dispatch while it is not) and its status surfaces.

use std::sync::Mutex;

/// Whether durable state is being written: shared by the persistence task, which sets it, and
/// the service and its status surfaces, which read it.
#[derive(Debug, Default)]
pub struct StoreHealth {
    state: Mutex<HealthState>,
}

#[derive(Debug, Default)]
struct HealthState {
    /// Why queued changes cannot be written, while they cannot.
    write_error: Option<String>,
    /// Why the last lease renewal failed, until one succeeds.
    lease_error: Option<String>,
    /// The persistence task is gone for good (it panicked or the service stopped).
    stopped: bool,
}

impl StoreHealth {
    /// Why durable state is not being written now, if it is not.
    pub fn error(&self) -> Option<String> {
        let state = self.lock();
        if state.stopped {
            return Some("the persistence task has stopped".to_owned());
        }
        state
            .write_error
            .clone()
            .or_else(|| state.lease_error.clone())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HealthState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(super) fn writes_failing(&self) -> bool {
        self.lock().write_error.is_some()
    }

    pub(super) fn set_write_error(&self, error: Option<String>) {
        self.lock().write_error = error;
    }

    pub(super) fn set_lease_error(&self, error: Option<String>) {
        self.lock().lease_error = error;
    }

    pub(super) fn set_stopped(&self) {
        self.lock().stopped = true;
    }
}
