//! `cargo xtask bench dispatch`: how fast the release `symphony` binary gets a backlog done,
//! and what it costs GitHub, when the agents are quick (issue 17).
//!
//! Each round starts a fresh fake GitHub with N issues labelled `symphony:todo` and a fresh
//! state directory, and runs `symphony run` with A agents, a 2 s poll and one turn per issue.
//! The agent is the fake Codex app-server (`symphony-fake-codex github-done`): it works 0.2 s,
//! then moves its issue to `symphony:done` with one `github_api` call. The clock starts when
//! the process is launched and stops when every issue carries `symphony:done`. Then the service
//! is left alone: requests are counted 2.5 s later (the continuation checks a second after
//! each run included), and for 10 s more of idling, with the CPU the process used
//! meanwhile (every thread's `/proc/<pid>/task/*/schedstat`, nanoseconds, sampled). Rounds of the two sizes
//! interleave; each figure is the median of its rounds.
//!
//! Usage: `bench_dispatch <symphony binary> <fake codex binary> [rounds]`.

#[path = "common/mod.rs"]
mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::Service;
use symphony_testkit::github::{Exchange, FakeGithub, NewIssue};

const TOKEN: &str = "ghp_BenchDispatch0123456789abcdefABCDEF000";
const REPO: &str = "acme/widgets";
const LIMIT: Duration = Duration::from_secs(120);
const POLL_MS: u64 = 2_000;
const TURN_MS: u64 = 200;
const IDLE: Duration = Duration::from_secs(10);
/// Time after the last issue is done for the continuation checks (1 s after each run) to
/// come in: requests are counted then.
const SETTLE: Duration = Duration::from_millis(2_500);

struct Scenario {
    issues: usize,
    agents: usize,
}

#[derive(Default)]
struct Round {
    done_s: f64,
    requests: BTreeMap<&'static str, usize>,
    units: u64,
    idle_requests: usize,
    idle_units: u64,
    idle_polls: usize,
    idle_cpu_ms_per_s: f64,
    cpu_s: f64,
    rss_peak_mb: f64,
}

/// What a request was, as this bench counts it.
fn kind(exchange: &Exchange) -> &'static str {
    let query = exchange.query.as_deref().unwrap_or("");
    match (exchange.method.as_str(), exchange.path.as_str()) {
        ("POST", "/graphql") => "graphql (refresh by id)",
        ("GET", path) if path.ends_with("/issues") && query.contains("sort=updated") => {
            "poll probe"
        }
        ("GET", path) if path.ends_with("/issues") => "list page",
        ("PUT", path) if path.ends_with("/labels") => "agent: github_api move",
        _ => "other",
    }
}

fn is_probe(exchange: &Exchange) -> bool {
    kind(exchange) == "poll probe"
}

/// CPU time of each thread of `pid` by thread id, from the scheduler's own accounting.
fn thread_cpu_ns(pid: u32) -> BTreeMap<String, u64> {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return BTreeMap::new();
    };
    tasks
        .flatten()
        .filter_map(|task| {
            let text = std::fs::read_to_string(task.path().join("schedstat")).ok()?;
            let ns = text.split_whitespace().next()?.parse::<u64>().ok()?;
            Some((task.file_name().to_string_lossy().into_owned(), ns))
        })
        .collect()
}

/// CPU time of every thread of `pid`, living or not, over `span`: sampled every 20 ms, so a
/// thread that ends (the runtime retires idle workers) keeps what it used until its last
/// sample, and one born meanwhile counts from zero.
fn cpu_over(pid: u32, span: Duration) -> u64 {
    let first = thread_cpu_ns(pid);
    let mut last = first.clone();
    let start = Instant::now();
    while start.elapsed() < span {
        std::thread::sleep(Duration::from_millis(20));
        last.extend(thread_cpu_ns(pid));
    }
    last.iter()
        .map(|(tid, ns)| ns.saturating_sub(first.get(tid).copied().unwrap_or(0)))
        .sum()
}

/// CPU time of the process so far, dead threads included (`/proc/<pid>/stat`, clock ticks
/// of 10 ms).
fn process_cpu_s(pid: u32) -> f64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return 0.0;
    };
    // Fields after the command (which may hold spaces) start at ") ".
    let rest = stat.rsplit_once(") ").map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the command.
    (ticks(11) + ticks(12)) as f64 / 100.0
}

