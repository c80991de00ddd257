//! Command-line arguments.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

const EXIT_CODES: &str = "\
Exit codes:
  0  success
  1  the workflow, config, template or input is invalid, or the command failed
     (stderr names the error category, e.g. error[workflow_parse_error])
  2  invalid command-line usage

Logs go to stderr; set SYMPHONY_LOG (e.g. SYMPHONY_LOG=debug) to change the level.";

/// Symphony runs coding agents against an issue backlog and hands passing changes off as pull
/// requests. Every command takes the workflow file as an optional path; the default is
/// ./WORKFLOW.md.
#[derive(Debug, Parser)]
#[command(name = "symphony", version, after_help = EXIT_CODES)]
pub struct Cli {
    /// Log output format.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// Also write logs to this file (no colours), rotated by --log-rotate.
    #[arg(long, global = true, value_name = "PATH")]
    pub log_file: Option<PathBuf>,
    /// When the log file starts a new file (the date or hour is appended to its name).
    #[arg(long, global = true, value_enum, default_value_t = LogRotation::Daily)]
    pub log_rotate: LogRotation,
    /// Rotated log files kept; older ones are deleted.
    #[arg(long, global = true, default_value_t = 14, value_parser = clap::value_parser!(u16).range(1..))]
    pub log_keep: u16,
    /// Export OpenTelemetry traces to this OTLP/HTTP collector (base URL, e.g.
    /// http://127.0.0.1:4318); OTEL_EXPORTER_OTLP_ENDPOINT does the same. Off by default.
    #[arg(long, global = true, value_name = "URL")]
    pub otlp_endpoint: Option<String>,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Log output formats.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum LogFormat {
    /// key=value text.
    Text,
    /// One JSON object per line.
    Json,
}

/// Log file rotation.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum LogRotation {
    /// A new file every hour.
    Hourly,
    /// A new file every day.
    Daily,
    /// One file that grows (rotate it with logrotate's copytruncate).
    Never,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Load and validate a workflow, and print the effective configuration (secrets masked).
    #[command(after_help = EXIT_CODES)]
    Check {
        /// Path to the workflow file [default: ./WORKFLOW.md].
        path: Option<PathBuf>,
    },
    /// Render the prompt a workflow would give an agent for one issue.
    #[command(after_help = EXIT_CODES)]
    Prompt {
        /// Path to the workflow file [default: ./WORKFLOW.md].
        path: Option<PathBuf>,
        /// The issue, as a normalized-issue JSON file (`-` for stdin).
        #[arg(long, value_name = "FILE.json")]
        issue: PathBuf,
        /// Render as retry or continuation number N (omit for a first run).
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
        attempt: Option<u32>,
    },
    /// List the tracker's issues and whether the scheduler would dispatch each now, and why not.
    #[command(after_help = EXIT_CODES)]
    Issues {
        /// Path to the workflow file [default: ./WORKFLOW.md].
        path: Option<PathBuf>,
    },
    /// Run the service: poll the tracker, dispatch agents, reconcile, until SIGINT/SIGTERM.
    #[command(after_help = EXIT_CODES)]
    Run {
        /// Path to the workflow file [default: ./WORKFLOW.md].
        path: Option<PathBuf>,
        /// Serve the dashboard, JSON API and metrics on this port (0 = any free port); wins
        /// over `server.port`.
        #[arg(long)]
        port: Option<u16>,
    },
    /// Show what a running service is doing (from its HTTP API), redrawn in place.
    #[command(after_help = EXIT_CODES)]
    Status {
        /// Path to the workflow file [default: ./WORKFLOW.md]; its `server:` section gives the
        /// address and token.
        path: Option<PathBuf>,
        /// The service's address instead, e.g. http://127.0.0.1:8080.
        #[arg(long)]
        url: Option<String>,
        /// Print one frame and exit (also when stdout is not a terminal).
        #[arg(long)]
        once: bool,
        /// Redraw interval in milliseconds.
        #[arg(long, default_value_t = 2000, value_parser = clap::value_parser!(u64).range(100..))]
        interval_ms: u64,
    },
    /// Run the bundled demo (local issues, a stand-in agent) in a scratch folder until every
    /// issue is done; no account, no network.
    #[command(after_help = EXIT_CODES)]
    Demo {
        /// Where to put the demo's files [default: a new folder under the system temp dir].
        #[arg(long)]
        dir: Option<PathBuf>,
    },
    /// List run history from the state database, newest first.
    #[command(after_help = EXIT_CODES)]
    Runs {
        /// Path to the workflow file [default: ./WORKFLOW.md]; names the state directory.
        path: Option<PathBuf>,
        #[command(flatten)]
        state: StateArgs,
        /// Only runs of this issue (id or identifier).
        #[arg(long)]
        issue: Option<String>,
        /// At most this many runs.
        #[arg(long, default_value_t = 50)]
        limit: usize,
        /// One JSON object per run instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Inspect the tamper-evident audit log of decisions.
    #[command(after_help = EXIT_CODES)]
    Audit {
        /// What to do.
        #[command(subcommand)]
        action: AuditAction,
    },
    /// Review a change Symphony handed off to the local code host.
    ///
    /// The review is written into the issue's file, as a person would review on a code host;
    /// a running service with a `review:` section makes it the agent's next round (or ends the
    /// issue on --merge). Code hosts with reviews of their own (GitHub) are reviewed there.
    #[command(after_help = EXIT_CODES)]
    Review {
        /// The issue (identifier or id).
        issue: String,
        /// Path to the workflow file [default: ./WORKFLOW.md].
        path: Option<PathBuf>,
        /// What the review says.
        #[command(flatten)]
        verdict: ReviewVerdict,
        /// Optional text of an --approve, --merge or --close.
        #[arg(long, short = 'm', conflicts_with_all = ["request_changes", "comment"])]
        message: Option<String>,
        /// Who reviews [default: $USER].
        #[arg(long)]
        by: Option<String>,
    },
    /// Print the JSON Schema of WORKFLOW.md front matter.
    #[command(after_help = EXIT_CODES)]
    Schema,
    /// Write a commented starter WORKFLOW.md.
    #[command(after_help = EXIT_CODES)]
    Init {
        /// Where to write it [default: ./WORKFLOW.md].
        path: Option<PathBuf>,
        /// Overwrite an existing file.
        #[arg(long)]
        force: bool,
        /// The agent the starter runs: `codex` (the Codex app-server) or `claude` (Claude Code).
        #[arg(long, value_enum, default_value = "codex")]
        agent: StarterAgent,
        /// Where issues come from: `local` (Markdown files in a folder), `github` or `linear`.
        #[arg(long, value_enum, default_value = "local")]
        tracker: StarterTracker,
    },
}

/// The tracker a starter workflow reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum StarterTracker {
    /// Markdown issue files in a folder (no account).
    Local,
    /// GitHub Issues.
    Github,
    /// Linear.
    Linear,
}

