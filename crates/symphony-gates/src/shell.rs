//! The one way gates run a configured command: `bash -lc` in a folder, the tracker's secrets
//! removed from its environment (the caller bounds it with `run_bounded`); and, for commands
//! that write a report the gate reads (coverage, SARIF), the one way such a report is made.

use std::path::Path;

/// `bash -lc run` in `dir`, without the variables named in `remove_env`.
pub(crate) fn bash(run: &str, dir: &Path, remove_env: &[String]) -> tokio::process::Command {
    let mut command = symphony_process::child_command("bash");
    command.arg("-lc").arg(run).current_dir(dir);
    for name in remove_env {
        command.env_remove(name);
    }
    command
}

/// Why a command gave no report to read, and its output when it ran.
pub(crate) type NoReport = (String, Option<String>);

/// What a command that writes a report left: the report and the command's output.
pub(crate) struct Report {
    pub bytes: Vec<u8>,
    pub output: String,
}

/// How a report-writing command is judged: which exit statuses mean it ran, and what to say
/// when it did not or when its report cannot be read.
pub(crate) struct ReportRun<'a> {
    /// Run with `bash -lc` in `dir`.
    pub run: &'a str,
    /// The report, relative to `dir`.
    pub report: &'a str,
    pub timeout: std::time::Duration,
    pub ran: &'a (dyn Fn(&std::process::ExitStatus) -> bool + Sync),
    pub failed: &'a (dyn Fn(&std::process::ExitStatus) -> String + Sync),
    pub unreadable: &'a (dyn Fn(&std::io::Error) -> String + Sync),
}

impl ReportRun<'_> {
    /// Runs the command in `dir` for its report. A report left by an earlier run is removed
    /// first, so it can never pass for this one's; a timeout, a status `ran` refuses and a
    /// missing report are each a reason there is nothing to judge.
    pub(crate) async fn in_dir(
        &self,
        dir: &Path,
        remove_env: &[String],
    ) -> Result<Report, NoReport> {
        let path = dir.join(self.report);
        match std::fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err((format!("cannot remove the old {}: {e}", self.report), None)),
        }
        let finished = match symphony_process::run_bounded(
            bash(self.run, dir, remove_env),
            self.timeout,
        )
        .await
        {
            Ok(finished) => finished,
            Err(symphony_process::RunError::Spawn(e)) => {
                return Err((format!("could not start bash: {e}"), None))
            }
            Err(symphony_process::RunError::TimedOut { output }) => {
                return Err((
                    format!(
                        "`{}` ran past {} ms and was stopped",
                        self.run,
                        self.timeout.as_millis()
                    ),
                    Some(output),
                ))
            }
        };
        if !(self.ran)(&finished.status) {
            return Err(((self.failed)(&finished.status), Some(finished.output)));
        }
        match std::fs::read(&path) {
            Ok(bytes) => Ok(Report {
                bytes,
                output: finished.output,
            }),
            Err(e) => Err(((self.unreadable)(&e), Some(finished.output))),
        }
    }
}
