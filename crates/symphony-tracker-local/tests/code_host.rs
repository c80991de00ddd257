//! The local code host passes the code-host conformance kit in both of its places: the local
//! tracker's own issue files, and a folder of proposal files for issues that live elsewhere.

use std::path::PathBuf;

use async_trait::async_trait;
use symphony_code_host::conformance::{self, CodeHostHarness, HeldReview};
use symphony_code_host::review_conformance::{self, PersonsReview, ReviewHarness};
use symphony_code_host::{CheckConclusion, CodeHost};
use symphony_core::Issue;
use symphony_tracker::Tracker;
use symphony_tracker_local::{review_block, LocalCodeHost, LocalTracker, Verdict};

struct Harness {
    /// Proposal files in a folder of their own (not the issue files).
    own_folder: bool,
    dir: Option<tempfile::TempDir>,
    /// Reviews written so far (each takes the next id).
    reviews: u64,
    /// The host and issue of the last `fresh`.
    current: Option<(LocalCodeHost, Issue)>,
}

impl Harness {
    /// A harness for proposals in the issue files, or in a folder of their own.
    fn new(own_folder: bool) -> Self {
        Self {
            own_folder,
            dir: None,
            reviews: 0,
            current: None,
        }
    }

    fn file(&self) -> PathBuf {
        self.dir.as_ref().unwrap().path().join("CONF-1.md")
    }

    fn text(&self) -> String {
        std::fs::read_to_string(self.file()).unwrap_or_default()
    }

    /// A person appends a review block to the file, as `symphony review` does.
    fn append_review(&mut self, verdict: Verdict, body: &str) {
        self.reviews += 1;
        let text = format!(
            "{}\n{}",
            self.text(),
            review_block(self.reviews, "ada", verdict, body)
        );
        std::fs::write(self.file(), text).unwrap();
    }
}

#[async_trait]
impl ReviewHarness for Harness {
    /// The branch stays in the local repository: nothing to tell.
    async fn pushed(&mut self, _branch: &str, _head: &str) {}

    async fn review(
        &mut self,
        _branch: &str,
        verdict: PersonsReview,
        body: &str,
        (path, line, text): (&str, u32, &str),
    ) {
        let verdict = match verdict {
            PersonsReview::RequestChanges => Verdict::ChangesRequested,
            _ => Verdict::Approved,
        };
        // Through the host, as `symphony review` writes it.
        let (host, issue) = self.current.clone().expect("a fresh host");
        self.reviews = host
            .add_review(
                &issue,
                "ada",
                verdict,
                &format!("{body}\n\n- {path}:{line}: {text}"),
            )
            .await
            .unwrap();
    }

    async fn merge(&mut self, _branch: &str) {
        self.append_review(Verdict::Merged, "Merged.");
    }
}

#[async_trait]
impl CodeHostHarness for Harness {
    async fn fresh(&mut self) -> (Box<dyn CodeHost>, Issue) {
        let dir = tempfile::tempdir().unwrap();
        let folder = dir.path().to_path_buf();
        std::fs::write(
            folder.join("CONF-1.md"),
            "---\ntitle: The conformance change\nstate: todo\n---\nBody\n",
        )
        .unwrap();
        let issue = LocalTracker::new(&folder, vec!["done".into()])
            .fetch_issues_by_ids(&["CONF-1".to_owned()])
            .await
            .unwrap()
            .remove(0);
        let host = if self.own_folder {
            // Issues elsewhere: the proposal file is created beside nothing.
            std::fs::remove_file(folder.join("CONF-1.md")).unwrap();
            LocalCodeHost::in_folder(&folder)
        } else {
            LocalCodeHost::in_issue_files(&folder)
        };
        self.dir = Some(dir);
        self.current = Some((host.clone(), issue.clone()));
        (Box::new(host), issue)
    }

    async fn open_reviews(&mut self, branch: &str) -> Vec<HeldReview> {
        let text = self.text();
        text.split("<!-- symphony:proposal -->")
            .skip(1)
            .filter_map(|block| block.split("<!-- /symphony:proposal -->").next())
            .filter(|block| block.contains(&format!("Branch `{branch}`")))
            .map(|block| {
                let title = block
                    .lines()
                    .find_map(|l| l.strip_prefix("## Proposed change: "))
                    .unwrap_or_default()
                    .to_owned();
                HeldReview {
                    title,
                    body: block.to_owned(),
                }
            })
            .collect()
    }

    async fn checks(&mut self, head_sha: &str) -> Vec<(String, CheckConclusion)> {
        let text = self.text();
        let short: String = head_sha.chars().take(12).collect();
        let Some(block) = text
            .split("<!-- symphony:checks -->")
            .nth(1)
            .and_then(|b| b.split("<!-- /symphony:checks -->").next())
            .filter(|b| b.contains(&format!("## Checks on `{short}`")))
        else {
            return Vec::new();
        };
        block
            .lines()
            .filter_map(|line| line.strip_prefix("- "))
            .filter_map(|line| {
                let (name, rest) = line.split_once(": ")?;
                let conclusion = match rest.split(' ').next()? {
                    "success" => CheckConclusion::Success,
                    "failure" => CheckConclusion::Failure,
                    "skipped" => CheckConclusion::Skipped,
                    _ => CheckConclusion::Error,
                };
                Some((name.to_owned(), conclusion))
            })
            .collect()
    }
}

#[tokio::test]
async fn the_local_code_host_passes_the_kit_in_the_issue_files() {
    conformance::run(&mut Harness::new(false)).await;
}

#[tokio::test]
async fn the_local_code_host_passes_the_kit_in_a_folder_of_its_own() {
    conformance::run(&mut Harness::new(true)).await;
}

#[tokio::test]
async fn the_local_code_host_reports_reviews_written_in_the_issue_files() {
    review_conformance::run(&mut Harness::new(false)).await;
}

#[tokio::test]
async fn the_local_code_host_reports_reviews_written_in_a_folder_of_its_own() {
    review_conformance::run(&mut Harness::new(true)).await;
}
