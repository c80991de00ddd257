//! Run by `cargo xtask bench store` (in release mode): how fast durable state takes agent
//! events, and what persistence adds to a scheduler tick with 100 running issues.
//!
//! 1. Events appended per second into the SQLite store, in the batches the persistence task
//!    forms (and, for contrast, one transaction per event); usage reports per second (each
//!    also adds to the day's row, ADR 0023), and the issue-spend read a budgeted run makes.
//! 2. A tick as `bench scheduler` times it (10,000 candidates, 100 running, one slot free so
//!    every tick dispatches, records and fails an issue), plus one agent event per running
//!    issue between ticks. Baseline: the scheduler alone. With persistence: the same, every
//!    decision and event handed to the real persistence task, which writes them to a real
//!    SQLite file on another thread meanwhile. Blocks of both alternate in one run; the ratio
//!    of medians is the cost. Target: under 10 %.

#[path = "../../symphony-scheduler/examples/common/mod.rs"]
mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use symphony_core::Issue;
use symphony_orchestrator::{
    AgentUpdate, Effect, Event, ExitReason, FetchPurpose, Persistence, Scheduler,
};
use symphony_store::{
    wall_clock_ms, Change, ClaimOutcome, RunStart, SqliteStore, Store, StoreOptions,
};

const CANDIDATES: usize = 10_000;
const RUNNING: usize = 100;
const TICKS_PER_BLOCK: usize = 50;
const BLOCKS: usize = 4;

fn main() -> std::process::ExitCode {
    match run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench_store: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), String> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    runtime.block_on(append_rate(dir.path()))?;
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let _guard = runtime.enter();
    tick_cost(&runtime, dir.path())
}

async fn append_rate(dir: &std::path::Path) -> Result<(), String> {
    let store = SqliteStore::open(dir, StoreOptions::default()).map_err(|e| e.to_string())?;
    store
        .recover(wall_clock_ms())
        .await
        .map_err(|e| e.to_string())?;
    let mut runs = Vec::new();
    for i in 0..RUNNING {
        let start = RunStart {
            issue_id: format!("issue-{i}"),
            identifier: format!("PROJ-{i}"),
            attempt: None,
            workspace: None,
            at_ms: wall_clock_ms(),
        };
        match store
            .claim_and_start(start)
            .await
            .map_err(|e| e.to_string())?
        {
            ClaimOutcome::Started { run_id } => runs.push(run_id),
            ClaimOutcome::Held { .. } => return Err("claim held".into()),
        }
    }
    let event = |n: usize| Change::Event {
        run_id: runs[n % runs.len()],
        at_ms: wall_clock_ms(),
        kind: "notification".into(),
        message: Some(format!("agent output line {n}: compiling crate foo v0.1.0")),
    };
    for (label, batch, total) in [
        ("batched (1,000 per transaction)", 1_000, 200_000),
        ("one transaction per event", 1, 2_000),
    ] {
        let started = Instant::now();
        let mut n = 0;
        while n < total {
            let changes: Vec<Change> = (n..n + batch).map(event).collect();
            store.apply(changes).await.map_err(|e| e.to_string())?;
            n += batch;
        }
        let secs = started.elapsed().as_secs_f64();
        println!(
            "store append, {label}: {total} events in {:.2} s = {:.0} events/s",
            secs,
            total as f64 / secs
        );
    }
    usage_rate(&store, &runs).await
}

/// Usage reports (ADR 0023): each rewrites the run's counts and adds its increase to the
/// day's row, in the same transaction; and the read a budgeted run makes before its agent
/// starts (the issue's use over all its runs).
async fn usage_rate(store: &SqliteStore, runs: &[i64]) -> Result<(), String> {
    let total = 200_000;
    let batch = 1_000;
    let started = Instant::now();
    let mut n = 0;
    while n < total {
        let changes: Vec<Change> = (n..n + batch)
            .map(|i| {
                let step = (i / runs.len() + 1) as u64;
                Change::Tokens {
                    run_id: runs[i % runs.len()],
                    at_ms: wall_clock_ms(),
                    usage: symphony_store::Usage::tokens(10 * step, step, 11 * step)
                        .with_cost_usd(step as f64 / 1_000.0),
                }
            })
            .collect();
        store.apply(changes).await.map_err(|e| e.to_string())?;
        n += batch;
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "store usage reports, batched (1,000 per transaction; the run's row and the day's): \
         {total} in {secs:.2} s = {:.0} reports/s",
        total as f64 / secs
    );
    let reads = 2_000;
    let started = Instant::now();
    for i in 0..reads {
        store
            .issue_spend(&format!("issue-{}", i % runs.len()), None)
            .await
            .map_err(|e| e.to_string())?;
    }
    println!(
        "store issue spend read (once per budgeted run, before its agent): {:.1} µs each",
        started.elapsed().as_secs_f64() * 1e6 / reads as f64
    );
    Ok(())
}

struct Rig {
    scheduler: Scheduler,
    running: Vec<Issue>,
    all: Vec<Issue>,
    now: u64,
    persistence: Option<Persistence>,
}

