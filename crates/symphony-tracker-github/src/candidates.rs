//! The poll's candidate read (issue 17): one conditional request for the most recently
//! updated issue proves nothing changed, so an idle poll costs one request and no rate-limit
//! unit however long the backlog; the list is read only when it did change.
//!
//! Why this is enough: every change that can make or unmake a candidate — a label added or
//! removed, an issue opened, closed, reopened, edited, assigned, a blocker closed — sets that
//! issue's `updated_at`, which makes it the most recently updated issue, so the probe's body
//! (and its ETag) changes. What the probe cannot see is an issue deleted or transferred away
//! when it was not the most recently updated one. For those, the list is read completely at
//! least every [`COMPLETE_READ_EVERY`] anyway; meanwhile such an issue cannot run, because the
//! worker re-reads each issue by id before it starts and a running one is stopped by the
//! tick's own by-id refresh.

use std::time::Duration;

use chrono::Utc;
use symphony_tracker::{CandidateRead, TrackerError};

use crate::client::Client;
use crate::config::GithubConfig;
use crate::exchange::ApiRequest;

/// The longest an unchanged probe is trusted before the list is read completely again.
pub(crate) const COMPLETE_READ_EVERY: Duration = Duration::from_secs(300);

/// The mark handed to the scheduler: the probe's ETag and when the list was last read
/// completely. Opaque to everyone else.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Mark {
    complete_at_s: i64,
    probe_etag: String,
}

const MARK_PREFIX: &str = "github-probe-v1";

impl Mark {
    pub(crate) fn parse(text: &str) -> Option<Self> {
        let mut parts = text.splitn(3, ';');
        if parts.next()? != MARK_PREFIX {
            return None;
        }
        let complete_at_s = parts.next()?.parse().ok()?;
        let probe_etag = parts.next()?.to_owned();
        (!probe_etag.is_empty()).then_some(Self {
            complete_at_s,
            probe_etag,
        })
    }

    pub(crate) fn render(&self) -> String {
        format!("{MARK_PREFIX};{};{}", self.complete_at_s, self.probe_etag)
    }

    fn fresh(&self, now_s: i64) -> bool {
        let age = now_s.saturating_sub(self.complete_at_s);
        (0..COMPLETE_READ_EVERY.as_secs() as i64).contains(&age)
    }
}

/// What the probe says about the repository since `previous`.
#[derive(Debug)]
pub(crate) enum Probe {
    /// Nothing changed, and the last complete read is recent: `previous` still holds.
    Unchanged(Mark),
    /// Read the list completely; the mark to give that answer (none without an ETag).
    ReadAll(Option<Mark>),
}

/// The path of the probe: the one most recently updated issue or pull request, open or closed.
fn probe_path(config: &GithubConfig) -> String {
    format!(
        "/repos/{}/{}/issues?state=all&sort=updated&direction=desc&per_page=1",
        config.owner, config.repo
    )
}

/// Sends the probe, conditional on `since`'s ETag. Sent *before* the list is read, so a change
/// made while the list is read shows at the next probe (one complete read too many, never
/// one too few).
pub(crate) async fn probe(
    client: &Client,
    config: &GithubConfig,
    since: Option<&str>,
) -> Result<Probe, TrackerError> {
    let previous = since.and_then(Mark::parse);
    let path = probe_path(config);
    let mut request = ApiRequest::get(&path);
    request.etag = previous.as_ref().map(|m| m.probe_etag.as_str());
    let response = client.send(&request).await?;
    let now_s = Utc::now().timestamp();
    if response.not_modified() {
        let Some(previous) = previous else {
            // A 304 to an unconditional request: read the list, mark nothing.
            return Ok(Probe::ReadAll(None));
        };
        if previous.fresh(now_s) {
            return Ok(Probe::Unchanged(previous));
        }
        return Ok(Probe::ReadAll(Some(Mark {
            complete_at_s: now_s,
            probe_etag: previous.probe_etag,
        })));
    }
    Ok(Probe::ReadAll(response.etag().map(|probe_etag| Mark {
        complete_at_s: now_s,
        probe_etag,
    })))
}

/// The answer for an unchanged repository.
pub(crate) fn unchanged(mark: &Mark) -> CandidateRead {
    CandidateRead::changed(Vec::new(), mark.render())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mark_reads_back_as_written_and_anything_else_is_no_mark() {
        let mark = Mark {
            complete_at_s: 1_700_000_000,
            probe_etag: "W/\"a;b\"".into(),
        };
        assert_eq!(Mark::parse(&mark.render()), Some(mark));
        for other in [
            "",
            "github-probe-v1",
            "github-probe-v1;x;W/\"1\"",
            "other;1;e",
            "github-probe-v1;1;",
        ] {
            assert_eq!(Mark::parse(other), None, "{other:?}");
        }
    }

    #[test]
    fn a_mark_is_trusted_for_the_complete_read_interval_only() {
        let mark = Mark {
            complete_at_s: 1_000,
            probe_etag: "e".into(),
        };
        assert!(mark.fresh(1_000) && mark.fresh(1_299));
        assert!(!mark.fresh(1_300) && !mark.fresh(999));
    }
}
