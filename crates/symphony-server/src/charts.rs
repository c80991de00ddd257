//! The dashboard's charts as server-rendered SVG (no script, no build step, no library to
//! keep up to date): spend per UTC day against the daily budget, spend per hour of the last
//! day, runs per day by outcome, and each gate's verdicts. Drawn from `/api/v1/usage` and the
//! day's budget in `/api/v1/state`, so a chart shows exactly what the API says.

use serde_json::Value;

use crate::html::escape;

const WIDTH: f64 = 560.0;
const HEIGHT: f64 = 170.0;
const LEFT: f64 = 56.0;
const BOTTOM: f64 = 22.0;
const TOP: f64 = 18.0;

/// Colours of run outcomes (and gate statuses), fixed so a legend reads the same everywhere.
fn colour(name: &str) -> &'static str {
    match name {
        "succeeded" | "pass" => "#2da44e",
        "failed" | "fail" => "#cf222e",
        "budget_exceeded" => "#8250df",
        "stalled" | "error" => "#bf8700",
        "stopped" | "interrupted" | "skipped" => "#8c959f",
        "running" => "#0969da",
        _ => "#57606a",
    }
}

/// One stacked bar chart: a bar per label, each the sum of its named parts, with an optional
/// dashed limit line. `unit` formats the axis maximum and the limit.
struct Bars<'a> {
    id: &'a str,
    title: &'a str,
    labels: Vec<String>,
    /// Per bar: `(part name, value)`.
    parts: Vec<Vec<(String, f64)>>,
    limit: Option<f64>,
    unit: fn(f64) -> String,
}

impl Bars<'_> {
    fn svg(&self) -> String {
        let totals: Vec<f64> = self
            .parts
            .iter()
            .map(|p| p.iter().map(|(_, v)| v).sum())
            .collect();
        let top = totals
            .iter()
            .copied()
            .chain(self.limit)
            .fold(0.0_f64, f64::max);
        let scale = if top > 0.0 {
            (HEIGHT - BOTTOM - TOP) / top
        } else {
            0.0
        };
        let n = self.labels.len().max(1) as f64;
        let slot = (WIDTH - LEFT) / n;
        let bar = (slot * 0.7).max(1.0);
        let base = HEIGHT - BOTTOM;
        let mut svg = format!(
            "<figure class=\"chart\" id=\"{id}\"><figcaption>{title}</figcaption>\
             <svg viewBox=\"0 0 {WIDTH} {HEIGHT}\" role=\"img\" aria-label=\"{title}\" \
             xmlns=\"http://www.w3.org/2000/svg\">\
             <line x1=\"{LEFT}\" y1=\"{base}\" x2=\"{WIDTH}\" y2=\"{base}\" stroke=\"#d0d7de\"/>\
             <text x=\"{lx}\" y=\"{ty}\" text-anchor=\"end\" class=\"axis\">{max}</text>\
             <text x=\"{lx}\" y=\"{base}\" text-anchor=\"end\" class=\"axis\">0</text>",
            id = self.id,
            title = escape(self.title),
            lx = LEFT - 4.0,
            ty = TOP + 4.0,
            max = escape(&(self.unit)(top)),
        );
        for (i, (label, parts)) in self.labels.iter().zip(&self.parts).enumerate() {
            let x = LEFT + slot * i as f64 + (slot - bar) / 2.0;
            let mut y = base;
            for (name, value) in parts.iter().filter(|(_, v)| *v > 0.0) {
                let h = value * scale;
                y -= h;
                svg.push_str(&format!(
                    "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{bar:.1}\" height=\"{h:.1}\" \
                     fill=\"{}\" data-part=\"{}\"><title>{}: {} {}</title></rect>",
                    colour(name),
                    escape(name),
                    escape(label),
                    escape(name),
                    escape(&(self.unit)(*value)),
                ));
            }
            // Every few labels, so they never overlap.
            let every = (self.labels.len() / 7).max(1);
            if i % every == 0 {
                svg.push_str(&format!(
                    "<text x=\"{:.1}\" y=\"{}\" text-anchor=\"middle\" class=\"axis\">{}</text>",
                    x + bar / 2.0,
                    HEIGHT - 6.0,
                    escape(label)
                ));
            }
        }
        if let Some(limit) = self.limit {
            let y = base - limit * scale;
            svg.push_str(&format!(
                "<line class=\"limit\" x1=\"{LEFT}\" y1=\"{y:.1}\" x2=\"{WIDTH}\" y2=\"{y:.1}\" \
                 stroke=\"#cf222e\" stroke-dasharray=\"6 4\"/>\
                 <text x=\"{WIDTH}\" y=\"{:.1}\" text-anchor=\"end\" class=\"axis\">daily limit {}</text>",
                y - 3.0,
                escape(&(self.unit)(limit))
            ));
        }
        let mut names: Vec<&str> = self
            .parts
            .iter()
            .flatten()
            .filter(|(_, v)| *v > 0.0)
            .map(|(n, _)| n.as_str())
            .collect();
        names.sort_unstable();
        names.dedup();
        svg.push_str("</svg>");
        if names.len() > 1 {
            svg.push_str("<p class=\"legend\">");
            for name in names {
                svg.push_str(&format!(
                    "<span><i style=\"background:{}\"></i>{}</span>",
                    colour(name),
                    escape(name)
                ));
            }
            svg.push_str("</p>");
        }
        svg.push_str("</figure>");
        svg
    }
}

