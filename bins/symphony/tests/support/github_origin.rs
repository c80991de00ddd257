//! The review loop's end-to-end tests on the fake GitHub: a bare `origin.git` whose pushes
//! the fake learns of as they happen, as GitHub knows its own branches (the repository's
//! `post-receive` hook writes a request per pushed ref and waits until [`relay`] has passed it
//! on), and the service run with the fake's token.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use symphony_testkit::github::FakeGithub;

use super::{git, run_with, Served};

/// `dir/origin.git` with `greeting.txt` ("hi") on `main`, and the folder its hook writes
/// requests to.
pub fn origin(dir: &Path) -> (PathBuf, PathBuf) {
    let seed = dir.join("seed");
    std::fs::create_dir(&seed).unwrap();
    git(&seed, &["init", "-q", "-b", "main"]);
    std::fs::write(seed.join("greeting.txt"), "hi\n").unwrap();
    git(&seed, &["add", "-A"]);
    git(&seed, &["commit", "-q", "-m", "initial"]);
    git(dir, &["clone", "-q", "--bare", "seed", "origin.git"]);
    let origin = dir.join("origin.git");
    let pushes = dir.join("pushes");
    std::fs::create_dir(&pushes).unwrap();
    let hook = origin.join("hooks/post-receive");
    std::fs::write(
        &hook,
        format!(
            "#!/bin/sh\nwhile read old new ref; do\n  req={pushes}/$$-$(date +%s%N)\n  \
             echo \"${{ref#refs/heads/}} $new\" > \"$req.tmp\" && mv \"$req.tmp\" \"$req\"\n  \
             while [ -e \"$req\" ]; do sleep 0.02; done\ndone\n",
            pushes = pushes.display()
        ),
    )
    .unwrap();
    let mut permissions = std::fs::metadata(&hook).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut permissions, 0o755);
    std::fs::set_permissions(&hook, permissions).unwrap();
    (origin, pushes)
}

/// Passes the hook's requests on to the fake's `repo` until `done`.
pub fn relay(
    fake: Arc<FakeGithub>,
    repo: &'static str,
    pushes: PathBuf,
    done: Arc<AtomicBool>,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        while !done.load(Ordering::Relaxed) {
            let Ok(entries) = std::fs::read_dir(&pushes) else {
                return;
            };
            for entry in entries.flatten() {
                let path = entry.path();
                if path.extension().is_some() {
                    continue;
                }
                let line = std::fs::read_to_string(&path).unwrap_or_default();
                if let Some((branch, sha)) = line.trim().split_once(' ') {
                    fake.push_branch(repo, branch, sha);
                }
                let _ = std::fs::remove_file(&path);
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    })
}

/// `symphony run` in `dir` with the GitHub token in `SYMPHONY_E2E_GITHUB_TOKEN`, logging to
/// `dir/symphony.log`.
pub fn start(dir: &Path, token: &str) -> Served {
    run_with(
        dir,
        "symphony.log",
        "info",
        &[("SYMPHONY_E2E_GITHUB_TOKEN", token)],
    )
}

/// The audit log of the project in `dir`, as `symphony audit tail --json` prints it.
pub fn audit(dir: &Path, token: &str) -> Vec<serde_json::Value> {
    super::json_lines(
        dir,
        &["audit", "tail", "-n", "1000", "--json"],
        &[("SYMPHONY_E2E_GITHUB_TOKEN", token)],
    )
}

/// How many audit entries of `kind` there are.
pub fn count(dir: &Path, token: &str, kind: &str) -> usize {
    audit(dir, token)
        .iter()
        .filter(|e| e["kind"] == kind)
        .count()
}
