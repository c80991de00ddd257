//! One worker attempt (SPEC §16.5): workspace, `before_run`, agent session, turns while the
//! issue stays active, `after_run` always once the workspace exists.

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::Value;
use symphony_agent::{
    AgentBackend, AgentEvent, AgentEventKind, SessionSpec, StopSignal, ToolDeclaration, ToolHandler,
};
use symphony_core::Issue;
use symphony_tracker::{ToolContext, Tracker};
use symphony_workflow::{PromptTemplate, Workflow};
use symphony_workspace::WorkspaceManager;
use tokio::sync::mpsc;
use tracing::Instrument as _;

use crate::config::SchedulerConfig;
use crate::eligibility::issue_eligible;
use crate::scheduler::{AgentUpdate, Event, ExitReason, StopReason};

use super::gates::{GateStage, GateVerdict};
use super::handoff::{HandOffStage, TokenTally};
use super::persist::Persistence;
use super::run_log::RunLog;
use super::standing::{standing, IssueGuard, Standing};
use super::tools::{AgentMoves, Records, SessionTools};
use crate::metrics::ServiceMetrics;
use crate::sections::RunPlan;
use symphony_store::Redactor;

/// Events a worker's agent may queue before it is slowed down.
const AGENT_EVENT_BUFFER: usize = 256;

/// What a worker runs with: one workflow snapshot for its whole session (SPEC §10.5).
pub(crate) struct WorkerContext {
    pub workflow: Arc<Workflow>,
    /// The scheduling rules of that workflow (active states, routing), as the scheduler has them.
    pub scheduling: SchedulerConfig,
    pub tracker: Arc<dyn Tracker>,
    pub backend: Arc<dyn AgentBackend>,
    pub updates: mpsc::Sender<Event>,
    /// The workflow's gates, hand-off and docs, validated when the workflow became current.
    pub plan: Arc<RunPlan>,
    /// Where gate verdicts are audited.
    pub persistence: Option<Persistence>,
    /// The run's id in the state store, when there is one.
    pub run_id: Option<i64>,
    /// Where turn durations and gate outcomes are counted.
    pub metrics: Arc<ServiceMetrics>,
    /// The folder of per-run agent logs, when they are kept.
    pub run_logs: Option<std::path::PathBuf>,
    /// Consecutive earlier runs of this issue that left nothing to hand off.
    pub empty_before: u32,
}

/// The guidance of turns after the first: the task itself is already in the agent's thread.
fn continuation_prompt(issue: &Issue, turn: u32, max_turns: u32) -> String {
    format!(
        "Continue working on {} ({}). It is still in state {:?}. This is turn {turn} of at most \
         {max_turns}: pick up where you left off, finish the change, and say when it is done.",
        issue.identifier, issue.title, issue.state
    )
}

/// Runs one attempt and says how it ended.
pub(crate) async fn run_worker(
    ctx: WorkerContext,
    issue: Issue,
    attempt: Option<u32>,
    stop: StopSignal,
) -> ExitReason {
    // Claim, then verify: the candidate list may be older than another instance's (or an
    // earlier run's) last change to the issue, so nothing starts on a stale snapshot.
    let issue = match fresh_eligible(&ctx, issue).await {
        Ok(issue) => issue,
        Err(exit) => return exit,
    };
    let manager = WorkspaceManager::from_config(&ctx.workflow.config).for_issue(&issue.id);
    let workspace = match manager.ensure(&issue.identifier).await {
        Ok(workspace) => workspace,
        Err(e) => return ExitReason::Failed(format!("workspace error [{}]: {e}", e.category())),
    };
    let outcome = attempt_in_workspace(&ctx, &manager, &workspace, issue, attempt, stop).await;
    manager.after_run(&workspace).await;
    outcome
}

