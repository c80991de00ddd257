//! Helpers shared by the store tests.
#![allow(dead_code)]

use std::path::Path;
use std::time::Duration;

use symphony_store::{Instance, SqliteStore, StoreOptions};

pub use symphony_store::conformance::live;

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
