//! The `ai_review` gate's rules, with a scripted reviewer behind the [`ReviewerAgent`] port (the
//! orchestrator's real reviewer sessions — the `command` backend and the Codex CLI — are tested
//! in the orchestrator and end to end): what blocks, what is only reported, and every way of
//! not getting a review being an `error`.

mod common;

use std::path::Path;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use common::git;
use serde_json::{json, Value};
use symphony_core::Usage;
use symphony_gates::ai_review::ReviewSeverity;
use symphony_gates::{
    AiReviewGate, AiReviewSettings, ChangeSet, GateContext, GateIssue, GateReport, GateRunner,
    GateSettings, GateStatus, ReviewRequest, ReviewerAgent, ReviewerError, ReviewerRun,
};

/// What the scripted reviewer does.
#[derive(Clone)]
enum Script {
    /// Calls the tool with each argument in turn (the check decides what counts).
    Submit(Vec<Value>),
    /// Fails to start.
    Unavailable,
    /// Starts, spends tokens, and its turn times out.
    TimesOut,
    /// Writes into the workspace, then submits.
    Writes(Value),
}

struct Scripted {
    script: Script,
    prompts: Arc<Mutex<Vec<String>>>,
}

#[async_trait]
impl ReviewerAgent for Scripted {
    async fn review(
        &self,
        workspace: &Path,
        request: ReviewRequest,
    ) -> Result<ReviewerRun, ReviewerError> {
        self.prompts.lock().unwrap().push(request.prompt.clone());
        assert_eq!(request.tool.name, "submit_review");
        let calls = match &self.script {
            Script::Unavailable => return Err(ReviewerError::Unavailable("no codex".into())),
            Script::TimesOut => {
                let mut run = ReviewerRun::default();
                run.tokens = Usage::tokens(900, 0, 900);
                run.failure = Some("[turn_timeout] silent for 600000 ms".into());
                return Ok(run);
            }
            Script::Writes(answer) => {
                std::fs::write(workspace.join("NOTES.md"), "reviewer was here\n").unwrap();
                vec![answer.clone()]
            }
            Script::Submit(calls) => calls.clone(),
        };
        let mut run = ReviewerRun::default();
        for call in calls {
            match (request.check)(&call) {
                Ok(()) => run.submission = Some(call),
                Err(why) => run.refused.push(why),
            }
        }
        run.tokens = Usage::tokens(1200, 300, 1500);
        run.session = "review-1".into();
        Ok(run)
    }
}

/// `app/db.py` at the base; the change adds `find` building SQL from input at line 5.
fn workspace() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    git(d, &["init", "-q", "-b", "main"]);
    std::fs::create_dir_all(d.join("app")).unwrap();
    std::fs::write(d.join("app/db.py"), "import sqlite3\n\n\n").unwrap();
    std::fs::write(d.join("REVIEW.md"), "Every query uses placeholders.\n").unwrap();
    git(d, &["add", "-A"]);
    git(d, &["commit", "-q", "-m", "base"]);
    std::fs::write(
        d.join("app/db.py"),
        "import sqlite3\n\n\ndef find(db, name):\n    return db.execute(f\"SELECT * FROM users WHERE name = '{name}'\")\n",
    )
    .unwrap();
    dir
}

fn finding(line: u32, severity: &str) -> Value {
    json!({"file": "app/db.py", "start_line": line, "end_line": line, "severity": severity,
           "category": "security", "message": "SQL built from user input: injection",
           "suggested_fix": "pass `name` as a parameter: db.execute('... = ?', (name,))"})
}

async fn review(
    dir: &Path,
    script: Script,
    settings: AiReviewSettings,
) -> (GateReport, Vec<String>) {
    let change = ChangeSet::from_workspace(dir, "main", std::time::Duration::from_secs(30))
        .await
        .unwrap();
    let prompts = Arc::new(Mutex::new(Vec::new()));
    let mut context = GateContext::new(dir.to_path_buf(), Arc::new(change));
    let mut issue = GateIssue::new("DEMO-7", "Look users up by name");
    issue.description = Some("Add a lookup by name.".into());
    context.issue = Some(issue);
    context.reviewer = Some(Arc::new(Scripted {
        script,
        prompts: Arc::clone(&prompts),
    }));
    let runner = GateRunner::new(
        Arc::new(AiReviewGate::new(settings).unwrap()),
        GateSettings::new("ai_review"),
    )
    .unwrap();
    let report = runner.run(&context).await;
    let prompts = prompts.lock().unwrap().clone();
    (report, prompts)
}

