//! The dashboard at `/`: server-rendered HTML of the same JSON the API returns, refreshed in
//! place every two seconds by a few lines of plain JavaScript (no framework). Without
//! JavaScript the page reloads itself instead.

use serde_json::Value;

use crate::html::text;
use crate::html::{escape, percent};

/// Recent gate verdicts and hand-offs shown.
pub const REVIEWS: usize = 10;

/// The one-line summary of an audit entry about a review.
fn review_summary(entry: &Value) -> String {
    let d = &entry["detail"];
    let s = |v: &Value| v.as_str().unwrap_or_default().to_owned();
    match entry["kind"].as_str().unwrap_or_default() {
        "gate_verdict" => format!(
            "{}: {} — {}",
            s(&d["gate"]),
            s(&d["status"]),
            s(&d["summary"])
        ),
        "change_proposed" => format!("{} {}", s(&d["branch"]), s(&d["url"])),
        "handed_off" => format!("to {} {}", s(&d["state"]), s(&d["url"])),
        "handoff_failed" => s(&d["error"]),
        "changelog_generated" => s(&d["path"]),
        "review_round_started" => format!("round {} to {}", d["round"], s(&d["state"])),
        "review_watch_ended" => s(&d["reason"]),
        _ => String::new(),
    }
}

/// The "in review" table for a `/api/v1/reviews` value: each watched change, its round and
/// what it awaits.
pub fn in_review(watched: &Value) -> String {
    let mut html = String::from("<h2>In review</h2><table id=\"in-review\"><thead><tr><th>Issue</th><th>Change</th><th>Round</th><th>Awaiting</th><th>Since</th></tr></thead><tbody>");
    let rows = watched["reviews"].as_array().cloned().unwrap_or_default();
    if rows.is_empty() {
        html.push_str("<tr><td colspan=\"5\" class=\"empty\">nothing under review</td></tr>");
    }
    for r in &rows {
        let change = match r["url"].as_str() {
            Some(url) if url.starts_with("https://") || url.starts_with("http://") => {
                format!("<a href=\"{}\">{}</a>", escape(url), text(&r["branch"]))
            }
            _ => text(&r["branch"]),
        };
        let awaiting = match r["awaiting"].as_str() {
            Some("agent") => format!(
                "the agent ({} item(s) of feedback)",
                r["pending_feedback"].as_u64().unwrap_or(0)
            ),
            _ => "reviewers".to_owned(),
        };
        html.push_str(&format!(
            "<tr><td>{}</td><td>{change}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            text(&r["issue_identifier"]),
            text(&r["round"]),
            escape(&awaiting),
            text(&r["since"]),
        ));
    }
    html.push_str("</tbody></table>");
    html
}

/// The "recent gate verdicts and hand-offs" table for a `/api/v1/events` value.
pub fn reviews(events: &Value) -> String {
    let mut html = String::from("<h2>Recent gate verdicts and hand-offs</h2><table id=\"reviews\"><thead><tr><th>When</th><th>Issue</th><th>What</th><th>Detail</th></tr></thead><tbody>");
    let entries = events["events"].as_array().cloned().unwrap_or_default();
    if entries.is_empty() {
        html.push_str("<tr><td colspan=\"4\" class=\"empty\">none yet</td></tr>");
    }
    for e in &entries {
        html.push_str(&format!(
            "<tr data-kind=\"{kind}\"><td>{}</td><td>{}</td><td>{kind}</td><td>{}</td></tr>",
            text(&e["at"]),
            text(&e["issue_identifier"]),
            escape(&review_summary(e)),
            kind = text(&e["kind"]),
        ));
    }
    html.push_str("</tbody></table>");
    html
}

