//! `symphony demo`: the bundled example, run end to end in a scratch folder.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use symphony_tracker::Tracker;
use symphony_tracker_local::LocalTracker;

use crate::failure::Failure;

/// The demo's files, embedded so the binary needs nothing beside it.
const FILES: &[(&str, &str)] = &[
    (
        "WORKFLOW.md",
        include_str!("../../../../examples/demo/WORKFLOW.md"),
    ),
    (
        "agent.sh",
        include_str!("../../../../examples/demo/agent.sh"),
    ),
    (
        "sample/README.md",
        include_str!("../../../../examples/demo/sample/README.md"),
    ),
    (
        "issues/DEMO-1.md",
        include_str!("../../../../examples/demo/issues/DEMO-1.md"),
    ),
    (
        "issues/DEMO-2.md",
        include_str!("../../../../examples/demo/issues/DEMO-2.md"),
    ),
    (
        "issues/DEMO-3.md",
        include_str!("../../../../examples/demo/issues/DEMO-3.md"),
    ),
];

/// How long the demo may take before it gives up.
const LIMIT: Duration = Duration::from_secs(180);

pub fn run(dir: Option<PathBuf>) -> Result<(), Failure> {
    let dir = dir.unwrap_or_else(|| {
        std::env::temp_dir().join(format!("symphony-demo-{}", std::process::id()))
    });
    write_files(&dir)?;
    println!("demo folder: {}", dir.display());
    let issues = dir.join("issues");
    let runtime = super::run::runtime()?;
    let started = Instant::now();
    runtime.block_on(super::run::serve(
        &dir.join("WORKFLOW.md"),
        all_done(issues.clone(), started),
    ))?;
    let states = runtime.block_on(states(&issues));
    println!("\nissues after {:.1} s:", started.elapsed().as_secs_f64());
    for (identifier, state) in &states {
        println!("  {identifier:<8} {state}");
    }
    if states
        .iter()
        .any(|(_, state)| state == "todo" || state == "in progress")
    {
        return Err(Failure::new(
            "demo_incomplete",
            format!("not every issue was done within {} s", LIMIT.as_secs()),
        ));
    }
    println!("\nevery issue went from todo to done: claimed, given a workspace, worked on by the agent, moved.");
    println!(
        "the agent logged each edit in {dir}/agent.log (workspaces of done issues are removed);\n\
         run history: symphony runs --state-dir {dir}/.symphony\n\
         decisions:   symphony audit tail --state-dir {dir}/.symphony",
        dir = dir.display()
    );
    Ok(())
}

fn write_files(dir: &Path) -> Result<(), Failure> {
    for (name, text) in FILES {
        let path = dir.join(name);
        let written = path
            .parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|()| std::fs::write(&path, text));
        written.map_err(|e| {
            Failure::new("io_error", format!("cannot write {}: {e}", path.display()))
        })?;
    }
    Ok(())
}

async fn states(issues: &Path) -> Vec<(String, String)> {
    let tracker = LocalTracker::new(issues, Vec::new());
    let all = ["todo", "in progress", "human review", "done", "cancelled"].map(str::to_owned);
    let mut found: Vec<(String, String)> = tracker
        .fetch_issues_by_states(&all)
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|i| (i.identifier, i.state))
        .collect();
    found.sort();
    found
}

/// Resolves once no demo issue is active any more (or the limit passes).
async fn all_done(issues: PathBuf, started: Instant) {
    let tracker = LocalTracker::new(&issues, Vec::new());
    let active = ["todo".to_owned(), "in progress".to_owned()];
    while started.elapsed() < LIMIT {
        tokio::time::sleep(Duration::from_millis(250)).await;
        if tracker
            .fetch_issues_by_states(&active)
            .await
            .is_ok_and(|open| open.is_empty())
        {
            // Let the last worker finish its after_run and exit before shutting down.
            tokio::time::sleep(Duration::from_millis(500)).await;
            return;
        }
    }
}
