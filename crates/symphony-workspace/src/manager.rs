//! Creating, reusing and removing per-issue workspaces (SPEC §9.2, §9.5).

use std::path::{Path, PathBuf};

use symphony_core::WorkspaceKey;
use symphony_workflow::{HooksConfig, ServiceConfig, WorkspaceConfig};

use crate::error::WorkspaceError;
use crate::git::GitPopulator;
use crate::hooks::HookError;
use crate::hooks::{HookContext, HookKind, HookRunner};
use crate::root::{Occupant, WorkspaceRoot};

/// One issue's workspace, ready for an agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Workspace {
    /// Absolute path, strictly inside the canonical workspace root.
    pub path: PathBuf,
    /// The sanitized key naming the directory.
    pub key: WorkspaceKey,
    /// The issue identifier it was derived from.
    pub identifier: String,
    /// Whether this call created it (and so ran `after_create`).
    pub created_now: bool,
}

impl Workspace {
    fn hook_context(&self, issue_id: Option<&str>) -> HookContext {
        HookContext {
            identifier: self.identifier.clone(),
            issue_id: issue_id.map(str::to_owned),
            key: self.key.clone(),
            path: self.path.clone(),
        }
    }
}

/// Manages the workspaces under one root, with one configuration's hooks and repository.
///
/// Cheap to build: rebuild it from the current config after a reload. Mirror locks are
/// process-wide, so two managers for the same repository never race on its mirror.
#[derive(Debug, Clone)]
pub struct WorkspaceManager {
    root: PathBuf,
    hooks: HookRunner,
    repo: Option<WorkspaceConfig>,
    /// The tracker's id of the issue this manager works for, for logs and hooks.
    issue_id: Option<String>,
}

impl WorkspaceManager {
    /// A manager for a workspace section and hooks section.
    pub fn new(workspace: &WorkspaceConfig, hooks: &HooksConfig) -> Self {
        Self {
            root: workspace.root.clone(),
            hooks: HookRunner::new(hooks.clone()),
            repo: workspace.repo.is_some().then(|| workspace.clone()),
            issue_id: None,
        }
    }

    /// The same manager, working for the issue with tracker id `issue_id`: its logs and hooks
    /// carry the id beside the identifier.
    pub fn for_issue(mut self, issue_id: &str) -> Self {
        self.issue_id = Some(issue_id.to_owned());
        self
    }

    fn issue_id(&self) -> &str {
        self.issue_id.as_deref().unwrap_or_default()
    }

    /// A manager for a resolved service configuration.
    pub fn from_config(config: &ServiceConfig) -> Self {
        Self::new(&config.workspace, &config.hooks)
    }

    /// Creates the root if needed and returns it canonicalized.
    pub fn root(&self) -> Result<WorkspaceRoot, WorkspaceError> {
        WorkspaceRoot::prepare(&self.root)
    }

    pub(crate) fn populator(&self, root: &WorkspaceRoot) -> Option<GitPopulator> {
        let ws = self.repo.as_ref()?;
        Some(GitPopulator::new(
            root,
            ws.repo.clone()?,
            ws.base_branch.clone(),
        ))
    }

    /// Whether the root may hold a workspace: `false` only when it is missing or empty, so
    /// start-up cleanup (SPEC §8.6) need not ask the tracker which issues are terminal. A root
    /// that cannot be listed may hold some.
    pub fn may_hold_workspaces(&self) -> bool {
        match std::fs::read_dir(&self.root) {
            Ok(mut entries) => entries.next().is_some(),
            Err(e) => e.kind() != std::io::ErrorKind::NotFound,
        }
    }

    /// The deterministic workspace path of an issue identifier.
    pub fn path_for(&self, identifier: &str) -> Result<PathBuf, WorkspaceError> {
        Ok(self
            .root()?
            .workspace_path(&WorkspaceKey::from_identifier(identifier)))
    }

