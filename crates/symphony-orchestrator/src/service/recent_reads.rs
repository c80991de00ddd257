//! What each issue was last seen as, and since when: the answers of reads by id and of the
//! agent's own moves, kept a few seconds so a check made moments later can take them instead
//! of asking the tracker again (see [`super::batched_reads::BatchedReads`]).
//!
//! Every entry is stamped with the moment its question was *asked*, never answered: a read
//! reflects the tracker at some point after it was asked, so the stamp never claims more than
//! the answer can vouch for, and an answer that arrives late (asked before an agent's move,
//! answered after it) never replaces what is known from later.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use symphony_core::Issue;

/// Entries older than this are forgotten.
const KEPT_FOR: Duration = Duration::from_secs(10);

/// What was seen of one issue.
#[derive(Debug, Clone)]
enum Seen {
    /// The tracker showed it so.
    Shown(Box<Issue>),
    /// The tracker no longer showed it.
    Gone,
    /// A call changed it in a way nobody read: only a new read tells.
    Unsettled,
}

/// The latest sighting of each issue.
#[derive(Default)]
pub(crate) struct RecentReads {
    seen: Mutex<HashMap<String, (Instant, Seen)>>,
}

impl RecentReads {
    /// A read of `ids` asked at `asked` answered `issues` (an id it does not show is gone).
    pub(crate) fn read(&self, ids: &[String], issues: &[Issue], asked: Instant) {
        for id in ids {
            let seen = match issues.iter().find(|i| &i.id == id) {
                Some(issue) => Seen::Shown(Box::new(issue.clone())),
                None => Seen::Gone,
            };
            self.note(id, asked, seen);
        }
    }

    /// The agent's call, asked at `asked`, moved the issue: it is `issue` now, as the tracker
    /// answered the call.
    pub(crate) fn moved(&self, issue: Issue, asked: Instant) {
        let id = issue.id.clone();
        self.note(&id, asked, Seen::Shown(Box::new(issue)));
    }

    /// A call asked at `asked` may have changed issue `id` without saying how.
    pub(crate) fn unsettled(&self, id: &str, asked: Instant) {
        self.note(id, asked, Seen::Unsettled);
    }

    /// What `ids` were seen as by questions asked at or after `since`, when every one of them
    /// was (`None` otherwise): the issues still shown.
    pub(crate) fn since(&self, ids: &[String], since: Instant) -> Option<Vec<Issue>> {
        let seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        let mut issues = Vec::new();
        for id in ids {
            match seen.get(id) {
                Some((at, Seen::Shown(issue))) if *at >= since => issues.push(Issue::clone(issue)),
                Some((at, Seen::Gone)) if *at >= since => {}
                _ => return None,
            }
        }
        Some(issues)
    }

    fn note(&self, id: &str, asked: Instant, what: Seen) {
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        seen.retain(|_, (at, _)| now.duration_since(*at) < KEPT_FOR);
        match seen.get(id) {
            Some((at, _)) if *at > asked => {}
            _ => {
                seen.insert(id.to_owned(), (asked, what));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn issue(state: &str) -> Issue {
        Issue::new("1", "M-1", "t", state)
    }

    fn states(issues: Option<Vec<Issue>>) -> Option<Vec<String>> {
        issues.map(|issues| issues.into_iter().map(|i| i.state).collect())
    }

    #[test]
    fn only_sightings_asked_since_the_moment_count() {
        let recent = RecentReads::default();
        let one = ["1".to_owned()];
        let before = Instant::now();
        recent.read(&one, &[issue("todo")], before);
        let after = before + Duration::from_millis(1);
        assert_eq!(
            states(recent.since(&one, before)),
            Some(vec!["todo".into()])
        );
        assert_eq!(recent.since(&one, after), None, "asked too early");
        assert_eq!(recent.since(&["2".to_owned()], before), None, "never read");
        recent.read(&one, &[], after);
        assert_eq!(states(recent.since(&one, after)), Some(vec![]), "gone");
    }

    #[test]
    fn a_late_answer_never_replaces_what_is_known_from_later() {
        let recent = RecentReads::default();
        let one = ["1".to_owned()];
        let read_asked = Instant::now();
        let move_asked = read_asked + Duration::from_millis(5);
        recent.moved(issue("review"), move_asked);
        // The read was asked before the move and answers after it, with the old state.
        recent.read(&one, &[issue("todo")], read_asked);
        assert_eq!(
            states(recent.since(&one, read_asked)),
            Some(vec!["review".into()])
        );
    }

    #[test]
    fn an_unsettled_issue_needs_a_new_read() {
        let recent = RecentReads::default();
        let one = ["1".to_owned()];
        let start = Instant::now();
        recent.moved(issue("review"), start);
        recent.unsettled("1", start + Duration::from_millis(1));
        assert_eq!(recent.since(&one, start), None);
        recent.read(&one, &[issue("rework")], start + Duration::from_millis(2));
        assert_eq!(
            states(recent.since(&one, start)),
            Some(vec!["rework".into()])
        );
    }
}
