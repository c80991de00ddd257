//! The provider-independent part of SPEC §17.3, as one function every adapter's test suite
//! calls: [`run`]. Each check starts from a fresh harness, seeds it, and panics with a message
//! that names the rule when the adapter breaks it.
//!
//! Provider-specific rules (pagination, native ids, rate limits, error mapping) stay in the
//! adapter's own tests.

use async_trait::async_trait;
use symphony_core::Issue;

use crate::normalize::{check_normalized, normalize_labels};
use crate::tracker::Tracker;

/// An issue to put into the provider before a check, as a user would file it.
#[derive(Debug, Clone)]
pub struct SeedIssue {
    /// Human-readable key; the adapter must return it as `identifier`.
    pub identifier: String,
    /// Title.
    pub title: String,
    /// Provider-native state, spelled as the provider spells it.
    pub state: String,
    /// Labels as filed (mixed case, padding, duplicates allowed).
    pub labels: Vec<String>,
    /// Priority, if the provider has one.
    pub priority: Option<i64>,
    /// Body, if any.
    pub description: Option<String>,
}

impl SeedIssue {
    /// A seed with no optional metadata.
    pub fn new(identifier: &str, title: &str, state: &str) -> Self {
        Self {
            identifier: identifier.to_owned(),
            title: title.to_owned(),
            state: state.to_owned(),
            labels: Vec::new(),
            priority: None,
            description: None,
        }
    }

    /// The same seed with labels.
    pub fn labels(mut self, labels: &[&str]) -> Self {
        self.labels = labels.iter().map(|l| (*l).to_owned()).collect();
        self
    }
}

/// What the kit needs from an adapter's test setup.
#[async_trait]
pub trait ConformanceHarness: Send {
    /// Puts exactly `issues` into a fresh provider scope and returns a tracker reading it.
    async fn seed(&mut self, issues: &[SeedIssue]) -> Box<dyn Tracker>;

    /// Provider requests made since the harness was created.
    fn provider_calls(&self) -> u64;

    /// Makes the provider's record of `identifier` unusable: a required field missing or broken.
    async fn corrupt(&mut self, identifier: &str);

    /// Whether each issue keeps its own spelling of a state. Providers whose states are
    /// shared, case-insensitively unique objects (GitHub labels, board options) keep the
    /// first spelling filed for all issues; the kit then checks that spelling is kept.
    fn state_spelling_is_per_issue(&self) -> bool {
        true
    }
}

fn fixture() -> Vec<SeedIssue> {
    vec![
        SeedIssue::new("CONF-1", "First", "Todo").labels(&["Bug", " P1 ", "bug", ""]),
        SeedIssue::new("CONF-2", "Second", "In Progress"),
        SeedIssue::new("CONF-3", "Third", "Done"),
        SeedIssue::new("CONF-4", "Fourth", "todo"),
    ]
}

