//! The extension sections the orchestrator owns — `gates`, `handoff`, `review`, `plan` and `docs` — read once per
//! workflow into a [`RunPlan`], and declared as [`ConfigSection`]s so the loader refuses a bad
//! one at load and on reload instead of every run failing on it. One function per section does
//! the reading, so the loader's verdict and the service's are the same verdict.

use std::path::Path;
use std::sync::Arc;

use serde_json::Value;
use symphony_code_host::{CodeHost, CodeHostContext, CodeHostRegistry, CodeHostSection};
use symphony_docs::DocsConfig;
use symphony_gates::{GateRegistry, GatesConfig};
use symphony_workflow::{ConfigSection, Environment, SectionContext, ServiceConfig, Workflow};

use crate::handoff_config::HandOffConfig;
use crate::planning_config::PlanningConfig;
use crate::review_config::ReviewConfig;
use crate::service::gates::GatePlan;

/// What every run of one workflow does after the agent's turns, validated once.
#[derive(Default)]
pub(crate) struct RunPlan {
    /// The gates (`None`: no checks).
    pub gates: Option<Arc<GatePlan>>,
    /// Symphony's own hand-off (`None`: the agent hands off itself).
    pub handoff: Option<HandOffConfig>,
    /// Where the hand-off proposes the change (present whenever `handoff` is).
    pub code_host: Option<Arc<dyn CodeHost>>,
    /// Decision records and changelog fragments (`None`: off).
    pub docs: Option<DocsConfig>,
    /// The review loop after the hand-off (`None`: off). When present, `code_host` reports
    /// reviews (the plan refuses one that cannot).
    pub review: Option<ReviewConfig>,
    /// Plan before code for the issues opted in (`None`: off); present only with `handoff`.
    pub planning: Option<PlanningConfig>,
    /// The price of usage an agent reports without one (`budgets.prices`).
    pub price: Option<crate::budget_config::Price>,
    /// Per-issue budgets are set: a stopped issue is moved to a person.
    pub budget_stops: bool,
}

/// Why a workflow's run plan (its `gates`, `handoff`, `docs` or code host) cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{category}: {message}")]
#[non_exhaustive]
pub struct PlanError {
    /// The category (`invalid_gate_config`, `invalid_handoff_config`, ...).
    pub category: &'static str,
    /// What is wrong and what to do about it.
    pub message: String,
}

impl RunPlan {
    /// The configured checks (none without gates).
    pub fn gate_checks(&self) -> &[symphony_gates::CheckConfig] {
        self.gates.as_ref().map_or(&[], |g| &g.config.checks)
    }

    /// The plan of `workflow`, with the gate kinds `registry` knows and its code host built
    /// from `code_hosts` (secrets read from `env`).
    pub fn from_workflow(
        workflow: &Workflow,
        registry: &GateRegistry,
        code_hosts: &CodeHostRegistry,
        env: &dyn Environment,
    ) -> Result<Self, PlanError> {
        let config = &workflow.config;
        let section = |key: &str| config.extensions.get(key);
        let handoff = handoff_plan(workflow)?;
        let code_host = match &handoff {
            Some(_) => {
                let context = CodeHostContext::new(config, workflow.definition.dir(), env);
                let host = code_hosts.build(&context).map_err(|e| PlanError {
                    category: CODE_HOST_CATEGORY,
                    message: e.to_string(),
                })?;
                Some(host.ok_or_else(|| PlanError {
                    category: HANDOFF_CATEGORY,
                    message: no_code_host(config, code_hosts),
                })?)
            }
            None => None,
        };
        let review = review_plan(config, section("review"), handoff.is_some())?;
        if let (Some(_), Some(host)) = (&review, &code_host) {
            if host.review_reports().is_none() {
                return Err(PlanError {
                    category: REVIEW_CATEGORY,
                    message: format!(
                        "review needs a code host that reports reviews, and code host {:?} \
                         cannot; remove the `review` section or use one that can",
                        host.kind()
                    ),
                });
            }
        }
        let docs = docs(section("docs")).map_err(|message| PlanError {
            category: DOCS_CATEGORY,
            message,
        })?;
        let planning = planning(config, section("plan"), handoff.is_some(), docs.as_ref())?;
        let budgets = crate::budget_config::budgets_of(config).map_err(|message| PlanError {
            category: "invalid_budgets_config",
            message,
        })?;
        Ok(Self {
            price: budgets.price,
            budget_stops: !budgets.budgets.per_issue.is_unset()
                || budgets
                    .budgets
                    .overrides
                    .iter()
                    .any(|o| !o.per_issue.is_unset()),
            code_host,
            review,
            planning,
            gates: gate_plan(
                config,
                section("gates"),
                workflow.definition.dir(),
                registry,
            )
            .map_err(|message| PlanError {
                category: GATES_CATEGORY,
                message,
            })?
            .map(Arc::new),
            handoff,
            docs,
        })
    }
}

