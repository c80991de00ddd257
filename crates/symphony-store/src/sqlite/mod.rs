//! [`SqliteStore`]: the embedded default. One database file under the state directory, in WAL
//! mode so readers (`symphony runs`, the dashboard) never wait for the writer; every
//! operation is one `BEGIN IMMEDIATE` transaction, which also serializes instances that share
//! the file.

mod audit_log;
mod inner;
mod options;
mod read;
mod review_watches;
mod schema;
mod takeover;
mod write;

use audit_log::Appender;
use inner::Inner;
pub use options::StoreOptions;

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use rusqlite::{Connection, OpenFlags, Transaction, TransactionBehavior};

use crate::{
    AuditEntry, AuditVerdict, Change, ClaimOutcome, ClaimRecord, EventRecord, Instance, Recovery,
    RetryRecord, ReviewWatch, RunFilter, RunRecord, RunStart, Spend, Store, StoreError, Totals,
    Usage,
};

/// The database file's name inside the state directory.
pub const DATABASE_FILE: &str = "state.db";
/// The copy of the audit head kept outside the database.
pub const ANCHOR_FILE: &str = "audit.head";

/// Durable state in a SQLite file.
#[derive(Clone)]
pub struct SqliteStore {
    inner: Arc<Inner>,
}

impl SqliteStore {
    /// Opens (creating if needed) `<dir>/state.db` and brings its schema up to date.
    pub fn open(dir: &Path, options: StoreOptions) -> Result<Self, StoreError> {
        Self::open_as(dir, options, Instance::current())
    }

    /// Like [`SqliteStore::open`], acting as `instance` (tests use this to play several).
    pub fn open_as(
        dir: &Path,
        options: StoreOptions,
        instance: Instance,
    ) -> Result<Self, StoreError> {
        let path = dir.join(DATABASE_FILE);
        std::fs::create_dir_all(dir).map_err(|e| StoreError::Open {
            path: path.clone(),
            message: format!("cannot create the state directory: {e}"),
        })?;
        // Instances starting together contend for a new file's first schema and journal
        // switch, where SQLite reports "busy" without waiting; so the whole opening is retried
        // until the busy timeout, as one statement would be.
        let deadline = std::time::Instant::now() + options.busy_timeout;
        let mut pause = Duration::from_millis(5);
        loop {
            match Self::try_open(&path, &options) {
                Err(StoreError::Locked { .. }) if std::time::Instant::now() < deadline => {
                    std::thread::sleep(pause);
                    pause = (pause * 2).min(Duration::from_millis(100));
                }
                Err(e) => return Err(e),
                Ok(conn) => {
                    return Ok(Self {
                        inner: Arc::new(Inner {
                            anchor: dir.join(ANCHOR_FILE),
                            path,
                            conn: Mutex::new(conn),
                            instance,
                            options,
                        }),
                    })
                }
            }
        }
    }

    /// One attempt at opening and migrating the database.
    fn try_open(path: &Path, options: &StoreOptions) -> Result<Connection, StoreError> {
        let path = path.to_owned();
        let sqlite = |e| StoreError::from_sqlite(&path, e);
        let mut conn = Connection::open_with_flags(
            &path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(sqlite)?;
        conn.busy_timeout(options.busy_timeout).map_err(sqlite)?;
        // WAL: readers never block the writer; NORMAL sync: a commit survives a crash of the
        // process (what restarts need), fsync happens at checkpoints.
        // A new database switches to WAL only with the file to itself: beside another
        // instance it keeps the old mode, which is "busy" for the retry above.
        let mode: String = conn
            .query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))
            .map_err(sqlite)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::Locked {
                path,
                message: format!("cannot switch to WAL journaling yet (still {mode:?})"),
            });
        }
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(sqlite)?;
        if let Some(bytes) = options.max_size_bytes {
            let page_size: i64 = conn
                .query_row("PRAGMA page_size", [], |row| row.get(0))
                .map_err(sqlite)?;
            let pages = (bytes / page_size.max(512) as u64).max(1);
            conn.pragma_update(None, "max_page_count", pages as i64)
                .map_err(sqlite)?;
        }
        match schema::migrate(&mut conn).map_err(sqlite)? {
            schema::Outcome::Current => {}
            schema::Outcome::TooNew(found) => {
                return Err(StoreError::TooNew {
                    path,
                    found,
                    known: schema::LATEST,
                })
            }
        }
        Ok(conn)
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Runs `f` in one immediate transaction on a blocking thread.
    async fn write<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Transaction<'_>, &Inner, &mut Appender) -> rusqlite::Result<T> + Send + 'static,
    ) -> Result<T, StoreError> {
        let inner = Arc::clone(&self.inner);
        run_blocking(move || {
            let sqlite = |e| StoreError::from_sqlite(&inner.path, e);
            let mut conn = inner.conn.lock().unwrap_or_else(|p| p.into_inner());
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(sqlite)?;
            let mut appender = Appender::new(&inner.instance.id);
            let value = f(&tx, &inner, &mut appender).map_err(sqlite)?;
            let head = appender.finish(&tx).map_err(sqlite)?;
            tx.commit().map_err(sqlite)?;
            drop(conn);
            audit_log::update_anchor(&inner, head);
            Ok(value)
        })
        .await
    }

    /// Runs a read-only `f` on a blocking thread.
    async fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection, &Inner) -> rusqlite::Result<T> + Send + 'static,
    ) -> Result<T, StoreError> {
        let inner = Arc::clone(&self.inner);
        run_blocking(move || {
            let conn = inner.conn.lock().unwrap_or_else(|p| p.into_inner());
            f(&conn, &inner).map_err(|e| StoreError::from_sqlite(&inner.path, e))
        })
        .await
    }
}

