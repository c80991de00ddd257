//! `cargo xtask bench trackers`: what each tracker adapter costs its provider, side by side, on
//! the fakes: a backlog of 500 issues (450 in an active state), polled first, then idle (the
//! scheduler's candidate read from the previous read's mark), then after one issue changed;
//! and a refresh of 100 running issues. Printed per adapter: requests, and the provider's
//! rate-limit cost in its own unit (GitHub: rate-limit points, REST and GraphQL; Linear:
//! complexity points — its request budget is counted by the requests column).

use std::time::Instant;

use serde_json::json;
use symphony_testkit::github::{FakeGithub, NewIssue};
use symphony_testkit::linear::FakeLinear;
use symphony_tracker::Tracker;
use symphony_tracker_github::{GithubConfig, GithubTracker};
use symphony_tracker_linear::{LinearConfig, LinearTracker};
use symphony_workflow::ProviderConfig;

const IDLE_POLLS: usize = 10;
const BACKLOG: usize = 500;
const RUNNING: usize = 100;

/// One adapter on its fake: how to count what it sent, and how to change one issue.
trait Bench {
    fn name(&self) -> &'static str;
    fn unit(&self) -> &'static str;
    fn tracker(&self) -> &dyn Tracker;
    /// (requests, cost) so far.
    fn spent(&self) -> (u64, u64);
    fn touch_one(&self);
    fn states(&self) -> Vec<String>;
}

struct Github {
    fake: FakeGithub,
    tracker: GithubTracker,
}

impl Github {
    fn start() -> Self {
        let fake = FakeGithub::start("ghp_bench");
        for n in 0..BACKLOG {
            let labels: &[&str] = match n % 10 {
                0..=7 => &["symphony:todo", "bug"],
                8 => &["symphony:in-progress"],
                _ => &["question"],
            };
            fake.create_issue(
                "acme/backlog",
                NewIssue::new(&format!("Backlog item {n}"), labels),
            );
        }
        let provider = ProviderConfig::new(
            json!({"repo": "acme/backlog", "token": "ghp_bench", "api_url": fake.url()})
                .as_object()
                .cloned()
                .unwrap_or_default(),
        );
        let config = GithubConfig::from_provider(&provider, vec!["closed".into()]).expect("config");
        let tracker = GithubTracker::new(config).expect("tracker");
        Self { fake, tracker }
    }
}

impl Bench for Github {
    fn name(&self) -> &'static str {
        "github"
    }
    fn unit(&self) -> &'static str {
        "rate-limit points"
    }
    fn tracker(&self) -> &dyn Tracker {
        &self.tracker
    }
    fn spent(&self) -> (u64, u64) {
        (
            self.fake.request_count() as u64,
            self.fake.rate_limit_used(),
        )
    }
    fn touch_one(&self) {
        self.fake
            .update_issue("acme/backlog", 250, |i| i.title = "Edited".into());
    }
    fn states(&self) -> Vec<String> {
        vec!["todo".into(), "in-progress".into()]
    }
}

struct Linear {
    fake: FakeLinear,
    tracker: LinearTracker,
}

impl Linear {
    fn start() -> Self {
        let fake = FakeLinear::start("lin_api_bench");
        for n in 0..BACKLOG {
            let state = match n % 10 {
                0..=7 => "Todo",
                8 => "In Progress",
                _ => "Backlog",
            };
            fake.create_issue("ENG", &format!("Backlog item {n}"), state, &["bug"]);
        }
        let provider = ProviderConfig::new(
            json!({"team": "ENG", "api_key": "lin_api_bench", "endpoint": fake.endpoint()})
                .as_object()
                .cloned()
                .unwrap_or_default(),
        );
        let config = LinearConfig::from_provider(&provider, vec!["Done".into()]).expect("config");
        let tracker = LinearTracker::new(config).expect("tracker");
        Self { fake, tracker }
    }
}

impl Bench for Linear {
    fn name(&self) -> &'static str {
        "linear"
    }
    fn unit(&self) -> &'static str {
        "complexity points"
    }
    fn tracker(&self) -> &dyn Tracker {
        &self.tracker
    }
    fn spent(&self) -> (u64, u64) {
        let exchanges = self.fake.exchanges();
        (
            exchanges.len() as u64,
            exchanges.iter().map(|e| e.complexity).sum(),
        )
    }
    fn touch_one(&self) {
        self.fake
            .update_issue("ENG-251", |i| i.title = "Edited".into());
    }
    fn states(&self) -> Vec<String> {
        vec!["Todo".into(), "In Progress".into()]
    }
}

struct Cost {
    requests: f64,
    cost: f64,
    millis: f64,
}

async fn measure<F, Fut>(bench: &dyn Bench, times: usize, mut step: F) -> Cost
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let (requests, cost) = bench.spent();
    let mut millis = Vec::new();
    for _ in 0..times {
        let start = Instant::now();
        step().await;
        millis.push(start.elapsed().as_secs_f64() * 1000.0);
    }
    let (after_requests, after_cost) = bench.spent();
    millis.sort_by(f64::total_cmp);
    Cost {
        requests: (after_requests - requests) as f64 / times as f64,
        cost: (after_cost - cost) as f64 / times as f64,
        millis: millis[millis.len() / 2],
    }
}

async fn run(bench: &dyn Bench) -> Vec<(&'static str, Cost)> {
    let states = bench.states();
    let tracker = bench.tracker();
    let mark = std::sync::Mutex::new(None::<String>);
    let poll = || async {
        let since = mark.lock().unwrap().clone();
        let read = tracker
            .fetch_candidates(&states, since.as_deref())
            .await
            .expect("poll");
        *mark.lock().unwrap() = read.mark;
    };
    let first = measure(bench, 1, poll).await;
    let idle = measure(bench, IDLE_POLLS, poll).await;
    bench.touch_one();
    let changed = measure(bench, 1, poll).await;
    let ids: Vec<String> = tracker
        .fetch_issues_by_states(&states)
        .await
        .expect("read")
        .iter()
        .take(RUNNING)
        .map(|i| i.id.clone())
        .collect();
    assert_eq!(ids.len(), RUNNING);
    let refresh = measure(bench, 1, || async {
        let issues = tracker.fetch_issues_by_ids(&ids).await.expect("refresh");
        assert_eq!(issues.len(), RUNNING);
    })
    .await;
    vec![
        ("first poll", first),
        ("idle poll (mean; p50 ms)", idle),
        ("poll after one issue changed", changed),
        ("refresh of 100 running issues", refresh),
    ]
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    println!(
        "Tracker cost per poll and refresh, {BACKLOG} issues ({} active), fakes on loopback",
        BACKLOG * 9 / 10
    );
    let benches: Vec<Box<dyn Bench>> = vec![Box::new(Github::start()), Box::new(Linear::start())];
    println!(
        "{:<8} {:<32} {:>9} {:>10} {:>9}  unit",
        "adapter", "read", "requests", "cost", "ms"
    );
    for bench in &benches {
        for (read, cost) in run(bench.as_ref()).await {
            println!(
                "{:<8} {:<32} {:>9.1} {:>10.1} {:>9.2}  {}",
                bench.name(),
                read,
                cost.requests,
                cost.cost,
                cost.millis,
                bench.unit()
            );
        }
    }
}
