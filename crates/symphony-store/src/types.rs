//! What the store records and returns.

use serde::Serialize;

use crate::review_watch::ReviewWatch;
use serde_json::Value;
pub use symphony_core::{Spend, Usage};

/// One orchestrator process, as the store knows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Instance {
    /// Unique for this process's life.
    pub id: String,
    /// Host name: pids are only meaningful on the same host.
    pub host: String,
    /// Process id.
    pub pid: u32,
    /// Process start time (clock ticks since boot), so a reused pid is not mistaken for it.
    pub pid_start: Option<u64>,
}

impl Instance {
    /// The running process, with a fresh unique id.
    pub fn current() -> Self {
        use sha2::{Digest, Sha256};
        let host = nix_hostname();
        let pid = std::process::id();
        let pid_start = symphony_process::ProcessIdentity::current().map(|p| p.start_ticks);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let digest = Sha256::digest(format!("{host}/{pid}/{pid_start:?}/{nanos}"));
        let suffix: String = digest[..4].iter().map(|b| format!("{b:02x}")).collect();
        Self {
            id: format!("{host}-{pid}-{suffix}"),
            host,
            pid,
            pid_start,
        }
    }
}

fn nix_hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .map(|h| h.trim().to_owned())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".to_owned())
}

/// The start of a run, recorded together with its claim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunStart {
    /// Issue id.
    pub issue_id: String,
    /// Issue identifier.
    pub identifier: String,
    /// `None` on a first run.
    pub attempt: Option<u32>,
    /// Its workspace folder, when known.
    pub workspace: Option<String>,
    /// When (store clock).
    pub at_ms: u64,
}

/// The answer to [`crate::Store::claim_and_start`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClaimOutcome {
    /// The issue is this instance's; the run is recorded under this id.
    Started {
        /// The run's id.
        run_id: i64,
    },
    /// Another live instance holds the issue.
    Held {
        /// Its id.
        owner: String,
        /// When its lease lapses unless renewed (store clock).
        expires_at_ms: u64,
    },
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RunOutcome {
    /// The turn loop ended normally.
    Succeeded,
    /// The worker failed (workspace, hook, prompt or agent error).
    Failed,
    /// No agent activity for longer than the stall timeout.
    Stalled,
    /// Stopped because the issue changed (terminal, inactive, unroutable, gone).
    Stopped,
    /// The orchestrator stopped or died while it ran.
    Interrupted,
    /// Not started: the issue was no longer eligible once claimed.
    Skipped,
    /// A hard budget limit stopped it, or kept its agent from starting (ADR 0023).
    BudgetExceeded,
}

impl RunOutcome {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
            Self::Stalled => "stalled",
            Self::Stopped => "stopped",
            Self::Interrupted => "interrupted",
            Self::Skipped => "skipped",
            Self::BudgetExceeded => "budget_exceeded",
        }
    }

    pub(crate) fn parse(text: &str) -> Option<Self> {
        [
            Self::Succeeded,
            Self::Failed,
            Self::Stalled,
            Self::Stopped,
            Self::Interrupted,
            Self::Skipped,
            Self::BudgetExceeded,
        ]
        .into_iter()
        .find(|o| o.as_str() == text)
    }
}

/// A decision worth keeping, for the audit log.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditRecord {
    /// When (store clock).
    pub at_ms: u64,
    /// What kind of decision (`dispatch`, `retry_scheduled`, `stop`, ...).
    pub kind: String,
    /// The issue concerned, if any.
    pub issue_id: Option<String>,
    /// Its identifier, if known.
    pub identifier: Option<String>,
    /// The decision's details.
    pub detail: Value,
}

/// One durable change, applied in order by [`crate::Store::apply`].
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// The run's agent process (group leader), so a restart can find and stop it.
    RunProcess {
        /// The run.
        run_id: i64,
        /// The process group leader.
        pid: u32,
        /// Its start time (clock ticks since boot).
        pid_start: Option<u64>,
    },
    /// Something the agent reported.
    Event {
        /// The run.
        run_id: i64,
        /// When (store clock).
        at_ms: u64,
        /// Event name.
        kind: String,
        /// Its text, if any.
        message: Option<String>,
    },
    /// The run's usage so far (cumulative for the run: it only grows), reported at `at_ms`.
    /// Its increase since the run's previous report counts toward the UTC day of `at_ms`.
    Tokens {
        /// The run.
        run_id: i64,
        /// When (store clock: wall-clock milliseconds).
        at_ms: u64,
        /// What it used.
        usage: Usage,
    },
    /// The run started agent turns or rounds (added to what it had): what the per-issue
    /// turn and round budgets count.
    Progress {
        /// The run.
        run_id: i64,
        /// Turns started.
        turns: u32,
        /// Gate feedback and review rounds started.
        rounds: u32,
    },
    /// The run ended.
    RunEnded {
        /// The run.
        run_id: i64,
        /// When (store clock).
        at_ms: u64,
        /// How.
        outcome: RunOutcome,
        /// Why, when it did not succeed.
        error: Option<String>,
    },
    /// The issue is queued for another attempt; this instance keeps its claim.
    RetryQueued {
        /// Issue id.
        issue_id: String,
        /// Issue identifier.
        identifier: String,
        /// The attempt it will run as.
        attempt: u32,
        /// When it is due (store clock).
        due_at_ms: u64,
        /// Why (`None` for a continuation).
        error: Option<String>,
    },
    /// The issue is no longer this instance's: claim and queued retry are dropped.
    Released {
        /// Issue id.
        issue_id: String,
    },
    /// A decision for the audit log.
    Audit(AuditRecord),
    /// A handed-off change is watched from now on, or its watch moves to a new head after a
    /// round's push: where it is (branch, number, URL, head) is replaced and what was pending
    /// is addressed; the round, the mark and the start stay.
    ReviewWatched(ReviewWatch),
    /// Feedback was taken for the next round: the watch's mark moves to `seen`, `pending`
    /// waits for the run that addresses it, and the round counts one more — in one step.
    /// Taken only while the watch still has the mark `after` and nothing pending, so two
    /// instances that decided on the same report take it once.
    ReviewFeedbackTaken {
        /// Issue id.
        issue_id: String,
        /// The mark the feedback was read after (the watch's `seen` when it was read).
        after: Option<String>,
        /// The code host's mark of the report the feedback came from.
        seen: String,
        /// The feedback (the orchestrator's JSON).
        pending: String,
        /// When (store clock).
        at_ms: u64,
    },
    /// Commits someone else pushed on top of the watched head are taken as the change's
    /// (`review.on_head_moved: rebase`): the watch's head moves from `from` to `to`. Applied
    /// only while the watch is still at `from` with nothing pending, so it never undoes a
    /// round another instance took meanwhile.
    ReviewHeadAdopted {
        /// Issue id.
        issue_id: String,
        /// The head Symphony proposed.
        from: String,
        /// The head on the code host.
        to: String,
        /// When (store clock).
        at_ms: u64,
    },
    /// The watch ended (merged, closed, or the issue went to a person).
    ReviewWatchEnded {
        /// Issue id.
        issue_id: String,
    },
}

