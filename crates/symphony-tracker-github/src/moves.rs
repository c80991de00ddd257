//! Which `github_api` calls are the agent moving its own issue, and to where.
//!
//! A move is credited to the agent only when its call asked for the state the issue ended in:
//! a state label it added or set, or the issue's closing. GitHub's answer to such a call (the
//! labels the issue now has, or the issue itself) says where the issue ended, so no read is
//! needed around it. A person's move made meanwhile is therefore never taken for the agent's:
//! a state the agent did not name is not its move, and removing a label names no state. The
//! one case this cannot tell apart, a person moving the issue to the very state the agent
//! then asks for, is credited to the agent, whose request it also is (ADR 0017).

use serde_json::Value;

use crate::config::{GithubConfig, StateSource, CLOSED, OPEN};
use crate::record::strip_prefix_ignore_case;
use crate::tools::method;

/// What a call asks of the issue's state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Intent {
    /// A read, a write elsewhere, or a write that names no state: no move.
    None,
    /// A write that asks for these states (possibly none, as a removal does).
    Names(Vec<String>),
    /// A write that may move the issue where it cannot be told to which state (an unreadable
    /// body, or a board whose Status a REST call does not set): read the issue around it.
    Unknown,
}

/// What `arguments` ask of issue `number`'s state.
pub(crate) fn intent(config: &GithubConfig, arguments: &Value, number: u64) -> Intent {
    if method(arguments).map_or(true, |m| m == http::Method::GET) {
        return Intent::None;
    }
    let Some(path) = arguments.get("path").and_then(Value::as_str) else {
        return Intent::None;
    };
    let issue = format!("/repos/{}/issues/{number}", config.full_name()).to_ascii_lowercase();
    let path = path.trim_end_matches('/').to_ascii_lowercase();
    let body = arguments.get("body").filter(|b| !b.is_null());
    if path == issue {
        return issue_edit(config, body);
    }
    let labels = format!("{issue}/labels");
    if path != labels && !path.starts_with(&format!("{labels}/")) {
        return Intent::None;
    }
    // Labels are states only under the labels state source.
    let StateSource::Labels { prefix } = &config.state_source else {
        return Intent::None;
    };
    if let Some(removed) = path.strip_prefix(&format!("{labels}/")) {
        let removes_a_state = strip_prefix_ignore_case(removed, prefix).is_some();
        return if removes_a_state {
            Intent::Names(Vec::new())
        } else {
            Intent::None
        };
    }
    let items = match body {
        Some(Value::Array(items)) => Some(items),
        Some(Value::Object(body)) => body.get("labels").and_then(Value::as_array),
        _ => None,
    };
    match items.and_then(|items| label_names(items)) {
        // Setting labels without a state label takes the issue out of scope: no move either.
        Some(names) => names_or_none(states_named(&names, prefix)),
        None => Intent::Unknown,
    }
}

/// `PATCH /repos/o/r/issues/N`: closing names `closed`; labels name their state labels.
fn issue_edit(config: &GithubConfig, body: Option<&Value>) -> Intent {
    let Some(Value::Object(body)) = body else {
        return Intent::Unknown;
    };
    let state = body.get("state").and_then(Value::as_str);
    let mut named = Vec::new();
    match &config.state_source {
        StateSource::Project(_) if state.is_some() => return Intent::Unknown,
        StateSource::Project(_) => return Intent::None,
        StateSource::Issue => match state {
            Some(s) if s.eq_ignore_ascii_case("closed") => named.push(CLOSED.to_owned()),
            Some(s) if s.eq_ignore_ascii_case("open") => named.push(OPEN.to_owned()),
            Some(_) => return Intent::Unknown,
            None => {}
        },
        StateSource::Labels { prefix } => {
            if state.is_some_and(|s| s.eq_ignore_ascii_case("closed")) {
                named.push(CLOSED.to_owned());
            }
            match body.get("labels") {
                Some(Value::Array(items)) => match label_names(items) {
                    Some(names) => named.extend(states_named(&names, prefix)),
                    None => return Intent::Unknown,
                },
                Some(_) => return Intent::Unknown,
                None => {}
            }
        }
    }
    names_or_none(named)
}

fn names_or_none(named: Vec<String>) -> Intent {
    if named.is_empty() {
        Intent::None
    } else {
        Intent::Names(named)
    }
}