/// The tables' inner HTML for a `/api/v1/state` value (also what the script re-renders).
pub fn body(state: &Value) -> String {
    let mut html = String::new();
    if let Some(error) = state["health"]["store_error"].as_str() {
        html.push_str(&format!(
            "<p class=\"banner error\" id=\"store-error\">The state store cannot write: {}. Changes are queued and retried.</p>",
            escape(error)
        ));
    }
    if let Some(error) = state["health"]["config_error"].as_str() {
        html.push_str(&format!(
            "<p class=\"banner error\" id=\"config-error\">Not dispatching new work: {}</p>",
            escape(error)
        ));
    }
    let counts = &state["counts"];
    let totals = &state["codex_totals"];
    html.push_str(&format!(
        "<p class=\"totals\" id=\"totals\">{} running · {} retrying · {} tokens{} · {} s of agent time · as of {}</p>",
        text(&counts["running"]),
        text(&counts["retrying"]),
        text(&totals["total_tokens"]),
        // Only agents that price their work report a cost: none reported is not "$0".
        totals["cost_usd"]
            .as_f64()
            .and_then(symphony_core::micros_of_usd)
            .map_or_else(String::new, |micros| format!(
                " · {} as agents priced it",
                symphony_core::dollars(micros)
            )),
        text(&totals["seconds_running"]),
        text(&state["generated_at"]),
    ));
    html.push_str("<h2>Running</h2><table id=\"running\"><thead><tr><th>Issue</th><th>State</th><th>Stage</th><th>Turns</th><th>Last event</th><th>Tokens</th><th>Age</th></tr></thead><tbody>");
    let running = state["running"].as_array().cloned().unwrap_or_default();
    if running.is_empty() {
        html.push_str("<tr><td colspan=\"7\" class=\"empty\">nothing running</td></tr>");
    }
    for r in &running {
        html.push_str(&format!(
            "<tr data-issue=\"{id}\"><td><a href=\"/issues/{link}\">{id}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{} <span class=\"message\">{}</span></td><td>{}</td><td>{}</td></tr>",
            text(&r["state"]),
            text(&r["stage"]),
            text(&r["turn_count"]),
            text(&r["last_event"]),
            text(&r["last_message"]),
            text(&r["tokens"]["total_tokens"]),
            escape(&age(&r["started_at"], &state["generated_at"])),
            id = text(&r["issue_identifier"]),
            link = escape(&percent(r["issue_identifier"].as_str().unwrap_or_default())),
        ));
    }
    html.push_str("</tbody></table><h2>Retry queue</h2><table id=\"retrying\"><thead><tr><th>Issue</th><th>Attempt</th><th>Due</th><th>Error</th></tr></thead><tbody>");
    let retrying = state["retrying"].as_array().cloned().unwrap_or_default();
    if retrying.is_empty() {
        html.push_str("<tr><td colspan=\"4\" class=\"empty\">no retries queued</td></tr>");
    }
    for r in &retrying {
        html.push_str(&format!(
            "<tr data-issue=\"{id}\"><td>{id}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            text(&r["attempt"]),
            text(&r["due_at"]),
            text(&r["error"]),
            id = text(&r["issue_identifier"]),
        ));
    }
    html.push_str("</tbody></table>");
    html
}

/// How long before `to` the time `from` was (`1h02m`, `3m05s`, `12s`); empty when unknown.
fn age(from: &Value, to: &Value) -> String {
    let parse = |v: &Value| {
        v.as_str()
            .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
    };
    let (Some(from), Some(to)) = (parse(from), parse(to)) else {
        return String::new();
    };
    let s = (to - from).num_seconds().max(0);
    if s >= 3600 {
        format!("{}h{:02}m", s / 3600, s % 3600 / 60)
    } else if s >= 60 {
        format!("{}m{:02}s", s / 60, s % 60)
    } else {
        format!("{s}s")
    }
}