impl RunPlan {
    /// Refuses the plan when a stage of it moves issues (`handoff`, or gates that hand an
    /// issue to a person) and `tracker` cannot: known before any run, not after an agent's
    /// work is done.
    pub fn check_tracker(&self, tracker: &dyn symphony_tracker::Tracker) -> Result<(), PlanError> {
        let moves_issues = self.handoff.is_some()
            || self.planning.is_some()
            || self.budget_stops
            || self
                .gates
                .as_ref()
                .is_some_and(|g| g.config.needs_human_state.is_some());
        if moves_issues && tracker.issue_hand_off().is_none() {
            return Err(PlanError {
                category: HANDOFF_CATEGORY,
                message: format!(
                    "tracker kind {:?} cannot move issues or comment on them, so `handoff`, \
                     `gates.needs_human_state` and per-issue `budgets` cannot be used with it",
                    tracker.kind()
                ),
            });
        }
        Ok(())
    }

    /// Refuses a review loop without a state store: its watches must survive restarts.
    pub fn check_store(&self, has_store: bool) -> Result<(), PlanError> {
        if self.review.is_some() && !has_store {
            return Err(PlanError {
                category: REVIEW_CATEGORY,
                message: "review needs a state store: its watches survive restarts there"
                    .to_owned(),
            });
        }
        Ok(())
    }

    /// Every secret a child must not see: the tracker's and the code host's.
    pub fn secret_environment_names(&self, tracker: &dyn symphony_tracker::Tracker) -> Vec<String> {
        let mut names = tracker.secret_environment_names();
        if let Some(host) = &self.code_host {
            names.extend(host.secret_environment_names());
        }
        names.sort();
        names.dedup();
        names
    }
}

const GATES_CATEGORY: &str = "invalid_gate_config";
const HANDOFF_CATEGORY: &str = "invalid_handoff_config";
const DOCS_CATEGORY: &str = "invalid_docs_config";
const REVIEW_CATEGORY: &str = "invalid_review_config";
const CODE_HOST_CATEGORY: &str = "invalid_code_host_config";
const PLAN_CATEGORY: &str = "invalid_plan_config";

/// Why a hand-off has nowhere to propose its change.
fn no_code_host(config: &ServiceConfig, code_hosts: &CodeHostRegistry) -> String {
    format!(
        "handoff needs a code host to propose the change on, and tracker.kind {:?} has none of          its own: set `code_host: {{kind: ...}}` (this build has: {})",
        config.tracker.kind,
        code_hosts.kinds().join(", ")
    )
}

/// Gates judge a change against its branch point: without a git checkout there is nothing to
/// judge, and skipping them would hand off (or finish) unchecked work.
const NEEDS_REPO: &str = "needs workspace.repo (a git checkout whose change is judged \
                          against its branch point); set workspace.repo or remove the section";

fn gate_plan(
    config: &ServiceConfig,
    section: Option<&Value>,
    workflow_dir: &Path,
    registry: &GateRegistry,
) -> Result<Option<GatePlan>, String> {
    let gates = GatesConfig::from_section(section).map_err(|e| e.to_string())?;
    if gates.checks.is_empty() {
        return Ok(None);
    }
    if config.workspace.repo.is_none() {
        return Err(format!("gates.checks {NEEDS_REPO}"));
    }
    let runners = registry
        .build(&gates, workflow_dir)
        .map_err(|e| e.to_string())?;
    Ok(Some(GatePlan {
        config: gates,
        runners,
    }))
}