async fn run_blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> Result<T, StoreError> {
    match tokio::runtime::Handle::try_current() {
        Ok(handle) => handle
            .spawn_blocking(f)
            .await
            .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic())),
        Err(_) => f(),
    }
}

#[async_trait]
impl Store for SqliteStore {
    fn instance(&self) -> &Instance {
        &self.inner.instance
    }

    fn lease_ms(&self) -> u64 {
        u64::try_from(self.inner.options.lease.as_millis()).unwrap_or(u64::MAX)
    }

    async fn recover(&self, now_ms: u64) -> Result<Recovery, StoreError> {
        self.write(move |tx, inner, audit| takeover::run(tx, inner, audit, now_ms, true))
            .await
    }

    async fn heartbeat(&self, now_ms: u64) -> Result<Recovery, StoreError> {
        self.write(move |tx, inner, audit| takeover::run(tx, inner, audit, now_ms, false))
            .await
    }

    async fn claim_and_start(&self, start: RunStart) -> Result<ClaimOutcome, StoreError> {
        self.write(move |tx, inner, audit| write::claim_and_start(tx, inner, audit, &start))
            .await
    }

    async fn apply(&self, changes: Vec<Change>) -> Result<(), StoreError> {
        if changes.is_empty() {
            return Ok(());
        }
        self.write(move |tx, inner, audit| write::apply(tx, inner, audit, changes))
            .await
    }

    async fn detach(&self, now_ms: u64) -> Result<(), StoreError> {
        self.write(move |tx, inner, audit| takeover::detach(tx, inner, audit, now_ms))
            .await
    }

    async fn runs(&self, filter: RunFilter) -> Result<Vec<RunRecord>, StoreError> {
        self.read(move |conn, _| read::runs(conn, &filter)).await
    }

    async fn run(&self, run_id: i64) -> Result<Option<RunRecord>, StoreError> {
        self.read(move |conn, _| read::run(conn, run_id)).await
    }

    async fn run_events(&self, run_id: i64) -> Result<Vec<EventRecord>, StoreError> {
        self.read(move |conn, _| read::events(conn, run_id)).await
    }

    async fn retry_queue(&self) -> Result<Vec<RetryRecord>, StoreError> {
        self.read(|conn, _| read::retries(conn)).await
    }

    async fn claims(&self) -> Result<Vec<ClaimRecord>, StoreError> {
        self.read(|conn, _| read::claims(conn)).await
    }

    async fn review_watches(&self) -> Result<Vec<ReviewWatch>, StoreError> {
        self.read(|conn, _| review_watches::all(conn)).await
    }

    async fn review_watch(&self, issue_id: &str) -> Result<Option<ReviewWatch>, StoreError> {
        let issue_id = issue_id.to_owned();
        self.read(move |conn, _| review_watches::one(conn, &issue_id))
            .await
    }

    async fn totals(&self) -> Result<Totals, StoreError> {
        self.read(|conn, _| read::totals(conn)).await
    }

    async fn issue_spend(&self, issue_id: &str, except: Option<i64>) -> Result<Spend, StoreError> {
        let issue_id = issue_id.to_owned();
        self.read(move |conn, _| read::issue_spend(conn, &issue_id, except))
            .await
    }

    async fn day_usage(&self, day: u64) -> Result<Usage, StoreError> {
        self.read(move |conn, _| read::day_usage(conn, day)).await
    }

    async fn audit_tail(&self, limit: usize) -> Result<Vec<AuditEntry>, StoreError> {
        self.read(move |conn, _| audit_log::tail(conn, limit)).await
    }

    async fn audit_tail_of(
        &self,
        kinds: &[String],
        limit: usize,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        let kinds = kinds.to_vec();
        self.read(move |conn, _| audit_log::tail_of(conn, &kinds, limit))
            .await
    }

    async fn audit_verify(&self) -> Result<AuditVerdict, StoreError> {
        self.read(|conn, inner| audit_log::verify(conn, &inner.anchor))
            .await
    }
}
