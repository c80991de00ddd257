//! `cargo xtask bench workspace`: the cost of a new per-issue workspace.
//!
//! Generates a repository, then times, interleaved so machine noise hits all alike:
//! `git clone --no-local` (a full clone per issue), `git worktree add` from a bare clone (the
//! floor for a checkout), and Symphony's `WorkspaceManager::ensure` (fetch into the shared
//! mirror + worktree on a new branch). Target: Symphony at most 1/3 of the clone time.
//!
//! Two repositories are measured: one commit (the worst case for Symphony: a clone then copies
//! almost nothing but the checkout) and the same files with a history of edits, as real
//! repositories have (a clone copies the history; a worktree never does). Writeback is flushed
//! (`sync`) before every timed operation so one operation's dirty pages do not bill the next.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context, Result};
use symphony_workflow::{HooksConfig, RepoSource, WorkspaceConfig};
use symphony_workspace::WorkspaceManager;

struct Options {
    files: usize,
    runs: usize,
    history: usize,
}

fn parse(args: &[&str]) -> Result<Options> {
    let mut options = Options {
        files: 5_000,
        runs: 7,
        history: 300,
    };
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let value = it.next().with_context(|| format!("{flag} needs a value"))?;
        match *flag {
            "--files" => options.files = value.parse().context("--files")?,
            "--runs" => options.runs = value.parse().context("--runs")?,
            "--history" => options.history = value.parse().context("--history")?,
            _ => bail!("unknown option {flag}"),
        }
    }
    ensure!(
        options.files > 0 && options.runs > 0,
        "--files and --runs must be positive"
    );
    Ok(options)
}

pub fn run(args: &[&str]) -> Result<()> {
    let options = parse(args)?;
    for history in [0, options.history] {
        scenario(&options, history)?;
    }
    Ok(())
}

fn scenario(options: &Options, history: usize) -> Result<()> {
    let dir = tempfile::tempdir()?;
    let src = dir.path().join("src");
    let bytes = generate_repo(&src, options.files, history)?;
    println!(
        "\nrepository: {} files ({:.1} MiB), {} commits; {} runs each",
        options.files,
        bytes as f64 / (1024.0 * 1024.0),
        history + 1,
        options.runs
    );
    // --no-local packs the objects, as the mirror's fetch does; hardlinked loose objects would
    // make this floor slower than it is in practice.
    git(
        dir.path(),
        &[
            "clone",
            "--quiet",
            "--bare",
            "--no-local",
            "src",
            "base.git",
        ],
    )?;

    let runtime = tokio::runtime::Runtime::new()?;
    let manager = WorkspaceManager::new(
        &WorkspaceConfig {
            root: dir.path().join("symphony"),
            repo: Some(RepoSource::Path(src.clone())),
            base_branch: None,
        },
        &HooksConfig::default(),
    );
    let first = timed(|| {
        runtime
            .block_on(manager.ensure("WARMUP-0"))
            .map(drop)
            .map_err(Into::into)
    })?;

    let (mut clone, mut worktree, mut symphony) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..options.runs {
        clone.push(timed(|| {
            git(
                dir.path(),
                &[
                    "clone",
                    "--quiet",
                    "--no-local",
                    "src",
                    &format!("clone-{i}"),
                ],
            )
        })?);
        worktree.push(timed(|| {
            git(
                &dir.path().join("base.git"),
                &[
                    "worktree",
                    "add",
                    "--quiet",
                    "-b",
                    &format!("wt-{i}"),
                    &format!("../wt-{i}"),
                    "HEAD",
                ],
            )
        })?);
        symphony.push(timed(|| {
            runtime
                .block_on(manager.ensure(&format!("BENCH-{i}")))
                .map(drop)
                .map_err(Into::into)
        })?);
    }
    let (clone_med, worktree_med, symphony_med) =
        (median(&clone), median(&worktree), median(&symphony));
    println!(
        "  {:<34} {:>10} {:>10}",
        "per new workspace", "median", "min"
    );
    for (name, samples, med) in [
        ("git clone --no-local", &clone, clone_med),
        ("git worktree add", &worktree, worktree_med),
        ("symphony WorkspaceManager::ensure", &symphony, symphony_med),
    ] {
        println!(
            "  {name:<34} {:>8.1}ms {:>8.1}ms",
            ms(med),
            ms(min(samples))
        );
    }
    println!(
        "  symphony first workspace (creates the shared mirror): {:.1}ms",
        ms(first)
    );
    let ratio = symphony_med.as_secs_f64() / clone_med.as_secs_f64();
    println!(
        "  ratio symphony/clone = {ratio:.3} (target <= 0.333: {}), symphony/worktree-add = {:.3}",
        if ratio <= 1.0 / 3.0 { "met" } else { "NOT met" },
        symphony_med.as_secs_f64() / worktree_med.as_secs_f64()
    );
    // Deleting ~100k files takes a while; say so rather than look hung.
    println!("  (cleaning up)");
    Ok(())
}

/// Writes `files` text files in folders of 100 and commits them, then `history` more commits
/// that each rewrite 1% of the files; returns the size of the files.
fn generate_repo(dir: &Path, files: usize, history: usize) -> Result<u64> {
    std::fs::create_dir_all(dir)?;
    git(dir, &["init", "--quiet", "--initial-branch=main"])?;
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut total = 0u64;
    for i in 0..files {
        let folder = dir.join(format!("module_{:03}", i / 100));
        std::fs::create_dir_all(&folder)?;
        let mut text = format!("// file {i}\n");
        for line in 0..40 {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            text.push_str(&format!("fn item_{line}() -> u64 {{ {} }}\n", state >> 20));
        }
        total += text.len() as u64;
        std::fs::write(folder.join(format!("file_{i:05}.rs")), text)?;
    }
    commit(dir, "generated")?;
    let touched = (files / 100).max(1);
    for c in 0..history {
        for k in 0..touched {
            let i = (c * 7919 + k * 104_729) % files;
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let path = dir
                .join(format!("module_{:03}", i / 100))
                .join(format!("file_{i:05}.rs"));
            let mut text = std::fs::read_to_string(&path)?;
            text.push_str(&format!("fn edit_{c}() -> u64 {{ {} }}\n", state >> 20));
            std::fs::write(&path, text)?;
        }
        commit(dir, &format!("edit {c}"))?;
    }
    Ok(total)
}

fn commit(dir: &Path, message: &str) -> Result<()> {
    git(dir, &["add", "-A"])?;
    git(
        dir,
        &[
            "-c",
            "user.name=bench",
            "-c",
            "user.email=bench@example.com",
            "commit",
            "--quiet",
            "-m",
            message,
        ],
    )
}

fn git(cwd: &Path, args: &[&str]) -> Result<()> {
    let out = Command::new("git")
        .args(args)
        .current_dir(cwd)
        .output()
        .context("running git (is it installed?)")?;
    if !out.status.success() {
        bail!(
            "git {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(())
}

fn timed(f: impl FnOnce() -> Result<()>) -> Result<Duration> {
    // Flush writeback first so the previous operation's dirty pages are not billed to this one.
    let _ = Command::new("sync").status();
    let start = Instant::now();
    f()?;
    Ok(start.elapsed())
}

fn median(samples: &[Duration]) -> Duration {
    let mut sorted = samples.to_vec();
    sorted.sort();
    sorted[sorted.len() / 2]
}

fn min(samples: &[Duration]) -> Duration {
    samples.iter().copied().min().unwrap_or_default()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