/// The hand-off a run of `workflow` performs (`None`: the agent hands off itself), with its
/// needs-human state resolved as the run resolves it.
pub fn handoff_plan(workflow: &Workflow) -> Result<Option<HandOffConfig>, PlanError> {
    let extensions = &workflow.config.extensions;
    handoff(
        &workflow.config,
        extensions.get("handoff"),
        extensions.get("gates"),
    )
    .map_err(|message| PlanError {
        category: HANDOFF_CATEGORY,
        message,
    })
}

fn handoff(
    config: &ServiceConfig,
    section: Option<&Value>,
    gates: Option<&Value>,
) -> Result<Option<HandOffConfig>, String> {
    let Some(mut handoff) = HandOffConfig::from_section(section)? else {
        return Ok(None);
    };
    if config.workspace.repo.is_none() {
        return Err(format!("handoff {NEEDS_REPO}"));
    }
    if handoff.needs_human_state.is_none() {
        // The gates' person is the hand-off's too; a bad gates section is reported there.
        handoff.needs_human_state = GatesConfig::from_section(gates)
            .ok()
            .and_then(|g| g.needs_human_state);
    }
    if handoff.needs_human_state.is_none() {
        return Err(
            "handoff.needs_human_state (or gates.needs_human_state) is required: the state an \
             issue goes to when its runs leave nothing to hand off (without one it would be \
             dispatched again and again)"
                .to_owned(),
        );
    }
    Ok(Some(handoff))
}

/// The review loop of a workflow (`None`: off); it follows what Symphony hands off, so it
/// needs `handoff`.
fn review_plan(
    config: &ServiceConfig,
    section: Option<&Value>,
    hands_off: bool,
) -> Result<Option<ReviewConfig>, PlanError> {
    let refuse = |message: String| PlanError {
        category: REVIEW_CATEGORY,
        message,
    };
    let review = ReviewConfig::from_section(section, config).map_err(refuse)?;
    if review.is_some() && !hands_off {
        return Err(refuse(
            "review follows the changes Symphony hands off, and this workflow has no \
             `handoff` section: add one, or remove `review`"
                .to_owned(),
        ));
    }
    Ok(review)
}

/// The plan stage of `workflow` (`None`: off), read as a run reads it.
pub fn planning_plan(workflow: &Workflow) -> Result<Option<PlanningConfig>, PlanError> {
    let extensions = &workflow.config.extensions;
    let docs = docs(extensions.get("docs")).map_err(|message| PlanError {
        category: DOCS_CATEGORY,
        message,
    })?;
    planning(
        &workflow.config,
        extensions.get("plan"),
        extensions.contains_key("handoff"),
        docs.as_ref(),
    )
}

/// Plan before code (`None`: off): its coding run is handed off by Symphony, so it needs
/// `handoff` (whose author commits the plan rounds and whose person takes a plan nobody
/// approves).
fn planning(
    config: &ServiceConfig,
    section: Option<&Value>,
    hands_off: bool,
    docs: Option<&DocsConfig>,
) -> Result<Option<PlanningConfig>, PlanError> {
    let refuse = |message: String| PlanError {
        category: PLAN_CATEGORY,
        message,
    };
    let adr_dir = docs.map(|d| d.adr_dir.as_str());
    let planning = PlanningConfig::from_section(section, config, adr_dir).map_err(refuse)?;
    if planning.is_some() && !hands_off {
        return Err(refuse(
            "plan needs a `handoff` section: Symphony commits the plan, hands the approved \
             change off with it, and sends a plan nobody approves to handoff's \
             needs_human_state"
                .to_owned(),
        ));
    }
    Ok(planning)
}

fn docs(section: Option<&Value>) -> Result<Option<DocsConfig>, String> {
    DocsConfig::from_section(section).map_err(|e| e.to_string())
}

