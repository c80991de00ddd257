//! Tests that need a program `.ci/run` installs — the pinned Codex and Claude Code CLIs, Chromium with
//! ChromeDriver, the pinned coverage.py and ruff. Run by [`run`] (a `harness = false` test target), each is a trial that is
//! reported *ignored, with the reason* when its program is missing, so `cargo test` on a fresh
//! machine says what did not run instead of counting it as passed. With `CI` set (to anything
//! but the empty string) nothing is ignored: a missing program fails the test.

use libtest_mimic::{Arguments, Completion, Trial};

/// A program some tests need.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Tool {
    /// The Codex CLI, pinned (see [`crate::codex::PINNED_VERSION`]).
    Codex,
    /// The Claude Code CLI, pinned (see [`crate::claude::PINNED_VERSION`]).
    Claude,
    /// Chromium and ChromeDriver.
    Browser,
    /// coverage.py, pinned, installed under `target/tools/coverage-py` (see
    /// [`coverage_py`]).
    CoveragePy,
    /// ruff, pinned, installed under `target/tools/ruff` (see [`ruff`]): an analyzer writing
    /// SARIF.
    Ruff,
    /// `llvm-cov` and `llvm-profdata` of the Rust toolchain in use (`rustup component add
    /// llvm-tools`; see [`llvm_tools`]): they read what `rustc -C instrument-coverage` writes.
    LlvmCov,
    /// libfaketime's `faketime` (Debian's `faketime`): runs a program on a shifted wall
    /// clock, e.g. just before UTC midnight.
    Faketime,
}

/// The folder holding the toolchain's `llvm-cov` and `llvm-profdata` (the `llvm-tools`
/// component), if `rustc` can say where its sysroot is.
pub fn llvm_tools() -> Option<std::path::PathBuf> {
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let run = |args: &[&str]| {
        std::process::Command::new(&rustc)
            .args(args)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
    };
    let sysroot = run(&["--print", "sysroot"])?;
    let host = run(&["-vV"])?
        .lines()
        .find_map(|l| l.strip_prefix("host: ").map(str::to_owned))?;
    Some(
        std::path::Path::new(sysroot.trim())
            .join("lib/rustlib")
            .join(host.trim())
            .join("bin"),
    )
}

/// The pinned ruff `.ci/run` installs.
pub const RUFF_VERSION: &str = "0.17.6";

/// The pinned ruff's program (`pip install --target target/tools/ruff`).
pub fn ruff() -> std::path::PathBuf {
    tools_dir().join("ruff/bin/ruff")
}

fn tools_dir() -> std::path::PathBuf {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    root.canonicalize().unwrap_or(root).join("target/tools")
}

/// The pinned coverage.py `.ci/run` installs.
pub const COVERAGE_PY_VERSION: &str = "7.18.0";

/// Where `.ci/run` installs coverage.py (`pip install --target`): put it on `PYTHONPATH`.
pub fn coverage_py() -> std::path::PathBuf {
    tools_dir().join("coverage-py")
}

pub use crate::ci::ci;

/// Why `tool` cannot be used here, or `None` when it can.
pub fn missing(tool: Tool) -> Option<String> {
    match tool {
        Tool::Codex => {
            let path = crate::codex::location();
            (!path.exists()).then(|| {
                format!(
                    "the Codex CLI is not installed at {} (`npm install --prefix \
                     target/tools/codex @openai/codex@{}`, or set CODEX_BIN)",
                    path.display(),
                    crate::codex::PINNED_VERSION
                )
            })
        }
        Tool::Claude => crate::claude::missing(),
        Tool::Browser => crate::browser::programs().err(),
        Tool::CoveragePy => {
            let dir = coverage_py();
            let version = dir.join(format!("coverage-{COVERAGE_PY_VERSION}.dist-info"));
            (!version.is_dir()).then(|| {
                format!(
                    "coverage.py {COVERAGE_PY_VERSION} is not installed at {} (`python3 -m pip \
                     install --target target/tools/coverage-py coverage=={COVERAGE_PY_VERSION}`; \
                     `.ci/run` does this)",
                    dir.display()
                )
            })
        }
        Tool::LlvmCov => {
            let found = llvm_tools().filter(|bin| {
                bin.join("llvm-cov").is_file() && bin.join("llvm-profdata").is_file()
            });
            found.is_none().then(|| {
                "the Rust toolchain's llvm-cov is not installed (`rustup component add \
                 llvm-tools`; `.ci/run` does this)"
                    .to_owned()
            })
        }
        Tool::Faketime => {
            let found = std::process::Command::new("faketime")
                .arg("--help")
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .status()
                .is_ok();
            (!found).then(|| {
                "faketime is not installed (`apt-get install faketime`; `.ci/run` does this)"
                    .to_owned()
            })
        }
        Tool::Ruff => {
            let version = tools_dir().join(format!("ruff/ruff-{RUFF_VERSION}.dist-info"));
            (!version.is_dir() || !ruff().is_file()).then(|| {
                format!(
                    "ruff {RUFF_VERSION} is not installed at {} (`python3 -m pip install \
                     --target target/tools/ruff ruff=={RUFF_VERSION}`; `.ci/run` does this)",
                    ruff().display()
                )
            })
        }
    }
}

/// A trial running `test` when `tool` is there; ignored with the reason when it is not (and
/// this is not CI).
pub fn trial(name: &str, tool: Tool, test: fn()) -> Trial {
    trial_needing(name, vec![tool], test)
}

/// A trial running `test` when every one of `tools` is there; ignored with the first missing
/// one's reason when not (and this is not CI).
pub fn trial_with(name: &str, tools: &[Tool], test: fn()) -> Trial {
    trial_needing(name, tools.to_vec(), test)
}

fn trial_needing(name: &str, tools: Vec<Tool>, test: fn()) -> Trial {
    Trial::ignorable_test(name, move || {
        if !ci() {
            if let Some(reason) = tools.iter().find_map(|tool| missing(*tool)) {
                return Ok(Completion::ignored_with(format!("not run: {reason}")));
            }
        }
        test();
        Ok(Completion::Completed)
    })
}

/// An `async` test, run on a two-worker runtime (as `#[tokio::test(flavor =
/// "multi_thread", worker_threads = 2)]` would).
pub fn block_on<F: std::future::Future<Output = ()>>(test: F) {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime")
        .block_on(test);
}

/// Runs `trials` as `cargo test` would run a test binary, with its command-line arguments.
pub fn run(trials: Vec<Trial>) -> std::process::ExitCode {
    libtest_mimic::run(&Arguments::from_args(), trials).exit_code()
}
