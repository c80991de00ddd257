//! The tracker conformance kit against the GitHub adapter on the fake, for the state sources
//! whose states are free-form names (labels, project board). The `issue` source has only
//! open/closed; its SPEC §17.3 checks are in `spec_17_3.rs`.

mod common;

use async_trait::async_trait;
use common::{Setup, Source};
use serde_json::json;
use symphony_testkit::github::NewIssue;
use symphony_tracker::conformance::{self, ConformanceHarness, SeedIssue};
use symphony_tracker::Tracker;

struct Harness {
    source: Source,
    setup: Option<Setup>,
}

impl Harness {
    fn new(source: Source) -> Self {
        Self {
            source,
            setup: None,
        }
    }
}

#[async_trait]
impl ConformanceHarness for Harness {
    async fn seed(&mut self, issues: &[SeedIssue]) -> Box<dyn Tracker> {
        let setup = Setup::with(self.source, json!({"identifier_prefix": "CONF-"}));
        let mut filed = 0;
        for seed in issues {
            let labels: Vec<&str> = seed.labels.iter().map(String::as_str).collect();
            // Seeds are numbered in filing order; fillers (closed, off the board, no state
            // label) take the numbers in between.
            let wanted: u64 = seed
                .identifier
                .trim_start_matches("CONF-")
                .parse()
                .unwrap_or(0);
            while filed + 1 < wanted {
                let (n, _) = setup
                    .fake
                    .create_issue(common::REPO, NewIssue::new("filler", &[]));
                setup.fake.update_issue(common::REPO, n, |i| i.open = false);
                filed = n;
            }
            let (number, _) = setup.file(&seed.title, &seed.state, &labels);
            assert_eq!(
                number, wanted,
                "seed {} filed as #{number}",
                seed.identifier
            );
            filed = number;
        }
        // A fresh tracker reading the seeded fake (the setup's own keeps its caches).
        let config = symphony_tracker_github::GithubConfig::from_provider(
            &common::provider(
                &setup.fake,
                self.source,
                json!({"identifier_prefix": "CONF-"}),
            ),
            vec![self.source.terminal().to_owned()],
        )
        .unwrap();
        let tracker =
            symphony_tracker_github::GithubTracker::with_pause(config, setup.pauses.clone())
                .unwrap();
        self.setup = Some(setup);
        Box::new(tracker)
    }

    fn provider_calls(&self) -> u64 {
        self.setup
            .as_ref()
            .map_or(0, |s| s.fake.request_count() as u64)
    }

    async fn corrupt(&mut self, identifier: &str) {
        let setup = self.setup.as_ref().expect("seeded");
        let number: u64 = identifier.trim_start_matches("CONF-").parse().unwrap();
        setup
            .fake
            .update_issue(common::REPO, number, |i| i.corrupt = true);
    }

    /// Labels are repository-wide and unique regardless of case ("Todo" and "todo" are one
    /// label); board options are per item here, so their spelling is per issue.
    fn state_spelling_is_per_issue(&self) -> bool {
        self.source == Source::Project
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance_kit_passes_with_label_states() {
    conformance::run(|| Harness::new(Source::Labels)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance_kit_passes_with_project_board_states() {
    conformance::run(|| Harness::new(Source::Project)).await;
}
