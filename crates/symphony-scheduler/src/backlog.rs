//! The backlog as the scheduler sees it: every known candidate in dispatch order and why it
//! waits (the `symphony issues` explainer, for the dashboard's backlog panel).

use serde::Serialize;

use crate::eligibility::Ineligible;
use crate::state::Scheduler;

/// One candidate and its standing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BacklogRow {
    /// Issue id.
    pub issue_id: String,
    /// Issue identifier.
    pub identifier: String,
    /// Title.
    pub title: String,
    /// Tracker state as last read.
    pub state: String,
    /// Priority, when set.
    pub priority: Option<i64>,
    /// Link to the issue.
    pub url: Option<String>,
    /// What holds it: `next` (it would be dispatched now), or the reason's code.
    pub waiting: &'static str,
    /// The reason for people (`None` for `next`).
    pub why: Option<String>,
    /// Its per-issue limits.
    pub limits: crate::budget::IssueLimits,
    /// What its runs are known to have used (`None`: none seen end here).
    pub spent: Option<crate::budget::Spend>,
}

impl Ineligible {
    /// A short stable code for the reason (`blocked`, `budget`, `no_slot`, ...).
    pub fn code(&self) -> &'static str {
        match self {
            Self::MissingField(_) => "invalid",
            Self::Terminal(_) => "terminal",
            Self::NotActive(_) => "inactive",
            Self::NotDispatchable { .. } => "blocked",
            Self::MissingLabel(_) => "unrouted",
            Self::Running => "running",
            Self::Claimed => "claimed",
            Self::HeldElsewhere { .. } => "held_elsewhere",
            Self::Budget(e) if e.kind.is_daily() => "daily_budget",
            Self::Budget(_) => "budget",
            Self::NoGlobalSlot { .. } | Self::NoStateSlot { .. } => "no_slot",
        }
    }
}

impl Scheduler {
    /// The first `limit` candidates of the last reads, in dispatch order, each with what holds
    /// it now.
    pub fn backlog(&self, limit: usize) -> Vec<BacklogRow> {
        self.candidates
            .first(limit)
            .into_iter()
            .map(|issue| {
                let verdict = self.explain(issue);
                BacklogRow {
                    issue_id: issue.id.clone(),
                    identifier: issue.identifier.clone(),
                    title: issue.title.clone(),
                    state: issue.state.clone(),
                    priority: issue.priority,
                    url: issue.url.clone(),
                    waiting: verdict.as_ref().err().map_or("next", Ineligible::code),
                    why: verdict.err().map(|e| e.to_string()),
                    limits: self.config.budgets.for_issue(issue),
                    spent: self.ended_spend.get(&issue.id).copied(),
                }
            })
            .collect()
    }
}
