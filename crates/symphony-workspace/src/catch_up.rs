//! Bringing a workspace up to date before a review round (ADR 0018): the remote fetched into
//! the mirror; commits someone else pushed on top of Symphony's taken by a fast-forward (or
//! refused); and, when the change conflicts with its base, the base merged in. What git cannot
//! merge is left in the worktree for the agent with the merge under way (`MERGE_HEAD`), so the
//! hand-off's commit records it as a merge ([`crate::commit_tree`]).

use std::time::Duration;

use symphony_process::{run_bounded, RunError};

use crate::branch::{head_branch, Identity};
use crate::manager::{Workspace, WorkspaceManager};

/// Limit for one git command of a catch-up (the fetch has its own, longer one).
const GIT_TIMEOUT: Duration = Duration::from_secs(5 * 60);

/// What a catch-up should do.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CatchUp {
    /// Take commits someone else pushed on top of the branch (a fast-forward); otherwise
    /// they are refused ([`CatchUpError::ForeignPush`]).
    pub take_pushes: bool,
    /// Merge this base branch (its remote-tracking ref) into the branch when it is not in it
    /// already.
    pub merge_base: Option<String>,
    /// Try to rebase the branch onto the base before merging it (the push then replaces the
    /// branch, which its caller must allow); a rebase git cannot finish is undone and the base
    /// merged instead.
    pub rebase: bool,
    /// Who a merge commit is by.
    pub identity: Identity,
    /// The merge commit's message.
    pub message: String,
}

impl CatchUp {
    /// Fetch only: no pushes taken, nothing merged.
    pub fn new(identity: Identity, message: impl Into<String>) -> Self {
        Self {
            take_pushes: false,
            merge_base: None,
            rebase: false,
            identity,
            message: message.into(),
        }
    }
}

/// What happened to the base.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum BaseMerge {
    /// No merge was asked for.
    NotAsked,
    /// The branch contains the base already.
    UpToDate,
    /// Git merged the base cleanly: the merge commit.
    Merged {
        /// The merge commit.
        commit: String,
    },
    /// Git rebased the branch onto the base cleanly: the new head.
    Rebased {
        /// The branch's new head.
        head: String,
    },
    /// The merge is under way with these paths still conflicted, for the agent to resolve
    /// (also when an earlier attempt of the round left the merge under way).
    Conflicts {
        /// The conflicted paths, relative to the workspace.
        paths: Vec<String>,
    },
}

/// What a catch-up did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CaughtUp {
    /// The head someone else pushed, which the branch fast-forwarded to.
    pub took_push: Option<String>,
    /// What happened to the base.
    pub base: BaseMerge,
}

/// Why a workspace could not be brought up to date.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CatchUpError {
    /// Someone else pushed to the branch and taking pushes was not allowed.
    #[error("someone else pushed to `{branch}` (the remote is at {remote}); Symphony does not work over another's commits")]
    ForeignPush {
        /// The branch.
        branch: String,
        /// The remote's head.
        remote: String,
    },
    /// The branch on the remote no longer contains the workspace's head: its history was
    /// rewritten (a force push), and only a person can say which history is meant.
    #[error("`{branch}` on the remote (at {remote}) no longer contains the workspace's head: its history was rewritten")]
    Rewritten {
        /// The branch.
        branch: String,
        /// The remote's head.
        remote: String,
    },
    /// Fetching, reading or merging failed.
    #[error("cannot bring the workspace up to date: {0}")]
    Git(String),
}

impl CatchUpError {
    /// The error's category name.
    pub fn category(&self) -> &'static str {
        match self {
            Self::ForeignPush { .. } => "review_foreign_push",
            Self::Rewritten { .. } => "review_branch_rewritten",
            Self::Git(_) => "review_catch_up_error",
        }
    }

    /// Whether only a person can go on (as opposed to a failure worth retrying).
    pub fn needs_person(&self) -> bool {
        !matches!(self, Self::Git(_))
    }
}

impl WorkspaceManager {
    /// Brings `workspace` up to date for a review round as `request` says. Never rewrites
    /// anything the remote has, and never starts over a merge an earlier attempt left under
    /// way (the agent's resolution so far is kept).
    pub async fn catch_up(
        &self,
        workspace: &Workspace,
        request: &CatchUp,
    ) -> Result<CaughtUp, CatchUpError> {
        let root = self
            .root()
            .map_err(|e| CatchUpError::Git(format!("the workspace root: {e}")))?;
        let populator = self.populator(&root).ok_or_else(|| {
            CatchUpError::Git("the workspace has no repository (workspace.repo)".to_owned())
        })?;
        populator
            .fetch()
            .await
            .map_err(|e| CatchUpError::Git(e.to_string()))?;
        let git = Git {
            dir: &workspace.path,
        };
        let path = workspace.path.clone();
        let branch = tokio::task::spawn_blocking(move || head_branch(&path))
            .await
            .map_err(|e| CatchUpError::Git(e.to_string()))?
            .map_err(|e| CatchUpError::Git(e.to_string()))?
            .ok_or_else(|| CatchUpError::Git("the workspace is not on a branch".to_owned()))?;
        if git
            .ok(&["rev-parse", "-q", "--verify", "MERGE_HEAD"])
            .await?
        {
            return Ok(CaughtUp {
                took_push: None,
                base: BaseMerge::Conflicts {
                    paths: git.unmerged().await?,
                },
            });
        }
        let took_push = git.take_push(&branch, request.take_pushes).await?;
        let base = match &request.merge_base {
            None => BaseMerge::NotAsked,
            Some(base) => git.merge_base(base, request).await?,
        };
        Ok(CaughtUp { took_push, base })
    }
}

