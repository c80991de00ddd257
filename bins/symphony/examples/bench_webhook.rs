//! `cargo xtask bench webhook`: how long a GitHub issue takes to reach an agent when GitHub
//! tells Symphony about it with a webhook, instead of waiting for the 30 s default poll.
//!
//! The release `symphony` binary (path given as the first argument) runs against the fake
//! GitHub with the default poll interval and a webhook secret. For each sample a new issue is
//! filed in the fake, a signed `issues` delivery is POSTed to `/webhooks/github`, and the clock
//! stops when `/api/v1/state` shows the issue running. Prints p50, p99 and max.

#[path = "common/mod.rs"]
mod common;

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{http, percentile, port_in, wait_for, Service};
use symphony_testkit::github::{FakeGithub, NewIssue};

const TOKEN: &str = "ghp_BenchWebhook0123456789abcdefABCDEF0000";
const SECRET: &str = "bench-webhook-secret-0123456789";
const REPO: &str = "acme/widgets";
const SAMPLES: usize = 40;
const LIMIT: Duration = Duration::from_secs(60);

fn running_ids(port: u16) -> Vec<String> {
    let (_, body) = http(port, "GET", "/api/v1/state", &[], b"");
    let state: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
    state["running"]
        .as_array()
        .map(|rows| {
            rows.iter()
                .filter_map(|r| r["issue_id"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

fn main() {
    let binary = std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .expect("usage: bench_webhook <path to the symphony binary>");
    let fake = FakeGithub::start(TOKEN);
    fake.create_repo(REPO);
    let dir = tempfile::tempdir().expect("temp dir");
    let dir = dir.path();
    // No `polling:` section: the 30 s default, so only the webhook can be quick.
    std::fs::write(
        dir.join("WORKFLOW.md"),
        format!(
            "---\ntracker:\n  kind: github\n  provider:\n    repo: {REPO}\n    api_url: {}\n    \
             token: $BENCH_GITHUB_TOKEN\nworkspace:\n  root: ./ws\nagent:\n  \
             max_concurrent_agents: {}\n  backend: command\n  command: \"cat > /dev/null; exec sleep 600\"\n\
             server:\n  port: 0\n  github_webhook_secret: $BENCH_WEBHOOK_SECRET\n---\nWork on {{{{ issue.identifier }}}}\n",
            fake.url(),
            SAMPLES + 1
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
            .env("SYMPHONY_LOG", "warn,symphony=info")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).expect("log"))
            .spawn()
            .expect("symphony starts"),
    );
    wait_for("the server", LIMIT, || port_in(&log).is_some());
    let port = port_in(&log).expect("port");
    wait_for("readiness", LIMIT, || {
        http(port, "GET", "/readyz", &[], b"").0 == 200
    });
    // Let the start-up poll finish so every sample is a webhook-driven refresh.
    std::thread::sleep(Duration::from_millis(500));

    let mut latencies = Vec::with_capacity(SAMPLES);
    for n in 0..SAMPLES {
        let (number, node_id) = fake.create_issue(
            REPO,
            NewIssue::new(&format!("Bench {n}"), &["symphony:todo"]),
        );
        let body = serde_json::json!({
            "action": "opened",
            "issue": {"number": number, "node_id": node_id, "title": format!("Bench {n}")},
            "repository": {"full_name": REPO},
        })
        .to_string();
        let signature = symphony_tracker_github::webhook::sign(SECRET.as_bytes(), body.as_bytes());
        let delivery = format!("bench-{n}");
        let started = Instant::now();
        let (status, answer) = http(
            port,
            "POST",
            "/webhooks/github",
            &[
                ("Content-Type", "application/json"),
                ("X-GitHub-Event", "issues"),
                ("X-GitHub-Delivery", &delivery),
                ("X-Hub-Signature-256", &signature),
            ],
            body.as_bytes(),
        );
        assert_eq!(status, 202, "the webhook was refused: {answer}");
        wait_for(&format!("issue #{number} to be dispatched"), LIMIT, || {
            running_ids(port).contains(&node_id)
        });
        latencies.push(started.elapsed());
    }
    drop(service);
    latencies.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "webhook to dispatch over {SAMPLES} issues (fake GitHub, release build): p50 {:.1} ms, \
         p99 {:.1} ms, max {:.1} ms",
        ms(percentile(&latencies, 0.50)),
        ms(percentile(&latencies, 0.99)),
        ms(*latencies.last().expect("samples"))
    );
    println!(
        "without the webhook an issue waits for the next poll: 15 000 ms on average, 30 000 ms at \
         worst (the default interval); target p50 < 50 ms: {}",
        if percentile(&latencies, 0.50) < Duration::from_millis(50) {
            "met"
        } else {
            "NOT met"
        }
    );
}