/// The sections the orchestrator owns, for a build's [`symphony_workflow::ConfigRegistry`];
/// `gates` knows the gate kinds of `gates` (the built-in ones plus a program's own), and
/// `code_host` (with the hand-off's need of one) the code-host kinds of `code_hosts`.
pub fn config_sections(
    gates: GateRegistry,
    code_hosts: CodeHostRegistry,
) -> Vec<Arc<dyn ConfigSection>> {
    vec![
        Arc::new(GatesSection(gates)),
        Arc::new(HandOffSection(code_hosts.clone())),
        Arc::new(DocsSection),
        Arc::new(ReviewSection),
        Arc::new(PlanSection),
        Arc::new(CodeHostSection(code_hosts)),
    ]
}

struct GatesSection(GateRegistry);

impl ConfigSection for GatesSection {
    fn key(&self) -> &str {
        "gates"
    }
    fn owner(&self) -> &str {
        "quality gates"
    }
    fn error_category(&self) -> &'static str {
        GATES_CATEGORY
    }
    fn schema(&self) -> Value {
        self.0.section_schema()
    }
    fn validate(
        &self,
        value: &Value,
        context: &SectionContext<'_>,
    ) -> Result<(), symphony_workflow::SectionError> {
        gate_plan(context.config, Some(value), context.workflow_dir, &self.0)
            .map(drop)
            .map_err(Into::into)
    }
}

struct HandOffSection(CodeHostRegistry);

impl ConfigSection for HandOffSection {
    fn key(&self) -> &str {
        "handoff"
    }
    fn owner(&self) -> &str {
        "pull-request hand-off"
    }
    fn error_category(&self) -> &'static str {
        HANDOFF_CATEGORY
    }
    fn schema(&self) -> Value {
        HandOffConfig::schema()
    }
    fn validate(
        &self,
        value: &Value,
        context: &SectionContext<'_>,
    ) -> Result<(), symphony_workflow::SectionError> {
        let plan = handoff(
            context.config,
            Some(value),
            context.config.extensions.get("gates"),
        )?;
        // A hand-off with nowhere to propose is refused at load, not on the first run. (A bad
        // `code_host` section is reported by that section.)
        if plan.is_some() {
            if let Ok(None) = self.0.select(context.config) {
                return Err(no_code_host(context.config, &self.0).into());
            }
        }
        Ok(())
    }
}

struct DocsSection;

impl ConfigSection for DocsSection {
    fn key(&self) -> &str {
        "docs"
    }
    fn owner(&self) -> &str {
        "decision records and changelog fragments"
    }
    fn error_category(&self) -> &'static str {
        DOCS_CATEGORY
    }
    fn schema(&self) -> Value {
        DocsConfig::schema()
    }
    fn validate(
        &self,
        value: &Value,
        _context: &SectionContext<'_>,
    ) -> Result<(), symphony_workflow::SectionError> {
        docs(Some(value)).map(drop).map_err(Into::into)
    }
}

struct ReviewSection;

impl ConfigSection for ReviewSection {
    fn key(&self) -> &str {
        "review"
    }
    fn owner(&self) -> &str {
        "review loop after the hand-off"
    }
    fn error_category(&self) -> &'static str {
        REVIEW_CATEGORY
    }
    fn schema(&self) -> Value {
        ReviewConfig::schema()
    }
    fn validate(
        &self,
        value: &Value,
        context: &SectionContext<'_>,
    ) -> Result<(), symphony_workflow::SectionError> {
        let hands_off = context.config.extensions.contains_key("handoff");
        review_plan(context.config, Some(value), hands_off)
            .map(drop)
            .map_err(|e| e.message.into())
    }
}

struct PlanSection;

impl ConfigSection for PlanSection {
    fn key(&self) -> &str {
        "plan"
    }
    fn owner(&self) -> &str {
        "plan before code"
    }
    fn error_category(&self) -> &'static str {
        PLAN_CATEGORY
    }
    fn schema(&self) -> Value {
        PlanningConfig::schema()
    }
    fn validate(
        &self,
        value: &Value,
        context: &SectionContext<'_>,
    ) -> Result<(), symphony_workflow::SectionError> {
        let extensions = &context.config.extensions;
        let docs = docs(extensions.get("docs")).ok().flatten();
        planning(
            context.config,
            Some(value),
            extensions.contains_key("handoff"),
            docs.as_ref(),
        )
        .map(drop)
        .map_err(|e| e.message.into())
    }
}
