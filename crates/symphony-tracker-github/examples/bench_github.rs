//! `cargo xtask bench github`: what polling a backlog of 500 open issues costs on the fake
//! GitHub — requests and rate-limit units of the first poll and of idle polls after it (the
//! scheduler's candidate read: a conditional probe, then the list only when it changed), with
//! two references measured in the same run: the list read conditionally page by page (the
//! poll before the probe), and a poll without conditional requests (a fresh client each
//! time). Target: an idle poll is 1 request and 0 units.

use std::sync::Arc;
use std::time::Instant;

use serde_json::json;
use symphony_testkit::github::{FakeGithub, NewIssue};
use symphony_tracker::{CandidateRead, Tracker};
use symphony_tracker_github::{GithubConfig, GithubTracker, TokioPause};
use symphony_workflow::ProviderConfig;

const TOKEN: &str = "ghp_bench";
const REPO: &str = "acme/backlog";
const IDLE_POLLS: usize = 10;

fn tracker(fake: &FakeGithub) -> GithubTracker {
    let provider = ProviderConfig::new(
        json!({"repo": REPO, "token": TOKEN, "api_url": fake.url()})
            .as_object()
            .cloned()
            .unwrap_or_default(),
    );
    let config = GithubConfig::from_provider(&provider, vec!["closed".into()]).expect("config");
    GithubTracker::with_pause(config, Arc::new(TokioPause)).expect("tracker")
}

struct Cost {
    requests: usize,
    units: u64,
    issues: usize,
    millis: f64,
}

async fn poll(fake: &FakeGithub, tracker: &GithubTracker, states: &[String]) -> Cost {
    let (requests, units) = (fake.request_count(), fake.rate_limit_used());
    let start = Instant::now();
    let issues = tracker.fetch_issues_by_states(states).await.expect("poll");
    Cost {
        requests: fake.request_count() - requests,
        units: fake.rate_limit_used() - units,
        issues: issues.len(),
        millis: start.elapsed().as_secs_f64() * 1000.0,
    }
}

/// The scheduler's poll: the candidate read from `mark`, which it updates.
async fn candidate_poll(
    fake: &FakeGithub,
    tracker: &GithubTracker,
    states: &[String],
    mark: &mut Option<String>,
) -> (Cost, CandidateRead) {
    let (requests, units) = (fake.request_count(), fake.rate_limit_used());
    let start = Instant::now();
    let read = tracker
        .fetch_candidates(states, mark.as_deref())
        .await
        .expect("poll");
    *mark = read.mark.clone();
    let cost = Cost {
        requests: fake.request_count() - requests,
        units: fake.rate_limit_used() - units,
        issues: read.issues.len(),
        millis: start.elapsed().as_secs_f64() * 1000.0,
    };
    (cost, read)
}

