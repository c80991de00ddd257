//! Git population: one shared mirror per repository under the workspace root, and one linked
//! worktree per issue on branch `symphony/<workspace_key>`. See docs/adr/0002.
//!
//! Division of labour: gix reads (refs, default branch, whether a workspace is a checkout);
//! the `git` program does what gix cannot — fetching over any transport and `worktree add`.

use std::collections::HashMap;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use sha2::{Digest, Sha256};
use symphony_core::WorkspaceKey;
use symphony_workflow::RepoSource;

use crate::error::WorkspaceError;
use crate::root::WorkspaceRoot;
use symphony_process::{describe_status, run_bounded, RunError};

/// Prefix of the branch each workspace works on.
pub const BRANCH_PREFIX: &str = "symphony/";

/// Limit for one git command. Fetching a large repository the first time is the slow case.
const GIT_TIMEOUT: Duration = Duration::from_secs(15 * 60);

/// Where the shared mirror of `repo` lives under the workspace root. Dot-names under the root
/// are reserved for Symphony: no workspace key starts with `.`.
pub fn mirror_path(root: &WorkspaceRoot, repo: &RepoSource) -> PathBuf {
    let source = repo.as_git_arg();
    let stem = source
        .trim_end_matches('/')
        .rsplit(['/', ':'])
        .next()
        .unwrap_or("repo")
        .trim_end_matches(".git");
    let stem: String = stem
        .chars()
        .take(40)
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let digest = Sha256::digest(source.as_bytes());
    let hash: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    root.path()
        .join(".symphony")
        .join("mirrors")
        .join(format!("{stem}-{hash}.git"))
}

/// One async lock per mirror, process-wide, so concurrent workers (and populators rebuilt after
/// a config reload) never fetch into or add worktrees to the same mirror at once.
fn mirror_lock(mirror: &Path) -> Arc<tokio::sync::Mutex<()>> {
    static LOCKS: OnceLock<Mutex<HashMap<PathBuf, Arc<tokio::sync::Mutex<()>>>>> = OnceLock::new();
    let mut locks = LOCKS
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    Arc::clone(locks.entry(mirror.to_path_buf()).or_default())
}

/// Fills new workspaces from a repository.
#[derive(Debug, Clone)]
pub struct GitPopulator {
    repo: RepoSource,
    base_branch: Option<String>,
    mirror: PathBuf,
}

impl GitPopulator {
    /// A populator for `repo`, mirrored under `root`.
    pub fn new(root: &WorkspaceRoot, repo: RepoSource, base_branch: Option<String>) -> Self {
        let mirror = mirror_path(root, &repo);
        Self {
            repo,
            base_branch,
            mirror,
        }
    }

    /// The shared mirror's path.
    pub fn mirror(&self) -> &Path {
        &self.mirror
    }

    /// The branch a workspace works on.
    pub fn branch(key: &WorkspaceKey) -> String {
        format!("{BRANCH_PREFIX}{key}")
    }

    /// Makes `path` (an empty, new directory) a linked worktree of the mirror on the workspace
    /// branch: the existing branch if an earlier workspace of this issue left one, else a new
    /// branch from the base. Only the fetch and ref/admin-file creation hold the mirror lock;
    /// the checkout, which is most of the time, runs in parallel with other workspaces'.
    pub async fn populate(&self, key: &WorkspaceKey, path: &Path) -> Result<(), WorkspaceError> {
        let branch = Self::branch(key);
        let admin = self.mirror.join("worktrees").join(key.as_str());
        let commit = {
            let lock = mirror_lock(&self.mirror);
            let _guard = lock.lock().await;
            self.refresh_mirror().await?;
            let mirror = self.open_mirror()?;
            let commit = self.branch_commit(&mirror, &branch)?;
            link_worktree(&admin, path, &branch)?;
            commit
        };
        let workspace = path.to_path_buf();
        let checkout = tokio::task::spawn_blocking(move || checkout(&workspace, commit))
            .await
            .unwrap_or_else(|join| Err(population(format!("checkout task failed: {join}"))));
        // The admin folder carries a `locked` file while the checkout runs so a concurrent
        // `git worktree prune` cannot take it; the checkout outcome decides what happens next.
        let _ = std::fs::remove_file(admin.join("locked"));
        if checkout.is_err() {
            let _ = std::fs::remove_dir_all(&admin);
        }
        checkout
    }

