//! The local code host: the branch stays in the local repository (nothing is pushed), and the
//! proposal and its verdicts are written as Markdown — into the issue's own file under the local
//! tracker, or into a folder of proposal files for issues that live elsewhere.

use std::path::PathBuf;
use std::sync::Arc;

use async_trait::async_trait;
use serde_json::{json, Map, Value};
use symphony_code_host::{
    ChangeProposal, CheckResult, CodeHost, CodeHostContext, CodeHostError, CodeHostErrorCategory,
    CodeHostFactory, CommentsPosted, Feedback, LineComment, LineComments, ProposalOutcome,
    ReviewReport, ReviewReports, RoundAnswer, WatchedChange,
};
use symphony_core::Issue;

use crate::profile::KIND;
use crate::proposal::Files;
use crate::review::Verdict;

/// Proposals written as Markdown next to the issues (or in a folder of their own).
#[derive(Debug, Clone)]
pub struct LocalCodeHost {
    files: Files,
}

impl LocalCodeHost {
    /// Proposals in the local tracker's issue files under `folder`.
    pub fn in_issue_files(folder: impl Into<PathBuf>) -> Self {
        Self {
            files: Files::Issues(folder.into()),
        }
    }

    /// Proposals as `<issue id>.md` files in `folder` (created as needed), for issues that live
    /// in another tracker.
    pub fn in_folder(folder: impl Into<PathBuf>) -> Self {
        Self {
            files: Files::Proposals(folder.into()),
        }
    }

    /// Writes a person's review of `issue`'s proposed change, as `symphony review` does: the
    /// next review block of its file. Returns the review's id.
    pub async fn add_review(
        &self,
        issue: &Issue,
        by: &str,
        verdict: Verdict,
        body: &str,
    ) -> Result<u64, CodeHostError> {
        let (id, by, body) = (issue.id.clone(), by.to_owned(), body.to_owned());
        self.blocking(issue, "the review", move |files| {
            files.add_review(&id, &by, verdict, &body)
        })
        .await
    }

    async fn blocking<T: Send + 'static>(
        &self,
        issue: &Issue,
        what: &str,
        write: impl FnOnce(&Files) -> Result<T, String> + Send + 'static,
    ) -> Result<T, CodeHostError> {
        let files = self.files.clone();
        tokio::task::spawn_blocking(move || write(&files))
            .await
            .unwrap_or_else(|e| Err(format!("the write task failed: {e}")))
            .map_err(|message| {
                CodeHostError::new(
                    CodeHostErrorCategory::Request,
                    format!("{what} for {} failed: {message}", issue.identifier),
                )
            })
    }
}

#[async_trait]
impl CodeHost for LocalCodeHost {
    fn kind(&self) -> &str {
        KIND
    }

    fn secret_environment_names(&self) -> Vec<String> {
        Vec::new()
    }

    fn needs_pushed_branch(&self) -> bool {
        false
    }

    async fn propose_change(
        &self,
        issue: &Issue,
        proposal: &ChangeProposal,
    ) -> Result<ProposalOutcome, CodeHostError> {
        let id = issue.id.clone();
        let proposal = proposal.clone();
        let created = self
            .blocking(issue, "the proposal", move |files| {
                files.propose(&id, &proposal)
            })
            .await?;
        Ok(ProposalOutcome::new(None, None, created))
    }

    async fn publish_checks(
        &self,
        issue: &Issue,
        head_sha: &str,
        checks: &[CheckResult],
    ) -> Result<(), CodeHostError> {
        let (id, head, checks) = (issue.id.clone(), head_sha.to_owned(), checks.to_vec());
        self.blocking(issue, "the checks", move |files| {
            files.checks(&id, &head, &checks)
        })
        .await
    }

    fn review_reports(&self) -> Option<&dyn ReviewReports> {
        Some(self)
    }

    fn line_comments(&self) -> Option<&dyn LineComments> {
        Some(self)
    }
}