/// The agent a starter workflow runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum StarterAgent {
    /// The Codex app-server.
    Codex,
    /// Claude Code.
    Claude,
}

/// The verdict of `symphony review`: exactly one.
#[derive(Debug, clap::Args)]
#[group(required = true, multiple = false)]
pub struct ReviewVerdict {
    /// Ask for changes; the text is the review (lines `- path:line: remark` are inline).
    #[arg(long, value_name = "TEXT")]
    pub request_changes: Option<String>,
    /// Comment without a verdict (it still goes back to the agent).
    #[arg(long, value_name = "TEXT")]
    pub comment: Option<String>,
    /// Approve the change.
    #[arg(long)]
    pub approve: bool,
    /// Merge the change: the issue is done.
    #[arg(long)]
    pub merge: bool,
    /// Close the change without a merge.
    #[arg(long)]
    pub close: bool,
}

/// Where the state database is.
#[derive(Debug, clap::Args)]
pub struct StateArgs {
    /// The state directory, instead of the workflow's `state.dir` (no workflow needed).
    #[arg(long, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
}

/// `symphony audit` actions.
#[derive(Debug, Subcommand)]
pub enum AuditAction {
    /// Check the whole hash chain; exit 1 naming the first broken entry.
    #[command(after_help = EXIT_CODES)]
    Verify {
        /// Path to the workflow file [default: ./WORKFLOW.md]; names the state directory.
        path: Option<PathBuf>,
        #[command(flatten)]
        state: StateArgs,
    },
    /// Print the most recent decisions, oldest first.
    #[command(after_help = EXIT_CODES)]
    Tail {
        /// Path to the workflow file [default: ./WORKFLOW.md]; names the state directory.
        path: Option<PathBuf>,
        #[command(flatten)]
        state: StateArgs,
        /// How many entries.
        #[arg(short = 'n', long, default_value_t = 20)]
        lines: usize,
        /// One JSON object per entry instead of text.
        #[arg(long)]
        json: bool,
    },
}
