//! `symphony review`: a person's review of a change Symphony handed off, for code hosts that
//! keep reviews where Symphony's files are (the local one). A running service with a
//! `review:` section takes it as the agent's next round, or ends the issue on a merge.

use std::path::Path;

use symphony_code_host::CodeHostContext;
use symphony_core::Issue;
use symphony_orchestrator::Wiring;
use symphony_tracker_local::{LocalCodeHostFactory, Verdict};
use symphony_workflow::{ProcessEnvironment, Workflow};

use crate::cli::ReviewVerdict;
use crate::failure::Failure;
use crate::trackers;
use crate::wiring::BinaryWiring;

/// The verdict and the review's text.
fn verdict(choice: &ReviewVerdict, message: Option<&str>) -> (Verdict, String) {
    let message = message.unwrap_or("").to_owned();
    if let Some(text) = &choice.request_changes {
        (Verdict::ChangesRequested, text.clone())
    } else if let Some(text) = &choice.comment {
        (Verdict::Comment, text.clone())
    } else if choice.approve {
        (Verdict::Approved, message)
    } else if choice.merge {
        (Verdict::Merged, message)
    } else {
        (Verdict::Closed, message)
    }
}

pub fn run(
    path: &Path,
    wanted: &str,
    choice: &ReviewVerdict,
    message: Option<&str>,
    by: Option<String>,
) -> Result<(), Failure> {
    let (verdict, body) = verdict(choice, message);
    if matches!(verdict, Verdict::ChangesRequested | Verdict::Comment) && body.trim().is_empty() {
        return Err(Failure::new(
            "invalid_arguments",
            "a review asking for changes, or a comment, needs its text",
        ));
    }
    let by = by
        .or_else(|| std::env::var("USER").ok())
        .filter(|b| !b.trim().is_empty())
        .unwrap_or_else(|| "reviewer".to_owned());
    let workflow = Workflow::load(path, &trackers::registry(), &ProcessEnvironment)?;
    let config = &workflow.config;
    let registry = BinaryWiring.code_hosts();
    let selection = registry
        .select(config)
        .map_err(|e| Failure::new("invalid_code_host_config", e.to_string()))?
        .ok_or_else(|| {
            Failure::new(
                "unsupported_operation",
                format!(
                    "tracker.kind {:?} has no code host, so there is no change to review",
                    config.tracker.kind
                ),
            )
        })?;
    let kind = selection.factory.kind().to_owned();
    if kind != symphony_tracker_local::KIND {
        return Err(Failure::new(
            "unsupported_operation",
            format!(
                "code host {kind:?} keeps its reviews itself: review the pull request there \
                 (the issue's hand-off comment links it); `symphony review` writes reviews for \
                 the local code host only"
            ),
        ));
    }
    let context = CodeHostContext::new(config, workflow.definition.dir(), &ProcessEnvironment);
    let host = LocalCodeHostFactory
        .host(&selection.options, &context)
        .map_err(|e| Failure::new("invalid_code_host_config", e.to_string()))?;
    super::run::runtime()?.block_on(async {
        let issue = find(&workflow, wanted).await?;
        let id = host
            .add_review(&issue, &by, verdict, &body)
            .await
            .map_err(|e| Failure::new("code_host_error", e.to_string()))?;
        println!(
            "review {id} of {} ({}) by {by} written; a running service with a `review:` \
             section takes it at its next look",
            issue.identifier,
            verdict.as_str()
        );
        Ok(())
    })
}

/// The issue named `wanted` (identifier or id), in any state the workflow knows.
async fn find(workflow: &Workflow, wanted: &str) -> Result<Issue, Failure> {
    let tracker = BinaryWiring
        .tracker(&workflow.config)
        .map_err(|e| Failure::new("startup_failed", e.to_string()))?;
    let mut issues = tracker
        .fetch_issues_by_ids(&[wanted.to_owned()])
        .await
        .map_err(|e| Failure::new(e.category_name(), e.message.clone()))?;
    if issues.is_empty() {
        let tracker_config = &workflow.config.tracker;
        let mut states = tracker_config.active_states.clone();
        states.extend(tracker_config.terminal_states.iter().cloned());
        // Changes under review sit in the hand-off's state, as the run reads it.
        if let Ok(Some(handoff)) = symphony_orchestrator::handoff_plan(workflow) {
            states.push(handoff.state);
        }
        issues = tracker
            .fetch_issues_by_states(&states)
            .await
            .map_err(|e| Failure::new(e.category_name(), e.message.clone()))?;
        issues.retain(|i| i.identifier.eq_ignore_ascii_case(wanted));
    }
    issues
        .into_iter()
        .next()
        .ok_or_else(|| Failure::new("issue_not_found", format!("no issue {wanted:?}")))
}
