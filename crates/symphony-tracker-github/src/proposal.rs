//! Publishing a finished change: the pull request for the branch (opened once, updated after
//! that) and the gate verdicts on its head commit, as commit statuses or one check run.
//!
//! Writes are never retried blindly (a lost answer to a POST may have created the PR): the
//! open PR for the branch is looked up first, and again after a failed create.

use http::Method;
use serde_json::{json, Value};
use symphony_code_host::{ChangeProposal, CheckConclusion, CheckResult, ProposalOutcome};
use symphony_tracker::{TrackerError, TrackerErrorCategory};

use crate::client::Client;
use crate::config::{GateReports, GithubConfig};
use crate::handoff::send;
use crate::tools::encode_segment;

/// GitHub accepts at most this many annotations per check-run request.
pub(crate) const ANNOTATIONS_PER_REQUEST: usize = 50;
/// Commit status descriptions are cut by GitHub at 140 characters.
const STATUS_DESCRIPTION: usize = 140;
/// Check-run summaries may hold 65535 characters.
const CHECK_SUMMARY: usize = 60_000;
/// The check run's name (and the statuses' context prefix).
pub(crate) const CHECK_NAME: &str = "Symphony gates";
pub(crate) const STATUS_PREFIX: &str = "symphony/";

fn malformed(what: &str) -> TrackerError {
    TrackerError::new(
        TrackerErrorCategory::Response,
        format!("GitHub's answer to {what} lacks the pull request's number"),
    )
}