/// `MM-DD` of each day row.
fn day_labels(days: &[Value]) -> Vec<String> {
    days.iter()
        .map(|d| {
            d["utc_day"]
                .as_str()
                .and_then(|t| t.get(5..))
                .unwrap_or("")
                .to_owned()
        })
        .collect()
}

/// A map of counts by name (`{"succeeded": 2}`) as the parts of one bar.
fn counts(map: &Value) -> Vec<(String, f64)> {
    map.as_object()
        .into_iter()
        .flatten()
        .map(|(k, v)| (k.clone(), v.as_f64().unwrap_or(0.0)))
        .collect()
}

fn usd(v: f64) -> String {
    format!("${v:.2}")
}

fn count(v: f64) -> String {
    if v >= 1_000_000.0 {
        format!("{:.1}M", v / 1_000_000.0)
    } else if v >= 1_000.0 {
        format!("{:.1}k", v / 1_000.0)
    } else {
        format!("{v:.0}")
    }
}

/// Spend per day in dollars when any day is priced, else in tokens, against the matching
/// daily hard limit.
fn spend_per_day(usage: &Value, budget: &Value) -> String {
    let days = usage["days"].as_array().cloned().unwrap_or_default();
    let priced = days.iter().any(|d| d["cost_usd"].is_number());
    let (key, unit, limit): (&str, fn(f64) -> String, Option<f64>) = if priced {
        ("cost_usd", usd, budget["cost_usd"]["hard"].as_f64())
    } else {
        ("tokens", count, budget["tokens"]["hard"].as_f64())
    };
    Bars {
        id: "chart-spend-days",
        title: if priced {
            "Spend per UTC day (US dollars)"
        } else {
            "Spend per UTC day (tokens)"
        },
        labels: day_labels(&days),
        parts: days
            .iter()
            .map(|d| vec![(key.to_owned(), d[key].as_f64().unwrap_or(0.0))])
            .collect(),
        limit,
        unit,
    }
    .svg()
}