/// The issue as the tracker has it now, if it is still eligible.
async fn fresh_eligible(ctx: &WorkerContext, issue: Issue) -> Result<Issue, ExitReason> {
    let refreshed = ctx
        .tracker
        .fetch_issues_by_ids(std::slice::from_ref(&issue.id))
        .await
        .map_err(|e| ExitReason::Failed(format!("issue state refresh error: {e}")))?;
    let Some(fresh) = refreshed.into_iter().find(|i| i.id == issue.id) else {
        return Err(ExitReason::Ineligible(
            "no longer visible in the tracker".to_owned(),
        ));
    };
    issue_eligible(&fresh, &ctx.scheduling)
        .map_err(|why| ExitReason::Ineligible(why.to_string()))?;
    Ok(fresh)
}

async fn attempt_in_workspace(
    ctx: &WorkerContext,
    manager: &WorkspaceManager,
    workspace: &symphony_workspace::Workspace,
    mut issue: Issue,
    attempt: Option<u32>,
    stop: StopSignal,
) -> ExitReason {
    if let Err(e) = manager.before_run(workspace).await {
        return ExitReason::Failed(format!("before_run hook error [{}]: {e}", e.category()));
    }
    let cwd = match manager.agent_cwd(workspace) {
        Ok(cwd) => cwd,
        Err(e) => return ExitReason::Failed(format!("invalid workspace [{}]: {e}", e.category())),
    };
    let config = &ctx.workflow.config;
    let started = std::time::Instant::now();
    let docs = ctx.plan.docs.as_ref();
    let records = docs.map(|docs| Records {
        dir: cwd.join(&docs.adr_dir),
        identifier: issue.identifier.clone(),
    });
    let prompt = PromptTemplate::compile(&ctx.workflow.definition.prompt_template)
        .and_then(|t| t.render(&issue, attempt));
    let prompt = match prompt {
        Ok(prompt) => prompt,
        Err(e) => return ExitReason::Failed(format!("prompt error [{}]: {e}", e.category())),
    };

    let (events_tx, events_rx) = mpsc::channel(AGENT_EVENT_BUFFER);
    let tokens = Arc::new(TokenTally::default());
    let moves = AgentMoves::default();
    let run_log = match (&ctx.run_logs, ctx.run_id) {
        (Some(dir), Some(run_id)) => RunLog::open(
            dir,
            run_id,
            Redactor::from_env_names(&ctx.tracker.secret_environment_names()),
        ),
        _ => None,
    };
    let forwarder = tokio::spawn(forward_events(
        issue.id.clone(),
        issue.identifier.clone(),
        events_rx,
        ctx.updates.clone(),
        Arc::clone(&tokens),
        run_log,
    ));
    let spec = SessionSpec {
        workspace: cwd,
        issue: issue.clone(),
        remove_env: ctx.tracker.secret_environment_names(),
        turn_timeout: std::time::Duration::from_millis(config.codex.turn_timeout_ms),
        read_timeout: std::time::Duration::from_millis(config.codex.read_timeout_ms),
        events: events_tx,
        stop,
        tools: Some(Arc::new(SessionTools {
            tracker: TrackerTools::new(Arc::clone(&ctx.tracker), issue.clone()),
            records,
            scheduler: ctx.updates.clone(),
            moves: moves.clone(),
        })),
    };
    let mut session = match ctx.backend.start(spec).await {
        Ok(session) => session,
        Err(e) => {
            forwarder.abort();
            return ExitReason::Failed(format!(
                "agent session startup error [{}]: {e}",
                e.category()
            ));
        }
    };
    let max_turns = config.agent.max_turns;
    let mut turn = 1;
    let outcome = loop {
        let text = if turn == 1 {
            prompt.clone()
        } else {
            continuation_prompt(&issue, turn, max_turns)
        };
        let turn_started = std::time::Instant::now();
        let span = tracing::debug_span!(
            "turn",
            issue_id = %issue.id,
            issue_identifier = %issue.identifier,
            session_id = %session.session_id(),
            turn,
        );
        let turn_result = session.run_turn(&text).instrument(span).await;
        ctx.metrics.turn(turn_started.elapsed());
        if let Err(e) = turn_result {
            break ExitReason::Failed(format!("agent turn error [{}]: {e}", e.category()));
        }
        match ctx
            .tracker
            .fetch_issues_by_ids(std::slice::from_ref(&issue.id))
            .await
        {
            Err(e) => break ExitReason::Failed(format!("issue state refresh error: {e}")),
            Ok(refreshed) => match refreshed.into_iter().find(|i| i.id == issue.id) {
                None => break ExitReason::Stopped(StopReason::Missing),
                Some(fresh) => issue = fresh,
            },
        }
        match standing(&issue, &ctx.scheduling, &moves) {
            // The agent handed the issue off itself: Symphony's own stages take over.
            Standing::MovedByAgent => break ExitReason::Normal,
            // Someone else moved it: nothing more is done for it, nothing is handed off.
            Standing::Gone(stop) => break ExitReason::Stopped(stop),
            Standing::Active if turn >= max_turns => break ExitReason::Normal,
            Standing::Active => {}
        }
        turn += 1;
    };
    // Symphony checks the change itself, then hands it off.
    let outcome = match outcome {
        ExitReason::Normal => {
            let after = AfterTurns {
                ctx,
                workspace: &workspace.path,
                issue: &issue,
                docs,
                started,
                tokens: &tokens,
                moves: &moves,
            };
            after.run(session.as_mut()).await
        }
        other => other,
    };
    session.stop().await;
    drop(session);
    // The forwarder ends when the session's sender is gone; let it deliver what is queued.
    let _ = forwarder.await;
    outcome
}

