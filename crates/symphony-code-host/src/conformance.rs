//! The code-host contract as one function every implementation's tests call: [`run`]. Each
//! check starts from a fresh harness and panics with a message naming the rule broken.

use async_trait::async_trait;
use symphony_core::Issue;

use crate::code_host::CodeHost;
use crate::proposal::{ChangeProposal, CheckConclusion, CheckResult};

/// A review as the host holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldReview {
    /// Its title.
    pub title: String,
    /// Its body (Markdown).
    pub body: String,
}

/// What the kit needs from an implementation's test setup.
#[async_trait]
pub trait CodeHostHarness: Send {
    /// A fresh host (a repository on a fake forge, a fresh folder) and an issue to propose for.
    async fn fresh(&mut self) -> (Box<dyn CodeHost>, Issue);

    /// The open reviews of `branch` as the host has them now.
    async fn open_reviews(&mut self, branch: &str) -> Vec<HeldReview>;

    /// The latest verdict the host holds per check name on commit `head_sha`.
    async fn checks(&mut self, head_sha: &str) -> Vec<(String, CheckConclusion)>;
}

fn check(name: &str, conclusion: CheckConclusion) -> CheckResult {
    CheckResult {
        name: name.to_owned(),
        conclusion,
        summary: format!("{name}: {}", conclusion.as_str()),
        annotations: Vec::new(),
    }
}

fn proposal(head_sha: &str, body: &str) -> ChangeProposal {
    ChangeProposal {
        branch: "symphony/conformance".to_owned(),
        base_branch: "main".to_owned(),
        head_sha: head_sha.to_owned(),
        title: "CONF-1: the conformance change".to_owned(),
        body: body.to_owned(),
        draft: false,
    }
}

/// Runs every check of the contract against the harness's implementation.
pub async fn run(harness: &mut dyn CodeHostHarness) {
    proposing_twice_keeps_one_review_up_to_date(harness).await;
    checks_are_published_on_the_commit(harness).await;
    it_names_its_kind_and_its_secrets(harness).await;
}

async fn proposing_twice_keeps_one_review_up_to_date(harness: &mut dyn CodeHostHarness) {
    let (host, issue) = harness.fresh().await;
    let head = "1111111111111111111111111111111111111111";
    let first = host
        .propose_change(&issue, &proposal(head, "first body"))
        .await
        .unwrap_or_else(|e| panic!("code host {}: a first proposal failed: {e}", host.kind()));
    assert!(
        first.created,
        "code host {}: a first proposal must report it opened the review",
        host.kind()
    );
    let mut second = proposal(head, "second body");
    second.title = "CONF-1: the conformance change, retitled".to_owned();
    let again = host
        .propose_change(&issue, &second)
        .await
        .unwrap_or_else(|e| panic!("code host {}: proposing again failed: {e}", host.kind()));
    assert!(
        !again.created,
        "code host {}: proposing the same branch again must update its review, not open another",
        host.kind()
    );
    let reviews = harness.open_reviews("symphony/conformance").await;
    assert_eq!(
        reviews.len(),
        1,
        "code host {}: one branch, one review: {reviews:?}",
        host.kind()
    );
    assert!(
        reviews[0].body.contains("second body"),
        "code host {}: the review must carry the latest body: {:?}",
        host.kind(),
        reviews[0]
    );
    assert!(
        reviews[0].title.contains("retitled"),
        "code host {}: the review must carry the latest title: {:?}",
        host.kind(),
        reviews[0]
    );
}

async fn checks_are_published_on_the_commit(harness: &mut dyn CodeHostHarness) {
    let (host, issue) = harness.fresh().await;
    let head = "2222222222222222222222222222222222222222";
    host.propose_change(&issue, &proposal(head, "body"))
        .await
        .unwrap_or_else(|e| panic!("code host {}: the proposal failed: {e}", host.kind()));
    let first = [
        check("secrets", CheckConclusion::Success),
        check("tests", CheckConclusion::Failure),
        check("docs", CheckConclusion::Skipped),
    ];
    host.publish_checks(&issue, head, &first)
        .await
        .unwrap_or_else(|e| panic!("code host {}: publishing checks failed: {e}", host.kind()));
    // The next round's verdicts on the same commit replace the first.
    let second = [
        check("secrets", CheckConclusion::Success),
        check("tests", CheckConclusion::Success),
    ];
    host.publish_checks(&issue, head, &second)
        .await
        .unwrap_or_else(|e| panic!("code host {}: publishing again failed: {e}", host.kind()));
    let held = harness.checks(head).await;
    for expected in &second {
        let found = held.iter().find(|(name, _)| *name == expected.name);
        assert_eq!(
            found.map(|(_, c)| *c),
            Some(expected.conclusion),
            "code host {}: check {:?} must be reported on its commit with its latest verdict: {held:?}",
            host.kind(),
            expected.name
        );
    }
    assert!(
        held.iter().all(|(_, c)| *c != CheckConclusion::Failure),
        "code host {}: a verdict replaced by a later round must not stay a failure: {held:?}",
        host.kind()
    );
}

async fn it_names_its_kind_and_its_secrets(harness: &mut dyn CodeHostHarness) {
    let (host, _) = harness.fresh().await;
    assert!(!host.kind().is_empty(), "a code host must name its kind");
    for name in host.secret_environment_names() {
        assert!(
            !name.is_empty() && !name.contains('=') && !name.starts_with('$'),
            "code host {}: {name:?} is not an environment variable name",
            host.kind()
        );
    }
}