/// The states among label `names` (`prefix` stripped, blank ones dropped).
fn states_named(names: &[String], prefix: &str) -> Vec<String> {
    names
        .iter()
        .filter_map(|name| strip_prefix_ignore_case(name, prefix).map(str::trim))
        .filter(|state| !state.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Label names as GitHub accepts them in a body: strings, or objects with a `name`.
fn label_names(items: &[Value]) -> Option<Vec<String>> {
    items
        .iter()
        .map(|item| match item {
            Value::String(name) => Some(name.clone()),
            other => other.get("name").and_then(Value::as_str).map(str::to_owned),
        })
        .collect()
}

/// The states issue shows in GitHub's answer to a successful write on it: the labels it now
/// has (a labels call) or the issue itself (an edit). `None` when the answer does not say.
pub(crate) fn states_in_answer(config: &GithubConfig, output: &Value) -> Option<Vec<String>> {
    let status = output.get("status").and_then(Value::as_u64)?;
    if !(200..300).contains(&status) {
        return None;
    }
    let body = output.get("body")?;
    let (open, labels) = match body {
        // A labels call: the issue's labels now; it neither opens nor closes the issue.
        Value::Array(labels) => (None, labels),
        Value::Object(issue) => (
            Some(issue.get("state")?.as_str()?.eq_ignore_ascii_case("open")),
            issue.get("labels")?.as_array()?,
        ),
        _ => return None,
    };
    match (&config.state_source, open) {
        (StateSource::Project(_), _) => None,
        (_, Some(false)) => Some(vec![CLOSED.to_owned()]),
        (StateSource::Issue, Some(true)) => Some(vec![OPEN.to_owned()]),
        (StateSource::Issue, None) => None,
        (StateSource::Labels { prefix }, _) => {
            let names = labels
                .iter()
                .map(|label| label.get("name").and_then(Value::as_str).map(str::to_owned))
                .collect::<Option<Vec<String>>>()?;
            Some(states_named(&names, prefix))
        }
    }
}

/// The move to credit to the agent: the one state it `named` that the issue now shows (in
/// `now`), unless the issue was already there when the session last knew it (`known`).
pub(crate) fn credited(named: &[String], now: &[String], known: &str) -> Option<String> {
    let mut asked_and_shown = named
        .iter()
        .filter(|state| now.iter().any(|s| s.eq_ignore_ascii_case(state)));
    let state = asked_and_shown.next()?;
    if asked_and_shown.any(|other| !other.eq_ignore_ascii_case(state))
        || state.eq_ignore_ascii_case(known)
    {
        return None;
    }
    Some(state.clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    use crate::config::test_config as config;

    fn names(states: &[&str]) -> Intent {
        Intent::Names(states.iter().map(|s| (*s).to_owned()).collect())
    }

    #[test]
    fn a_call_names_the_states_it_asks_for() {
        let config = config();
        let call = |method: &str, path: &str, body: Value| {
            intent(
                &config,
                &json!({"method": method, "path": path, "body": body}),
                7,
            )
        };
        let issue = "/repos/acme/widgets/issues/7";
        let labels = "/repos/acme/widgets/issues/7/labels";
        assert_eq!(
            call("PATCH", issue, json!({"state": "closed"})),
            names(&[CLOSED])
        );
        assert_eq!(
            call("PATCH", issue, json!({"labels": ["symphony:done"]})),
            names(&["done"])
        );
        assert_eq!(call("PATCH", issue, json!({"title": "x"})), Intent::None);
        assert_eq!(
            call("PATCH", issue, json!({"labels": "x"})),
            Intent::Unknown
        );
        assert_eq!(
            call("PUT", labels, json!({"labels": ["symphony:done", "docs"]})),
            names(&["done"])
        );
        assert_eq!(
            call("POST", labels, json!(["Symphony:Human-Review"])),
            names(&["Human-Review"])
        );
        assert_eq!(
            call(
                "POST",
                labels,
                json!({"labels": [{"name": "symphony:todo"}]})
            ),
            names(&["todo"])
        );
        assert_eq!(
            call("DELETE", &format!("{labels}/symphony:todo"), Value::Null),
            names(&[]),
            "a removal names no state to credit"
        );
        assert_eq!(
            call("POST", labels, json!("unreadable")),
            Intent::Unknown,
            "unknown: read around it"
        );
        assert_eq!(
            call("POST", labels, json!({"labels": ["docs"]})),
            Intent::None
        );
        assert_eq!(call("PUT", labels, json!(["docs", "bug"])), Intent::None);
        assert_eq!(
            call("DELETE", &format!("{labels}/docs"), Value::Null),
            Intent::None
        );
        assert_eq!(call("GET", issue, Value::Null), Intent::None);
        assert_eq!(
            call("POST", &format!("{issue}/comments"), json!({"body": "x"})),
            Intent::None
        );
        assert_eq!(
            call(
                "POST",
                "/repos/acme/widgets/issues/8/labels",
                json!(["symphony:done"])
            ),
            Intent::None,
            "another issue's labels"
        );
    }

    #[test]
    fn answers_say_where_the_issue_is_now() {
        let config = config();
        let labels = json!({"status": 200, "body": [
            {"name": "symphony:human-review"}, {"name": "docs"}, {"name": "symphony:todo"}
        ]});
        assert_eq!(
            states_in_answer(&config, &labels),
            Some(vec!["human-review".to_owned(), "todo".to_owned()])
        );
        let closed = json!({"status": 200, "body": {"state": "closed", "labels": []}});
        assert_eq!(
            states_in_answer(&config, &closed),
            Some(vec![CLOSED.to_owned()])
        );
        let refused = json!({"status": 404, "body": {"message": "Label does not exist"}});
        assert_eq!(states_in_answer(&config, &refused), None);
        let odd = json!({"status": 200, "body": "ok"});
        assert_eq!(states_in_answer(&config, &odd), None);
    }

    #[test]
    fn only_a_state_the_agent_asked_for_is_its_move() {
        let s = |states: &[&str]| states.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert_eq!(
            credited(&s(&["review"]), &s(&["todo", "review"]), "todo"),
            Some("review".to_owned()),
            "asked for and shown, even before the old label is removed"
        );
        assert_eq!(
            credited(&s(&["review"]), &s(&["rework"]), "todo"),
            None,
            "a person's state"
        );
        assert_eq!(credited(&s(&[]), &s(&["rework"]), "todo"), None);
        assert_eq!(
            credited(&s(&["Todo"]), &s(&["todo"]), "todo"),
            None,
            "no change"
        );
        assert_eq!(
            credited(&s(&["review", "done"]), &s(&["review", "done"]), "todo"),
            None,
            "two states asked for: no single move"
        );
    }
}
