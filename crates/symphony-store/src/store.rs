//! The `Store` seam: durable state shared by the orchestrator instances of one deployment.

use async_trait::async_trait;

use crate::audit::AuditVerdict;
use crate::error::StoreError;
use crate::review_watch::ReviewWatch;
use crate::types::*;

/// Durable state shared by the orchestrator instances of one deployment.
///
/// Every method is one transaction: it happens entirely or not at all, so a crash or a full
/// disk never leaves half a decision behind.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Who this instance is (claims and runs carry its id).
    fn instance(&self) -> &Instance;

    /// How long a claim stays valid without renewal.
    fn lease_ms(&self) -> u64;

    /// Registers this instance and takes over the work of instances that are gone (their
    /// process ended, their lease lapsed, or they shut down): their running attempts are
    /// recorded as `interrupted` and queued as retries, their retry queue and claims become
    /// this instance's. Call once at start-up, before dispatching anything.
    async fn recover(&self, now_ms: u64) -> Result<Recovery, StoreError>;

    /// Renews this instance's leases and takes over the work of instances that died since.
    async fn heartbeat(&self, now_ms: u64) -> Result<Recovery, StoreError>;

    /// Claims `start.issue_id` for this instance and records the start of a run, atomically.
    /// Refused while another live instance holds the claim.
    async fn claim_and_start(&self, start: RunStart) -> Result<ClaimOutcome, StoreError>;

    /// Applies state changes and audit entries in order, in one transaction.
    async fn apply(&self, changes: Vec<Change>) -> Result<(), StoreError>;

    /// Leaves the deployment cleanly: queued retries stay for whoever runs next (their claims
    /// lose their owner), everything else this instance claimed is released.
    async fn detach(&self, now_ms: u64) -> Result<(), StoreError>;

    /// Runs, newest first.
    async fn runs(&self, filter: RunFilter) -> Result<Vec<RunRecord>, StoreError>;

    /// One run by id (`None` when there is no such run). The default looks through every
    /// run; stores with an index on ids answer directly.
    async fn run(&self, run_id: i64) -> Result<Option<RunRecord>, StoreError> {
        Ok(self
            .runs(RunFilter::default())
            .await?
            .into_iter()
            .find(|r| r.id == run_id))
    }

    /// The recorded events of one run, oldest first.
    async fn run_events(&self, run_id: i64) -> Result<Vec<EventRecord>, StoreError>;

    /// The whole retry queue, soonest first.
    async fn retry_queue(&self) -> Result<Vec<RetryRecord>, StoreError>;

    /// Every claim.
    async fn claims(&self) -> Result<Vec<ClaimRecord>, StoreError>;

    /// Every handed-off change under review, oldest watch first (ADR 0018).
    async fn review_watches(&self) -> Result<Vec<ReviewWatch>, StoreError>;

    /// The watch of issue `issue_id` (by id), if it is watched.
    async fn review_watch(&self, issue_id: &str) -> Result<Option<ReviewWatch>, StoreError>;

    /// Token and runtime totals over every recorded run.
    async fn totals(&self) -> Result<Totals, StoreError>;

    /// What the runs of issue `issue_id` (by id) used, summed over every attempt, restart and
    /// instance, run `except` left out (the asking worker's own, just started): what a
    /// per-issue budget is measured against (ADR 0023). Its `attempts` counts the runs that
    /// were not skipped; its `agent_ms` the ended runs' time.
    async fn issue_spend(&self, issue_id: &str, except: Option<i64>) -> Result<Spend, StoreError>;

    /// What every run used during UTC day `day` (see [`crate::utc_day`]): each report's
    /// increase counts toward the day it was recorded on.
    async fn day_usage(&self, day: u64) -> Result<Usage, StoreError>;

    /// The last `limit` audit entries, oldest first.
    async fn audit_tail(&self, limit: usize) -> Result<Vec<AuditEntry>, StoreError>;

    /// The last `limit` audit entries of these kinds, oldest first. The default reads the
    /// whole log; stores that can filter as they read do.
    async fn audit_tail_of(
        &self,
        kinds: &[String],
        limit: usize,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        let mut entries = self.audit_tail(usize::MAX).await?;
        entries.retain(|e| kinds.contains(&e.kind));
        let skip = entries.len().saturating_sub(limit);
        Ok(entries.split_off(skip))
    }

    /// Checks the whole audit chain.
    async fn audit_verify(&self) -> Result<AuditVerdict, StoreError>;
}

/// Milliseconds in a day.
pub const DAY_MS: u64 = 86_400_000;

/// The UTC day of `at_ms` (milliseconds since the Unix epoch): days since 1970-01-01.
pub fn utc_day(at_ms: u64) -> u64 {
    at_ms / DAY_MS
}

/// Milliseconds since the Unix epoch, the store's clock.
pub fn wall_clock_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}
