//! A fake Linear and a tracker reading it, for the adapter's tests.

#![allow(dead_code)]

use serde_json::{json, Value};
use symphony_testkit::linear::FakeLinear;
use symphony_tracker_linear::{LinearConfig, LinearTracker};
use symphony_workflow::ProviderConfig;

/// The key the fake accepts.
pub const KEY: &str = "lin_api_fake_canary_0123456789";

/// Linear's default terminal states.
pub fn terminal() -> Vec<String> {
    ["Done", "Canceled", "Cancelled", "Duplicate", "Closed"]
        .map(String::from)
        .to_vec()
}

/// The provider block for `fake`, team `team`, with `extra` keys.
pub fn provider(fake: &FakeLinear, team: &str, extra: Value) -> ProviderConfig {
    let mut values = json!({
        "api_key": KEY,
        "endpoint": fake.endpoint(),
        "team": team,
        "request_timeout_ms": 5000,
        "max_rate_limit_wait_ms": 5000,
    });
    values
        .as_object_mut()
        .unwrap()
        .extend(extra.as_object().cloned().unwrap_or_default());
    ProviderConfig::new(values.as_object().cloned().unwrap())
        .with_secret("api_key", "LINEAR_API_KEY")
}

/// A tracker for `fake` and `team`.
pub fn tracker(fake: &FakeLinear, team: &str, extra: Value) -> LinearTracker {
    LinearTracker::new(
        LinearConfig::from_provider(&provider(fake, team, extra), terminal()).unwrap(),
    )
    .unwrap()
}

/// `states` as owned strings.
pub fn states(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}