fn rss_peak_bytes(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            let line = s.lines().find(|l| l.starts_with("VmHWM:"))?.to_owned();
            line.split_whitespace().nth(1)?.parse::<u64>().ok()
        })
        .map_or(0, |kb| kb * 1024)
}

fn all_done(fake: &FakeGithub, numbers: &[u64]) -> bool {
    numbers.iter().all(|n| {
        fake.issue(REPO, *n)
            .labels
            .iter()
            .any(|l| l == "symphony:done")
    })
}

fn round(binary: &Path, fake_codex: &Path, scenario: &Scenario) -> Round {
    let fake = FakeGithub::start(TOKEN);
    fake.create_repo(REPO);
    let numbers: Vec<u64> = (0..scenario.issues)
        .map(|n| {
            fake.create_issue(
                REPO,
                NewIssue::new(&format!("Backlog item {n}"), &["symphony:todo"]),
            )
            .0
        })
        .collect();
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dir.path().join("WORKFLOW.md"),
        format!(
            "---\ntracker:\n  kind: github\n  provider:\n    repo: {REPO}\n    api_url: {}\n    \
             token: $BENCH_GITHUB_TOKEN\nworkspace:\n  root: ./ws\npolling:\n  interval_ms: \
             {POLL_MS}\nagent:\n  max_concurrent_agents: {}\n  max_turns: 1\n  backend: codex\n\
             codex:\n  command: \"{} github-done {TURN_MS} {REPO}\"\n---\n\
             Work on {{{{ issue.identifier }}}}: {{{{ issue.title }}}}\n",
            fake.url(),
            scenario.agents,
            fake_codex.display(),
        ),
    )
    .expect("workflow");
    // The agent's shell (`bash -lc`, SPEC §10.1) gets an empty home, so the login profile of
    // this machine (pyenv's here: ~120 ms of CPU per shell) is not what is measured.
    let home = dir.path().join("home");
    std::fs::create_dir(&home).expect("home");
    let log = dir.path().join("symphony.log");
    let launched = Instant::now();
    let service = Service(
        Command::new(binary)
            .arg("run")
            .current_dir(dir.path())
            .env("BENCH_GITHUB_TOKEN", TOKEN)
            .env("HOME", &home)
            .env(
                "SYMPHONY_LOG",
                std::env::var("SYMPHONY_LOG").unwrap_or_else(|_| "warn".into()),
            )
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).expect("log"))
            .spawn()
            .expect("symphony starts"),
    );
    let pid = service.0.id();
    while !all_done(&fake, &numbers) {
        if launched.elapsed() > LIMIT {
            let tail = std::fs::read_to_string(&log).unwrap_or_default();
            panic!(
                "not done within {LIMIT:?}; log:\n{}",
                &tail[tail.len().saturating_sub(4_000)..]
            );
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    let done_s = launched.elapsed().as_secs_f64();
    // The continuation checks a second after the last runs, then a poll: all in by now.
    std::thread::sleep(SETTLE);
    let mut requests = BTreeMap::new();
    // `BENCH_TRACE=1` lists the round's requests, to see what each one was for.
    let trace = std::env::var_os("BENCH_TRACE").is_some();
    for exchange in fake.exchanges() {
        *requests.entry(kind(&exchange)).or_insert(0) += 1;
        if trace {
            let ids = exchange
                .request_body
                .as_ref()
                .and_then(|b| b.pointer("/variables/ids"))
                .map(|ids| format!(" ids={ids}"))
                .unwrap_or_default();
            eprintln!(
                "  {} {}{} -> {}{ids}",
                exchange.method,
                exchange.path,
                exchange
                    .query
                    .as_deref()
                    .map(|q| format!("?{q}"))
                    .unwrap_or_default(),
                exchange.status
            );
        }
    }
    let units = fake.rate_limit_used();
    let (requests_before, idle_start) = (fake.request_count(), fake.exchanges().len());
    let idle_cpu = cpu_over(pid, IDLE);
    let idle: Vec<Exchange> = fake.exchanges().into_iter().skip(idle_start).collect();
    let result = Round {
        done_s,
        requests,
        units,
        idle_requests: fake.request_count() - requests_before,
        idle_units: fake.rate_limit_used() - units,
        idle_polls: idle.iter().filter(|e| is_probe(e)).count(),
        idle_cpu_ms_per_s: idle_cpu as f64 / 1e6 / IDLE.as_secs_f64(),
        cpu_s: process_cpu_s(pid),
        rss_peak_mb: rss_peak_bytes(pid) as f64 / 1_048_576.0,
    };
    drop(service);
    // The last round's log, for a look at what the service did (`SYMPHONY_LOG=info`).
    let _ = std::fs::copy(
        &log,
        std::env::temp_dir().join("symphony-bench-dispatch.log"),
    );
    result
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn report(scenario: &Scenario, rounds: &[Round]) {
    let n = scenario.issues as f64;
    let med = |f: &dyn Fn(&Round) -> f64| median(rounds.iter().map(f).collect());
    let total = |r: &Round| r.requests.values().sum::<usize>() as f64;
    let own = |r: &Round| {
        r.requests
            .iter()
            .filter(|(k, _)| !k.starts_with("agent:"))
            .map(|(_, v)| *v)
            .sum::<usize>() as f64
    };
    let done = med(&|r| r.done_s);
    // The agents' own time: ceil(issues / agents) waves of one turn.
    let waves = scenario.issues.div_ceil(scenario.agents) as f64;
    println!(
        "{} issues, {} agents, {} ms turns, {} ms poll ({} rounds, medians):",
        scenario.issues,
        scenario.agents,
        TURN_MS,
        POLL_MS,
        rounds.len()
    );
    println!(
        "  all done {done:.3} s after launch (agents' own time {:.1} s; overhead {:.3} s)",
        waves * TURN_MS as f64 / 1000.0,
        done - waves * TURN_MS as f64 / 1000.0
    );
    println!(
        "  GitHub requests per issue: {:.2} in all, {:.2} Symphony's own (the agent's move excluded); {} rate-limit units",
        med(&|r| total(r)) / n,
        med(&|r| own(r)) / n,
        med(&|r| r.units as f64)
    );
    let mut kinds: Vec<&str> = rounds
        .iter()
        .flat_map(|r| r.requests.keys().copied())
        .collect();
    kinds.sort_unstable();
    kinds.dedup();
    for kind in kinds {
        let count = med(&|r| r.requests.get(kind).copied().unwrap_or(0) as f64);
        println!("    {kind:<28} {count:>6.0}  ({:.2} per issue)", count / n);
    }
    let idle_polls = med(&|r| r.idle_polls as f64).max(1.0);
    println!(
        "  idle {} s: {:.1} requests per poll, {} rate-limit units, {:.3} ms CPU per second",
        IDLE.as_secs(),
        med(&|r| r.idle_requests as f64) / idle_polls,
        med(&|r| r.idle_units as f64),
        med(&|r| r.idle_cpu_ms_per_s)
    );
    println!(
        "  process: {:.3} s CPU in all, RSS peak {:.1} MB",
        med(&|r| r.cpu_s),
        med(&|r| r.rss_peak_mb)
    );
    if scenario.issues == 20 && scenario.agents == 10 {
        let verdict = |ok: bool| if ok { "met" } else { "NOT met" };
        println!(
            "  targets: done < 1.0 s: {}; <= 1.5 requests per issue: {}; idle polls 0 units: {}; idle < 1 ms CPU/s: {}",
            verdict(done < 1.0),
            verdict(med(&|r| total(r)) / n <= 1.5),
            verdict(med(&|r| r.idle_units as f64) == 0.0),
            verdict(med(&|r| r.idle_cpu_ms_per_s) < 1.0)
        );
    }
}

fn main() {
    let mut args = std::env::args_os().skip(1);
    let usage = "usage: bench_dispatch <symphony binary> <fake codex binary> [rounds]";
    // Absolute: the service runs in its own directory.
    let absolute = |path: PathBuf| std::fs::canonicalize(&path).unwrap_or(path);
    let binary = absolute(PathBuf::from(args.next().expect(usage)));
    let fake_codex = absolute(PathBuf::from(args.next().expect(usage)));
    let rounds: usize = args
        .next()
        .and_then(|r| r.to_str()?.parse().ok())
        .unwrap_or(3);
    let scenarios = [
        Scenario {
            issues: 20,
            agents: 10,
        },
        Scenario {
            issues: 100,
            agents: 20,
        },
    ];
    let mut results: Vec<Vec<Round>> = scenarios.iter().map(|_| Vec::new()).collect();
    for _ in 0..rounds {
        for (scenario, results) in scenarios.iter().zip(&mut results) {
            results.push(round(&binary, &fake_codex, scenario));
        }
    }
    for (scenario, rounds) in scenarios.iter().zip(&results) {
        report(scenario, rounds);
    }
}