impl Rig {
    fn handle(&mut self, event: Event) {
        if let (Some(p), Event::AgentUpdate { issue_id, update }) = (&self.persistence, &event) {
            p.agent(issue_id, update);
        }
        for effect in self.scheduler.handle(event, self.now) {
            let Some(persistence) = &self.persistence else {
                continue;
            };
            match effect {
                Effect::Record(decision) => persistence.decision(decision),
                Effect::SpawnWorker { issue, attempt } => {
                    // As the service does: the claim is awaited by the worker's task, not here.
                    let persistence = persistence.clone();
                    tokio::spawn(async move {
                        let _ = persistence
                            .claim(RunStart {
                                issue_id: issue.id.clone(),
                                identifier: issue.identifier.clone(),
                                attempt,
                                workspace: None,
                                at_ms: wall_clock_ms(),
                            })
                            .await;
                    });
                }
                _ => {}
            }
        }
    }

    /// Agent events between ticks, one tick, and the failure of what it dispatched; the
    /// whole of it timed.
    fn tick(&mut self) -> Duration {
        self.now += 1;
        let running = self.running.clone();
        let candidates = self.all.clone();
        let started = Instant::now();
        for issue in &self.running.clone() {
            self.handle(Event::AgentUpdate {
                issue_id: issue.id.clone(),
                update: AgentUpdate {
                    event: "notification".into(),
                    message: Some("agent output line: running cargo test".into()),
                    tokens: Some(symphony_core::Usage::tokens(1_000, 200, 1_200)),
                    ..AgentUpdate::default()
                },
            });
        }
        self.handle(Event::Tick {
            preflight_error: None,
        });
        self.handle(Event::Fetched {
            purpose: FetchPurpose::Reconcile,
            result: Ok(running),
        });
        self.handle(Event::Fetched {
            purpose: FetchPurpose::Candidates,
            result: Ok(candidates),
        });
        let extra: Vec<String> = self
            .scheduler
            .running()
            .keys()
            .filter(|id| !self.running.iter().any(|r| &r.id == *id))
            .cloned()
            .collect();
        for id in extra {
            self.handle(Event::WorkerExited {
                issue_id: id,
                reason: ExitReason::Failed("bench".into()),
            });
        }
        started.elapsed()
    }
}

fn tick_cost(runtime: &tokio::runtime::Runtime, dir: &std::path::Path) -> Result<(), String> {
    let store = SqliteStore::open(dir, StoreOptions::default()).map_err(|e| e.to_string())?;
    runtime
        .block_on(store.recover(wall_clock_ms()))
        .map_err(|e| e.to_string())?;
    let persistence = Persistence::spawn(Arc::new(store.clone()), Arc::default());
    let all: Vec<Issue> = (0..CANDIDATES).map(common::issue).collect();
    let mut scheduler = Scheduler::new(common::config(RUNNING));
    let mut rig = Rig {
        scheduler: Scheduler::new(common::config(RUNNING)),
        running: Vec::new(),
        all: all.clone(),
        now: 0,
        persistence: Some(persistence.clone()),
    };
    // Fill the slots, with their runs recorded, then open one more slot.
    std::mem::swap(&mut rig.scheduler, &mut scheduler);
    rig.handle(Event::Tick {
        preflight_error: None,
    });
    rig.handle(Event::Fetched {
        purpose: FetchPurpose::Candidates,
        result: Ok(all),
    });
    rig.running = rig
        .scheduler
        .running()
        .values()
        .map(|r| r.issue.clone())
        .collect();
    if rig.running.len() != RUNNING {
        return Err(format!(
            "expected {RUNNING} running, got {}",
            rig.running.len()
        ));
    }
    rig.scheduler
        .handle(Event::ConfigReloaded(common::config(RUNNING + 1)), 0);
    runtime
        .block_on(persistence.heartbeat())
        .map_err(|e| e.to_string())?;

    let mut baseline = Vec::new();
    let mut persisted = Vec::new();
    let mut drain = Duration::ZERO;
    for block in 0..BLOCKS * 2 {
        let with = block % 2 == 1;
        rig.persistence = with.then(|| persistence.clone());
        for _ in 0..TICKS_PER_BLOCK {
            let sample = rig.tick();
            if with {
                persisted.push(sample);
            } else {
                baseline.push(sample);
            }
        }
        if with {
            // Whatever the writer has not caught up with by the end of the block.
            let started = Instant::now();
            runtime
                .block_on(persistence.heartbeat())
                .map_err(|e| e.to_string())?;
            drain += started.elapsed();
        }
    }
    let totals = runtime
        .block_on(store.totals())
        .map_err(|e| e.to_string())?;
    baseline.sort();
    persisted.sort();
    let pct = |s: &[Duration], p: f64| s[((s.len() - 1) as f64 * p).round() as usize];
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let ratio = ms(pct(&persisted, 0.5)) / ms(pct(&baseline, 0.5));
    println!(
        "tick with {RUNNING} running, {CANDIDATES} candidates, {RUNNING} agent events per tick, \
         {} ticks each, blocks alternating:",
        baseline.len()
    );
    println!(
        "  scheduler alone:   p50 {:.3} ms   p99 {:.3} ms",
        ms(pct(&baseline, 0.5)),
        ms(pct(&baseline, 0.99))
    );
    println!(
        "  with persistence:  p50 {:.3} ms   p99 {:.3} ms",
        ms(pct(&persisted, 0.5)),
        ms(pct(&persisted, 0.99))
    );
    println!(
        "  persistence adds {:+.1} % to the median tick (target: under 10 %: {}); writer backlog \
         at block ends drained in {:.1} ms per block; {} runs recorded",
        (ratio - 1.0) * 100.0,
        if ratio < 1.10 { "met" } else { "NOT met" },
        ms(drain) / BLOCKS as f64,
        totals.runs
    );
    Ok(())
}
