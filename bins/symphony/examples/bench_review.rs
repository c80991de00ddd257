//! `cargo xtask bench review`: the review loop's speed and cost (ADR 0018).
//!
//! The release `symphony` binary (path given as the first argument) runs against the fake
//! GitHub with `WATCHED` handed-off pull requests under watch (their watches written to the
//! state store before it starts, as hand-offs would have left them), the default poll
//! intervals (30 s for issues, 60 s for reviews) and a webhook secret.
//!
//! 1. Idle cost: the watch's first pass reads every pull request; then `IDLE_PASSES` more
//!    passes are forced (one wake-up each, which is what the 60 s poll does every minute), and
//!    the rate-limit units GitHub would charge for them are counted (conditional requests
//!    answered `304` cost none).
//! 2. Latency: for each of `SAMPLES` pull requests a reviewer requests changes and a signed
//!    `pull_request_review` delivery is POSTed; the clock stops when the agent of the round
//!    starts (the command agent writes the time it started). Prints p50, p99 and max.

#[path = "common/mod.rs"]
mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{http, percentile, port_in, wait_for, Service};
use symphony_store::{Change, ReviewWatch, SqliteStore, Store, StoreOptions};
use symphony_testkit::github::{FakeGithub, NewIssue};

const TOKEN: &str = "ghp_BenchReview0123456789abcdefABCDEF00000";
const SECRET: &str = "bench-review-secret-0123456789";
const REPO: &str = "acme/widgets";
const WATCHED: usize = 100;
const IDLE_PASSES: usize = 10;
const SAMPLES: usize = 20;
const LIMIT: Duration = Duration::from_secs(120);

fn git(dir: &Path, args: &[&str]) {
    let status = Command::new("git")
        .args(["-c", "user.name=b", "-c", "user.email=b@example.com"])
        .args(args)
        .current_dir(dir)
        .stdout(Stdio::null())
        .status()
        .expect("git");
    assert!(status.success(), "git {args:?}");
}

/// The pull requests under watch, and their watches in the store.
fn handed_off(fake: &FakeGithub, dir: &Path) -> Vec<(u64, u64)> {
    let store = SqliteStore::open(&dir.join(".symphony"), StoreOptions::default()).expect("store");
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let mut pulls = Vec::new();
    let mut changes = Vec::new();
    for n in 0..WATCHED {
        let (number, node_id) = fake.create_issue(
            REPO,
            NewIssue::new(&format!("Bench {n}"), &["symphony:human-review"]),
        );
        let branch = format!("symphony/bench-{n}");
        let head = format!("{:040x}", 0xbe00_0000_u64 + n as u64);
        fake.push_branch(REPO, &branch, &head);
        let pull = fake.create_pull(REPO, &format!("widgets#{number}: Bench {n}"), &branch);
        let mut watch = ReviewWatch::new(
            node_id,
            format!("widgets#{number}"),
            branch,
            "main",
            head,
            0,
        );
        watch.number = Some(pull);
        changes.push(Change::ReviewWatched(watch));
        pulls.push((number, pull));
    }
    runtime
        .block_on(store.apply(changes))
        .expect("watches written");
    pulls
}

