//! `/issues/{identifier}`: one issue's page — where it stands now (running, queued for a
//! retry, or waiting in the backlog and why), what it used against its budgets, its run
//! history with links to each run's details and agent log, and its pull request.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{json, Value};
use symphony_store::RunFilter;

use crate::app::{respond, AppState};
use crate::html::{escape, text};
use crate::{api, history};

/// Runs listed on the page (the newest).
const RUNS: usize = 50;
/// Audit entries searched for the issue's pull request and budget stops (the newest).
const ENTRIES: usize = 2_000;

/// A link only to an http(s) address (a tracker's page, a pull request).
fn link(url: &Value, text: &str) -> String {
    match url.as_str() {
        Some(u) if u.starts_with("https://") || u.starts_with("http://") => {
            format!("<a href=\"{}\">{}</a>", escape(u), escape(text))
        }
        _ => escape(text),
    }
}

/// The budget table of an issue's `budget` JSON (the API's per-issue shape).
fn budget_table(budget: &Value) -> String {
    let lines = budget.as_object().cloned().unwrap_or_default();
    if lines.is_empty() {
        return "<p class=\"empty\">no per-issue budget applies</p>".to_owned();
    }
    let mut html = String::from("<table id=\"issue-budget\"><thead><tr><th>Budget</th><th>Used</th><th>Warn above</th><th>Limit</th><th>Left</th></tr></thead><tbody>");
    for (kind, line) in lines {
        html.push_str(&format!(
            "<tr data-budget=\"{k}\"><td>{k}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            text(&line["used"]),
            text(&line["soft"]),
            text(&line["hard"]),
            text(&line["remaining"]),
            k = escape(&kind),
        ));
    }
    html.push_str("</tbody></table>");
    html
}

/// The page's HTML for `identifier`: its `state` JSON rows (running, retry, backlog), its
/// runs (`/api/v1/runs` rows) and its audit entries (`/api/v1/events` rows).
pub fn render(identifier: &str, state: &Value, runs: &[Value], entries: &[Value]) -> String {
    let find = |list: &str| {
        state[list]
            .as_array()
            .and_then(|rows| rows.iter().find(|r| r["issue_identifier"] == identifier))
            .cloned()
    };
    let (running, retry, waiting) = (find("running"), find("retrying"), find("backlog"));
    let standing = match (&running, &retry, &waiting) {
        (Some(r), _, _) => format!(
            "Running: {} in {}, turn {}, last event {}",
            text(&r["stage"]),
            text(&r["state"]),
            text(&r["turn_count"]),
            text(&r["last_event"])
        ),
        (_, Some(r), _) => format!(
            "Queued for retry {} at {}: {}",
            text(&r["attempt"]),
            text(&r["due_at"]),
            text(&r["error"])
        ),
        (_, _, Some(b)) if b["waiting"] == "next" => {
            format!("In the backlog ({}), next to run", text(&b["state"]))
        }
        (_, _, Some(b)) => format!(
            "In the backlog ({}), waiting: {}",
            text(&b["state"]),
            text(&b["why"])
        ),
        _ => "Not running and not among the last candidates read".to_owned(),
    };
    let budget = running
        .as_ref()
        .or(waiting.as_ref())
        .map_or(Value::Null, |r| r["budget"].clone());
    let url = [&running, &waiting]
        .iter()
        .find_map(|r| r.as_ref().map(|r| r["issue_url"].clone()))
        .unwrap_or(Value::Null);
    // Entries come newest first: the latest pull request named.
    let pull = entries.iter().find_map(|e| {
        e["detail"]["url"]
            .as_str()
            .filter(|u| !u.is_empty())
            .map(str::to_owned)
    });
    let mut html = format!(
        "<h1>{}</h1><p id=\"standing\">{standing}</p><p>Issue: {} · Pull request: {}</p>\
         <h2>Budget</h2>{}<h2>Runs</h2><table id=\"issue-runs\"><thead><tr><th>Run</th>\
         <th>Attempt</th><th>Outcome</th><th>Started</th><th>Ended</th><th>Tokens</th>\
         <th>Cost</th><th>Log</th><th>Error</th></tr></thead><tbody>",
        escape(identifier),
        link(&url, "tracker"),
        pull.map_or_else(|| "none yet".to_owned(), |u| link(&json!(u), &u)),
        budget_table(&budget),
    );
    if runs.is_empty() {
        html.push_str("<tr><td colspan=\"9\" class=\"empty\">no runs recorded</td></tr>");
    }
    for r in runs {
        html.push_str(&format!(
            "<tr data-run=\"{id}\"><td><a href=\"/api/v1/runs/{id}\">{id}</a></td><td>{}</td>\
             <td class=\"outcome\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>\
             <td><a href=\"/api/v1/runs/{id}/log\">log</a></td><td>{}</td></tr>",
            text(&r["attempt"]),
            text(&r["outcome"]),
            text(&r["started_at"]),
            text(&r["ended_at"]),
            text(&r["tokens"]["total_tokens"]),
            text(&r["tokens"]["cost_usd"]),
            text(&r["error"]),
            id = text(&r["run_id"]),
        ));
    }
    html.push_str("</tbody></table><h2>Decisions</h2><table id=\"issue-events\"><thead><tr><th>When</th><th>What</th></tr></thead><tbody>");
    for e in entries.iter().take(30) {
        html.push_str(&format!(
            "<tr><td>{}</td><td>{}</td></tr>",
            text(&e["at"]),
            text(&e["kind"])
        ));
    }
    html.push_str("</tbody></table>");
    crate::dashboard::frame(&format!("Symphony · {identifier}"), &html)
}

/// `GET /issues/{identifier}`.
pub(crate) async fn page(State(app): State<AppState>, Path(identifier): Path<String>) -> Response {
    let state = match app.orchestrator.snapshot().await {
        Ok(snapshot) => api::state(chrono::Utc::now(), &snapshot),
        Err(_) => json!({}),
    };
    let (mut runs, mut entries) = (Vec::new(), Vec::new());
    if let Some(store) = app.orchestrator.store() {
        if let Ok(found) = store
            .runs(RunFilter {
                issue: Some(identifier.clone()),
                limit: Some(RUNS),
            })
            .await
        {
            runs = history::runs(&found, app.orchestrator.run_logs().as_deref())["runs"]
                .as_array()
                .cloned()
                .unwrap_or_default();
        }
        if let Ok(all) = store.audit_tail(ENTRIES).await {
            let own: Vec<_> = all
                .into_iter()
                .filter(|e| e.identifier.as_deref() == Some(identifier.as_str()))
                .collect();
            entries = history::events(&own)["events"]
                .as_array()
                .cloned()
                .unwrap_or_default();
        }
    }
    respond(
        StatusCode::OK,
        "text/html; charset=utf-8",
        render(&identifier, &state, &runs, &entries),
    )
}