/// A run as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RunRecord {
    /// Run id.
    pub id: i64,
    /// Issue id.
    pub issue_id: String,
    /// Issue identifier.
    pub identifier: String,
    /// `None` on a first run.
    pub attempt: Option<u32>,
    /// The instance that ran it.
    pub instance: String,
    /// The host it ran on.
    pub host: String,
    /// Its workspace folder, when known.
    pub workspace: Option<String>,
    /// Start (store clock).
    pub started_at_ms: u64,
    /// End, once ended.
    pub ended_at_ms: Option<u64>,
    /// How it ended.
    pub outcome: Option<RunOutcome>,
    /// Why, when it did not succeed.
    pub error: Option<String>,
    /// Agent process group leader, once started.
    pub pid: Option<u32>,
    /// Its start time.
    pub pid_start: Option<u64>,
    /// What its agent used: tokens by kind, and cost when the agent reported one.
    pub usage: Usage,
    /// Events reported, including those no longer kept.
    pub events_total: u64,
    /// The last event's name.
    pub last_event: Option<String>,
}

/// Which runs to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunFilter {
    /// Only runs of this issue (matched against id or identifier).
    pub issue: Option<String>,
    /// At most this many (newest first); `None` for all.
    pub limit: Option<usize>,
}

/// One kept agent event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EventRecord {
    /// 1-based position in the run's event stream.
    pub seq: u64,
    /// When (store clock).
    pub at_ms: u64,
    /// Event name.
    pub kind: String,
    /// Its text.
    pub message: Option<String>,
}

/// A queued retry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RetryRecord {
    /// Issue id.
    pub issue_id: String,
    /// Issue identifier.
    pub identifier: String,
    /// The attempt it will run as.
    pub attempt: u32,
    /// When it is due (store clock).
    pub due_at_ms: u64,
    /// Why it was queued (`None` for a continuation).
    pub error: Option<String>,
    /// The instance whose queue it is in (`None` while unowned).
    pub owner: Option<String>,
}

/// A claim on an issue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClaimRecord {
    /// Issue id.
    pub issue_id: String,
    /// Issue identifier.
    pub identifier: String,
    /// The holding instance (`None` while unowned, waiting to be taken over).
    pub owner: Option<String>,
    /// When the lease lapses unless renewed (store clock).
    pub expires_at_ms: u64,
}

/// Usage and runtime totals over recorded runs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Totals {
    /// Runs recorded.
    pub runs: u64,
    /// Tokens by kind, and the cost of the runs that reported one.
    pub usage: Usage,
    /// Milliseconds of ended runs.
    pub runtime_ms: u64,
}

/// An agent process left behind by an instance that is gone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrphanProcess {
    /// The run it belonged to.
    pub run_id: i64,
    /// Its process group leader.
    pub pid: u32,
    /// The leader's start time.
    pub pid_start: u64,
}

/// What [`crate::Store::recover`] or [`crate::Store::heartbeat`] took over.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Recovery {
    /// Retries now in this instance's queue that it did not know of (restore them).
    pub retries: Vec<RetryRecord>,
    /// Runs that were recorded as interrupted.
    pub interrupted: Vec<RunRecord>,
    /// Agent processes of those runs on this host, to stop before dispatching again.
    pub orphans: Vec<OrphanProcess>,
    /// Instances found gone.
    pub departed: Vec<String>,
}

/// One audit log entry.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditEntry {
    /// Position in the chain, from 1.
    pub seq: u64,
    /// When (store clock).
    pub at_ms: u64,
    /// The instance that decided.
    pub instance: String,
    /// What kind of decision.
    pub kind: String,
    /// The issue concerned.
    pub issue_id: Option<String>,
    /// Its identifier.
    pub identifier: Option<String>,
    /// Details.
    pub detail: Value,
    /// The previous entry's hash ([`crate::GENESIS_HASH`] for the first).
    pub prev_hash: String,
    /// SHA-256 over `prev_hash` and this entry's canonical JSON.
    pub hash: String,
}
