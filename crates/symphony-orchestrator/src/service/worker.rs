//! One worker attempt (SPEC §16.5): workspace, `before_run`, agent session, turns while the
//! issue stays active, `after_run` always once the workspace exists.

use std::sync::Arc;

use symphony_agent::{SessionSpec, StopSignal};
use symphony_core::Issue;
use symphony_scheduler::{issue_eligible, AgentUpdate, Event, ExitReason, Spend, StopReason};
use symphony_store::Redactor;
use symphony_tracker::Tracker;
use symphony_workflow::PromptTemplate;
use symphony_workspace::WorkspaceManager;
use tokio::sync::mpsc;
use tracing::Instrument as _;

use super::after_turns::AfterTurns;
use super::agent_events::forward_events;
use super::handoff::TokenTally;
use super::planning::{PlannedRun, Planning};
use super::review_catch_up::catch_up;
use super::review_round::pending_round;
use super::run_log::RunLog;
use super::standing::{standing, Standing};
use super::tools::{AgentMoves, Records, SessionTools};
use super::tracker_tools::TrackerTools;
pub(crate) use super::worker_context::WorkerContext;
use super::worker_context::AGENT_EVENT_BUFFER;

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
    mut ctx: WorkerContext,
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
    if ctx.plan.review.is_some() {
        ctx.review = match pending_round(ctx.store.as_deref(), &issue).await {
            Ok(round) => round,
            Err(exit) => return exit,
        };
    }
    ctx.prior_spend = match within_budget(&ctx, &issue).await {
        Ok(prior) => prior,
        Err(exit) => return exit,
    };
    let manager = WorkspaceManager::from_config(&ctx.workflow.config).for_issue(&issue.id);
    let workspace = match manager.ensure(&issue.identifier).await {
        Ok(workspace) => workspace,
        Err(e) => return ExitReason::Failed(format!("workspace error [{}]: {e}", e.category())),
    };
    if let Err(exit) = catch_up(&mut ctx, &manager, &workspace, &issue).await {
        manager.after_run(&workspace).await;
        return exit;
    }
    // A planned issue (ADR 0020) proposes a plan or codes the approved one; a review round
    // answers its review whatever planned the change.
    let planned = match (&ctx.plan.planning, &ctx.review) {
        (Some(config), None) if config.applies(&issue) => {
            let planning = Planning {
                ctx: &ctx,
                config,
                workspace: &workspace.path,
                issue: &issue,
            };
            match planning.prepare().await {
                Ok(run) => Some(run),
                Err(exit) => {
                    manager.after_run(&workspace).await;
                    return exit;
                }
            }
        }
        _ => None,
    };
    let outcome = attempt_in_workspace(
        &ctx,
        &manager,
        &workspace,
        (issue, attempt),
        planned.as_ref(),
        stop,
    )
    .await;
    manager.after_run(&workspace).await;
    outcome
}