    /// The commit the workspace branch points at, creating the branch if needed: from the
    /// remote's branch of the same name when there is one (a change handed off from another
    /// machine, or a mirror made anew, continues where it was pushed), else from the base.
    fn branch_commit(
        &self,
        mirror: &gix::Repository,
        branch: &str,
    ) -> Result<gix::ObjectId, WorkspaceError> {
        let full = format!("refs/heads/{branch}");
        let existing = mirror
            .try_find_reference(full.as_str())
            .map_err(|e| population(format!("cannot read {full}: {e}")))?;
        if let Some(mut existing) = existing {
            let id = existing
                .peel_to_id()
                .map_err(|e| population(format!("cannot resolve {full}: {e}")))?
                .detach();
            tracing::info!(branch, commit = %id, "checking out existing workspace branch");
            return Ok(id);
        }
        let pushed = format!("refs/remotes/origin/{branch}");
        let base = match mirror
            .try_find_reference(pushed.as_str())
            .map_err(|e| population(format!("cannot read {pushed}: {e}")))?
        {
            Some(_) => pushed,
            None => self.base_ref(mirror)?,
        };
        let id = mirror
            .find_reference(base.as_str())
            .and_then(|mut r| Ok(r.peel_to_id()?.detach()))
            .map_err(|e| population(format!("cannot resolve {base}: {e}")))?;
        mirror
            .reference(
                full.as_str(),
                id,
                gix::refs::transaction::PreviousValue::MustNotExist,
                format!("branch: Created from {base}"),
            )
            .map_err(|e| population(format!("cannot create branch {branch}: {e}")))?;
        tracing::info!(branch, base, commit = %id, "created workspace branch");
        Ok(id)
    }

    /// Checks that a reused workspace is still a git checkout; it is never reset or repaired.
    pub fn check_reused(&self, path: &Path) -> Result<(), WorkspaceError> {
        let repo = gix::open(path).map_err(|e| {
            population(format!(
                "{} exists but is not a git checkout ({e}); it is left untouched — remove it to get a fresh one",
                path.display()
            ))
        })?;
        let head = repo.head_name().ok().flatten();
        tracing::debug!(workspace = %path.display(), head = ?head.map(|h| h.as_bstr().to_string()), "reusing workspace checkout");
        Ok(())
    }

    /// Drops the mirror's record of a deleted workspace. The branch stays, so work that was not
    /// pushed is not lost, and a later workspace for the same issue picks it up.
    pub async fn forget(&self, key: &WorkspaceKey) -> Result<(), WorkspaceError> {
        let admin = self.mirror.join("worktrees").join(key.as_str());
        let lock = mirror_lock(&self.mirror);
        let _guard = lock.lock().await;
        match std::fs::remove_dir_all(&admin) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(WorkspaceError::io("remove", admin, e)),
        }
    }

    /// Fetches the remote into the mirror (under the mirror's lock), so every workspace of
    /// it sees the remote's branches as they are now.
    pub(crate) async fn fetch(&self) -> Result<(), WorkspaceError> {
        let lock = mirror_lock(&self.mirror);
        let _guard = lock.lock().await;
        self.refresh_mirror().await
    }

    /// Creates the mirror on first use, else fetches into it.
    async fn refresh_mirror(&self) -> Result<(), WorkspaceError> {
        let source = self.repo.as_git_arg();
        if source.starts_with('-') {
            return Err(population(format!(
                "refusing repository {source:?}: it would be read as a git option"
            )));
        }
        if self.mirror.exists() {
            return git(
                &self.mirror,
                ["fetch", "--quiet", "--prune", "origin"].map(OsStr::new),
            )
            .await
            .map(drop);
        }
        // Build the mirror beside its final place and rename it in, so a failed or killed first
        // fetch never leaves a half-made mirror that later attempts would trust.
        let parent = self.mirror.parent().unwrap_or(&self.mirror);
        std::fs::create_dir_all(parent).map_err(|e| WorkspaceError::io("create", parent, e))?;
        let staging = self
            .mirror
            .with_extension(format!("tmp-{}", std::process::id()));
        if staging.exists() {
            std::fs::remove_dir_all(&staging)
                .map_err(|e| WorkspaceError::io("remove", &staging, e))?;
        }
        let staged = async {
            git(
                parent,
                [
                    OsStr::new("init"),
                    OsStr::new("--bare"),
                    OsStr::new("--quiet"),
                    staging.as_os_str(),
                ],
            )
            .await?;
            git(
                &staging,
                ["remote", "add", "origin", &source].map(OsStr::new),
            )
            .await?;
            git(&staging, ["fetch", "--quiet", "origin"].map(OsStr::new)).await?;
            git(
                &staging,
                ["remote", "set-head", "origin", "--auto"].map(OsStr::new),
            )
            .await
        }
        .await;
        if let Err(e) = staged {
            let _ = std::fs::remove_dir_all(&staging);
            return Err(e);
        }
        std::fs::rename(&staging, &self.mirror)
            .map_err(|e| WorkspaceError::io("move mirror into place at", &self.mirror, e))?;
        tracing::info!(repo = %source, mirror = %self.mirror.display(), "created shared mirror");
        Ok(())
    }

    fn open_mirror(&self) -> Result<gix::Repository, WorkspaceError> {
        gix::open(&self.mirror)
            .map_err(|e| population(format!("cannot open mirror {}: {e}", self.mirror.display())))
    }

    /// The remote-tracking ref new branches start from.
    fn base_ref(&self, mirror: &gix::Repository) -> Result<String, WorkspaceError> {
        let name = match &self.base_branch {
            Some(branch) => format!("refs/remotes/origin/{branch}"),
            None => {
                let head = mirror
                    .try_find_reference("refs/remotes/origin/HEAD")
                    .map_err(|e| population(format!("cannot read origin/HEAD: {e}")))?
                    .ok_or_else(|| population("the repository has no default branch (is it empty?); set workspace.base_branch".to_owned()))?;
                match head.target() {
                    gix::refs::TargetRef::Symbolic(name) => name.as_bstr().to_string(),
                    gix::refs::TargetRef::Object(id) => id.to_string(),
                }
            }
        };
        let exists = mirror
            .try_find_reference(name.as_str())
            .map_err(|e| population(format!("cannot read {name}: {e}")))?
            .is_some();
        if exists {
            Ok(name)
        } else {
            Err(population(format!(
                "base branch {:?} does not exist in {}",
                name.trim_start_matches("refs/remotes/origin/"),
                self.repo.as_git_arg()
            )))
        }
    }
}

