//! Candidate selection (SPEC §8.2) and why an issue is not dispatched.

use std::cmp::Ordering;
use std::fmt;

use symphony_core::Issue;

use crate::config::SchedulerConfig;

/// Why the scheduler would not dispatch an issue now — the answer to "why isn't my issue
/// picked up?".
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ineligible {
    /// `id`, `identifier`, `title` or `state` is empty.
    MissingField(&'static str),
    /// The state is terminal.
    Terminal(String),
    /// The state is not an active state.
    NotActive(String),
    /// The adapter says no (routing, assignment or blockers).
    NotDispatchable {
        /// Blocker identifiers (or ids) that are not in a terminal state, as far as known.
        blocked_by: Vec<String>,
    },
    /// A required label is missing.
    MissingLabel(String),
    /// A worker is running it.
    Running,
    /// It is claimed (running or waiting for a retry).
    Claimed,
    /// Another orchestrator instance holds it.
    HeldElsewhere {
        /// That instance.
        holder: String,
    },
    /// All global slots are taken.
    NoGlobalSlot {
        /// The global limit.
        limit: usize,
    },
    /// A budget: the issue's own is spent, or the day's holds new dispatch (ADR 0023).
    Budget(crate::budget::Exceeded),
    /// All slots of its state are taken.
    NoStateSlot {
        /// The normalized state.
        state: String,
        /// That state's limit.
        limit: usize,
    },
}

impl fmt::Display for Ineligible {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MissingField(field) => write!(f, "its `{field}` is empty"),
            Self::Terminal(state) => write!(f, "state {state:?} is terminal"),
            Self::NotActive(state) => write!(f, "state {state:?} is not an active state"),
            Self::NotDispatchable { blocked_by } if blocked_by.is_empty() => {
                write!(f, "the tracker marks it not dispatchable")
            }
            Self::NotDispatchable { blocked_by } => {
                write!(f, "blocked by {}", blocked_by.join(", "))
            }
            Self::MissingLabel(label) => write!(f, "missing required label {label:?}"),
            Self::Running => write!(f, "already running"),
            Self::Claimed => write!(f, "claimed (running or waiting for a retry)"),
            Self::HeldElsewhere { holder } => {
                write!(f, "held by another orchestrator instance ({holder})")
            }
            Self::Budget(exceeded) if exceeded.kind.is_daily() => {
                write!(f, "waiting for the next UTC day: {exceeded}")
            }
            Self::Budget(exceeded) => write!(f, "its {exceeded}"),
            Self::NoGlobalSlot { limit } => write!(f, "no free slot ({limit} agents running)"),
            Self::NoStateSlot { state, limit } => {
                write!(f, "no free slot for state {state:?} (limit {limit})")
            }
        }
    }
}

/// Whether `issue` passes the adapter and label gates (SPEC §8.2 `issue_routable`).
pub(crate) fn routable(issue: &Issue, config: &SchedulerConfig) -> Result<(), Ineligible> {
    if !issue.dispatchable {
        let blocked_by = issue
            .blocked_by
            .iter()
            .filter(|b| !b.state.as_deref().is_some_and(|s| config.is_terminal(s)))
            .filter_map(|b| b.identifier.clone().or_else(|| b.id.clone()))
            .collect();
        return Err(Ineligible::NotDispatchable { blocked_by });
    }
    for label in &config.required_labels {
        // A blank configured label matches no issue (SPEC §5.3.1).
        if label.is_empty()
            || !issue
                .labels
                .iter()
                .any(|l| l.trim().to_lowercase() == *label)
        {
            return Err(Ineligible::MissingLabel(label.clone()));
        }
    }
    Ok(())
}

/// The issue-only checks of SPEC §8.2: required fields, state, dispatchable, labels.
pub fn issue_eligible(issue: &Issue, config: &SchedulerConfig) -> Result<(), Ineligible> {
    if let Some(field) = issue.blank_required_field() {
        return Err(Ineligible::MissingField(field));
    }
    if config.is_terminal(&issue.state) {
        return Err(Ineligible::Terminal(issue.state.clone()));
    }
    if !config.is_active(&issue.state) {
        return Err(Ineligible::NotActive(issue.state.clone()));
    }
    routable(issue, config)
}

/// The sort key of SPEC §8.2: priority 1..4 ascending before everything else, then oldest
/// `created_at` (unknown last), then identifier. Small and cheap to compare, so a tick can
/// order thousands of candidates without moving them.
pub(crate) type DispatchKey<'a> = (u8, i64, (i64, u32), &'a str);

pub(crate) fn dispatch_key(issue: &Issue) -> DispatchKey<'_> {
    let priority = match issue.priority {
        Some(p @ 1..=4) => (0, p),
        _ => (1, 0),
    };
    let created = issue.created_at.map_or((i64::MAX, u32::MAX), |t| {
        (t.timestamp(), t.timestamp_subsec_nanos())
    });
    (priority.0, priority.1, created, issue.identifier.as_str())
}

/// Dispatch order (SPEC §8.2), as a comparison.
pub fn dispatch_order(a: &Issue, b: &Issue) -> Ordering {
    dispatch_key(a).cmp(&dispatch_key(b))
}

/// Sorts candidates into dispatch order.
pub fn sort_for_dispatch(issues: &mut [Issue]) {
    issues.sort_by(dispatch_order);
}