/// Reports the issue's earlier use to the scheduler (ADR 0023) and refuses to start an agent
/// when a per-issue hard limit is passed already (this run counts as one more attempt). A
/// review round counts as a round. A store that cannot answer fails the run: a budget that
/// cannot be checked is not a budget with room.
async fn within_budget(ctx: &WorkerContext, issue: &Issue) -> Result<Option<Spend>, ExitReason> {
    let limits = ctx.scheduling.budgets.for_issue(issue);
    if ctx.review.is_some() {
        let update = AgentUpdate {
            event: "review_round".to_owned(),
            round_started: true,
            ..AgentUpdate::default()
        };
        let _ = ctx
            .updates
            .send(Event::AgentUpdate {
                issue_id: issue.id.clone(),
                update,
            })
            .await;
    }
    let (Some(store), false) = (&ctx.store, limits.is_unset()) else {
        return Ok(None);
    };
    let prior = store
        .issue_spend(&issue.id, ctx.run_id)
        .await
        .map_err(|e| {
            ExitReason::Failed(format!(
                "state store error [{}] reading the issue's budget use: {e}",
                e.category()
            ))
        })?;
    let _ = ctx
        .updates
        .send(Event::PriorSpend {
            issue_id: issue.id.clone(),
            spend: prior,
        })
        .await;
    let this_run = Spend {
        attempts: 1,
        rounds: u32::from(ctx.review.is_some()),
        ..Spend::default()
    };
    match limits.stop(&prior.plus(&this_run)) {
        Some(exceeded) => {
            tracing::warn!(
                issue_id = %issue.id,
                issue_identifier = %issue.identifier,
                "not started: {exceeded}"
            );
            Err(ExitReason::Stopped(StopReason::Budget(exceeded.kind)))
        }
        None => Ok(Some(prior)),
    }
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
    (mut issue, attempt): (Issue, Option<u32>),
    planned: Option<&PlannedRun>,
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
    let template = &ctx.workflow.definition.prompt_template;
    let prompt = match (&ctx.review, &ctx.plan.review, planned, &ctx.plan.planning) {
        (Some(round), Some(review), _, _) => crate::review_prompt::render_round(
            template,
            review.feedback.as_deref(),
            &issue,
            attempt,
            round.variable(),
        ),
        (_, _, Some(run), Some(config)) => {
            let variable = run.variable();
            variable.render(template, config.section(variable.approved), &issue, attempt)
        }
        _ => PromptTemplate::compile(template).and_then(|t| t.render(&issue, attempt)),
    };
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
        ctx.plan.price,
    ));
    let mut spec = SessionSpec::new(cwd, issue.clone(), events_tx, stop);
    spec.remove_env = ctx.tracker.secret_environment_names();
    spec.turn_timeout = config.run_limits.turn_timeout();
    spec.read_timeout = config.run_limits.read_timeout();
    spec.tools = Some(Arc::new(SessionTools {
        tracker: TrackerTools::new(Arc::clone(&ctx.tracker) as Arc<dyn Tracker>, issue.clone()),
        records,
        scheduler: ctx.updates.clone(),
        moves: moves.clone(),
    }));
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
    // A plan is asked for in one turn; its fix turns follow in the plan stage.
    let max_turns = match planned {
        Some(PlannedRun::Propose { .. }) => 1,
        _ => config.agent.max_turns,
    };
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
        // SPEC §7.1's check after the turn; an agent that moved its issue during the turn was
        // already told where it is, by the tracker's answer to that move.
        match ctx
            .tracker
            .fetch_since(std::slice::from_ref(&issue.id), turn_started)
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
    let outcome = match (outcome, planned, ctx.plan.planning.as_ref()) {
        (ExitReason::Normal, Some(PlannedRun::Propose { variable, base }), Some(config)) => {
            let planning = Planning {
                ctx,
                config,
                workspace: &workspace.path,
                issue: &issue,
            };
            planning
                .propose(session.as_mut(), variable, base, &moves)
                .await
        }
        // Never code (or hand off) what was to be a plan.
        (ExitReason::Normal, Some(PlannedRun::Propose { .. }), None) => ExitReason::Failed(
            "plan error [plan_config_missing]: the workflow's plan settings are gone".to_owned(),
        ),
        (ExitReason::Normal, _, _) => {
            let after = AfterTurns {
                ctx,
                workspace: &workspace.path,
                issue: &issue,
                docs,
                started,
                tokens: &tokens,
                moves: &moves,
                planned_tree: match planned {
                    Some(PlannedRun::Code { tree, .. }) => Some(tree.as_str()),
                    _ => None,
                },
            };
            after.run(session.as_mut()).await
        }
        (other, _, _) => other,
    };
    session.stop().await;
    drop(session);
    // The forwarder ends when the session's sender is gone; let it deliver what is queued.
    let _ = forwarder.await;
    outcome
}
