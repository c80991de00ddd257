//! A session's agent events on their way to the scheduler: logged with the SPEC §13.1 fields,
//! written to the run's log, counted as tokens, and translated into the scheduler's
//! [`AgentUpdate`].

use std::sync::Arc;

use serde_json::Value;
use symphony_agent::{AgentEvent, AgentEventKind};
use symphony_scheduler::{AgentUpdate, Event};
use tokio::sync::mpsc;

use super::handoff::TokenTally;
use super::run_log::RunLog;
use crate::budget_config::Price;

/// Logs a session's lifecycle (SPEC §13.1 fields) and hands every event to the scheduler.
pub(crate) async fn forward_events(
    issue_id: String,
    identifier: String,
    mut events: mpsc::Receiver<AgentEvent>,
    updates: mpsc::Sender<Event>,
    tokens: Arc<TokenTally>,
    mut run_log: Option<RunLog>,
    price: Option<Price>,
) {
    while let Some(event) = events.recv().await {
        let update = if let AgentEventKind::Activity { .. } = &event.kind {
            // Only the stall clock hears it: not logged, not recorded.
            AgentUpdate {
                event: "activity".to_owned(),
                activity: true,
                ..AgentUpdate::default()
            }
        } else {
            translate(
                &issue_id,
                &identifier,
                priced(event, price),
                &tokens,
                &mut run_log,
            )
        };
        if updates
            .send(Event::AgentUpdate {
                issue_id: issue_id.clone(),
                update,
            })
            .await
            .is_err()
        {
            return;
        }
    }
    // The session is over: its log is complete once the writer has caught up.
    if let Some(log) = run_log {
        let _ = tokio::task::spawn_blocking(move || log.finish()).await;
    }
}

/// The event with its usage priced by the workflow's table when the agent reported no price:
/// from here on (scheduler, store, budgets, PR body) every report carries a cost.
fn priced(mut event: AgentEvent, price: Option<Price>) -> AgentEvent {
    if let (AgentEventKind::TokenUsage(usage), Some(price)) = (&mut event.kind, price) {
        *usage = price.priced(*usage);
    }
    event
}

/// One agent event as the scheduler hears it, logged (SPEC §13.1 fields) and written to the
/// run's log on the way.
fn translate(
    issue_id: &str,
    identifier: &str,
    event: AgentEvent,
    tokens: &TokenTally,
    run_log: &mut Option<RunLog>,
) -> AgentUpdate {
    let session_id = event.session_id.as_str();
    match &event.kind {
        AgentEventKind::SessionStarted => {
            tracing::info!(
                issue_id,
                issue_identifier = identifier,
                session_id,
                "agent session started"
            );
        }
        AgentEventKind::TurnStarted { turn } => {
            tracing::info!(
                issue_id,
                issue_identifier = identifier,
                session_id,
                turn,
                "turn started"
            );
        }
        AgentEventKind::TurnCompleted { turn } => {
            tracing::info!(
                issue_id,
                issue_identifier = identifier,
                session_id,
                turn,
                "turn completed"
            );
        }
        AgentEventKind::TurnFailed {
            turn,
            category,
            message,
        } => {
            tracing::warn!(
                issue_id,
                issue_identifier = identifier,
                session_id,
                turn,
                category,
                "turn failed: {message}"
            );
        }
        AgentEventKind::Notification { message } => {
            tracing::debug!(
                issue_id,
                issue_identifier = identifier,
                session_id,
                "agent: {message}"
            );
        }
        _ => {}
    }
    let name = serde_json::to_value(&event.kind)
        .ok()
        .and_then(|v| v.get("event").and_then(Value::as_str).map(str::to_owned))
        .unwrap_or_else(|| "other_message".to_owned());
    if let Some(log) = run_log {
        let text = match &event.kind {
            AgentEventKind::Notification { message }
            | AgentEventKind::TurnFailed { message, .. } => Some(message.clone()),
            AgentEventKind::TurnStarted { turn } | AgentEventKind::TurnCompleted { turn } => {
                Some(format!("turn {turn}"))
            }
            AgentEventKind::OutputDropped { lines } => {
                Some(format!("{lines} output lines dropped"))
            }
            AgentEventKind::TokenUsage(usage) => Some(usage_line(usage)),
            AgentEventKind::SessionStarted => Some(format!("session {session_id}")),
            AgentEventKind::RateLimits { payload } => Some(payload.to_string()),
            AgentEventKind::Activity { .. } => None,
        };
        log.event(&name, text.as_deref());
    }
    let mut update = AgentUpdate {
        event: name,
        session_id: Some(event.session_id.clone()),
        pid: event.pid,
        ..AgentUpdate::default()
    };
    match event.kind {
        AgentEventKind::TurnStarted { .. } => update.turn_started = true,
        AgentEventKind::Notification { message } => update.message = Some(message),
        AgentEventKind::TurnFailed { message, .. } => update.message = Some(message),
        AgentEventKind::OutputDropped { lines } => {
            update.message = Some(format!("{lines} output lines dropped"))
        }
        AgentEventKind::TokenUsage(usage) => {
            tokens.record(&usage);
            // The run's usage (its reviewers' included), which only grows: what the scheduler
            // and the store keep for the run.
            update.tokens = Some(tokens.usage());
        }
        AgentEventKind::RateLimits { payload } => update.rate_limits = Some(payload),
        AgentEventKind::SessionStarted
        | AgentEventKind::TurnCompleted { .. }
        | AgentEventKind::Activity { .. } => {}
    }
    update
}

/// A usage report in the run's log: `input 120 (cache read 80, write 10), output 30, total
/// 150, cost $0.0021`; the cache and cost parts only when reported.
fn usage_line(usage: &symphony_core::Usage) -> String {
    let mut line = format!("input {}", usage.input_tokens);
    if usage.cache_read_tokens + usage.cache_write_tokens > 0 {
        line.push_str(&format!(
            " (cache read {}, write {})",
            usage.cache_read_tokens, usage.cache_write_tokens
        ));
    }
    line.push_str(&format!(
        ", output {}, total {}",
        usage.output_tokens, usage.total_tokens
    ));
    if let Some(micros) = usage.cost_micros {
        line.push_str(&format!(", cost {}", symphony_core::dollars(micros)));
    }
    line
}