/// Symphony's own stages after the agent's turns ended normally: gates, then hand-off.
struct AfterTurns<'a> {
    ctx: &'a WorkerContext,
    workspace: &'a std::path::Path,
    issue: &'a Issue,
    docs: Option<&'a symphony_docs::DocsConfig>,
    started: std::time::Instant,
    tokens: &'a TokenTally,
    moves: &'a AgentMoves,
}

impl AfterTurns<'_> {
    async fn run(&self, session: &mut dyn symphony_agent::AgentSession) -> ExitReason {
        let ctx = self.ctx;
        let plan = ctx.plan.gates.as_deref();
        let handoff = ctx.plan.handoff.as_ref();
        if plan.is_none() && handoff.is_none() {
            return ExitReason::Normal;
        }
        let guard = IssueGuard {
            tracker: &ctx.tracker,
            config: &ctx.scheduling,
            moves: self.moves,
            issue_id: &self.issue.id,
            persistence: ctx.persistence.as_ref(),
        };
        // Nothing of Symphony's own runs on an issue someone moved out of the run's reach.
        if let Err(exit) = guard.check("the gate stage").await {
            return exit;
        }
        // From here the worker is Symphony's, not the agent's: no inactive-stop, no stall (the
        // guard re-reads the issue before each step instead).
        let _ = ctx
            .updates
            .send(Event::GateStageStarted {
                issue_id: self.issue.id.clone(),
            })
            .await;
        let handoff = handoff.map(|config| HandOffStage {
            config,
            docs: self.docs,
            workflow: &ctx.workflow,
            tracker: &ctx.tracker,
            persistence: ctx.persistence.as_ref(),
            workspace: self.workspace,
            issue: self.issue,
            started: self.started,
            tokens: self.tokens,
            run_id: ctx.run_id,
            guard: &guard,
            empty_before: ctx.empty_before,
        });
        if let Some(stage) = &handoff {
            if let Err(exit) = stage.prepare().await {
                return exit;
            }
        }
        let reports = match plan {
            Some(plan) => {
                let stage = GateStage {
                    plan,
                    workflow: &ctx.workflow,
                    tracker: &ctx.tracker,
                    persistence: ctx.persistence.as_ref(),
                    metrics: &ctx.metrics,
                    workspace: self.workspace,
                    issue: self.issue,
                    guard: &guard,
                };
                match stage.run(session).await {
                    GateVerdict::Passed(reports) => reports,
                    GateVerdict::NothingToCheck => {
                        return match &handoff {
                            Some(stage) => stage.nothing_to_hand_off().await,
                            // The agent hands off itself: no change may be its answer.
                            None => ExitReason::Normal,
                        };
                    }
                    GateVerdict::Decided(exit) => return exit,
                }
            }
            None => Vec::new(),
        };
        match &handoff {
            Some(stage) => stage.run(&reports).await,
            None => ExitReason::Normal,
        }
    }
}

