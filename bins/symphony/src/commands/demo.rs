//! `symphony demo`: the whole loop offline in a scratch folder — local issues, a sample git
//! repository, a scripted agent that commits a credential by mistake, Symphony's gates catching
//! it, the agent's fix, the hand-off, a review round on DEMO-2 and its merge — ending with a
//! printed summary.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use symphony_core::Issue;
use symphony_store::{AuditEntry, SqliteStore, Store, StoreOptions};
use symphony_tracker::Tracker;
use symphony_tracker_local::LocalTracker;

use super::{demo_plan, demo_review};
use crate::failure::Failure;

/// The demo's files, embedded so the binary needs nothing beside it (but `git` and `bash`).
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
        "reviewer.sh",
        include_str!("../../../../examples/demo/reviewer.sh"),
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
    (
        "issues/DEMO-4.md",
        include_str!("../../../../examples/demo/issues/DEMO-4.md"),
    ),
];

/// How long the demo may take before it gives up.
const LIMIT: Duration = Duration::from_secs(180);
const ACTIVE: [&str; 3] = ["todo", "in progress", "approved"];
const ALL_STATES: [&str; 8] = [
    "todo",
    "in progress",
    "approved",
    "plan review",
    "human review",
    "needs human",
    "done",
    "cancelled",
];

pub fn run(dir: Option<PathBuf>) -> Result<(), Failure> {
    let dir = dir.unwrap_or_else(|| {
        std::env::temp_dir().join(format!("symphony-demo-{}", std::process::id()))
    });
    write_files(&dir)?;
    sample_repository(&dir.join("sample"))?;
    println!("demo folder: {}", dir.display());
    let issues = dir.join("issues");
    let runtime = super::run::runtime()?;
    let started = Instant::now();
    runtime.block_on(super::run::serve(
        &dir.join("WORKFLOW.md"),
        None,
        settled(issues.clone(), started),
    ))?;
    let issues = runtime.block_on(all_issues(&issues));
    let audit = runtime.block_on(audit(&dir.join(".symphony")))?;
    println!(
        "\nhand-off summary after {:.1} s:",
        started.elapsed().as_secs_f64()
    );
    print!("{}", summary(&issues, &audit));
    let reviewed = issues
        .iter()
        .find(|i| i.identifier == demo_review::REVIEWED);
    if reviewed.is_none_or(|i| i.state != "done") {
        return Err(Failure::new(
            "demo_incomplete",
            format!(
                "{} was not reviewed and merged within {} s",
                demo_review::REVIEWED,
                LIMIT.as_secs()
            ),
        ));
    }
    if issues
        .iter()
        .any(|i| ACTIVE.contains(&i.state.as_str()) && i.dispatchable)
    {
        return Err(Failure::new(
            "demo_incomplete",
            format!("not every issue was worked on within {} s", LIMIT.as_secs()),
        ));
    }
    println!(
        "\nwhat to look at:\n  \
         the proposals (PR bodies):  {dir}/issues/DEMO-1.md, DEMO-2.md\n  \
         the handed-off branches:    git -C {dir}/workspaces/DEMO-1 log --stat origin/main..\n  \
         the review and its round:   {dir}/issues/DEMO-2.md (review blocks, comments)\n  \
         the plan before the code:   {dir}/issues/DEMO-4.md (the plan's comment) and\n  \
         \x20                           git -C {dir}/workspaces/DEMO-4 log --stat origin/main..\n  \
         what the agent did:         {dir}/agent.log\n  \
         every decision, in order:   symphony audit tail -n 40 --state-dir {dir}/.symphony\n  \
         run history:                symphony runs --state-dir {dir}/.symphony",
        dir = dir.display()
    );
    Ok(())
}

fn io(path: &Path, e: std::io::Error) -> Failure {
    Failure::new("io_error", format!("cannot write {}: {e}", path.display()))
}

fn write_files(dir: &Path) -> Result<(), Failure> {
    for (name, text) in FILES {
        let path = dir.join(name);
        path.parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|()| std::fs::write(&path, text))
            .map_err(|e| io(&path, e))?;
    }
    Ok(())
}

/// Makes `sample/` a git repository with one commit on `main`, as a real project would be.
fn sample_repository(sample: &Path) -> Result<(), Failure> {
    let steps: [&[&str]; 3] = [
        &["init", "--quiet", "--initial-branch=main"],
        &["add", "-A"],
        &["commit", "--quiet", "-m", "Sample project"],
    ];
    for args in steps {
        let output = symphony_process::std_child_command("git")
            .args([
                "-c",
                "user.name=Symphony Demo",
                "-c",
                "user.email=demo@localhost",
            ])
            .args(args)
            .current_dir(sample)
            .output()
            .map_err(|e| {
                Failure::new("missing_dependency", format!("the demo needs `git` ({e})"))
            })?;
        if !output.status.success() {
            return Err(Failure::new(
                "io_error",
                format!(
                    "git {} in {} failed: {}",
                    args.join(" "),
                    sample.display(),
                    String::from_utf8_lossy(&output.stderr).trim()
                ),
            ));
        }
    }
    Ok(())
}

async fn all_issues(folder: &Path) -> Vec<Issue> {
    let tracker = LocalTracker::new(folder, vec!["done".to_owned(), "cancelled".to_owned()]);
    let states = ALL_STATES.map(str::to_owned);
    let mut found = tracker
        .fetch_issues_by_states(&states)
        .await
        .unwrap_or_default();
    found.sort_by(|a, b| a.identifier.cmp(&b.identifier));
    found
}

