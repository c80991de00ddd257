//! What every handle of one open database shares.

use std::path::PathBuf;
use std::sync::Mutex;

use rusqlite::Connection;

use super::options::StoreOptions;
use crate::Instance;

pub(super) struct Inner {
    pub(super) path: PathBuf,
    pub(super) anchor: PathBuf,
    pub(super) conn: Mutex<Connection>,
    pub(super) instance: Instance,
    pub(super) options: StoreOptions,
}
