//! Moving an issue and commenting on it (Symphony's own stages, never the scheduler): a state
//! is named as the team names it and resolved to its id once; the move is a set (repeated
//! safely after a lost answer), the comment an addition (never repeated).

use std::collections::HashMap;
use std::sync::Mutex;

use serde_json::{json, Value};
use symphony_core::Issue;
use symphony_tracker::{TrackerError, TrackerErrorCategory};

use crate::client::{Client, Repeat};
use crate::config::LinearConfig;
use crate::documents::{COMMENT, MOVE, STATES};

/// Resolved `(team key, state name lowercased)` → state id.
#[derive(Default)]
pub(crate) struct StateIds(Mutex<HashMap<(String, String), String>>);

/// The team an issue belongs to: its own (from the read), else the configured one.
pub(crate) fn team_of(issue: &Issue, config: &LinearConfig) -> Option<String> {
    issue
        .native_ref
        .as_ref()
        .and_then(|n| n.get("team"))
        .and_then(Value::as_str)
        .map(str::to_owned)
        .or_else(|| config.team.clone())
}

impl StateIds {
    /// The id of `state` in `team`'s workflow.
    pub(crate) async fn resolve(
        &self,
        client: &Client,
        team: &str,
        state: &str,
    ) -> Result<String, TrackerError> {
        let key = (team.to_ascii_uppercase(), state.trim().to_lowercase());
        if let Some(id) = self.0.lock().unwrap_or_else(|p| p.into_inner()).get(&key) {
            return Ok(id.clone());
        }
        let filter = json!({"team": {"key": {"eqIgnoreCase": team}},
                            "name": {"eqIgnoreCase": state.trim()}});
        let data = client
            .graphql(STATES, json!({"filter": filter}), Repeat::Safe)
            .await?;
        let id = data
            .pointer("/workflowStates/nodes")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .find(|n| {
                n.get("name")
                    .and_then(Value::as_str)
                    .is_some_and(|name| name.trim().eq_ignore_ascii_case(state.trim()))
            })
            .and_then(|n| n.get("id").and_then(Value::as_str))
            .map(str::to_owned)
            .ok_or_else(|| {
                TrackerError::new(
                    TrackerErrorCategory::InvalidTrackerConfig,
                    format!("team {team} has no workflow state named {state:?}"),
                )
            })?;
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(key, id.clone());
        Ok(id)
    }
}

/// Moves `issue_id` to the state with id `state_id`; the state it is in now.
pub(crate) async fn move_to(
    client: &Client,
    issue_id: &str,
    state_id: &str,
) -> Result<String, TrackerError> {
    {
        let data = client
            .graphql(
                MOVE,
                json!({"id": issue_id, "stateId": state_id}),
                Repeat::Safe,
            )
            .await?;
        let payload = data.get("issueUpdate");
        if payload
            .and_then(|p| p.get("success"))
            .and_then(Value::as_bool)
            != Some(true)
        {
            return Err(TrackerError::new(
                TrackerErrorCategory::Response,
                format!("Linear did not move issue {issue_id}"),
            ));
        }
        Ok(payload
            .and_then(|p| p.pointer("/issue/state/name"))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned())
    }
}

/// Moves `issue` to `state` (by name) and/or comments on it.
pub(crate) async fn hand_off(
    client: &Client,
    config: &LinearConfig,
    state_ids: &StateIds,
    issue: &Issue,
    state: Option<&str>,
    comment: Option<&str>,
) -> Result<(), TrackerError> {
    if let Some(state) = state {
        let team = team_of(issue, config).ok_or_else(|| {
            TrackerError::new(
                TrackerErrorCategory::InvalidTrackerConfig,
                format!("cannot tell which team {} is in", issue.identifier),
            )
        })?;
        let state_id = state_ids.resolve(client, &team, state).await?;
        move_to(client, &issue.id, &state_id).await?;
    }
    if let Some(body) = comment {
        let data = client
            .graphql(
                COMMENT,
                json!({"issueId": issue.id, "body": body}),
                Repeat::Once,
            )
            .await?;
        if data
            .pointer("/commentCreate/success")
            .and_then(Value::as_bool)
            != Some(true)
        {
            return Err(TrackerError::new(
                TrackerErrorCategory::Response,
                format!("Linear did not add the comment to {}", issue.identifier),
            ));
        }
    }
    Ok(())
}
