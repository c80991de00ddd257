//! Run by `cargo xtask bench scheduler` (in release mode): one tick of the pure scheduler with 10,000 candidate issues
//! and 100 running, p50 and p99, and the scheduler's memory per running issue.
//!
//! A tick here is what the service does per poll: `Tick`, the reconcile answer (the running
//! issues) and the candidate answer (every candidate). The tracker answers are built before
//! the clock starts, as the shell receives them already built. Target: p99 under 5 ms.

#[path = "common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use symphony_core::Issue;
use symphony_scheduler::{Event, ExitReason, FetchPurpose, Scheduler};

type Result<T> = std::result::Result<T, String>;

macro_rules! ensure {
    ($cond:expr, $($msg:tt)+) => {
        if !$cond {
            return Err(format!($($msg)+));
        }
    };
}

struct Options {
    candidates: usize,
    running: usize,
    ticks: usize,
}

fn parse(args: &[&str]) -> Result<Options> {
    let mut o = Options {
        candidates: 10_000,
        running: 100,
        ticks: 300,
    };
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let value: usize = it
            .next()
            .ok_or_else(|| format!("{flag} needs a value"))?
            .parse()
            .map_err(|e| format!("{flag}: {e}"))?;
        match *flag {
            "--candidates" => o.candidates = value,
            "--running" => o.running = value,
            "--ticks" => o.ticks = value,
            other => return Err(format!("unknown option {other}")),
        }
    }
    ensure!(
        o.running <= o.candidates && o.ticks > 0,
        "need running <= candidates and ticks > 0"
    );
    Ok(o)
}

/// One full tick; returns its duration.
fn tick(s: &mut Scheduler, now: u64, running: Vec<Issue>, candidates: Vec<Issue>) -> Duration {
    let start = Instant::now();
    s.handle(
        Event::Tick {
            preflight_error: None,
        },
        now,
    );
    s.handle(
        Event::Fetched {
            purpose: FetchPurpose::Reconcile,
            result: Ok(running),
        },
        now,
    );
    s.handle(
        Event::Fetched {
            purpose: FetchPurpose::Candidates,
            result: Ok(candidates),
        },
        now,
    );
    start.elapsed()
}

fn rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match run(&args) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench_tick: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run(args: &[&str]) -> Result<()> {
    let o = parse(args)?;
    // Memory first, on a fresh heap, so freed memory from other work does not hide growth.
    let per_issue = memory_per_running_issue(10_000)?;
    let all: Vec<Issue> = (0..o.candidates).map(common::issue).collect();

    for (label, free_slots) in [("all slots taken", 0), ("one slot free", 1)] {
        // Fill `running` slots: the first tick dispatches the top of the candidate order.
        let mut s = Scheduler::new(common::config(o.running));
        tick(&mut s, 0, Vec::new(), all.clone());
        ensure!(
            s.running().len() == o.running,
            "expected {} running, got {}",
            o.running,
            s.running().len()
        );
        let running: Vec<Issue> = s.running().values().map(|r| r.issue.clone()).collect();
        s.handle(
            Event::ConfigReloaded(common::config(o.running + free_slots)),
            0,
        );

        let inputs: Vec<(Vec<Issue>, Vec<Issue>)> = (0..o.ticks)
            .map(|_| (running.clone(), all.clone()))
            .collect();
        let mut samples = Vec::with_capacity(o.ticks);
        for (i, (r, c)) in inputs.into_iter().enumerate() {
            let now = 1_000 + i as u64;
            samples.push(tick(&mut s, now, r, c));
            // Untimed: fail what was just dispatched, so the next tick again has a free slot
            // and the issue waits in the retry queue (claimed), as after a real failure.
            let extra: Vec<String> = s
                .running()
                .keys()
                .filter(|id| !running.iter().any(|r| &r.id == *id))
                .cloned()
                .collect();
            for id in extra {
                s.handle(
                    Event::WorkerExited {
                        issue_id: id,
                        reason: ExitReason::Failed("bench".into()),
                    },
                    now,
                );
            }
        }
        samples.sort();
        let pct = |p: f64| samples[((samples.len() - 1) as f64 * p).round() as usize];
        println!(
            "scheduler tick ({label}): {} candidates, {} running, {} ticks",
            o.candidates, o.running, o.ticks
        );
        println!(
            "  p50 {:.3} ms   p99 {:.3} ms   max {:.3} ms   (target: p99 < 5 ms: {})",
            ms(pct(0.50)),
            ms(pct(0.99)),
            ms(samples[samples.len() - 1]),
            if pct(0.99) < Duration::from_millis(5) {
                "met"
            } else {
                "NOT met"
            }
        );
    }
    match per_issue {
        Some(bytes) => println!("  memory per running issue: {bytes:.0} bytes (resident growth with 10000 running; the issue snapshot included)"),
        None => println!("  memory per running issue: /proc/self/status unavailable"),
    }
    Ok(())
}

/// Resident growth per running issue when `n` issues are dispatched into a fresh scheduler.
fn memory_per_running_issue(n: usize) -> Result<Option<f64>> {
    let many: Vec<Issue> = (0..n).map(common::issue).collect();
    let before = rss_bytes();
    let mut big = Scheduler::new(common::config(n));
    tick(&mut big, 0, Vec::new(), many);
    let after = rss_bytes();
    ensure!(big.running().len() == n, "expected {n} running");
    Ok(before
        .zip(after)
        .map(|(b, a)| a.saturating_sub(b) as f64 / n as f64))
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