const SCRIPT: &str = r#"
const esc = (v) => (v === null || v === undefined || v === "") ? "—" :
  String(v).replace(/[&<>"']/g, (c) => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c]));
function age(from, to) {
  const s = Math.max(0, Math.round((Date.parse(to) - Date.parse(from)) / 1000));
  if (!Number.isFinite(s)) return "";
  return s >= 3600 ? `${Math.floor(s / 3600)}h${String(Math.floor(s % 3600 / 60)).padStart(2, "0")}m`
    : s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s` : `${s}s`;
}
function dollars(usd) {
  return usd >= 0.01 ? `$${usd.toFixed(2)}` : `$${usd.toFixed(4)}`;
}
function render(s) {
  let h = s.health && s.health.store_error ? `<p class="banner error" id="store-error">The state store cannot write: ${esc(s.health.store_error)}. Changes are queued and retried.</p>` : "";
  h += s.health && s.health.config_error ? `<p class="banner error" id="config-error">Not dispatching new work: ${esc(s.health.config_error)}</p>` : "";
  h += `<p class="totals" id="totals">${esc(s.counts.running)} running · ${esc(s.counts.retrying)} retrying · ${esc(s.codex_totals.total_tokens)} tokens${typeof s.codex_totals.cost_usd === "number" ? ` · ${esc(dollars(s.codex_totals.cost_usd))} as agents priced it` : ""} · ${esc(s.codex_totals.seconds_running)} s of agent time · as of ${esc(s.generated_at)}</p>`;
  h += `<h2>Running</h2><table id="running"><thead><tr><th>Issue</th><th>State</th><th>Stage</th><th>Turns</th><th>Last event</th><th>Tokens</th><th>Age</th></tr></thead><tbody>`;
  if (s.running.length === 0) h += `<tr><td colspan="7" class="empty">nothing running</td></tr>`;
  for (const r of s.running) h += `<tr data-issue="${esc(r.issue_identifier)}"><td><a href="/issues/${encodeURIComponent(r.issue_identifier)}">${esc(r.issue_identifier)}</a></td><td>${esc(r.state)}</td><td>${esc(r.stage)}</td><td>${esc(r.turn_count)}</td><td>${esc(r.last_event)} <span class="message">${esc(r.last_message)}</span></td><td>${esc(r.tokens.total_tokens)}</td><td title="${esc(r.started_at)}">${esc(age(r.started_at, s.generated_at))}</td></tr>`;
  h += `</tbody></table><h2>Retry queue</h2><table id="retrying"><thead><tr><th>Issue</th><th>Attempt</th><th>Due</th><th>Error</th></tr></thead><tbody>`;
  if (s.retrying.length === 0) h += `<tr><td colspan="4" class="empty">no retries queued</td></tr>`;
  for (const r of s.retrying) h += `<tr data-issue="${esc(r.issue_identifier)}"><td>${esc(r.issue_identifier)}</td><td>${esc(r.attempt)}</td><td>${esc(r.due_at)}</td><td>${esc(r.error)}</td></tr>`;
  document.getElementById("live").innerHTML = h + `</tbody></table>`;
}
function summary(e) {
  const d = e.detail || {}, s = (v) => (v === null || v === undefined) ? "" : String(v);
  switch (e.kind) {
    case "gate_verdict": return `${s(d.gate)}: ${s(d.status)} — ${s(d.summary)}`;
    case "change_proposed": return `${s(d.branch)} ${s(d.url)}`;
    case "handed_off": return `to ${s(d.state)} ${s(d.url)}`;
    case "handoff_failed": return s(d.error);
    case "changelog_generated": return s(d.path);
    case "review_round_started": return `round ${s(d.round)} to ${s(d.state)}`;
    case "review_watch_ended": return s(d.reason);
    default: return "";
  }
}
function renderReviews(v) {
  let h = `<h2>Recent gate verdicts and hand-offs</h2><table id="reviews"><thead><tr><th>When</th><th>Issue</th><th>What</th><th>Detail</th></tr></thead><tbody>`;
  if (v.events.length === 0) h += `<tr><td colspan="4" class="empty">none yet</td></tr>`;
  for (const e of v.events) h += `<tr data-kind="${esc(e.kind)}"><td>${esc(e.at)}</td><td>${esc(e.issue_identifier)}</td><td>${esc(e.kind)}</td><td>${esc(summary(e))}</td></tr>`;
  document.getElementById("reviews-live").innerHTML = h + `</tbody></table>`;
}
async function pollReviews() {
  const section = document.getElementById("reviews-live");
  if (!section) return;
  const r = await fetch(`/api/v1/events?kind=${REVIEW_KINDS}&limit=${REVIEWS}`, {headers: {"accept": "application/json"}});
  if (r.ok) renderReviews(await r.json());
}
function renderInReview(v) {
  let h = `<h2>In review</h2><table id="in-review"><thead><tr><th>Issue</th><th>Change</th><th>Round</th><th>Awaiting</th><th>Since</th></tr></thead><tbody>`;
  if (v.reviews.length === 0) h += `<tr><td colspan="5" class="empty">nothing under review</td></tr>`;
  for (const r of v.reviews) {
    const url = typeof r.url === "string" && /^https?:\/\//.test(r.url) ? r.url : null;
    const change = url ? `<a href="${esc(url)}">${esc(r.branch)}</a>` : esc(r.branch);
    const awaiting = r.awaiting === "agent" ? `the agent (${r.pending_feedback || 0} item(s) of feedback)` : "reviewers";
    h += `<tr><td>${esc(r.issue_identifier)}</td><td>${change}</td><td>${esc(r.round)}</td><td>${esc(awaiting)}</td><td>${esc(r.since)}</td></tr>`;
  }
  document.getElementById("in-review-live").innerHTML = h + `</tbody></table>`;
}
async function pollInReview() {
  if (!document.getElementById("in-review-live")) return;
  const r = await fetch("/api/v1/reviews", {headers: {"accept": "application/json"}});
  if (r.ok) renderInReview(await r.json());
}
async function poll() {
  const banner = document.getElementById("health");
  try {
    const r = await fetch("/api/v1/state", {headers: {"accept": "application/json"}});
    if (!r.ok) throw new Error(`the API answered ${r.status}`);
    const s = await r.json();
    render(s);
    renderPanels(s);
    await pollReviews();
    await pollInReview();
    banner.hidden = true;
  } catch (e) {
    banner.textContent = `Not updating: ${e.message}`;
    banner.hidden = false;
  }
}
setInterval(poll, 2000);
async function pollCharts() {
  const section = document.getElementById("charts-live");
  if (!section) return;
  try {
    const r = await fetch("/dashboard/charts");
    if (r.ok) section.innerHTML = await r.text();
  } catch (e) {}
}
setInterval(pollCharts, 5000);
"#;

const STYLE: &str = "body{font:15px/1.45 system-ui,sans-serif;margin:1.5rem auto;max-width:80rem;padding:0 1rem;color:#1b1f24}\
h1{font-size:1.4rem;margin:0 0 .3rem}h2{font-size:1.05rem;margin:1.4rem 0 .4rem}\
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.35rem .5rem;border-bottom:1px solid #d8dee4;vertical-align:top}\
th{font-weight:600;background:#f6f8fa}.message{color:#57606a}.empty{color:#57606a;font-style:italic}\
.totals{color:#57606a}.banner{background:#fff8c5;border:1px solid #d4a72c;padding:.5rem .75rem;border-radius:6px}\
.banner.error{background:#ffebe9;border-color:#cf222e}\
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(26rem,1fr));gap:1rem}\
.chart{margin:0}.chart figcaption{font-weight:600;margin-bottom:.2rem}.chart svg{width:100%;height:auto}\
.axis{font-size:10px;fill:#57606a}.legend{font-size:12px;color:#57606a;margin:.2rem 0}\
.legend span{margin-right:.8rem}.legend i{display:inline-block;width:.7rem;height:.7rem;margin-right:.25rem;border-radius:2px}\
.meter meter{margin-left:.6rem;width:14rem;vertical-align:middle}";

/// A page of its own (an issue's) in the dashboard's style, with a way back.
pub fn frame(title: &str, body: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{}</title><style>{STYLE}</style></head><body>\
         <p><a href=\"/\">← Symphony</a></p>{body}</body></html>",
        escape(title)
    )
}

/// The whole page for `state` (`None` when the orchestrator did not answer), the recent
/// reviews and the changes in review (`None` when the service keeps no store).
pub fn page(
    state: Option<&Value>,
    (recent, watched): (Option<&Value>, Option<&Value>),
    unavailable: Option<&str>,
    charts: Option<&str>,
) -> String {
    let live = state.map(body).unwrap_or_default();
    let budget = state
        .map(crate::dashboard_panels::budget)
        .unwrap_or_default();
    let backlog = state
        .map(crate::dashboard_panels::backlog)
        .unwrap_or_default();
    let charts = charts
        .map(|c| format!("<div id=\"charts-live\">{c}</div>"))
        .unwrap_or_default();
    let reviews_section = recent
        .map(|r| format!("<div id=\"reviews-live\">{}</div>", reviews(r)))
        .unwrap_or_default();
    let in_review_section = watched
        .map(|w| format!("<div id=\"in-review-live\">{}</div>", in_review(w)))
        .unwrap_or_default();
    let script = SCRIPT
        .replace("${REVIEW_KINDS}", &crate::history::REVIEW_KINDS.join(","))
        .replace("${REVIEWS}", &REVIEWS.to_string())
        + crate::dashboard_panels::SCRIPT;
    let banner = match unavailable {
        Some(why) => format!(
            "<p class=\"banner\" id=\"health\">Orchestrator unavailable: {}</p>",
            escape(why)
        ),
        None => "<p class=\"banner\" id=\"health\" hidden></p>".to_owned(),
    };
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>Symphony</title><noscript><meta http-equiv=\"refresh\" content=\"5\"></noscript>\
         <style>{STYLE}</style></head><body><h1>Symphony</h1>{banner}\
         <div id=\"budget-live\">{budget}</div>\
         <div id=\"live\">{live}</div><div id=\"backlog-live\">{backlog}</div>{charts}\
         {in_review_section}{reviews_section}\
         <p class=\"totals\">JSON: <a href=\"/api/v1/state\">/api/v1/state</a> · \
         <a href=\"/metrics\">/metrics</a> · <a href=\"/healthz\">/healthz</a></p>\
         <script>{script}</script></body></html>"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn hostile_text_is_escaped_and_identifiers_are_linked_safely() {
        let state = json!({
            "generated_at": "2026-11-24T10:00:00Z",
            "counts": {"running": 1, "retrying": 0},
            "running": [{"issue_identifier": "acme#7", "state": "<b>todo</b>", "stage": "agent",
                "turn_count": 2, "last_event": "turn_completed", "last_message": "\"'><script>x</script>",
                "tokens": {"total_tokens": 10}, "started_at": "2026-11-24T09:59:00Z"}],
            "retrying": [],
            "codex_totals": {"total_tokens": 10, "seconds_running": 60.0, "cost_usd": 0.00028},
        });
        let html = body(&state);
        assert!(
            html.contains("10 tokens · $0.0003 as agents priced it · 60.0 s"),
            "{html}"
        );
        assert!(!html.contains("<script>x"), "{html}");
        assert!(html.contains("&lt;b&gt;todo&lt;/b&gt;"), "{html}");
        assert!(html.contains("href=\"/issues/acme%237\""), "{html}");
        assert!(html.contains("no retries queued"), "{html}");
        assert!(!html.contains("config-error"), "no banner without an error");
        assert!(html.contains("<td>1m00s</td>"), "the age column: {html}");
    }

    #[test]
    fn a_config_error_is_a_banner_and_reviews_are_summarised_escaped() {
        let state = json!({
            "generated_at": "2026-11-24T10:00:00Z",
            "counts": {"running": 0, "retrying": 0}, "running": [], "retrying": [],
            "codex_totals": {"total_tokens": 0, "seconds_running": 0.0},
            "health": {"config_error": "invalid_workflow: <bad> front matter"},
        });
        let html = body(&state);
        assert!(
            html.contains(
                "id=\"config-error\">Not dispatching new work: invalid_workflow: &lt;bad&gt;"
            ),
            "{html}"
        );
        assert!(
            html.contains("0 tokens · 0.0 s"),
            "no cost, no price: {html}"
        );
        let events = json!({"events": [
            {"at": "2026-11-24T10:00:00Z", "kind": "gate_verdict", "issue_identifier": "A-1",
             "detail": {"gate": "secrets", "status": "fail", "summary": "1 secret <in> settings.ini"}},
            {"at": "2026-11-24T10:01:00Z", "kind": "handed_off", "issue_identifier": "A-1",
             "detail": {"state": "human review", "url": "https://example.test/pr/1"}},
        ]});
        let html = reviews(&events);
        assert!(
            html.contains("secrets: fail — 1 secret &lt;in&gt; settings.ini"),
            "{html}"
        );
        assert!(
            html.contains("to human review https://example.test/pr/1"),
            "{html}"
        );
        assert!(reviews(&json!({"events": []})).contains("none yet"));
    }
}
