//! The candidate book: the last candidate list, kept in dispatch order between ticks and
//! updated by difference, so a tick (or a freed slot) costs little more than the changes it
//! sees instead of a sort of the whole backlog.

use std::collections::{BTreeSet, HashMap};

use symphony_core::{normalize_state, Issue};

use crate::config::SchedulerConfig;
use crate::eligibility::{dispatch_key, issue_eligible};

/// An issue's place in the dispatch order (SPEC §8.2: priority, oldest first, identifier),
/// with the id last so two issues never share a place.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Place {
    priority: u8,
    rank: i64,
    created: (i64, u32),
    identifier: String,
    id: String,
}

impl Place {
    fn of(issue: &Issue) -> Self {
        let (priority, rank, created, identifier) = dispatch_key(issue);
        Self {
            priority,
            rank,
            created,
            identifier: identifier.to_owned(),
            id: issue.id.clone(),
        }
    }
}

#[derive(Debug, Clone)]
struct Entry {
    issue: Issue,
    place: Place,
    /// Its state, normalized once (per-state limits compare it on every refill).
    state: String,
    /// Whether the issue-only rules (SPEC §8.2) let it run under the configuration in force.
    eligible: bool,
    /// The book generation that last saw it (a complete answer drops the others).
    seen: u64,
}

impl Entry {
    fn new(issue: Issue, config: &SchedulerConfig, seen: u64) -> Self {
        Self {
            seen,
            place: Place::of(&issue),
            state: normalize_state(&issue.state),
            eligible: issue_eligible(&issue, config).is_ok(),
            issue,
        }
    }
}

/// The last known candidates: every issue by id, and the eligible ones in dispatch order.
#[derive(Debug, Clone, Default)]
pub(crate) struct CandidateBook {
    by_id: HashMap<String, Entry>,
    ordered: BTreeSet<Place>,
    /// Counts complete answers.
    generation: u64,
}

impl CandidateBook {
    /// Number of issues known.
    pub(crate) fn len(&self) -> usize {
        self.by_id.len()
    }

    /// A complete candidate list: it replaces the book. Issues that did not change stay
    /// where they are (in place: no entry moves), so only the differences touch the order.
    pub(crate) fn replace(&mut self, issues: Vec<Issue>, config: &SchedulerConfig) {
        self.generation = self.generation.wrapping_add(1);
        let generation = self.generation;
        for issue in issues {
            match self.by_id.get_mut(&issue.id) {
                Some(entry) if entry.issue == issue => entry.seen = generation,
                _ => {
                    // New, changed, or repeated within this answer (the later copy wins).
                    self.remove(&issue.id);
                    self.insert(issue, config);
                }
            }
        }
        let ordered = &mut self.ordered;
        self.by_id.retain(|_, entry| {
            let kept = entry.seen == generation;
            if !kept {
                ordered.remove(&entry.place);
            }
            kept
        });
    }

    /// A fresh snapshot of one issue (a refresh, a hint, an incremental candidate read): kept
    /// while its state is active, dropped otherwise.
    pub(crate) fn update(&mut self, issue: &Issue, config: &SchedulerConfig) {
        if let Some(entry) = self.by_id.get(&issue.id) {
            if entry.issue == *issue {
                return;
            }
        }
        self.remove(&issue.id);
        if config.is_active(&issue.state) {
            self.insert(issue.clone(), config);
        }
    }

    /// Forgets an issue until a read shows it again.
    pub(crate) fn remove(&mut self, id: &str) {
        if let Some(entry) = self.by_id.remove(id) {
            self.ordered.remove(&entry.place);
        }
    }

    /// Judges every issue again under a new configuration.
    pub(crate) fn rejudge(&mut self, config: &SchedulerConfig) {
        self.ordered.clear();
        for entry in self.by_id.values_mut() {
            entry.eligible = issue_eligible(&entry.issue, config).is_ok();
            if entry.eligible {
                self.ordered.insert(entry.place.clone());
            }
        }
    }

    /// Eligible issues in dispatch order, with their normalized state.
    pub(crate) fn in_order(&self) -> impl Iterator<Item = (&Issue, &str)> + '_ {
        self.ordered.iter().filter_map(|place| {
            self.by_id
                .get(&place.id)
                .map(|entry| (&entry.issue, entry.state.as_str()))
        })
    }

    /// Every known candidate, eligible or not, in dispatch order; the first `limit`.
    pub(crate) fn first(&self, limit: usize) -> Vec<&Issue> {
        let mut all: Vec<&Entry> = self.by_id.values().collect();
        all.sort_by(|a, b| a.place.cmp(&b.place));
        all.into_iter().take(limit).map(|e| &e.issue).collect()
    }

    fn insert(&mut self, issue: Issue, config: &SchedulerConfig) {
        let entry = Entry::new(issue, config, self.generation);
        if entry.eligible {
            self.ordered.insert(entry.place.clone());
        }
        self.by_id.insert(entry.issue.id.clone(), entry);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn issue(id: &str, state: &str, priority: Option<i64>) -> Issue {
        let mut issue = Issue::new(id, format!("ID-{id}"), format!("Issue {id}"), state);
        issue.priority = priority;
        issue
    }

    fn order(book: &CandidateBook) -> Vec<String> {
        book.in_order().map(|(i, _)| i.id.clone()).collect()
    }

    #[test]
    fn a_replacement_keeps_dispatch_order_and_drops_what_is_gone() {
        let config = SchedulerConfig::default();
        let mut book = CandidateBook::default();
        book.replace(
            vec![
                issue("a", "todo", Some(3)),
                issue("b", "todo", Some(1)),
                issue("c", "done", Some(1)),
            ],
            &config,
        );
        assert_eq!(order(&book), ["b", "a"]);
        book.replace(
            vec![issue("a", "todo", Some(1)), issue("d", "todo", None)],
            &config,
        );
        assert_eq!(order(&book), ["a", "d"]);
        assert_eq!(book.len(), 2);
    }

    #[test]
    fn an_update_moves_an_issue_or_drops_it_when_it_leaves_the_active_states() {
        let config = SchedulerConfig::default();
        let mut book = CandidateBook::default();
        book.replace(
            vec![issue("a", "todo", Some(2)), issue("b", "todo", Some(3))],
            &config,
        );
        book.update(&issue("b", "todo", Some(1)), &config);
        assert_eq!(order(&book), ["b", "a"]);
        book.update(&issue("b", "Human Review", Some(1)), &config);
        assert_eq!(order(&book), ["a"]);
        assert_eq!(book.len(), 1);
    }

    #[test]
    fn a_reload_judges_every_issue_again() {
        let mut config = SchedulerConfig::default();
        let mut book = CandidateBook::default();
        book.replace(vec![issue("a", "todo", None)], &config);
        config.required_labels = vec!["agent".into()];
        book.rejudge(&config);
        assert!(order(&book).is_empty());
        config.required_labels.clear();
        book.rejudge(&config);
        assert_eq!(order(&book), ["a"]);
    }
}
