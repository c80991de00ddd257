//! What each scheduling decision and agent event becomes in the state store, in decision
//! order: run rows, retries, releases, events, token totals and audit entries, redacted. The
//! persistence task writes [`Ledger::pending`] in batches.

use std::collections::{HashMap, VecDeque};

use serde_json::json;
use symphony_process::ProcessIdentity;
use symphony_scheduler::{AgentUpdate, Decision, RunEnd};
use symphony_store::{wall_clock_ms, AuditRecord, Change, Redactor, RunOutcome};

/// The changes not yet written, and what translating more of them needs to remember.
#[derive(Default)]
pub(crate) struct Ledger {
    /// Run id of each issue's current run.
    pub open_runs: HashMap<String, i64>,
    /// Agent pid recorded per run.
    pub pids: HashMap<i64, u32>,
    pub redactor: Redactor,
    /// Changes not yet written, in decision order.
    pub pending: VecDeque<Change>,
}

impl Ledger {
    fn text(&self, text: Option<String>) -> Option<String> {
        text.map(|t| self.redactor.text(&t))
    }

    /// Queues an audit entry, its detail redacted.
    pub fn push_audit(&mut self, mut record: AuditRecord) {
        record.detail = self.redactor.json(&record.detail);
        self.pending.push_back(Change::Audit(record));
    }

    fn audit(&mut self, kind: &str, issue: (&str, &str), detail: serde_json::Value) {
        self.push_audit(AuditRecord {
            at_ms: wall_clock_ms(),
            kind: kind.to_owned(),
            issue_id: Some(issue.0.to_owned()),
            identifier: Some(issue.1.to_owned()),
            detail,
        });
    }

    pub fn decision(&mut self, decision: Decision) {
        let now = wall_clock_ms();
        match decision {
            Decision::StopRequested {
                issue_id,
                identifier,
                reason,
            } => self.audit("stop", (&issue_id, &identifier), json!({"reason": reason})),
            Decision::RunEnded {
                issue_id,
                identifier,
                outcome,
                error,
                runtime_ms,
            } => {
                let error = self.text(error);
                let run_id = self.open_runs.remove(&issue_id);
                if let Some(run_id) = run_id {
                    self.pids.remove(&run_id);
                    let (stored, error) = match outcome {
                        RunEnd::Succeeded => (RunOutcome::Succeeded, error),
                        RunEnd::Failed => (RunOutcome::Failed, error),
                        RunEnd::Stalled => (RunOutcome::Stalled, error),
                        RunEnd::Interrupted => (RunOutcome::Interrupted, error),
                        RunEnd::Skipped => (RunOutcome::Skipped, error),
                        RunEnd::Stopped(reason) => (
                            RunOutcome::Stopped,
                            Some(format!("stopped: {}", reason.as_str())),
                        ),
                        RunEnd::BudgetExceeded(_) => (RunOutcome::BudgetExceeded, error),
                    };
                    self.pending.push_back(Change::RunEnded {
                        run_id,
                        at_ms: now,
                        outcome: stored,
                        error,
                    });
                }
                self.audit(
                    "run_ended",
                    (&issue_id, &identifier),
                    json!({"run_id": run_id, "outcome": outcome, "runtime_ms": runtime_ms}),
                );
            }
            Decision::RetryScheduled {
                issue_id,
                identifier,
                attempt,
                delay_ms,
                error,
                reason,
            } => {
                let error = self.text(error);
                let due_at_ms = now.saturating_add(delay_ms);
                self.audit(
                    "retry_scheduled",
                    (&issue_id, &identifier),
                    json!({"attempt": attempt, "due_at_ms": due_at_ms, "error": error, "reason": reason}),
                );
                self.pending.push_back(Change::RetryQueued {
                    issue_id,
                    identifier,
                    attempt,
                    due_at_ms,
                    error,
                });
            }
            Decision::Released {
                issue_id,
                identifier,
                reason,
            } => {
                self.audit(
                    "released",
                    (&issue_id, &identifier),
                    json!({"reason": reason}),
                );
                self.pending.push_back(Change::Released { issue_id });
            }
            Decision::HeldElsewhere {
                issue_id,
                identifier,
                holder,
                held_for_ms,
            } => self.audit(
                "claim_held_elsewhere",
                (&issue_id, &identifier),
                json!({"holder": holder, "held_for_ms": held_for_ms}),
            ),
            Decision::BudgetWarning {
                issue_id,
                identifier,
                exceeded,
            } => self.push_audit(AuditRecord {
                at_ms: now,
                kind: "budget_warning".to_owned(),
                issue_id,
                identifier,
                detail: json!({"budget": exceeded, "message": exceeded.to_string()}),
            }),
            Decision::BudgetExceeded {
                issue_id,
                identifier,
                exceeded,
                spend,
            } => self.audit(
                "budget_exceeded",
                (&issue_id, &identifier),
                json!({"budget": exceeded, "spend": spend, "message": exceeded.to_string()}),
            ),
            Decision::DispatchHeld { day, exceeded } => self.push_audit(AuditRecord {
                at_ms: now,
                kind: "dispatch_held".to_owned(),
                issue_id: None,
                identifier: None,
                detail: json!({"day": day, "budget": exceeded, "message": exceeded.to_string()}),
            }),
            Decision::DispatchResumed { day } => self.push_audit(AuditRecord {
                at_ms: now,
                kind: "dispatch_resumed".to_owned(),
                issue_id: None,
                identifier: None,
                detail: json!({"day": day}),
            }),
            Decision::ConfigReloaded => self.push_audit(AuditRecord {
                at_ms: now,
                kind: "config_reloaded".to_owned(),
                issue_id: None,
                identifier: None,
                detail: json!({}),
            }),
        }
    }

    pub fn agent(&mut self, issue_id: &str, update: AgentUpdate) {
        let Some(&run_id) = self.open_runs.get(issue_id) else {
            return;
        };
        if let Some(pid) = update.pid {
            if self.pids.get(&run_id) != Some(&pid) {
                self.pids.insert(run_id, pid);
                self.pending.push_back(Change::RunProcess {
                    run_id,
                    pid,
                    pid_start: ProcessIdentity::of(pid).map(|p| p.start_ticks),
                });
            }
        }
        if update.turn_started || update.round_started {
            self.pending.push_back(Change::Progress {
                run_id,
                turns: update.turn_started.into(),
                rounds: update.round_started.into(),
            });
        }
        if let Some(usage) = update.tokens {
            self.pending.push_back(Change::Tokens {
                run_id,
                at_ms: wall_clock_ms(),
                usage,
            });
        }
        let message = self.text(update.message);
        self.pending.push_back(Change::Event {
            run_id,
            at_ms: wall_clock_ms(),
            kind: update.event,
            message,
        });
    }
}
