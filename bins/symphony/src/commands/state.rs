//! `symphony runs` and `symphony audit`: reading durable state without running the service.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use symphony_store::{AuditVerdict, RunFilter, SqliteStore, Store, StoreOptions, DATABASE_FILE};
use symphony_workflow::{ProcessEnvironment, Workflow};

use crate::failure::Failure;
use crate::trackers;

/// The state directory: `--state-dir`, else the workflow's `state.dir`.
pub fn locate(workflow: Option<&Path>, state_dir: Option<&Path>) -> Result<PathBuf, Failure> {
    if let Some(dir) = state_dir {
        return Ok(dir.to_owned());
    }
    let path = crate::workflow_path::workflow_path(workflow)?;
    let workflow =
        Workflow::load(&path, &trackers::registry(), &ProcessEnvironment).map_err(|e| {
            Failure::new(
                e.category(),
                format!("{e} (pass --state-dir to read the state without the workflow)"),
            )
        })?;
    Ok(workflow.config.state.dir)
}

/// Opens an existing state database; never creates one.
pub(crate) fn open(dir: &Path) -> Result<SqliteStore, Failure> {
    let file = dir.join(DATABASE_FILE);
    if !file.is_file() {
        return Err(Failure::new(
            "store_missing",
            format!(
                "no state database at {} (has `symphony run` run with this state directory?)",
                file.display()
            ),
        ));
    }
    SqliteStore::open(dir, StoreOptions::default())
        .map_err(|e| Failure::new(e.category(), e.to_string()))
}

fn time(ms: u64) -> String {
    chrono::DateTime::from_timestamp_millis(i64::try_from(ms).unwrap_or(i64::MAX)).map_or_else(
        || ms.to_string(),
        |t| t.format("%Y-%m-%d %H:%M:%S%.3fZ").to_string(),
    )
}

fn store_failure(e: symphony_store::StoreError) -> Failure {
    Failure::new(e.category(), e.to_string())
}

/// The workflow's per-issue limits before label and state overrides, when it loads and sets
/// any.
pub fn default_issue_limits(workflow: Option<&Path>) -> Option<symphony_orchestrator::IssueLimits> {
    let path = crate::workflow_path::workflow_path(workflow).ok()?;
    let workflow = Workflow::load(&path, &trackers::registry(), &ProcessEnvironment).ok()?;
    let budgets = symphony_orchestrator::budgets_of(&workflow.config).ok()?;
    (!budgets.budgets.per_issue.is_unset()).then_some(budgets.budgets.per_issue)
}

pub fn runs(
    dir: &Path,
    issue: Option<String>,
    limit: usize,
    json: bool,
    limits: Option<symphony_orchestrator::IssueLimits>,
) -> Result<(), Failure> {
    let store = open(dir)?;
    let runtime = super::run::runtime()?;
    let runs = runtime
        .block_on(store.runs(RunFilter {
            issue: issue.clone(),
            limit: Some(limit),
        }))
        .map_err(store_failure)?;
    // What the issue used over every run (not only those listed), by its id.
    // Only against a budget: without one the table says it all.
    let spent = match (&issue, runs.first(), json || limits.is_none()) {
        (Some(_), Some(run), false) => Some((
            run.identifier.clone(),
            runtime
                .block_on(store.issue_spend(&run.issue_id, None))
                .map_err(store_failure)?,
        )),
        _ => None,
    };
    let mut out = String::new();
    if json {
        for run in &runs {
            let line = serde_json::to_string(run)
                .map_err(|e| Failure::new("internal_error", e.to_string()))?;
            let _ = writeln!(out, "{line}");
        }
    } else if runs.is_empty() {
        out.push_str("no runs recorded\n");
    } else {
        let _ = writeln!(
            out,
            "{:>5}  {:<16} {:>7}  {:<11}  {:<24} {:>9}  {:>8}  {:>8}  ERROR",
            "RUN", "ISSUE", "ATTEMPT", "OUTCOME", "STARTED", "DURATION", "TOKENS", "COST"
        );
        for run in &runs {
            let outcome = run
                .outcome
                .map_or("running", symphony_store::RunOutcome::as_str);
            let duration = run.ended_at_ms.map_or_else(
                || "-".to_owned(),
                |end| {
                    format!(
                        "{:.1}s",
                        end.saturating_sub(run.started_at_ms) as f64 / 1000.0
                    )
                },
            );
            let mut error = run.error.clone().unwrap_or_default().replace('\n', " ");
            if error.chars().count() > 80 {
                error = format!("{}…", error.chars().take(80).collect::<String>());
            }
            let _ = writeln!(
                out,
                "{:>5}  {:<16} {:>7}  {:<11}  {:<24} {:>9}  {:>8}  {:>8}  {}",
                run.id,
                run.identifier,
                run.attempt
                    .map_or_else(|| "first".to_owned(), |a| a.to_string()),
                outcome,
                time(run.started_at_ms),
                duration,
                run.usage.total_tokens,
                // "-": the agent did not price its work (not the same as free).
                run.usage
                    .cost_micros
                    .map_or_else(|| "-".to_owned(), symphony_core::dollars),
                error
            );
        }
    }
    if let Some((identifier, spend)) = spent {
        let _ = writeln!(
            out,
            "\n{identifier} used over {} run(s): {} tokens{}, {} turn(s), {} round(s), {:.1} min",
            spend.attempts,
            spend.usage.total_tokens,
            spend
                .usage
                .cost_micros
                .map(|c| format!(", {}", symphony_core::dollars(c)))
                .unwrap_or_default(),
            spend.turns,
            spend.rounds,
            spend.agent_ms as f64 / 60_000.0
        );
        if let Some(limits) = limits {
            let lines = symphony_orchestrator::usage_lines(&limits, &spend);
            let _ = writeln!(
                out,
                "budget (the workflow's per-issue limits; label and state overrides may differ, \
                 see `symphony issues`): {}",
                lines.join("; ")
            );
        }
    }
    print!("{out}");
    Ok(())
}

pub fn audit_verify(dir: &Path) -> Result<(), Failure> {
    let store = open(dir)?;
    let runtime = super::run::runtime()?;
    match runtime
        .block_on(store.audit_verify())
        .map_err(store_failure)?
    {
        AuditVerdict::Intact { entries, head_hash } => {
            println!("audit log intact: {entries} entries, head {head_hash}");
            Ok(())
        }
        AuditVerdict::Broken { seq, reason } => Err(Failure::new(
            "audit_chain_broken",
            format!(
                "audit log in {} is broken at entry {seq}: {reason}",
                store.path().display()
            ),
        )),
    }
}

pub fn audit_tail(dir: &Path, lines: usize, json: bool) -> Result<(), Failure> {
    let store = open(dir)?;
    let runtime = super::run::runtime()?;
    let entries = runtime
        .block_on(store.audit_tail(lines))
        .map_err(store_failure)?;
    let mut out = String::new();
    for entry in &entries {
        if json {
            let line = serde_json::to_string(entry)
                .map_err(|e| Failure::new("internal_error", e.to_string()))?;
            let _ = writeln!(out, "{line}");
        } else {
            let _ = writeln!(
                out,
                "{:>6}  {}  {:<22} {:<16} {}",
                entry.seq,
                time(entry.at_ms),
                entry.kind,
                entry.identifier.as_deref().unwrap_or("-"),
                symphony_store::canonical_json(&entry.detail)
            );
        }
    }
    print!("{out}");
    Ok(())
}