/// Registers `workspace` as a linked worktree of `mirror`, exactly as `git worktree add` lays
/// it out, so every git tool (and the agent) sees a normal checkout on `branch`.
fn link_worktree(admin: &Path, workspace: &Path, branch: &str) -> Result<(), WorkspaceError> {
    if admin.exists() {
        // Left by a workspace deleted behind Symphony's back; its directory is gone.
        std::fs::remove_dir_all(admin).map_err(|e| WorkspaceError::io("remove stale", admin, e))?;
    }
    std::fs::create_dir_all(admin).map_err(|e| WorkspaceError::io("create", admin, e))?;
    let write = |path: PathBuf, text: String| {
        std::fs::write(&path, text).map_err(|e| WorkspaceError::io("write", path, e))
    };
    write(admin.join("locked"), "initializing\n".to_owned())?;
    write(admin.join("commondir"), "../..\n".to_owned())?;
    write(
        admin.join("gitdir"),
        format!("{}\n", workspace.join(".git").display()),
    )?;
    write(admin.join("HEAD"), format!("ref: refs/heads/{branch}\n"))?;
    write(
        workspace.join(".git"),
        format!("gitdir: {}\n", admin.display()),
    )?;
    Ok(())
}

/// Writes the files of `commit` into the (empty) linked worktree at `workspace`, and its index.
fn checkout(workspace: &Path, commit: gix::ObjectId) -> Result<(), WorkspaceError> {
    let fail = |what: &str, e: &dyn std::fmt::Display| {
        population(format!("checkout of {}: {what}: {e}", workspace.display()))
    };
    let repo = gix::open(workspace).map_err(|e| fail("open", &e))?;
    let commit = repo
        .find_commit(commit)
        .map_err(|e| fail("find commit", &e))?;
    let tree = commit.tree_id().map_err(|e| fail("read commit tree", &e))?;
    let mut index = repo
        .index_from_tree(&tree)
        .map_err(|e| fail("build index", &e))?;
    let mut options = repo
        .checkout_options(gix::worktree::stack::state::attributes::Source::IdMapping)
        .map_err(|e| fail("read checkout options", &e))?;
    options.destination_is_initially_empty = true;
    let objects = repo
        .objects
        .clone()
        .into_arc()
        .map_err(|e| fail("object store", &e))?;
    let outcome = gix::worktree::state::checkout(
        &mut index,
        workspace,
        objects,
        &gix::progress::Discard,
        &gix::progress::Discard,
        &std::sync::atomic::AtomicBool::new(false),
        options,
    )
    .map_err(|e| fail("write files", &e))?;
    if let Some(error) = outcome.errors.first() {
        return Err(fail(
            &format!(
                "{} file(s) failed, first {}",
                outcome.errors.len(),
                error.path
            ),
            &error.error,
        ));
    }
    index
        .write(Default::default())
        .map_err(|e| fail("write index", &e))?;
    Ok(())
}

fn population(message: String) -> WorkspaceError {
    WorkspaceError::Population { message }
}

/// Runs `git` in `cwd`, never prompting for credentials.
async fn git<'a>(
    cwd: &Path,
    args: impl IntoIterator<Item = &'a OsStr>,
) -> Result<String, WorkspaceError> {
    let args: Vec<&OsStr> = args.into_iter().collect();
    let mut command = symphony_process::child_command("git");
    command
        .args(&args)
        .current_dir(cwd)
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_ASKPASS", "true");
    let shown = || {
        args.iter()
            .map(|a| a.to_string_lossy())
            .collect::<Vec<_>>()
            .join(" ")
    };
    match run_bounded(command, GIT_TIMEOUT).await {
        Ok(done) if done.status.success() => Ok(done.output),
        Ok(done) => Err(population(format!(
            "`git {}` failed ({}): {}",
            shown(),
            describe_status(&done.status),
            done.output
        ))),
        Err(RunError::TimedOut { output }) => Err(population(format!(
            "`git {}` timed out after {} s: {output}",
            shown(),
            GIT_TIMEOUT.as_secs()
        ))),
        Err(RunError::Spawn(e)) => Err(population(format!(
            "cannot run git ({e}); git is required when workspace.repo is set"
        ))),
    }
}