fn row(name: &str, cost: &Cost) {
    println!(
        "{name:<44} {:>8} {:>10} {:>8} {:>10.2}",
        cost.requests, cost.units, cost.issues, cost.millis
    );
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let fake = FakeGithub::start(TOKEN);
    for n in 0..500 {
        let labels: &[&str] = match n % 10 {
            0..=7 => &["symphony:todo", "bug"],
            8 => &["symphony:in-progress"],
            _ => &["question"],
        };
        fake.create_issue(REPO, NewIssue::new(&format!("Backlog item {n}"), labels));
    }
    let states = vec!["todo".to_owned(), "in-progress".to_owned()];
    println!("GitHub polling, 500 open issues (450 with a state label), pages of 100, fake GitHub on loopback");
    println!(
        "{:<44} {:>8} {:>10} {:>8} {:>10}",
        "poll", "requests", "rate units", "issues", "ms"
    );

    let tracker = tracker(&fake);
    let mut mark = None;
    let (first, read) = candidate_poll(&fake, &tracker, &states, &mut mark).await;
    assert!(
        read.complete && mark.is_some(),
        "the first poll is complete and marked"
    );
    row("first poll (probe + list)", &first);
    let mut idle = Vec::new();
    for _ in 0..IDLE_POLLS {
        let (cost, read) = candidate_poll(&fake, &tracker, &states, &mut mark).await;
        assert!(
            !read.complete && read.issues.is_empty(),
            "idle is unchanged"
        );
        idle.push(cost);
    }
    let idle_units: u64 = idle.iter().map(|c| c.units).sum();
    let idle_requests: usize = idle.iter().map(|c| c.requests).sum();
    row(
        &format!("idle poll (mean of {IDLE_POLLS}; probe 304; p50 ms)"),
        &Cost {
            requests: idle_requests / IDLE_POLLS,
            units: idle_units / IDLE_POLLS as u64,
            issues: 0,
            millis: p50(&idle),
        },
    );
    fake.update_issue(REPO, 250, |i| i.title = "Edited".into());
    let (changed, read) = candidate_poll(&fake, &tracker, &states, &mut mark).await;
    assert!(read.complete, "a change reads the list");
    row("poll after one issue changed", &changed);

    // Reference: the list read conditionally page by page, as polls did before the probe.
    let mut pages = Vec::new();
    for _ in 0..IDLE_POLLS {
        pages.push(poll(&fake, &tracker, &states).await);
    }
    let paged_requests: usize = pages.iter().map(|c| c.requests).sum();
    let paged_units: u64 = pages.iter().map(|c| c.units).sum();
    row(
        "reference: idle list read, pages all 304",
        &Cost {
            requests: paged_requests / IDLE_POLLS,
            units: paged_units / IDLE_POLLS as u64,
            issues: pages[0].issues,
            millis: p50(&pages),
        },
    );

    // Baseline: the same poll without conditional requests (a fresh client every time).
    let mut baseline_units = 0;
    let mut baseline_requests = 0;
    let mut baseline_times = Vec::new();
    for _ in 0..IDLE_POLLS {
        let cost = poll(&fake, &self::tracker(&fake), &states).await;
        baseline_units += cost.units;
        baseline_requests += cost.requests;
        baseline_times.push(cost.millis);
    }
    baseline_times.sort_by(f64::total_cmp);
    row(
        "baseline: unconditional poll (mean; p50 ms)",
        &Cost {
            requests: baseline_requests / IDLE_POLLS,
            units: baseline_units / IDLE_POLLS as u64,
            issues: first.issues,
            millis: baseline_times[baseline_times.len() / 2],
        },
    );
    let ids: Vec<String> = tracker
        .fetch_issues_by_states(&states)
        .await
        .expect("poll")
        .iter()
        .take(100)
        .map(|i| i.id.clone())
        .collect();
    let (requests, units) = (fake.request_count(), fake.rate_limit_used());
    let start = Instant::now();
    tracker.fetch_issues_by_ids(&ids).await.expect("refresh");
    row(
        "refresh of 100 running issues (GraphQL nodes)",
        &Cost {
            requests: fake.request_count() - requests,
            units: fake.rate_limit_used() - units,
            issues: ids.len(),
            millis: start.elapsed().as_secs_f64() * 1000.0,
        },
    );
    let idle_per_poll = idle_requests as f64 / IDLE_POLLS as f64;
    println!(
        "idle poll: {idle_per_poll:.1} requests and {} units (target: 1 request, 0 units: {}); {:.1} requests page by page; {} units unconditional",
        idle_units / IDLE_POLLS as u64,
        if idle_per_poll <= 1.0 && idle_units == 0 { "met" } else { "NOT met" },
        paged_requests as f64 / IDLE_POLLS as f64,
        baseline_units / IDLE_POLLS as u64,
    );
}

fn p50(costs: &[Cost]) -> f64 {
    let mut times: Vec<f64> = costs.iter().map(|c| c.millis).collect();
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}
