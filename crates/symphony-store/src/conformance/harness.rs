//! What the kit runs against: the implementation's test setup, and the instances it acts as.

use std::sync::Arc;
use std::time::Duration;

use crate::store::Store;
use crate::types::Instance;

/// What an instance of the store under test is opened with.
#[derive(Debug, Clone)]
pub struct KitSettings {
    /// How long a claim lasts without renewal.
    pub lease: Duration,
    /// Agent events kept per run.
    pub events_per_run: u64,
}

impl Default for KitSettings {
    fn default() -> Self {
        Self {
            lease: Duration::from_secs(30),
            events_per_run: 1_000,
        }
    }
}

/// What the kit needs from an implementation's test setup.
pub trait StoreHarness: Send {
    /// Starts over with an empty shared state (a new database); stores opened after share it.
    fn fresh(&mut self);

    /// A store over the current shared state, acting as `instance`.
    fn open(&mut self, settings: &KitSettings, instance: Instance) -> Arc<dyn Store>;
}

/// An instance on this host that looks alive (this process), named `id`.
pub fn live(id: &str) -> Instance {
    Instance {
        id: id.to_owned(),
        ..Instance::current()
    }
}

/// An instance on this host whose process has exited, named `id`.
pub fn dead(id: &str) -> Instance {
    let mut child = symphony_process::std_child_command("true")
        .spawn()
        .expect("`true` starts");
    let pid = child.id();
    let start = symphony_process::ProcessIdentity::of(pid).map(|p| p.start_ticks);
    child.wait().expect("`true` exits");
    Instance {
        id: id.to_owned(),
        host: Instance::current().host,
        pid,
        pid_start: Some(start.unwrap_or(1)),
    }
}
