//! The dashboard's budget and backlog panels (ADR 0023): the day's use against the daily
//! budget (and a banner while it holds dispatch), and every candidate issue with what holds it
//! — the `symphony issues` explainer, live. Rendered here from `/api/v1/state` and again in the
//! page by [`SCRIPT`], from the same JSON.

use serde_json::Value;

use crate::html::{escape, text};

/// One daily limit as a meter: `used of hard (pct)`; nothing without a hard limit.
fn meter(name: &str, line: &Value, money: bool) -> String {
    let Some(hard) = line["hard"].as_f64() else {
        return String::new();
    };
    let used = line["used"].as_f64().unwrap_or(0.0);
    let pct = if hard > 0.0 {
        used / hard * 100.0
    } else {
        100.0
    };
    let show = |v: f64| {
        if money {
            format!("${v:.2}")
        } else {
            format!("{v:.0}")
        }
    };
    format!(
        "<p class=\"meter\" data-budget=\"{name}\">{name}: {} of {} ({pct:.0}%)\
         <meter min=\"0\" max=\"{hard}\" value=\"{used}\"></meter></p>",
        escape(&show(used)),
        escape(&show(hard)),
    )
}

/// The budget panel for a `/api/v1/state` value.
pub fn budget(state: &Value) -> String {
    let b = &state["budget"];
    let mut html = String::new();
    if let Some(message) = b["dispatch_held"]["message"].as_str() {
        html.push_str(&format!(
            "<p class=\"banner error\" id=\"budget-held\">Dispatch is held until the next UTC \
             day: {}. Running work goes on.</p>",
            escape(message)
        ));
    }
    let meters = format!(
        "{}{}",
        meter("daily cost", &b["cost_usd"], true),
        meter("daily tokens", &b["tokens"], false)
    );
    if !meters.is_empty() {
        html.push_str(&format!(
            "<h2>Budget today ({})</h2>{meters}",
            text(&b["utc_day"])
        ));
    }
    html
}

/// The backlog panel for a `/api/v1/state` value.
pub fn backlog(state: &Value) -> String {
    let mut html = String::from("<h2>Backlog</h2><table id=\"backlog\"><thead><tr><th>Issue</th><th>Title</th><th>State</th><th>Priority</th><th>Waiting</th><th>Why</th></tr></thead><tbody>");
    let rows = state["backlog"].as_array().cloned().unwrap_or_default();
    if rows.is_empty() {
        html.push_str("<tr><td colspan=\"6\" class=\"empty\">no candidates read yet</td></tr>");
    }
    for r in &rows {
        html.push_str(&format!(
            "<tr data-issue=\"{id}\" data-waiting=\"{w}\"><td><a href=\"/issues/{link}\">{id}</a></td>\
             <td>{}</td><td>{}</td><td>{}</td><td>{w}</td><td>{}</td></tr>",
            text(&r["title"]),
            text(&r["state"]),
            text(&r["priority"]),
            text(&r["why"]),
            id = text(&r["issue_identifier"]),
            link = escape(&crate::html::percent(
                r["issue_identifier"].as_str().unwrap_or_default()
            )),
            w = text(&r["waiting"]),
        ));
    }
    html.push_str("</tbody></table>");
    html
}

/// The panels' renderers in the page (`esc` comes from the dashboard's script).
pub const SCRIPT: &str = r#"
function meter(name, line, money) {
  if (!line || typeof line.hard !== "number") return "";
  const used = typeof line.used === "number" ? line.used : 0;
  const pct = line.hard > 0 ? used / line.hard * 100 : 100;
  const show = (v) => money ? `$${v.toFixed(2)}` : v.toFixed(0);
  return `<p class="meter" data-budget="${name}">${name}: ${esc(show(used))} of ${esc(show(line.hard))} (${pct.toFixed(0)}%)<meter min="0" max="${line.hard}" value="${used}"></meter></p>`;
}
function renderPanels(s) {
  const b = s.budget || {};
  let h = b.dispatch_held ? `<p class="banner error" id="budget-held">Dispatch is held until the next UTC day: ${esc(b.dispatch_held.message)}. Running work goes on.</p>` : "";
  const meters = meter("daily cost", b.cost_usd, true) + meter("daily tokens", b.tokens, false);
  if (meters) h += `<h2>Budget today (${esc(b.utc_day)})</h2>${meters}`;
  document.getElementById("budget-live").innerHTML = h;
  let t = `<h2>Backlog</h2><table id="backlog"><thead><tr><th>Issue</th><th>Title</th><th>State</th><th>Priority</th><th>Waiting</th><th>Why</th></tr></thead><tbody>`;
  const rows = s.backlog || [];
  if (rows.length === 0) t += `<tr><td colspan="6" class="empty">no candidates read yet</td></tr>`;
  for (const r of rows) t += `<tr data-issue="${esc(r.issue_identifier)}" data-waiting="${esc(r.waiting)}"><td><a href="/issues/${encodeURIComponent(r.issue_identifier)}">${esc(r.issue_identifier)}</a></td><td>${esc(r.title)}</td><td>${esc(r.state)}</td><td>${esc(r.priority)}</td><td>${esc(r.waiting)}</td><td>${esc(r.why)}</td></tr>`;
  document.getElementById("backlog-live").innerHTML = t + `</tbody></table>`;
}
"#;

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_hold_is_a_banner_meters_show_use_and_the_backlog_says_why() {
        let state = json!({
            "budget": {"utc_day": "2026-12-07", "tokens": {"used": 10, "hard": null},
                "cost_usd": {"used": 7.5, "hard": 10.0},
                "dispatch_held": {"budget": "daily_cost", "message": "daily_cost budget: <used>"}},
            "backlog": [
                {"issue_identifier": "A#1", "title": "<b>x</b>", "state": "todo", "priority": 1,
                 "waiting": "next", "why": null},
                {"issue_identifier": "A-2", "title": "y", "state": "todo", "priority": null,
                 "waiting": "blocked", "why": "blocked by A#1"},
            ],
        });
        let html = budget(&state);
        assert!(html.contains("id=\"budget-held\""), "{html}");
        assert!(html.contains("daily_cost budget: &lt;used&gt;"), "{html}");
        assert!(html.contains("daily cost: $7.50 of $10.00 (75%)"), "{html}");
        assert!(
            !html.contains("daily tokens"),
            "no hard token limit, no meter: {html}"
        );
        let html = backlog(&state);
        assert!(html.contains("href=\"/issues/A%231\""), "{html}");
        assert!(html.contains("&lt;b&gt;x&lt;/b&gt;"), "{html}");
        assert!(
            html.contains("data-waiting=\"blocked\"") && html.contains("blocked by A#1"),
            "{html}"
        );
        assert_eq!(budget(&json!({"budget": {}})), "");
    }
}