fn spend_per_hour(usage: &Value) -> String {
    let hours = usage["hours"].as_array().cloned().unwrap_or_default();
    Bars {
        id: "chart-spend-hours",
        title: "Tokens of the runs started in each of the last 24 hours",
        labels: hours
            .iter()
            .map(|h| {
                h["hour"]
                    .as_str()
                    .and_then(|t| t.get(11..13))
                    .unwrap_or("")
                    .to_owned()
                    + "h"
            })
            .collect(),
        parts: hours
            .iter()
            .map(|h| vec![("tokens".to_owned(), h["tokens"].as_f64().unwrap_or(0.0))])
            .collect(),
        limit: None,
        unit: count,
    }
    .svg()
}

fn runs_per_day(usage: &Value) -> String {
    let days = usage["days"].as_array().cloned().unwrap_or_default();
    Bars {
        id: "chart-runs",
        title: "Runs per UTC day, by outcome",
        labels: day_labels(&days),
        parts: days.iter().map(|d| counts(&d["runs"])).collect(),
        limit: None,
        unit: count,
    }
    .svg()
}

/// Each gate's verdicts as a bar split by status, with its pass rate in the label.
fn gate_rates(usage: &Value) -> String {
    let gates = usage["gates"].as_array().cloned().unwrap_or_default();
    if gates.is_empty() {
        return "<figure class=\"chart\" id=\"chart-gates\"><figcaption>Gate verdicts\
                </figcaption><p class=\"empty\">no gate has judged a change yet</p></figure>"
            .to_owned();
    }
    Bars {
        id: "chart-gates",
        title: "Gate verdicts (pass rate)",
        labels: gates
            .iter()
            .map(|g| {
                let all: f64 = g["verdicts"]
                    .as_object()
                    .into_iter()
                    .flatten()
                    .filter_map(|(_, v)| v.as_f64())
                    .sum();
                let pass = g["verdicts"]["pass"].as_f64().unwrap_or(0.0);
                format!(
                    "{} {:.0}%",
                    g["gate"].as_str().unwrap_or(""),
                    if all > 0.0 { pass / all * 100.0 } else { 0.0 }
                )
            })
            .collect(),
        parts: gates.iter().map(|g| counts(&g["verdicts"])).collect(),
        limit: None,
        unit: count,
    }
    .svg()
}

/// The charts section for a `/api/v1/usage` value and the state's `budget`.
pub fn section(usage: &Value, budget: &Value) -> String {
    format!(
        "<h2>Over time</h2><div class=\"charts\">{}{}{}{}</div>",
        spend_per_day(usage, budget),
        spend_per_hour(usage),
        runs_per_day(usage),
        gate_rates(usage)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn bars_scale_to_the_larger_of_the_data_and_the_limit_and_escape_labels() {
        let usage = json!({
            "days": [
                {"utc_day": "2026-12-06", "tokens": 10, "cost_usd": 2.0, "runs": {"succeeded": 2, "failed": 1}},
                {"utc_day": "2026-12-07", "tokens": 5, "cost_usd": null, "runs": {}},
            ],
            "hours": [{"hour": "2026-12-07T10:00:00Z", "tokens": 3}],
            "gates": [{"gate": "<lint>", "verdicts": {"pass": 3, "fail": 1}}],
        });
        let html = section(&usage, &json!({"cost_usd": {"hard": 4.0}}));
        assert!(html.contains("Spend per UTC day (US dollars)"), "{html}");
        // The limit ($4) is the top: the $2 bar is half the plot's height.
        assert!(
            html.contains("height=\"65.0\" fill=\"#57606a\" data-part=\"cost_usd\""),
            "{html}"
        );
        assert!(html.contains("daily limit $4.00"), "{html}");
        assert!(html.contains("class=\"limit\""), "{html}");
        assert!(html.contains("&lt;lint&gt; 75%"), "{html}");
        assert!(!html.contains("<lint>"), "{html}");
        assert!(html.contains("data-part=\"failed\""), "{html}");
        let empty = section(&json!({"days": [], "hours": [], "gates": []}), &json!({}));
        assert!(empty.contains("no gate has judged a change yet"), "{empty}");
    }
}
