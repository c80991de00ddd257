//! What the fake's handlers share: the world, the token, the rate-limit budgets, armed faults
//! and the exchanges so far.

use std::time::{SystemTime, UNIX_EPOCH};

use axum::http::Method;

use super::exchange::Exchange;
use super::faults::Fault;
use super::model::World;

#[derive(Debug, Clone, Copy)]
pub(crate) struct Budget {
    pub(crate) limit: u64,
    pub(crate) used: u64,
}

pub(crate) struct Armed {
    pub(crate) method: Option<Method>,
    pub(crate) path_contains: String,
    pub(crate) fault: Fault,
    pub(crate) times: u32,
}

pub(crate) struct Shared {
    pub(crate) world: World,
    pub(crate) token: String,
    pub(crate) base: String,
    pub(crate) core: Budget,
    pub(crate) graphql: Budget,
    pub(crate) reset: u64,
    pub(crate) faults: Vec<Armed>,
    pub(crate) exchanges: Vec<Exchange>,
}

/// What to file with [`FakeGithub::create_issue`].
#[derive(Debug, Clone, Default)]
pub struct NewIssue {
    /// Title.
    pub title: String,
    /// Body.
    pub body: Option<String>,
    /// Labels (created in the repository when new).
    pub labels: Vec<String>,
    /// Assignee logins.
    pub assignees: Vec<String>,
    /// Closed instead of open.
    pub closed: bool,
}

impl NewIssue {
    /// An open issue with this title and labels.
    pub fn new(title: &str, labels: &[&str]) -> Self {
        Self {
            title: title.to_owned(),
            labels: labels.iter().map(|l| (*l).to_owned()).collect(),
            ..Self::default()
        }
    }
}

pub(crate) fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl Shared {
    /// The fault armed for this request, if any (counted down).
    pub(crate) fn take_fault(&mut self, method: &Method, path: &str) -> Option<Fault> {
        let armed = self.faults.iter_mut().find(|a| {
            a.times > 0
                && path.contains(&a.path_contains)
                && a.method.as_ref().is_none_or(|m| m == method)
        })?;
        armed.times -= 1;
        let fault = armed.fault.clone();
        self.faults.retain(|a| a.times > 0);
        Some(fault)
    }
}
