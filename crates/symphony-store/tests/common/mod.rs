//! Helpers shared by the store tests.
#![allow(dead_code)]

use std::path::Path;
use std::time::Duration;

use symphony_store::{Instance, SqliteStore, StoreOptions};

/// An instance on this host that looks alive (this test process).
pub fn live(id: &str) -> Instance {
    let me = Instance::current();
    Instance {
        id: id.to_owned(),
        ..me
    }
}

/// An instance on this host whose process has exited.
pub fn dead(id: &str) -> Instance {
    let mut child = std::process::Command::new("true").spawn().expect("true");
    let pid = child.id();
    let start = symphony_process::ProcessIdentity::of(pid).map(|p| p.start_ticks);
    child.wait().expect("wait");
    Instance {
        id: id.to_owned(),
        host: Instance::current().host,
        pid,
        pid_start: Some(start.unwrap_or(1)),
    }
}

pub fn options() -> StoreOptions {
    StoreOptions {
        lease: Duration::from_secs(30),
        events_per_run: 500,
        busy_timeout: Duration::from_secs(5),
        max_size_bytes: None,
    }
}

pub fn open(dir: &Path, instance: Instance) -> SqliteStore {
    SqliteStore::open_as(dir, options(), instance).expect("open store")
}