#[async_trait]
impl LineComments for LocalCodeHost {
    async fn comment_lines(
        &self,
        issue: &Issue,
        _proposal: &ChangeProposal,
        _outcome: &ProposalOutcome,
        summary: &str,
        comments: &[LineComment],
    ) -> Result<CommentsPosted, CodeHostError> {
        let (id, summary, comments) = (issue.id.clone(), summary.to_owned(), comments.to_vec());
        let (posted, already) = self
            .blocking(issue, "the reviewer's remarks", move |files| {
                files.remarks(&id, &summary, &comments)
            })
            .await?;
        Ok(CommentsPosted::new(posted, already))
    }
}

#[async_trait]
impl ReviewReports for LocalCodeHost {
    async fn review_report(
        &self,
        issue: &Issue,
        watched: &WatchedChange,
    ) -> Result<ReviewReport, CodeHostError> {
        let id = issue.id.clone();
        let text = self
            .blocking(issue, "reading the reviews", move |files| files.read(&id))
            .await?;
        crate::review::report(&text, watched).map_err(|message| {
            CodeHostError::new(
                CodeHostErrorCategory::Response,
                format!("the reviews of {}: {message}", issue.identifier),
            )
        })
    }

    /// Review blocks in a file have no replies, resolution or reviewers to ask: the round's
    /// hand-off comment in the same file is its answer, and nothing more is done.
    async fn answer_round(
        &self,
        _issue: &Issue,
        _watched: &WatchedChange,
        _addressed: &[Feedback],
        _reply: &str,
    ) -> Result<RoundAnswer, CodeHostError> {
        Ok(RoundAnswer::default())
    }
}

/// `code_host: {kind: local, folder: PATH}`, or local issues' own files when there is no
/// `code_host:` section.
#[derive(Debug, Default, Clone, Copy)]
pub struct LocalCodeHostFactory;

impl LocalCodeHostFactory {
    /// The local code host `options` (a `code_host:` section without `kind`, or empty)
    /// select for `context`'s workflow, as the factory builds it: `symphony review` writes
    /// reviews through it.
    pub fn host(
        &self,
        options: &Map<String, Value>,
        context: &CodeHostContext<'_>,
    ) -> Result<LocalCodeHost, CodeHostError> {
        let invalid = |m: String| CodeHostError::new(CodeHostErrorCategory::InvalidConfig, m);
        match options.get("folder") {
            Some(Value::String(folder)) if !folder.trim().is_empty() => {
                Ok(LocalCodeHost::in_folder(context.workflow_dir.join(folder)))
            }
            Some(_) => Err(invalid(
                "`code_host.folder` must be a non-empty path".into(),
            )),
            None => match context.config.tracker.provider.get_str("path") {
                Some(path) if context.config.tracker.kind == KIND => {
                    Ok(LocalCodeHost::in_issue_files(path))
                }
                _ => Err(invalid(
                    "`code_host.folder` is required when the issues are not local: the folder \
                     proposal files are written to"
                        .into(),
                )),
            },
        }
    }
}

impl CodeHostFactory for LocalCodeHostFactory {
    fn kind(&self) -> &str {
        KIND
    }

    fn serves_tracker(&self, tracker_kind: &str) -> bool {
        tracker_kind == KIND
    }

    fn options_schema(&self) -> Map<String, Value> {
        let mut properties = Map::new();
        properties.insert(
            "folder".into(),
            json!({"type": "string", "minLength": 1, "description": "Where proposal files go (relative to the workflow); default: the local tracker's issue files."}),
        );
        properties
    }

    fn validate(
        &self,
        options: &Map<String, Value>,
        context: &CodeHostContext<'_>,
    ) -> Result<(), CodeHostError> {
        self.host(options, context).map(drop)
    }

    fn build(
        &self,
        options: &Map<String, Value>,
        context: &CodeHostContext<'_>,
    ) -> Result<Arc<dyn CodeHost>, CodeHostError> {
        Ok(Arc::new(self.host(options, context)?))
    }
}