fn cut(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// The open pull request whose head is `branch` in this repository, if any.
async fn open_pull(
    client: &Client,
    config: &GithubConfig,
    branch: &str,
) -> Result<Option<Value>, TrackerError> {
    let path = format!(
        "/repos/{}/{}/pulls?state=open&head={}&per_page=100",
        config.owner,
        config.repo,
        encode_segment(&format!("{}:{branch}", config.owner))
    );
    let list = send(client, Method::GET, &path, None).await?;
    let pulls = list.as_array().ok_or_else(|| {
        TrackerError::new(
            TrackerErrorCategory::Response,
            "GitHub's pull request list is not a list".to_owned(),
        )
    })?;
    // `head` filters on GitHub's side; the check here guards against a server that ignores it.
    Ok(pulls
        .iter()
        .find(|p| {
            p.pointer("/head/ref").and_then(Value::as_str) == Some(branch)
                && p.get("state").and_then(Value::as_str) != Some("closed")
        })
        .cloned())
}

fn outcome(pull: &Value, created: bool, what: &str) -> Result<ProposalOutcome, TrackerError> {
    Ok(ProposalOutcome::new(
        pull.get("html_url")
            .and_then(Value::as_str)
            .map(str::to_owned),
        Some(
            pull.get("number")
                .and_then(Value::as_u64)
                .ok_or_else(|| malformed(what))?,
        ),
        created,
    ))
}

/// Updates the listed open `pull` with `update` (title and body).
async fn update_pull(
    client: &Client,
    pulls: &str,
    pull: &Value,
    update: &Value,
) -> Result<ProposalOutcome, TrackerError> {
    let number = pull
        .get("number")
        .and_then(Value::as_u64)
        .ok_or_else(|| malformed("the pull request list"))?;
    let pull = send(
        client,
        Method::PATCH,
        &format!("{pulls}/{number}"),
        Some(update),
    )
    .await?;
    outcome(&pull, false, "the pull request update")
}

/// Opens the pull request of `proposal`'s branch, or updates the open one.
pub(crate) async fn open_or_update(
    client: &Client,
    config: &GithubConfig,
    proposal: &ChangeProposal,
) -> Result<ProposalOutcome, TrackerError> {
    let pulls = format!("/repos/{}/{}/pulls", config.owner, config.repo);
    let update = json!({ "title": proposal.title, "body": proposal.body });
    let published = match open_pull(client, config, &proposal.branch).await? {
        Some(pull) => update_pull(client, &pulls, &pull, &update).await?,
        None => {
            let create = json!({
                "title": proposal.title,
                "body": proposal.body,
                "head": proposal.branch,
                "base": proposal.base_branch,
                "draft": proposal.draft,
            });
            match send(client, Method::POST, &pulls, Some(&create)).await {
                Ok(pull) => outcome(&pull, true, "the pull request creation")?,
                Err(error) => {
                    // A create whose answer was lost, or a concurrent one: use the open PR.
                    let Some(pull) = open_pull(client, config, &proposal.branch).await? else {
                        return Err(error);
                    };
                    update_pull(client, &pulls, &pull, &update).await?
                }
            }
        }
    };
    Ok(published)
}

/// The gate verdicts on `head_sha`, as commit statuses or one check run.
pub(crate) async fn publish_checks(
    client: &Client,
    config: &GithubConfig,
    head_sha: &str,
    checks: &[CheckResult],
) -> Result<(), TrackerError> {
    match config.gate_reports {
        GateReports::Statuses => post_statuses(client, config, head_sha, checks).await,
        GateReports::CheckRuns => post_check_run(client, config, head_sha, checks).await,
    }
}

/// One status per gate that ran (`symphony/<gate>`) and an overall `symphony/gates`, which is
/// what branch protection should require. Statuses have no "skipped": skipped gates are counted
/// in the overall description only.
async fn post_statuses(
    client: &Client,
    config: &GithubConfig,
    head_sha: &str,
    checks: &[CheckResult],
) -> Result<(), TrackerError> {
    let path = format!(
        "/repos/{}/{}/statuses/{}",
        config.owner, config.repo, head_sha
    );
    for check in checks {
        let state = match check.conclusion {
            CheckConclusion::Success => "success",
            CheckConclusion::Failure => "failure",
            CheckConclusion::Error => "error",
            CheckConclusion::Skipped => continue,
            // A conclusion added later is not a success until this host knows it.
            _ => "error",
        };
        let body = json!({
            "state": state,
            "context": format!("{STATUS_PREFIX}{}", check.name),
            "description": cut(&check.summary, STATUS_DESCRIPTION),
        });
        send(client, Method::POST, &path, Some(&body)).await?;
    }
    let (state, description) = overall(checks);
    let body = json!({
        "state": state,
        "context": format!("{STATUS_PREFIX}gates"),
        "description": cut(&description, STATUS_DESCRIPTION),
    });
    send(client, Method::POST, &path, Some(&body)).await?;
    Ok(())
}

/// The overall verdict: failure if any gate failed, error if any could not decide.
fn overall(checks: &[CheckResult]) -> (&'static str, String) {
    let count = |c: CheckConclusion| checks.iter().filter(|k| k.conclusion == c).count();
    let (passed, failed, errored, skipped) = (
        count(CheckConclusion::Success),
        count(CheckConclusion::Failure),
        count(CheckConclusion::Error),
        count(CheckConclusion::Skipped),
    );
    let state = if failed > 0 {
        "failure"
    } else if errored > 0 {
        "error"
    } else {
        "success"
    };
    let mut parts = vec![format!("{passed} passed")];
    for (n, word) in [
        (failed, "failed"),
        (errored, "errored"),
        (skipped, "skipped"),
    ] {
        if n > 0 {
            parts.push(format!("{n} {word}"));
        }
    }
    (state, format!("Symphony gates: {}", parts.join(", ")))
}

/// One check run for all gates; annotations go 50 per request (the create, then updates),
/// because GitHub refuses more in one request.
async fn post_check_run(
    client: &Client,
    config: &GithubConfig,
    head_sha: &str,
    checks: &[CheckResult],
) -> Result<(), TrackerError> {
    let (state, title) = overall(checks);
    let conclusion = match state {
        "success" => "success",
        "failure" => "failure",
        _ => "neutral",
    };
    let mut summary = String::from("| Gate | Verdict | Summary |\n| --- | --- | --- |\n");
    for check in checks {
        summary.push_str(&format!(
            "| {} | {} | {} |\n",
            check.name.replace('|', "\\|"),
            check.conclusion.as_str(),
            check.summary.replace('|', "\\|").replace('\n', " ")
        ));
    }
    let summary = cut(&summary, CHECK_SUMMARY);
    let annotations: Vec<Value> = checks
        .iter()
        .flat_map(|check| {
            check.annotations.iter().map(move |a| {
                json!({
                    "path": a.path,
                    "start_line": a.line,
                    "end_line": a.line,
                    "annotation_level": match a.level.as_str() {
                        "failure" | "warning" | "notice" => a.level.as_str(),
                        _ => "warning",
                    },
                    "title": cut(&format!("{}: {}", check.name, a.title), 255),
                    "message": cut(&a.message, 60_000),
                })
            })
        })
        .collect();
    let mut batches = annotations.chunks(ANNOTATIONS_PER_REQUEST);
    let output = |batch: &[Value]| {
        json!({
            "title": cut(&title, 255),
            "summary": summary,
            "annotations": batch,
        })
    };
    let create = json!({
        "name": CHECK_NAME,
        "head_sha": head_sha,
        "status": "completed",
        "conclusion": conclusion,
        "output": output(batches.next().unwrap_or(&[])),
    });
    let runs = format!("/repos/{}/{}/check-runs", config.owner, config.repo);
    let run = send(client, Method::POST, &runs, Some(&create)).await?;
    let id = run.get("id").and_then(Value::as_u64).ok_or_else(|| {
        TrackerError::new(
            TrackerErrorCategory::Response,
            "GitHub's check run has no id".to_owned(),
        )
    })?;
    for batch in batches {
        let body = json!({ "output": output(batch) });
        send(client, Method::PATCH, &format!("{runs}/{id}"), Some(&body)).await?;
    }
    Ok(())
}
