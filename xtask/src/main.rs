//! Project automation: `cargo xtask <task>`. See `cargo xtask help`.

mod bench_workspace;
mod graphql;
mod layout;
mod linear;
mod linear_schema;
mod npm_package;
mod openapi;
mod purity;

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

const HELP: &str = "\
cargo xtask <task>

Tasks:
  schema                 regenerate docs/workflow.schema.json from the config types
  check                  the architecture rules Cargo alone does not hold: the scheduler crate
                         depends on nothing impure, no module cycle inside a crate, no source
                         file over 500 lines before its tests (run by CI)
  bench workspace [--files N] [--runs N]
                         time new workspaces against `git clone --no-local` and
                         `git worktree add` of the same generated repository
  bench scheduler [--candidates N] [--running N] [--ticks N] [--changes N]
                         time one scheduler tick (p50, p99) with 10,000 and 100,000 candidates
                         (incremental and complete answers) and memory per running issue
  bench store            events appended per second, and what persistence adds to a tick
  bench agent            recorded Codex and Claude Code lines read, parsed and mapped per second
  bench github           requests and rate-limit cost of polling 500 open issues on the
                         fake GitHub: first poll, idle polls (one probe), page-by-page and
                         unconditional references
  bench trackers         requests and rate-limit cost per first, idle and changed poll of a
                         500-issue backlog and per refresh of 100 issues, each adapter side by
                         side on its fake
  bench dispatch [ROUNDS]
                         the release binary with the fake GitHub and a fake Codex app-server:
                         seconds until 20 issues / 10 agents (and 100 / 20) are done, GitHub
                         requests per issue by kind, idle requests and CPU, RSS peak
  bench webhook          webhook-to-dispatch latency (p50, p99) of the release binary
                         against the fake GitHub, versus the 30 s default poll
  bench review           review webhook to the round's agent (p50, p99), and what an idle
                         watch of 100 pull requests costs in rate limit and CPU
  openapi                regenerate the fake GitHub's OpenAPI fixture from the pinned
                         @octokit/openapi package (needs npm)
  linear                 check the Linear adapter's GraphQL documents against Linear's schema
                         (read from the pinned @linear/sdk's types, needs npm) and regenerate
                         the part they use (the fake Linear's fixture)
  graphql                check the GitHub adapter's GraphQL documents against GitHub's schema
                         (pinned @octokit/graphql-schema, needs npm) and regenerate the part
                         of it the fake and the tests validate against
  bench gates [--mb N]   the secrets gate's throughput on a generated 100 MB tree, against
                         gitleaks, kingfisher and ripsecrets installed under target/tools
  deny                   check licenses, bans and sources with cargo-deny (deny.toml)
  help                   this text";

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args.as_slice() {
        ["schema"] => schema(),
        ["check"] => {
            let root = project_root();
            purity::run(&root)?;
            layout::run(&root)
        }
        ["bench", "workspace", rest @ ..] => bench_workspace::run(rest),
        ["bench", "scheduler", rest @ ..] => {
            release_example("symphony-scheduler", "bench_tick", rest)?;
            budget_instructions()
        }
        ["bench", "store"] => release_example("symphony-orchestrator", "bench_store", &[]),
        ["bench", "agent"] => {
            release_example("symphony-agent-codex", "bench_agent", &[])?;
            release_example("symphony-agent-claude", "bench_claude", &[])
        }
        ["bench", "github"] => release_example("symphony-tracker-github", "bench_github", &[]),
        ["bench", "trackers"] => release_example("symphony", "bench_trackers", &[]),
        ["bench", "gates", rest @ ..] => bench_gates(rest),
        ["bench", "webhook"] => bench_webhook(),
        ["bench", "review"] => bench_review(),
        ["bench", "dispatch", rest @ ..] => bench_dispatch(rest),
        ["bench", ..] => {
            bail!("unknown benchmark; available: workspace, scheduler, store, agent, github, trackers, webhook, review, dispatch, gates\n\n{HELP}")
        }
        ["deny"] => deny(),
        ["openapi"] => openapi::run(&project_root()),
        ["linear"] => linear::run(&project_root()),
        ["graphql"] => graphql::run(&project_root()),
        [] | ["help" | "--help" | "-h"] => {
            println!("{HELP}");
            Ok(())
        }
        other => bail!("unknown task {other:?}\n\n{HELP}"),
    }
}

fn project_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

fn schema() -> Result<()> {
    let path = project_root().join("docs/workflow.schema.json");
    // The binary's schema: the core sections plus every extension section it registers.
    let output = Command::new("cargo")
        .args(["run", "--quiet", "--package", "symphony", "--", "schema"])
        .current_dir(project_root())
        .output()
        .context("running `symphony schema`")?;
    anyhow::ensure!(
        output.status.success(),
        "`symphony schema` failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8(output.stdout).context("the schema is not UTF-8")?;
    std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
    println!("wrote {}", path.display());
    Ok(())
}

/// The scheduler and store benches run optimized, as the service does: a debug build would
/// measure the compiler's checks, not the code.
/// The budgets' cost as instructions (callgrind counts them the same whatever else the machine
/// does) inside the scheduler's `handle`: the same ticks, with and without a usage report per
/// running issue before each, with budgets off and on. Each figure is per tick: the count at
/// 100 ticks minus the count at 50, so the set-up (the first, complete tick) cancels. Skipped, saying so, where
/// valgrind is missing.
fn budget_instructions() -> Result<()> {
    const RUNNING: u64 = 100;
    let exe = project_root().join("target/release/examples/bench_tick");
    let count = |variant: &str, reports: bool, ticks: u64| -> Result<Option<u64>> {
        let out_file = std::env::temp_dir().join(format!("symphony-budgets-{variant}.callgrind"));
        let mut command = Command::new("valgrind");
        command
            .arg("--tool=callgrind")
            .arg(format!("--callgrind-out-file={}", out_file.display()))
            // Only the scheduler's own work: the harness building answers is not counted.
            .arg("--toggle-collect=*Scheduler*handle*")
            .arg(&exe)
            .args(["--budgets", variant]);
        if !reports {
            command.arg("--no-reports");
        }
        let Ok(output) = command.args(["--ticks", &ticks.to_string()]).output() else {
            return Ok(None);
        };
        let _ = std::fs::remove_file(&out_file);
        let stderr = String::from_utf8_lossy(&output.stderr);
        stderr
            .lines()
            .find_map(|l| l.split("Collected : ").nth(1))
            .and_then(|n| n.trim().parse::<u64>().ok())
            .map(Some)
            .with_context(|| format!("callgrind's count of {variant}: {stderr}"))
    };
    let per_tick = |variant: &str, reports: bool| -> Result<Option<u64>> {
        Ok(
            match (count(variant, reports, 50)?, count(variant, reports, 100)?) {
                (Some(short), Some(long)) => Some(long.saturating_sub(short) / 50),
                _ => None,
            },
        )
    };
    let figures = (
        per_tick("off", false)?,
        per_tick("on", false)?,
        per_tick("off", true)?,
        per_tick("on", true)?,
    );
    let (Some(tick_off), Some(tick_on), Some(all_off), Some(all_on)) = figures else {
        println!("budgets, in instructions: not counted (valgrind is not installed)");
        return Ok(());
    };
    let pct = |on: u64, off: u64| (on as f64 - off as f64) / off as f64 * 100.0;
    println!("budgets, in instructions (callgrind: the same on any machine):");
    println!(
        "  tick alone: {tick_off} without budgets, {tick_on} with ({:+.2}%; target: < 1%: {})",
        pct(tick_on, tick_off),
        if pct(tick_on, tick_off) < 1.0 {
            "met"
        } else {
            "NOT met"
        }
    );
    println!(
        "  tick with its {RUNNING} usage reports: {all_off} without, {all_on} with ({:+.2}%, \
         {} per report)",
        pct(all_on, all_off),
        (all_on.saturating_sub(all_off)) / RUNNING
    );
    Ok(())
}

fn release_example(package: &str, example: &str, args: &[&str]) -> Result<()> {
    let status = Command::new("cargo")
        .args([
            "run",
            "--quiet",
            "--release",
            "-p",
            package,
            "--example",
            example,
            "--",
        ])
        .args(args)
        .current_dir(project_root())
        .status()
        .with_context(|| format!("running {example}"))?;
    if !status.success() {
        bail!("{example} failed");
    }
    Ok(())
}

/// Builds a release binary of `package` and returns its path.
fn release_binary(package: &str, bin: &str) -> Result<PathBuf> {
    let status = Command::new("cargo")
        .args(["build", "--quiet", "--release", "-p", package, "--bin", bin])
        .current_dir(project_root())
        .status()
        .with_context(|| format!("building {bin}"))?;
    if !status.success() {
        bail!("building {bin} failed");
    }
    Ok(project_root().join("target/release").join(bin))
}

/// The bench drives the release binary as an operator would, so it is built first.
fn bench_webhook() -> Result<()> {
    let binary = release_binary("symphony", "symphony")?;
    release_example(
        "symphony",
        "bench_webhook",
        &[binary.to_str().context("a UTF-8 target path")?],
    )
}

fn bench_review() -> Result<()> {
    let binary = release_binary("symphony", "symphony")?;
    release_example(
        "symphony",
        "bench_review",
        &[binary.to_str().context("a UTF-8 target path")?],
    )
}

/// The release binary and the fake Codex app-server it runs as its agent, built first.
fn bench_dispatch(args: &[&str]) -> Result<()> {
    let binary = release_binary("symphony", "symphony")?;
    let fake_codex = release_binary("symphony-testkit", "symphony-fake-codex")?;
    let mut all = vec![
        binary.to_str().context("a UTF-8 target path")?,
        fake_codex.to_str().context("a UTF-8 target path")?,
    ];
    all.extend_from_slice(args);
    release_example("symphony", "bench_dispatch", &all)
}

fn deny() -> Result<()> {
    let installed = Command::new("cargo")
        .args(["deny", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !installed {
        bail!("cargo-deny is not installed; install it with `cargo install --locked cargo-deny`");
    }
    let status = Command::new("cargo")
        .args(["deny", "check", "licenses", "bans", "sources"])
        .current_dir(project_root())
        .status()
        .context("running cargo deny")?;
    if !status.success() {
        bail!("cargo deny found policy violations (see above)");
    }
    Ok(())
}

/// The scanners `bench gates` compares against, installed under `target/tools` from the
/// registries this machine reaches; one that cannot be installed is reported, not fatal.
fn bench_gates(args: &[&str]) -> Result<()> {
    let tools = project_root().join("target/tools");
    let bin = tools.join("bench-bin");
    std::fs::create_dir_all(&bin)?;
    let link = |name: &str, target: &Path| -> Result<()> {
        let path = bin.join(name);
        let _ = std::fs::remove_file(&path);
        std::os::unix::fs::symlink(target, &path)?;
        Ok(())
    };
    // kingfisher: a static binary in the kingfisher-bin wheel on PyPI.
    let kingfisher = tools.join("kingfisher/kingfisher/bin/kingfisher");
    if !kingfisher.is_file() {
        let _ = Command::new("pip")
            .args(["install", "-q", "--target"])
            .arg(tools.join("kingfisher"))
            .arg("kingfisher-bin==2.14.0")
            .status();
    }
    if kingfisher.is_file() {
        link("kingfisher", &kingfisher)?;
    }
    // ripsecrets: from crates.io.
    let ripsecrets = tools.join("ripsecrets/bin/ripsecrets");
    if !ripsecrets.is_file() {
        let _ = Command::new("cargo")
            .args([
                "install",
                "--locked",
                "--quiet",
                "--version",
                "0.1.11",
                "--root",
            ])
            .arg(tools.join("ripsecrets"))
            .arg("ripsecrets")
            .status();
    }
    if ripsecrets.is_file() {
        link("ripsecrets", &ripsecrets)?;
    }
    // gitleaks: Debian's package where the release has one.
    if which("gitleaks").is_none() {
        let _ = Command::new("apt-get")
            .args(["install", "-y", "-qq", "gitleaks"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status();
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut paths = vec![bin];
    paths.extend(std::env::split_paths(&path));
    let status = Command::new("cargo")
        .args([
            "run",
            "--quiet",
            "--release",
            "-p",
            "symphony-gates",
            "--example",
            "bench_secrets",
            "--",
        ])
        .args(args)
        .env("PATH", std::env::join_paths(paths)?)
        .current_dir(project_root())
        .status()
        .context("running bench_secrets")?;
    if !status.success() {
        bail!("bench_secrets failed");
    }
    Ok(())
}

fn which(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join(name))
            .find(|p| p.is_file())
    })
}
