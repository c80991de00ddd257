//! `symphony check`: load, validate, and show the effective configuration.

use std::fmt::Write as _;
use std::path::Path;

use symphony_workflow::{ConfigRegistry, ProcessEnvironment, PromptTemplate, Workflow};

use symphony_orchestrator::ReviewerBackends;

use crate::failure::Failure;
use crate::trackers;

pub fn run(path: &Path) -> Result<(), Failure> {
    let registry = trackers::registry();
    let workflow = Workflow::load(path, &registry, &ProcessEnvironment)?;
    let template = PromptTemplate::compile(&workflow.definition.prompt_template)?;
    let gates = gates(&workflow)?;
    let handoff = handoff(&workflow)?;
    let review = review(&workflow)?;
    let planning = planning(&workflow)?;
    let agent = agent(&workflow)?;
    let budgets = symphony_orchestrator::budgets_of(&workflow.config)
        .map_err(|e| Failure::new("invalid_budgets_config", e))?
        .describe();
    let server = symphony_server::ServerConfig::from_section(
        workflow.config.extensions.get("server"),
        None,
        |name| std::env::var(name).ok(),
    )
    .map_err(|e| Failure::new("invalid_server_config", e))?
    .map_or_else(String::new, |c| {
        format!(
            "# Server: http://{}:{}/ ({})\n",
            c.host,
            c.port,
            if c.auth_token.is_some() {
                "bearer token required"
            } else {
                "loopback, no token"
            }
        )
    });
    print!(
        "{}{}{agent}{gates}{handoff}{review}{planning}{budgets}{server}",
        report(&workflow, &template)?,
        sections(&workflow, &registry)
    );
    Ok(())
}

/// Which section each top-level key of the file belongs to: the core's or an extension's.
fn sections(workflow: &Workflow, registry: &ConfigRegistry) -> String {
    let mut out = String::from("\n# Sections\n");
    for key in workflow.definition.config.keys() {
        let owner = registry.section(key).map_or_else(
            || "core".to_owned(),
            |s| format!("extension: {}", s.owner()),
        );
        let _ = writeln!(out, "- {key}: {owner}");
    }
    out
}

/// Reads the `handoff:` section as `run` would (the loader has validated it already).
fn handoff(workflow: &Workflow) -> Result<String, Failure> {
    let invalid = |message: String| Failure::new("invalid_handoff_config", message);
    let Some(config) =
        symphony_orchestrator::handoff_plan(workflow).map_err(|e| invalid(e.message))?
    else {
        return Ok(String::new());
    };
    let Some(needs_human) = config.needs_human_state.as_deref() else {
        // The plan refuses a hand-off without one; never print a made-up state.
        return Err(invalid("handoff has no needs_human_state".to_owned()));
    };
    let push = match config.push {
        Some(true) => format!("push to {}", config.remote),
        Some(false) => "no push".to_owned(),
        None => "push when the tracker reviews pushed branches".to_owned(),
    };
    Ok(format!(
        "# Hand-off: commit, {push}, propose{}, then state {:?}; after {} run(s) in a row with \
         nothing to hand off, state {needs_human:?}\n",
        if config.draft { " as a draft" } else { "" },
        config.state,
        config.max_empty_attempts,
    ))
}

/// Reads the `review:` section as `run` would.
fn review(workflow: &Workflow) -> Result<String, Failure> {
    let config = symphony_orchestrator::ReviewConfig::from_section(
        workflow.config.extensions.get("review"),
        &workflow.config,
    )
    .map_err(|e| Failure::new("invalid_review_config", e))?;
    let Some(review) = config else {
        return Ok(String::new());
    };
    let merged = review.merged_state.as_deref().map_or_else(
        || "left to the tracker's automation".to_owned(),
        |s| format!("state {s:?}"),
    );
    use symphony_orchestrator::review_policy::{OnClosed, OnHeadMoved};
    let closed = match review.policy.on_closed {
        OnClosed::Requeue => "queued again",
        _ => "to a person",
    };
    let pushed = match review.policy.on_head_moved {
        OnHeadMoved::Rebase => "built on",
        _ => "to a person",
    };
    let conflicts = if review.allow_rebase_push {
        "rebased (replacing only Symphony's own push) or merged"
    } else {
        "merged, pushes fast-forward only"
    };
    Ok(format!(
        "# Review: watched every {} ms; feedback sends the issue to {:?} for up to {} round(s), \
         then to a person; merged: {merged}; closed: {closed}; someone else's push: {pushed}; \
         conflicts: base {conflicts}\n",
        review.poll_interval.as_millis(),
        review.rework_state,
        review.policy.max_rounds,
    ))
}

