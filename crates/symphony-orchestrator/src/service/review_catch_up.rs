//! A review round's workspace brought up to date before the agent starts (ADR 0018): the
//! branch work of `symphony_workspace::WorkspaceManager::catch_up`, as the review policy asks
//! for it, with what only a person may decide handed to one.

use serde_json::{json, Value};
use symphony_core::Issue;
use symphony_scheduler::ExitReason;
use symphony_workspace::{BaseMerge, CatchUp, Workspace, WorkspaceManager};

use super::worker_context::WorkerContext;
use crate::review_policy::OnHeadMoved;

/// Brings the round's workspace up to date before the agent starts: the remote fetched;
/// someone else's push on top taken when `review.on_head_moved: rebase` says so (else
/// refused); on a conflict, the base rebased onto (`review.allow_rebase_push`) or merged, what
/// git cannot merge left for the agent. A push Symphony may not take, or a rewritten branch,
/// goes to a person (the issue leaves the active states, so the run ends normally); a git
/// failure fails the run, which is retried.
pub(crate) async fn catch_up(
    ctx: &mut WorkerContext,
    manager: &WorkspaceManager,
    workspace: &Workspace,
    issue: &Issue,
) -> Result<(), ExitReason> {
    let (Some(round), Some(review), Some(handoff)) =
        (ctx.review.as_mut(), &ctx.plan.review, &ctx.plan.handoff)
    else {
        return Ok(());
    };
    let base = &round.base_branch;
    let mut request = CatchUp::new(
        handoff.author.clone(),
        format!(
            "Merge origin/{base} into {} (review round {})",
            round.branch, round.round.round
        ),
    );
    request.take_pushes = review.policy.on_head_moved == OnHeadMoved::Rebase;
    request.merge_base = round.round.conflict.then(|| base.clone());
    request.rebase = review.allow_rebase_push;
    let audit = |kind: &str, detail: Value| {
        if let Some(persistence) = &ctx.persistence {
            persistence.audit(kind, Some(&issue.identifier), detail);
        }
    };
    match manager.catch_up(workspace, &request).await {
        Ok(caught) => {
            if let BaseMerge::Conflicts { paths } = &caught.base {
                round.conflict_files = paths.clone();
            }
            round.rebased = matches!(caught.base, BaseMerge::Rebased { .. });
            audit(
                "review_workspace_caught_up",
                json!({
                    "round": round.round.round,
                    "took_push": caught.took_push,
                    "base": format!("{:?}", caught.base),
                }),
            );
            Ok(())
        }
        Err(e) if e.needs_person() => {
            audit(
                "review_catch_up_refused",
                json!({"round": round.round.round, "category": e.category(), "error": e.to_string()}),
            );
            let Some(state) = handoff.needs_human_state.as_deref() else {
                return Err(ExitReason::Failed(format!(
                    "review error [{}]: {e}",
                    e.category()
                )));
            };
            let comment = format!(
                "Symphony did not start review round {} of this change: {e}. It never works \
                 over another's commits, so this needs a person.",
                round.round.round
            );
            symphony_tracker::hand_off(ctx.tracker.as_ref(), issue, Some(state), Some(&comment))
                .await
                .map_err(|t| {
                    ExitReason::Failed(format!(
                        "review error [{}]: {e}; and the issue could not be moved to {state:?}: {t}",
                        e.category()
                    ))
                })?;
            audit(
                "handed_to_human",
                json!({"state": state, "reason": e.category()}),
            );
            Err(ExitReason::Normal)
        }
        Err(e) => Err(ExitReason::Failed(format!(
            "review error [{}]: {e}",
            e.category()
        ))),
    }
}
