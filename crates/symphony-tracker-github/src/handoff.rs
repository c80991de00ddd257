//! The hand-off capability: move an issue to a state (labels swapped, or opened/closed) and
//! comment on it. Writes are sent once each, never retried blindly.

use http::Method;
use serde_json::{json, Value};
use symphony_core::Issue;
use symphony_tracker::{TrackerError, TrackerErrorCategory};

use crate::client::Client;
use crate::config::{GithubConfig, StateSource, CLOSED, OPEN};
use crate::exchange::ApiRequest;
use crate::tools::encode_segment;

fn number(issue: &Issue) -> Result<u64, TrackerError> {
    issue
        .native_ref
        .as_ref()
        .and_then(|n| n.get("number"))
        .and_then(Value::as_u64)
        .ok_or_else(|| {
            TrackerError::new(
                TrackerErrorCategory::InvalidTrackerConfig,
                format!(
                    "issue {} has no GitHub number in native_ref",
                    issue.identifier
                ),
            )
        })
}

pub(crate) async fn send(
    client: &Client,
    method: Method,
    path: &str,
    body: Option<&Value>,
) -> Result<Value, TrackerError> {
    let request = ApiRequest {
        idempotent: method == Method::GET,
        method,
        path,
        body,
        etag: None,
        graphql: false,
    };
    let response = client.send(&request).await?;
    if response.body.is_empty() {
        return Ok(Value::Null);
    }
    response.json()
}

pub(crate) async fn hand_off(
    client: &Client,
    config: &GithubConfig,
    issue: &Issue,
    state: Option<&str>,
    comment: Option<&str>,
) -> Result<(), TrackerError> {
    let number = number(issue)?;
    let base = format!("/repos/{}/{}/issues/{number}", config.owner, config.repo);
    if let Some(body) = comment {
        send(
            client,
            Method::POST,
            &format!("{base}/comments"),
            Some(&json!({ "body": body })),
        )
        .await?;
    }
    let Some(state) = state.map(str::trim).filter(|s| !s.is_empty()) else {
        return Ok(());
    };
    match &config.state_source {
        StateSource::Issue => {
            let wanted = if state.eq_ignore_ascii_case(CLOSED) {
                CLOSED
            } else if state.eq_ignore_ascii_case(OPEN) {
                OPEN
            } else {
                return Err(TrackerError::new(
                    TrackerErrorCategory::InvalidTrackerConfig,
                    format!("state {state:?} is neither open nor closed"),
                ));
            };
            send(
                client,
                Method::PATCH,
                &base,
                Some(&json!({ "state": wanted })),
            )
            .await?;
        }
        StateSource::Labels { prefix } => {
            if state.eq_ignore_ascii_case(CLOSED) {
                send(
                    client,
                    Method::PATCH,
                    &base,
                    Some(&json!({ "state": CLOSED })),
                )
                .await?;
                return Ok(());
            }
            let current = send(client, Method::GET, &base, None).await?;
            let wanted = format!("{prefix}{state}");
            send(
                client,
                Method::POST,
                &format!("{base}/labels"),
                Some(&json!({ "labels": [wanted] })),
            )
            .await?;
            let stale: Vec<String> = current["labels"]
                .as_array()
                .map_or(&[][..], Vec::as_slice)
                .iter()
                .filter_map(|l| l.get("name").and_then(Value::as_str).or_else(|| l.as_str()))
                .filter(|name| {
                    name.len() >= prefix.len()
                        && name.is_char_boundary(prefix.len())
                        && name[..prefix.len()].eq_ignore_ascii_case(prefix)
                        && !name.eq_ignore_ascii_case(&wanted)
                })
                .map(str::to_owned)
                .collect();
            for label in stale {
                let path = format!("{base}/labels/{}", encode_segment(&label));
                match send(client, Method::DELETE, &path, None).await {
                    Ok(_) => {}
                    // Someone removed it meanwhile: the goal is reached.
                    Err(e) if e.message.contains("404") => {}
                    Err(e) => return Err(e),
                }
            }
            if current["state"].as_str() == Some(CLOSED) {
                send(
                    client,
                    Method::PATCH,
                    &base,
                    Some(&json!({ "state": OPEN })),
                )
                .await?;
            }
        }
        StateSource::Project(_) => {
            return Err(TrackerError::new(
                TrackerErrorCategory::InvalidTrackerConfig,
                "moving a board item's Status is not supported yet; use the labels or issue \
                 state source for hand-off",
            ))
        }
    }
    Ok(())
}