/// `git` in one workspace.
struct Git<'a> {
    dir: &'a std::path::Path,
}

impl Git<'_> {
    /// Runs `git args`; `Ok((success, output))`, or an error if it could not run.
    async fn run(&self, args: &[&str]) -> Result<(bool, String), CatchUpError> {
        let mut command = symphony_process::child_command("git");
        command
            .args(args)
            .current_dir(self.dir)
            .env("GIT_TERMINAL_PROMPT", "0")
            .env("GIT_ASKPASS", "true")
            // A merge never opens an editor, whatever the user's configuration says.
            .env("GIT_EDITOR", "true")
            .env("GIT_MERGE_AUTOEDIT", "no");
        match run_bounded(command, GIT_TIMEOUT).await {
            Ok(done) => Ok((done.status.success(), done.output)),
            Err(RunError::TimedOut { output }) => Err(CatchUpError::Git(format!(
                "`git {}` timed out after {} s: {}",
                args.join(" "),
                GIT_TIMEOUT.as_secs(),
                output.trim()
            ))),
            Err(RunError::Spawn(e)) => Err(CatchUpError::Git(format!("cannot run git: {e}"))),
        }
    }

    async fn ok(&self, args: &[&str]) -> Result<bool, CatchUpError> {
        Ok(self.run(args).await?.0)
    }

    /// The output of a command that must succeed.
    async fn text(&self, args: &[&str]) -> Result<String, CatchUpError> {
        match self.run(args).await? {
            (true, output) => Ok(output.trim().to_owned()),
            (false, output) => Err(CatchUpError::Git(format!(
                "`git {}` failed: {}",
                args.join(" "),
                output.trim()
            ))),
        }
    }

    /// The commit `rev` names, if it exists.
    async fn commit(&self, rev: &str) -> Result<Option<String>, CatchUpError> {
        let spec = format!("{rev}^{{commit}}");
        match self.run(&["rev-parse", "-q", "--verify", &spec]).await? {
            (true, id) => Ok(Some(id.trim().to_owned())),
            (false, _) => Ok(None),
        }
    }

    async fn is_ancestor(&self, ancestor: &str, of: &str) -> Result<bool, CatchUpError> {
        self.ok(&["merge-base", "--is-ancestor", ancestor, of])
            .await
    }

    /// The conflicted paths of the index, once each.
    async fn unmerged(&self) -> Result<Vec<String>, CatchUpError> {
        let listing = self
            .text(&[
                "-c",
                "core.quotepath=off",
                "diff",
                "--name-only",
                "--diff-filter=U",
            ])
            .await?;
        let mut paths: Vec<String> = listing.lines().map(str::to_owned).collect();
        paths.dedup();
        Ok(paths)
    }

    /// Takes what someone pushed on top of the branch, if anything and if allowed.
    async fn take_push(&self, branch: &str, allowed: bool) -> Result<Option<String>, CatchUpError> {
        let Some(remote) = self
            .commit(&format!("refs/remotes/origin/{branch}"))
            .await?
        else {
            return Ok(None);
        };
        if self.is_ancestor(&remote, "HEAD").await? {
            return Ok(None);
        }
        if !self.is_ancestor("HEAD", &remote).await? {
            return Err(CatchUpError::Rewritten {
                branch: branch.to_owned(),
                remote,
            });
        }
        if !allowed {
            return Err(CatchUpError::ForeignPush {
                branch: branch.to_owned(),
                remote,
            });
        }
        self.text(&["merge", "--ff-only", "--quiet", &remote])
            .await?;
        tracing::info!(branch, head = %remote, "took commits someone else pushed to the branch");
        Ok(Some(remote))
    }

    /// Merges (or rebases onto) the base branch when the branch does not contain it.
    async fn merge_base(&self, base: &str, request: &CatchUp) -> Result<BaseMerge, CatchUpError> {
        let base_ref = format!("refs/remotes/origin/{base}");
        let Some(tip) = self.commit(&base_ref).await? else {
            return Err(CatchUpError::Git(format!(
                "the base branch {base:?} is not on the remote"
            )));
        };
        if self.is_ancestor(&tip, "HEAD").await? {
            return Ok(BaseMerge::UpToDate);
        }
        let name = format!("user.name={}", request.identity.name);
        let email = format!("user.email={}", request.identity.email);
        let identity = ["-c", name.as_str(), "-c", email.as_str()];
        if request.rebase {
            let rebase = [&identity[..], &["rebase", "--quiet", &tip]].concat();
            if self.ok(&rebase).await? {
                let head = self.text(&["rev-parse", "HEAD"]).await?;
                return Ok(BaseMerge::Rebased { head });
            }
            // Git could not replay every commit: undo it all and merge instead, which leaves
            // one set of conflicts for the agent rather than one per commit.
            self.text(&["rebase", "--abort"]).await?;
        }
        let merge = [
            &identity[..],
            &[
                "merge",
                "--no-ff",
                "--no-edit",
                "-m",
                &request.message,
                &tip,
            ],
        ]
        .concat();
        let (merged, output) = self.run(&merge).await?;
        if merged {
            let commit = self.text(&["rev-parse", "HEAD"]).await?;
            return Ok(BaseMerge::Merged { commit });
        }
        let paths = self.unmerged().await?;
        if paths.is_empty() {
            // Not a conflict (local changes in the way, say): nothing is left half done.
            let _ = self.run(&["merge", "--abort"]).await;
            return Err(CatchUpError::Git(format!(
                "`git merge {base_ref}` failed: {}",
                output.trim()
            )));
        }
        tracing::info!(
            base,
            conflicted = paths.len(),
            "the base merged with conflicts, for the agent to resolve"
        );
        Ok(BaseMerge::Conflicts { paths })
    }
}
