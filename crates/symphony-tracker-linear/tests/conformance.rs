//! The tracker conformance kit against the Linear adapter on the fake.

mod common;

use async_trait::async_trait;
use serde_json::json;
use symphony_testkit::linear::FakeLinear;
use symphony_tracker::conformance::{self, ConformanceHarness, SeedIssue};
use symphony_tracker::Tracker;

#[derive(Default)]
struct Harness {
    fake: Option<FakeLinear>,
}

/// Every document the adapter sent during a check was valid on Linear's schema.
impl Drop for Harness {
    fn drop(&mut self) {
        if let Some(fake) = &self.fake {
            if !std::thread::panicking() {
                fake.assert_all_valid();
            }
        }
    }
}

#[async_trait]
impl ConformanceHarness for Harness {
    async fn seed(&mut self, issues: &[SeedIssue]) -> Box<dyn Tracker> {
        if let Some(old) = self.fake.take() {
            old.assert_all_valid();
        }
        let fake = FakeLinear::start(common::KEY);
        fake.add_team("CONF");
        let mut filed = 0;
        for seed in issues {
            // Seeds are numbered in filing order; fillers (in the backlog, which no check
            // reads) take the numbers in between.
            let wanted: usize = seed
                .identifier
                .trim_start_matches("CONF-")
                .parse()
                .unwrap_or(0);
            while filed + 1 < wanted {
                fake.create_issue("CONF", "filler", "Backlog", &[]);
                filed += 1;
            }
            filed += 1;
            let labels: Vec<&str> = seed.labels.iter().map(String::as_str).collect();
            let (_, identifier) = fake.create_issue("CONF", &seed.title, &seed.state, &labels);
            assert_eq!(identifier, seed.identifier, "seeds are filed in order");
            fake.update_issue(&identifier, |i| {
                i.description = seed.description.clone();
                i.priority = seed.priority.map_or(0, |p| p.clamp(0, 4) as u8);
            });
        }
        let tracker = common::tracker(&fake, "CONF", json!({}));
        self.fake = Some(fake);
        Box::new(tracker)
    }

    fn provider_calls(&self) -> u64 {
        self.fake.as_ref().map_or(0, |f| f.request_count() as u64)
    }

    async fn corrupt(&mut self, identifier: &str) {
        self.fake
            .as_ref()
            .expect("seeded")
            .update_issue(identifier, |i| i.corrupt = true);
    }

    /// A team's workflow states are objects with one spelling each ("todo" is filed as the
    /// team's "Todo").
    fn state_spelling_is_per_issue(&self) -> bool {
        false
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance_kit_passes() {
    conformance::run(Harness::default).await;
}