fn main() {
    let binary = std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .expect("usage: bench_review <path to the symphony binary>");
    let fake = FakeGithub::start(TOKEN);
    fake.create_repo(REPO);
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path();
    let origin = dir.join("origin");
    std::fs::create_dir(&origin).expect("origin");
    git(&origin, &["init", "-q", "-b", "main"]);
    std::fs::write(origin.join("README.md"), "# bench\n").expect("readme");
    git(&origin, &["add", "-A"]);
    git(&origin, &["commit", "-q", "-m", "initial"]);
    let pulls = handed_off(&fake, dir);
    std::fs::create_dir(dir.join("starts")).expect("starts");
    // No `polling:` and no `review.poll_interval_ms`: the defaults, so only webhooks are quick.
    std::fs::write(
        dir.join("WORKFLOW.md"),
        format!(
            "---\ntracker:\n  kind: github\n  provider:\n    repo: {REPO}\n    api_url: {api}\n    \
             token: $BENCH_GITHUB_TOKEN\nworkspace:\n  root: ./ws\n  repo: {origin}\nagent:\n  \
             max_concurrent_agents: {agents}\n  backend: command\n  command: |\n    \
             date +%s%N > \"../../starts/$SYMPHONY_ISSUE_IDENTIFIER\"\n    exec sleep 600\n\
             handoff:\n  state: human-review\n  needs_human_state: needs-human\nreview: {{}}\n\
             server:\n  port: 0\n  github_webhook_secret: $BENCH_WEBHOOK_SECRET\n---\nWork on {{{{ issue.identifier }}}}\n",
            api = fake.url(),
            origin = origin.display(),
            agents = SAMPLES + 1,
        ),
    )
    .expect("workflow");
    let log = dir.join("symphony.log");
    let service = Service(
        Command::new(&binary)
            .arg("run")
            .current_dir(dir)
            .env("BENCH_GITHUB_TOKEN", TOKEN)
            .env("BENCH_WEBHOOK_SECRET", SECRET)
            .env(
                "SYMPHONY_LOG",
                std::env::var("BENCH_SYMPHONY_LOG")
                    .unwrap_or_else(|_| "warn,symphony=info".to_owned()),
            )
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).expect("log"))
            .spawn()
            .expect("symphony starts"),
    );
    wait_for("the server", LIMIT, || port_in(&log).is_some());
    let port = port_in(&log).expect("port");
    let deliver = |event: &str, id: &str, body: &str| {
        let signature = symphony_tracker_github::webhook::sign(SECRET.as_bytes(), body.as_bytes());
        let (status, answer) = http(
            port,
            "POST",
            "/webhooks/github",
            &[
                ("Content-Type", "application/json"),
                ("X-GitHub-Event", event),
                ("X-GitHub-Delivery", id),
                ("X-Hub-Signature-256", &signature),
            ],
            body.as_bytes(),
        );
        assert_eq!(status, 202, "the webhook was refused: {answer}");
    };

    // 1. The first pass reads every pull request; later passes of an idle watch are free.
    // The pull request, its reviews, review comments, conversation comments (the default
    // mention), check runs and combined status.
    let reads_per_pull = 6;
    wait_for("the first pass", LIMIT, || {
        fake.request_count() >= WATCHED * reads_per_pull
    });
    std::thread::sleep(Duration::from_millis(500));
    let (units, requests) = (fake.rate_limit_used(), fake.request_count());
    let cpu_before = cpu_ticks(service.0.id());
    let idle_started = Instant::now();
    for pass in 0..IDLE_PASSES {
        // A status event names no pull request: a full pass, as the 60 s poll makes.
        deliver("status", &format!("idle-{pass}"), r#"{"state":"success"}"#);
        let target = requests + (pass + 1) * WATCHED * reads_per_pull;
        wait_for("an idle pass", LIMIT, || fake.request_count() >= target);
    }
    let idle = idle_started.elapsed();
    let idle_units = fake.rate_limit_used() - units;
    let idle_requests = fake.request_count() - requests;
    let idle_cpu = cpu_ticks(service.0.id()).saturating_sub(cpu_before);

    // 2. A review webhook starts the round's agent turn. The turn's start is the time the
    // service recorded its `turn_started` event (store clock, milliseconds), not the agent
    // program's own first instruction, which waits for its shell to start.
    let mut sent_at = Vec::with_capacity(SAMPLES);
    for (n, (number, pull)) in pulls.iter().take(SAMPLES).enumerate() {
        fake.review_pull(
            REPO,
            *pull,
            "ada",
            "CHANGES_REQUESTED",
            "Please rename it.",
            &[("README.md", 1, "say bench")],
        );
        let body = serde_json::json!({
            "action": "submitted",
            "review": {"state": "changes_requested"},
            "pull_request": {"number": pull},
            "repository": {"full_name": REPO},
        })
        .to_string();
        sent_at.push((*number, symphony_store::wall_clock_ms()));
        deliver("pull_request_review", &format!("review-{n}"), &body);
        let marker = dir.join(format!("starts/widgets#{number}"));
        wait_for(&format!("the round of #{number}"), LIMIT, || {
            marker.exists()
        });
    }
    let latencies = turn_latencies(dir, &sent_at);
    drop(service);
    // `BENCH_LOG=path` keeps the service's log, to see where the time goes.
    if let Some(keep) = std::env::var_os("BENCH_LOG") {
        let _ = std::fs::copy(&log, keep);
    }
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "idle watch of {WATCHED} open pull requests, {IDLE_PASSES} passes after the first (what \
         {IDLE_PASSES} minutes at the default 60 s interval make): {idle_units} rate-limit units, \
         {idle_requests} conditional requests (all 304), {:.0} ms CPU in {:.1} s; target 0 units: {}",
        idle_cpu as f64 * 1000.0 / ticks_per_second(),
        idle.as_secs_f64(),
        if idle_units == 0 { "met" } else { "NOT met" }
    );
    println!(
        "review webhook to the round's agent turn started (as the service records it), over {SAMPLES} pull requests (fake GitHub, \
         release build, a git worktree per round): p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms; \
         without the webhook the next poll comes in up to 60 000 ms; target p50 < 100 ms: {}",
        ms(percentile(&latencies, 0.50)),
        ms(percentile(&latencies, 0.99)),
        ms(*latencies.last().expect("samples")),
        if percentile(&latencies, 0.50) < Duration::from_millis(100) {
            "met"
        } else {
            "NOT met"
        }
    );
}

/// For each `(issue number, webhook sent at)`, how long until the service recorded the turn
/// of the round's run as started; sorted.
fn turn_latencies(dir: &Path, sent_at: &[(u64, u64)]) -> Vec<Duration> {
    let store = SqliteStore::open(&dir.join(".symphony"), StoreOptions::default()).expect("store");
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let mut latencies: Vec<Duration> = sent_at
        .iter()
        .map(|(number, sent)| {
            runtime.block_on(async {
                let filter = symphony_store::RunFilter {
                    issue: Some(format!("widgets#{number}")),
                    limit: Some(1),
                };
                let started = Instant::now();
                loop {
                    let run = store.runs(filter.clone()).await.expect("runs").pop();
                    if let Some(run) = run {
                        let events = store.run_events(run.id).await.expect("events");
                        if let Some(turn) = events.iter().find(|e| e.kind == "turn_started") {
                            return Duration::from_millis(turn.at_ms.saturating_sub(*sent));
                        }
                    }
                    assert!(started.elapsed() < LIMIT, "no turn recorded for #{number}");
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            })
        })
        .collect();
    latencies.sort();
    latencies
}

/// User plus system CPU ticks the process has used (Linux `/proc`).
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit(')')
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect();
    // After the command: state is field 3, utime 14 and stime 15 (1-based, man 5 proc).
    let field = |n: usize| {
        fields
            .get(n - 3)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    field(14) + field(15)
}

fn ticks_per_second() -> f64 {
    100.0
}