    /// Returns the issue's workspace, creating (and populating, and running `after_create` in)
    /// it when missing. An existing workspace is reused as it is, never reset. A new workspace
    /// whose population or `after_create` fails is removed again, so the next attempt starts
    /// clean.
    pub async fn ensure(&self, identifier: &str) -> Result<Workspace, WorkspaceError> {
        let root = self.root()?;
        let key = WorkspaceKey::from_identifier(identifier);
        let path = root.workspace_path(&key);
        let populator = self.populator(&root);
        let created_now = match root.inspect(&path)? {
            Occupant::Directory => false,
            Occupant::Vacant => {
                std::fs::create_dir(&path)
                    .map_err(|e| WorkspaceError::io("create workspace", &path, e))?;
                true
            }
        };
        let path = root.contain(&path)?;
        let workspace = Workspace {
            path,
            key,
            identifier: identifier.to_owned(),
            created_now,
        };
        if !created_now {
            if let Some(populator) = &populator {
                populator.check_reused(&workspace.path)?;
            }
            tracing::debug!(issue_id = self.issue_id(), issue_identifier = identifier, workspace = %workspace.path.display(), "reusing workspace");
            return Ok(workspace);
        }
        tracing::info!(issue_id = self.issue_id(), issue_identifier = identifier, workspace = %workspace.path.display(), "created workspace");
        let prepared = async {
            if let Some(populator) = &populator {
                // The mirror and branch logs of the population carry the issue too.
                let span = tracing::info_span!(
                    "workspace",
                    issue_id = self.issue_id(),
                    issue_identifier = identifier
                );
                tracing::Instrument::instrument(
                    populator.populate(&workspace.key, &workspace.path),
                    span,
                )
                .await?;
            }
            self.hooks
                .run(
                    HookKind::AfterCreate,
                    &workspace.hook_context(self.issue_id.as_deref()),
                )
                .await
                .map_err(WorkspaceError::from)
        }
        .await;
        if let Err(error) = prepared {
            // SPEC §9.3 allows removing a partially prepared new workspace; doing so means a
            // retry does not mistake it for a reusable one.
            if let Err(cleanup) = delete_tree(&workspace.path).await {
                tracing::warn!(
                    issue_id = self.issue_id(),
                    issue_identifier = identifier,
                    "could not remove the failed workspace: {cleanup}"
                );
            }
            if let Some(populator) = &populator {
                let _ = populator.forget(&workspace.key).await;
            }
            return Err(error);
        }
        Ok(workspace)
    }

    /// Runs `before_run`; an error means the attempt must not start (SPEC §9.4).
    pub async fn before_run(&self, workspace: &Workspace) -> Result<(), HookError> {
        self.hooks
            .run(
                HookKind::BeforeRun,
                &workspace.hook_context(self.issue_id.as_deref()),
            )
            .await
    }

    /// Runs `after_run`; failures are logged by the runner and otherwise ignored (SPEC §9.4).
    pub async fn after_run(&self, workspace: &Workspace) {
        let _ = self
            .hooks
            .run(
                HookKind::AfterRun,
                &workspace.hook_context(self.issue_id.as_deref()),
            )
            .await;
    }

    /// Validates, right before an agent launch, that `workspace` is a directory strictly inside
    /// the root, and returns the path to use as the agent's working directory (SPEC §9.5).
    pub fn agent_cwd(&self, workspace: &Workspace) -> Result<PathBuf, WorkspaceError> {
        let root = self.root()?;
        let expected = root.workspace_path(&workspace.key);
        let resolved = root.contain(&workspace.path)?;
        if resolved != root.contain(&expected)? {
            return Err(WorkspaceError::OutsideRoot {
                path: resolved,
                root: root.path().to_path_buf(),
            });
        }
        if !resolved.is_dir() {
            return Err(WorkspaceError::NotADirectory { path: resolved });
        }
        Ok(resolved)
    }

    /// Removes the issue's workspace: `before_remove` (failure ignored), then deletion. Returns
    /// whether there was anything to remove. A symlink at the path is removed, never followed.
    pub async fn remove(&self, identifier: &str) -> Result<bool, WorkspaceError> {
        let root = self.root()?;
        let key = WorkspaceKey::from_identifier(identifier);
        let path = root.workspace_path(&key);
        match std::fs::symlink_metadata(&path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
            Err(e) => return Err(WorkspaceError::io("inspect", &path, e)),
            Ok(meta) if meta.file_type().is_symlink() || !meta.is_dir() => {
                std::fs::remove_file(&path).map_err(|e| WorkspaceError::io("remove", &path, e))?;
                return Ok(true);
            }
            Ok(_) => {}
        }
        let workspace = Workspace {
            path: path.clone(),
            key,
            identifier: identifier.to_owned(),
            created_now: false,
        };
        let _ = self
            .hooks
            .run(
                HookKind::BeforeRemove,
                &workspace.hook_context(self.issue_id.as_deref()),
            )
            .await;
        delete_tree(&path).await?;
        if let Some(populator) = self.populator(&root) {
            populator.forget(&workspace.key).await?;
        }
        tracing::info!(issue_id = self.issue_id(), issue_identifier = identifier, workspace = %path.display(), "removed workspace");
        Ok(true)
    }
}

/// Deletes a directory tree off the async runtime (it can be large). `remove_dir_all` does not
/// follow symlinks inside the tree, so nothing outside it is touched.
async fn delete_tree(path: &Path) -> Result<(), WorkspaceError> {
    let owned = path.to_path_buf();
    let result = tokio::task::spawn_blocking(move || std::fs::remove_dir_all(&owned))
        .await
        .unwrap_or_else(|join| Err(std::io::Error::other(join.to_string())));
    match result {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(WorkspaceError::io("remove", path, e)),
    }
}