/// The agent backend's launch plan, for the backends that have one to tell.
fn agent(workflow: &Workflow) -> Result<String, Failure> {
    use symphony_agent_claude::{ClaudeOptions, CLAUDE_BACKEND};
    if workflow.config.agent.backend != CLAUDE_BACKEND {
        return Ok(String::new());
    }
    let options = ClaudeOptions::from_section(workflow.config.extensions.get(CLAUDE_BACKEND))
        .map_err(|e| Failure::new("invalid_claude_config", e.to_string()))?;
    Ok(format!(
        "# Agent: Claude Code {}\n",
        options.describe(|name| std::env::var(name).ok())
    ))
}

/// Reads the `plan:` section as `run` would.
fn planning(workflow: &Workflow) -> Result<String, Failure> {
    let Some(plan) = symphony_orchestrator::planning_plan(workflow)
        .map_err(|e| Failure::new(e.category, e.message))?
    else {
        return Ok(String::new());
    };
    let mut who = Vec::new();
    if !plan.labels.is_empty() {
        who.push(format!("labels {:?}", plan.labels));
    }
    if !plan.states.is_empty() {
        who.push(format!("states {:?}", plan.states));
    }
    let mut approval = Vec::new();
    if let Some(state) = &plan.approved_state {
        approval.push(format!("state {state:?}"));
    }
    if let Some(label) = &plan.approved_label {
        approval.push(format!("label {label:?}"));
    }
    Ok(format!(
        "# Plan before code: issues with {} write a decision record in {} first, then wait in \
         {:?}; approved by {}; a rejected plan goes back to {:?}; after {} plan(s) without \
         approval, a person\n",
        who.join(" or "),
        plan.adr_dir,
        plan.review_state,
        approval.join(" or "),
        plan.rework_state,
        plan.max_rounds,
    ))
}

/// Builds the `gates:` checks as `run` would, so a bad section fails here, not mid-run.
fn gates(workflow: &Workflow) -> Result<String, Failure> {
    let invalid = |e: symphony_gates::GateError| Failure::new(e.category(), e.to_string());
    let config = symphony_gates::GatesConfig::from_section(workflow.config.extensions.get("gates"))
        .map_err(invalid)?;
    if config.checks.is_empty() {
        return Ok(String::new());
    }
    let base_dir = workflow.definition.path.parent().unwrap_or(Path::new("."));
    let runners = symphony_orchestrator::Wiring::gates(&crate::wiring::BinaryWiring)
        .build(&config, base_dir)
        .map_err(invalid)?;
    let names: Vec<&str> = runners.iter().map(|r| r.name()).collect();
    // The reviewers are built as a run builds them, so a reviewer this build cannot run is
    // refused here rather than at start.
    let reviewers = ReviewerBackends::build(&crate::wiring::BinaryWiring, workflow, &config.checks)
        .map_err(|e| Failure::new("invalid_gate_config", e.to_string()))?
        .described();
    Ok(format!(
        "# Gates: {} ({} feedback round(s), then {})\n{}",
        names.join(", "),
        config.max_rounds,
        config
            .needs_human_state
            .as_deref()
            .map_or("the run fails".to_owned(), |s| format!("state {s:?}")),
        if reviewers.is_empty() {
            String::new()
        } else {
            format!("# Reviewers: {}\n", reviewers.join("; "))
        }
    ))
}

/// The check report: validity, the effective configuration as YAML, the template, warnings.
fn report(workflow: &Workflow, template: &PromptTemplate) -> Result<String, Failure> {
    let yaml = serde_yaml_ng::to_string(&workflow.config).map_err(|e| {
        Failure::new(
            "internal_error",
            format!("cannot print the configuration: {e}"),
        )
    })?;
    let mut out = String::new();
    let _ = writeln!(out, "ok: {} is valid", workflow.definition.path.display());
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "# Effective configuration (defaults applied, paths resolved, secrets masked)"
    );
    out.push_str(&yaml);
    let _ = writeln!(out);
    let prompt = if workflow.definition.prompt_template.is_empty() {
        "empty body: the default prompt is used".to_owned()
    } else {
        format!("{} lines, compiles", template.source().lines().count())
    };
    let _ = writeln!(out, "# Prompt template: {prompt}");
    if !workflow.config.warnings.is_empty() {
        let _ = writeln!(out);
        let _ = writeln!(out, "# Warnings");
        for warning in &workflow.config.warnings {
            let _ = writeln!(out, "- {warning}");
        }
    }
    Ok(out)
}