#[tokio::test]
async fn a_serious_finding_on_a_changed_line_blocks_and_its_tokens_are_counted() {
    let dir = workspace();
    let answer = json!({"findings": [finding(5, "high")], "summary": "Injectable query."});
    let (report, prompts) = review(
        dir.path(),
        Script::Submit(vec![answer]),
        AiReviewSettings::default(),
    )
    .await;
    assert_eq!(report.status, GateStatus::Fail, "{report:?}");
    let f = &report.findings[0];
    assert_eq!(
        (f.file.as_deref(), f.line, f.in_change),
        (Some("app/db.py"), Some(5), true)
    );
    assert_eq!(f.rule, "ai_review/security");
    assert!(f.message.starts_with("[high · security]"), "{}", f.message);
    assert!(
        f.message.contains("Suggested fix: pass `name`"),
        "{}",
        f.message
    );
    assert_eq!(report.agent_tokens, Some(Usage::tokens(1200, 300, 1500)));
    // The reviewer saw the issue, the diff, the numbered lines and the guidelines.
    let prompt = &prompts[0];
    for expected in [
        "DEMO-7: Look users up by name",
        "Add a lookup by name.",
        "+def find(db, name):",
        "5 |     return db.execute(",
        "Every query uses placeholders.",
        "call the `submit_review` tool",
    ] {
        assert!(
            prompt.contains(expected),
            "{expected:?} missing from:\n{prompt}"
        );
    }
}

#[tokio::test]
async fn findings_below_the_bar_or_on_untouched_lines_do_not_block() {
    let dir = workspace();
    // Line 1 (`import sqlite3`) was not added by the change; line 5 is medium.
    let answer = json!({"findings": [finding(1, "critical"), finding(5, "medium")],
                        "summary": "Minor."});
    let (report, _) = review(
        dir.path(),
        Script::Submit(vec![answer.clone()]),
        AiReviewSettings::default(),
    )
    .await;
    assert_eq!(report.status, GateStatus::Pass, "{report:?}");
    assert_eq!(report.findings.len(), 2);
    assert!(report.findings.iter().all(|f| !f.in_change));
    // With the bar at medium the second blocks.
    let settings = AiReviewSettings {
        block_severity: ReviewSeverity::Medium,
        ..AiReviewSettings::default()
    };
    let (report, _) = review(dir.path(), Script::Submit(vec![answer]), settings).await;
    assert_eq!(report.status, GateStatus::Fail, "{report:?}");
}

#[tokio::test]
async fn a_refused_answer_then_a_good_one_is_a_review() {
    let dir = workspace();
    let calls = vec![
        json!({"verdict": "LGTM"}),
        json!({"findings": [], "summary": "Fine."}),
    ];
    let (report, _) = review(
        dir.path(),
        Script::Submit(calls),
        AiReviewSettings::default(),
    )
    .await;
    assert_eq!(report.status, GateStatus::Pass, "{report:?}");
}

#[tokio::test]
async fn no_review_is_never_a_pass() {
    let dir = workspace();
    let cases = [
        (Script::Submit(vec![]), "gave no review"),
        (
            Script::Submit(vec![json!("Looks good to me, ship it!")]),
            "does not match its schema",
        ),
        (Script::Unavailable, "could not start"),
        (Script::TimesOut, "turn_timeout"),
        (
            Script::Writes(json!({"findings": [], "summary": "Fine."})),
            "changed the workspace",
        ),
    ];
    for (script, expected) in cases {
        let (report, _) = review(dir.path(), script, AiReviewSettings::default()).await;
        assert_eq!(report.status, GateStatus::Error, "{report:?}");
        assert!(report.summary.contains(expected), "{}", report.summary);
        if expected == "turn_timeout" {
            assert_eq!(
                report.agent_tokens,
                Some(Usage::tokens(900, 0, 900)),
                "spent all the same"
            );
        }
        let _ = std::fs::remove_file(dir.path().join("NOTES.md"));
    }
    // And with no reviewer at all.
    let change = ChangeSet::from_workspace(dir.path(), "main", std::time::Duration::from_secs(30))
        .await
        .unwrap();
    let context = GateContext::new(dir.path().to_path_buf(), Arc::new(change));
    let runner = GateRunner::new(
        Arc::new(AiReviewGate::new(AiReviewSettings::default()).unwrap()),
        GateSettings::new("ai_review"),
    )
    .unwrap();
    assert_eq!(runner.run(&context).await.status, GateStatus::Error);
}
