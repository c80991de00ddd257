//! The per-run agent log: every event an agent reported, one line each, in
//! `<dir>/<run id>.log`. The store keeps only the newest events of a run; this file keeps them
//! all (up to a size cap), for `tail -f` and for the API's `/api/v1/runs/{id}/log`. Tracker
//! secrets are redacted as in the store. Writing is best effort: a full disk never fails a run.

use std::io::Write;
use std::path::{Path, PathBuf};

use symphony_store::Redactor;

/// Bytes one run's log may take; the rest is dropped with a note.
pub const MAX_RUN_LOG_BYTES: u64 = 64 * 1024 * 1024;
/// Run logs kept in the folder; older ones are removed at start-up.
pub const KEPT_RUN_LOGS: usize = 1000;

/// The log file of run `run_id` in `dir`.
pub fn path_for(dir: &Path, run_id: i64) -> PathBuf {
    dir.join(format!("{run_id}.log"))
}

/// Lines a run log may be behind its writer by; past them lines are dropped and counted.
const RUN_LOG_QUEUE: usize = 8_192;

/// An open run log. Lines are formatted on the caller's task and written by a thread of the
/// log's own, so an agent's output never waits on the disk on an async worker; when the disk
/// falls behind a flood, lines are dropped and the log says how many.
pub(crate) struct RunLog {
    lines: Option<std::sync::mpsc::SyncSender<String>>,
    writer: Option<std::thread::JoinHandle<()>>,
    dropped: u64,
    redactor: Redactor,
}

impl RunLog {
    /// Starts the log of `run_id` (created, or appended to); a file that cannot be opened is
    /// a warning, never a failed run.
    pub fn open(dir: &Path, run_id: i64, redactor: Redactor) -> Option<Self> {
        let path = path_for(dir, run_id);
        let dir = dir.to_path_buf();
        let (lines, received) = std::sync::mpsc::sync_channel::<String>(RUN_LOG_QUEUE);
        let writer = std::thread::Builder::new()
            .name(format!("run-log-{run_id}"))
            .spawn(move || write_lines(&dir, &path, &received))
            .map_err(|e| tracing::warn!("cannot start the run log writer: {e}"))
            .ok()?;
        Some(Self {
            lines: Some(lines),
            writer: Some(writer),
            dropped: 0,
            redactor,
        })
    }

    /// Appends one event line.
    pub fn event(&mut self, kind: &str, message: Option<&str>) {
        let Some(lines) = &self.lines else { return };
        let at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        if self.dropped > 0 {
            let gap = format!(
                "{at} lines_dropped {} line(s) dropped: the disk fell behind\n",
                self.dropped
            );
            if lines.try_send(gap).is_err() {
                self.dropped += 1;
                return;
            }
            self.dropped = 0;
        }
        let message = message
            .map(|m| self.redactor.text(m).replace('\n', "\n    "))
            .unwrap_or_default();
        match lines.try_send(format!("{at} {kind} {message}\n")) {
            Ok(()) => {}
            Err(std::sync::mpsc::TrySendError::Full(_)) => self.dropped += 1,
            Err(std::sync::mpsc::TrySendError::Disconnected(_)) => self.lines = None,
        }
    }

    /// Waits until every line given so far is written (blocking: call it off the async
    /// workers, e.g. in `spawn_blocking`).
    pub fn finish(mut self) {
        self.lines = None;
        if let Some(writer) = self.writer.take() {
            let _ = writer.join();
        }
    }
}

/// The writer thread: appends lines until the log is dropped, up to the size cap.
fn write_lines(dir: &Path, path: &Path, lines: &std::sync::mpsc::Receiver<String>) {
    let opened = std::fs::create_dir_all(dir).and_then(|()| {
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
    });
    let file = match opened {
        Ok(file) => file,
        Err(e) => {
            tracing::warn!("cannot write the run log {}: {e}", path.display());
            // Drain, so the run's log calls never fill up.
            while lines.recv().is_ok() {}
            return;
        }
    };
    let mut written = file.metadata().map_or(0, |m| m.len());
    let mut file = std::io::LineWriter::new(file);
    let mut full = false;
    while let Ok(line) = lines.recv() {
        if full {
            continue;
        }
        let line = if written + line.len() as u64 > MAX_RUN_LOG_BYTES {
            full = true;
            let at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
            format!("{at} log_truncated the run log reached {MAX_RUN_LOG_BYTES} bytes\n")
        } else {
            line
        };
        if file.write_all(line.as_bytes()).is_err() {
            full = true;
        }
        written += line.len() as u64;
    }
}

/// Removes all but the newest `keep` run logs (by run id) in `dir`.
pub fn prune(dir: &Path, keep: usize) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut ids: Vec<i64> = entries
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().to_str()?.strip_suffix(".log")?.parse().ok())
        .collect();
    ids.sort_unstable_by(|a, b| b.cmp(a));
    for id in ids.into_iter().skip(keep) {
        let _ = std::fs::remove_file(path_for(dir, id));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_redacted_indented_and_old_logs_pruned() {
        let dir = tempfile::tempdir().unwrap();
        let mut log = RunLog::open(
            dir.path(),
            7,
            Redactor::new(["ghp_secretsecretsecret".to_owned()]),
        )
        .unwrap();
        log.event("notification", Some("token ghp_secretsecretsecret\nnext"));
        log.event("turn_completed", None);
        log.finish();
        let text = std::fs::read_to_string(path_for(dir.path(), 7)).unwrap();
        assert!(!text.contains("ghp_secret"), "{text}");
        assert!(
            text.contains(" notification token [redacted]\n    next\n"),
            "{text}"
        );
        assert!(
            text.lines().nth(2).unwrap().ends_with(" turn_completed "),
            "{text}"
        );
        for id in [1, 2, 3] {
            std::fs::write(path_for(dir.path(), id), "x").unwrap();
        }
        std::fs::write(dir.path().join("notes.txt"), "kept").unwrap();
        prune(dir.path(), 2);
        let mut left: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        left.sort();
        assert_eq!(left, ["3.log", "7.log", "notes.txt"]);
    }
}