fn states(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

fn identifiers(issues: &[Issue]) -> Vec<&str> {
    let mut ids: Vec<&str> = issues.iter().map(|i| i.identifier.as_str()).collect();
    ids.sort_unstable();
    ids
}

/// Runs every check against fresh harnesses from `factory`.
pub async fn run<H, F>(mut factory: F)
where
    H: ConformanceHarness,
    F: FnMut() -> H,
{
    empty_state_list_returns_empty_without_a_provider_call(factory()).await;
    empty_id_list_returns_empty_without_a_provider_call(factory()).await;
    candidate_fetch_applies_the_requested_states(factory()).await;
    candidate_reads_agree_with_state_reads(factory()).await;
    labels_are_normalized_to_lowercase(factory()).await;
    unusable_optional_metadata_normalizes_to_null_or_empty(factory()).await;
    refresh_by_id_returns_full_snapshots_as_a_set(factory()).await;
    malformed_records_are_omitted_by_state_reads_and_fail_id_refresh(factory()).await;
}

async fn empty_state_list_returns_empty_without_a_provider_call<H: ConformanceHarness>(mut h: H) {
    let tracker = h.seed(&fixture()).await;
    let before = h.provider_calls();
    let issues = tracker
        .fetch_issues_by_states(&[])
        .await
        .expect("empty state list must succeed");
    assert!(
        issues.is_empty(),
        "fetch_issues_by_states([]) must return nothing"
    );
    assert_eq!(
        h.provider_calls(),
        before,
        "fetch_issues_by_states([]) must not call the provider"
    );
}

async fn empty_id_list_returns_empty_without_a_provider_call<H: ConformanceHarness>(mut h: H) {
    let tracker = h.seed(&fixture()).await;
    let before = h.provider_calls();
    let issues = tracker
        .fetch_issues_by_ids(&[])
        .await
        .expect("empty id list must succeed");
    assert!(
        issues.is_empty(),
        "fetch_issues_by_ids([]) must return nothing"
    );
    assert_eq!(
        h.provider_calls(),
        before,
        "fetch_issues_by_ids([]) must not call the provider"
    );
}

async fn candidate_fetch_applies_the_requested_states<H: ConformanceHarness>(mut h: H) {
    let tracker = h.seed(&fixture()).await;
    let todo = tracker
        .fetch_issues_by_states(&states(&["TODO"]))
        .await
        .expect("state fetch");
    assert_eq!(
        identifiers(&todo),
        ["CONF-1", "CONF-4"],
        "states compare case-insensitively"
    );
    let spelled: Vec<&str> = todo.iter().map(|i| i.state.as_str()).collect();
    if h.state_spelling_is_per_issue() {
        assert!(
            spelled.contains(&"Todo") && spelled.contains(&"todo"),
            "provider spelling of state is preserved: {spelled:?}"
        );
    } else {
        assert!(
            spelled.iter().all(|s| *s == "Todo"),
            "the provider's (first filed) spelling of a shared state is preserved: {spelled:?}"
        );
    }
    let active = tracker
        .fetch_issues_by_states(&states(&["Todo", "In Progress"]))
        .await
        .expect("state fetch");
    assert_eq!(identifiers(&active), ["CONF-1", "CONF-2", "CONF-4"]);
    for issue in &active {
        check_normalized(issue).unwrap_or_else(|e| panic!("not normalized: {e}"));
    }
}

/// `fetch_candidates`: without a mark, or with one it did not write, the answer is complete
/// and the same as `fetch_issues_by_states`; with its own mark and nothing changed, it is
/// that again or an empty incremental answer.
async fn candidate_reads_agree_with_state_reads<H: ConformanceHarness>(mut h: H) {
    let tracker = h.seed(&fixture()).await;
    let wanted = states(&["Todo", "In Progress"]);
    let expected = ["CONF-1", "CONF-2", "CONF-4"];
    let first = tracker
        .fetch_candidates(&wanted, None)
        .await
        .expect("candidate read");
    assert!(first.complete, "a read without a mark must be complete");
    assert_eq!(identifiers(&first.issues), expected);
    let foreign = tracker
        .fetch_candidates(
            &wanted,
            Some("conformance: a mark this tracker never wrote"),
        )
        .await
        .expect("candidate read with a foreign mark");
    assert!(
        foreign.complete,
        "a foreign mark must get a complete answer"
    );
    assert_eq!(identifiers(&foreign.issues), expected);
    if let Some(mark) = &first.mark {
        let again = tracker
            .fetch_candidates(&wanted, Some(mark))
            .await
            .expect("candidate read with its own mark");
        if again.complete {
            assert_eq!(identifiers(&again.issues), expected);
        } else {
            assert!(
                again.issues.is_empty(),
                "nothing changed, yet the incremental answer names {:?}",
                identifiers(&again.issues)
            );
        }
    }
}

async fn labels_are_normalized_to_lowercase<H: ConformanceHarness>(mut h: H) {
    let tracker = h.seed(&fixture()).await;
    let issues = tracker
        .fetch_issues_by_states(&states(&["Todo"]))
        .await
        .expect("state fetch");
    let first = issues
        .iter()
        .find(|i| i.identifier == "CONF-1")
        .expect("CONF-1 returned");
    assert_eq!(
        first.labels,
        normalize_labels(["bug", "p1"]),
        "labels trimmed, lowercased, deduplicated"
    );
}

async fn unusable_optional_metadata_normalizes_to_null_or_empty<H: ConformanceHarness>(mut h: H) {
    let tracker = h.seed(&[SeedIssue::new("CONF-9", "Bare", "Todo")]).await;
    let issues = tracker
        .fetch_issues_by_states(&states(&["Todo"]))
        .await
        .expect("state fetch");
    assert_eq!(
        issues.len(),
        1,
        "an issue without optional metadata is still returned"
    );
    let issue = &issues[0];
    assert_eq!(
        (issue.identifier.as_str(), issue.title.as_str()),
        ("CONF-9", "Bare")
    );
    assert!(issue.labels.is_empty() && issue.blocked_by.is_empty());
    assert_eq!(issue.priority, None);
}

async fn refresh_by_id_returns_full_snapshots_as_a_set<H: ConformanceHarness>(mut h: H) {
    let tracker = h.seed(&fixture()).await;
    let all = tracker
        .fetch_issues_by_states(&states(&["Todo", "In Progress", "Done"]))
        .await
        .expect("state fetch");
    let one = all
        .iter()
        .find(|i| i.identifier == "CONF-1")
        .expect("CONF-1");
    let three = all
        .iter()
        .find(|i| i.identifier == "CONF-3")
        .expect("CONF-3");
    let ids = vec![
        one.id.clone(),
        three.id.clone(),
        one.id.clone(),
        "no-such-issue-id".to_owned(),
    ];
    let refreshed = tracker.fetch_issues_by_ids(&ids).await.expect("id refresh");
    assert_eq!(
        identifiers(&refreshed),
        ["CONF-1", "CONF-3"],
        "each id once, unknown ids omitted"
    );
    let again = refreshed
        .iter()
        .find(|i| i.id == one.id)
        .expect("CONF-1 refreshed");
    assert_eq!(again, one, "refresh returns the full normalized snapshot");
}

async fn malformed_records_are_omitted_by_state_reads_and_fail_id_refresh<H: ConformanceHarness>(
    mut h: H,
) {
    let tracker = h.seed(&fixture()).await;
    let before = tracker
        .fetch_issues_by_states(&states(&["Todo"]))
        .await
        .expect("state fetch");
    let broken_id = before
        .iter()
        .find(|i| i.identifier == "CONF-4")
        .expect("CONF-4")
        .id
        .clone();
    let fine_id = before
        .iter()
        .find(|i| i.identifier == "CONF-1")
        .expect("CONF-1")
        .id
        .clone();
    h.corrupt("CONF-4").await;
    let after = tracker
        .fetch_issues_by_states(&states(&["Todo"]))
        .await
        .expect("state fetch still succeeds");
    assert_eq!(
        identifiers(&after),
        ["CONF-1"],
        "a malformed record is omitted from state reads"
    );
    assert!(
        tracker
            .fetch_issues_by_ids(&[fine_id.clone(), broken_id])
            .await
            .is_err(),
        "id refresh must fail on a malformed requested record, not omit it"
    );
    let ok = tracker
        .fetch_issues_by_ids(&[fine_id])
        .await
        .expect("refresh of healthy ids");
    assert_eq!(identifiers(&ok), ["CONF-1"]);
}