/// Logs a session's lifecycle (SPEC §13.1 fields) and hands every event to the scheduler.
async fn forward_events(
    issue_id: String,
    identifier: String,
    mut events: mpsc::Receiver<AgentEvent>,
    updates: mpsc::Sender<Event>,
    tokens: Arc<TokenTally>,
    mut run_log: Option<RunLog>,
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
            translate(&issue_id, &identifier, event, &tokens, &mut run_log)
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
            AgentEventKind::TokenUsage {
                input_tokens,
                output_tokens,
                total_tokens,
            } => Some(format!(
                "input {input_tokens}, output {output_tokens}, total {total_tokens}"
            )),
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
        AgentEventKind::TokenUsage {
            input_tokens,
            output_tokens,
            total_tokens,
        } => {
            tokens.record(input_tokens, output_tokens, total_tokens);
            update.tokens = Some((input_tokens, output_tokens, total_tokens));
        }
        AgentEventKind::RateLimits { payload } => update.rate_limits = Some(payload),
        AgentEventKind::SessionStarted
        | AgentEventKind::TurnCompleted { .. }
        | AgentEventKind::Activity { .. } => {}
    }
    update
}

/// A tracker's agent tools as an agent session's [`ToolHandler`], bound to the session's issue
/// (SPEC §10.5): advertised from `agent_tool_specs`, run host-side with the adapter's
/// credentials, unknown names refused.
pub struct TrackerTools {
    tracker: Arc<dyn Tracker>,
    issue: Issue,
}

impl TrackerTools {
    /// `tracker`'s tools for a session on `issue`.
    pub fn new(tracker: Arc<dyn Tracker>, issue: Issue) -> Self {
        Self { tracker, issue }
    }

    /// The issue the tools act on.
    pub(crate) fn issue(&self) -> &Issue {
        &self.issue
    }

    /// Whether `name` is an advertised tool that can change tracker state.
    pub fn mutates(&self, name: &str) -> bool {
        self.tracker
            .agent_tool_specs()
            .iter()
            .any(|spec| spec.name == name && spec.mutates)
    }
}

impl TrackerTools {
    /// Runs one advertised tool with the session's issue; unknown names are refused.
    pub async fn execute(&self, name: &str, arguments: Value) -> symphony_tracker::ToolResult {
        if !self
            .tracker
            .agent_tool_specs()
            .iter()
            .any(|spec| spec.name == name)
        {
            return symphony_tracker::ToolResult::failure(format!("unsupported tool {name:?}"));
        }
        let context = ToolContext {
            issue: self.issue.clone(),
        };
        self.tracker
            .execute_agent_tool(name, arguments, &context)
            .await
    }
}

#[async_trait]
impl ToolHandler for TrackerTools {
    fn declarations(&self) -> Vec<ToolDeclaration> {
        self.tracker
            .agent_tool_specs()
            .into_iter()
            .map(|spec| ToolDeclaration {
                name: spec.name,
                description: spec.description,
                input_schema: spec.input_schema,
            })
            .collect()
    }

    async fn call(&self, name: &str, arguments: Value) -> (bool, Value) {
        let result = self.execute(name, arguments).await;
        (result.success, result.output)
    }
}