/// Resolves once no active issue can be worked on (each has left the active states or waits
/// for a blocker), the demo's review of DEMO-2 has ended in a merge and DEMO-4's approved plan
/// has been coded and handed off, or the limit passes.
async fn settled(folder: PathBuf, started: Instant) {
    while started.elapsed() < LIMIT {
        tokio::time::sleep(Duration::from_millis(250)).await;
        let issues = all_issues(&folder).await;
        let mut busy = issues
            .iter()
            .any(|i| ACTIVE.contains(&i.state.as_str()) && i.dispatchable);
        if let Some(reviewed) = issues
            .iter()
            .find(|i| i.identifier == demo_review::REVIEWED)
        {
            busy |= demo_review::step(&folder, reviewed).await != demo_review::Review::Done;
        }
        if let Some(planned) = issues.iter().find(|i| i.identifier == demo_plan::PLANNED) {
            busy |= demo_plan::step(&folder, planned) != demo_plan::Plan::Done;
        }
        if !issues.is_empty() && !busy {
            // Let the last worker finish its after_run and exit before shutting down.
            tokio::time::sleep(Duration::from_millis(500)).await;
            return;
        }
    }
}

async fn audit(state_dir: &Path) -> Result<Vec<AuditEntry>, Failure> {
    let store = SqliteStore::open(state_dir, StoreOptions::default())
        .map_err(|e| Failure::new(e.category(), e.to_string()))?;
    store
        .audit_tail(2_000)
        .await
        .map_err(|e| Failure::new(e.category(), e.to_string()))
}

/// One block per issue: where it ended, its gate rounds, and what was handed off.
fn summary(issues: &[Issue], audit: &[AuditEntry]) -> String {
    let mut out = String::new();
    for issue in issues {
        let mine: Vec<&AuditEntry> = audit
            .iter()
            .filter(|e| e.identifier.as_deref() == Some(issue.identifier.as_str()))
            .collect();
        let waiting = if ACTIVE.contains(&issue.state.as_str()) && !issue.dispatchable {
            let blockers: Vec<String> = issue
                .blocked_by
                .iter()
                .filter_map(|b| b.identifier.clone())
                .collect();
            format!(" (waits for {})", blockers.join(", "))
        } else {
            String::new()
        };
        out.push_str(&format!(
            "\n  {}  {}: {}{waiting}\n",
            issue.identifier, issue.state, issue.title
        ));
        // In the order things happened: each run's gate rounds, its hand-off, then what a
        // review made of it.
        let mut group: Option<(u64, Vec<&AuditEntry>)> = None;
        for entry in &mine {
            match entry.kind.as_str() {
                "gate_verdict" => {
                    let round = entry.detail["round"].as_u64().unwrap_or(0);
                    match &mut group {
                        Some((r, entries)) if *r == round => entries.push(entry),
                        _ => {
                            flush_gates(&mut out, group.take());
                            group = Some((round, vec![entry]));
                        }
                    }
                }
                "change_proposed" => {
                    flush_gates(&mut out, group.take());
                    let head = entry.detail["head"].as_str().unwrap_or("");
                    out.push_str(&format!(
                        "      handoff  branch {} at {}, proposal written into the issue\n",
                        entry.detail["branch"].as_str().unwrap_or("?"),
                        &head[..head.len().min(10)]
                    ));
                }
                "review_feedback_taken" => out.push_str(&format!(
                    "      review   round {}: {} item(s) of feedback -> sent back to the agent\n",
                    entry.detail["round"].as_u64().unwrap_or(0),
                    entry.detail["feedback"].as_array().map_or(0, Vec::len)
                )),
                "plan_proposed" => out.push_str(&format!(
                    "      plan     round {}: {} -> {}\n",
                    entry.detail["round"].as_u64().unwrap_or(0),
                    entry.detail["files"][0].as_str().unwrap_or("?"),
                    entry.detail["state"].as_str().unwrap_or("?")
                )),
                "plan_approved" => out.push_str(&format!(
                    "      plan     round {} approved -> coded with the plan in the prompt\n",
                    entry.detail["round"].as_u64().unwrap_or(0),
                )),
                "review_watch_ended" => out.push_str(&format!(
                    "      review   ended: {}\n",
                    entry.detail["reason"].as_str().unwrap_or("?")
                )),
                _ => {}
            }
        }
        flush_gates(&mut out, group);
    }
    out
}

/// One gate round's verdicts, and the first finding in the change that went back to the agent.
fn flush_gates(out: &mut String, group: Option<(u64, Vec<&AuditEntry>)>) {
    let Some((round, entries)) = group else {
        return;
    };
    let label = if round == 0 {
        "gates".to_owned()
    } else {
        format!("round {round}")
    };
    let verdicts: Vec<String> = entries
        .iter()
        .map(|e| {
            format!(
                "{} {}",
                e.detail["gate"].as_str().unwrap_or("?"),
                e.detail["status"].as_str().unwrap_or("?")
            )
        })
        .collect();
    out.push_str(&format!("      {label:<8} {}\n", verdicts.join(", ")));
    if let Some(finding) = entries
        .iter()
        .flat_map(|e| e.detail["findings"].as_array().cloned().unwrap_or_default())
        .find(|f| f["in_change"] == true)
    {
        out.push_str(&format!(
            "               {} in {}:{} -> sent back to the agent\n",
            finding["rule"].as_str().unwrap_or("?"),
            finding["file"].as_str().unwrap_or("?"),
            finding["line"].as_u64().unwrap_or(0)
        ));
    }
}
