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

/// An open run log.
pub(crate) struct RunLog {
    file: std::io::LineWriter<std::fs::File>,
    written: u64,
    full: bool,
    redactor: Redactor,
}

impl RunLog {
    /// Creates (or appends to) the log of `run_id`; `None` (with a warning) when it cannot.
    pub fn open(dir: &Path, run_id: i64, redactor: Redactor) -> Option<Self> {
        let path = path_for(dir, run_id);
        let opened = std::fs::create_dir_all(dir).and_then(|()| {
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&path)
        });
        match opened {
            Ok(file) => Some(Self {
                written: file.metadata().map_or(0, |m| m.len()),
                file: std::io::LineWriter::new(file),
                full: false,
                redactor,
            }),
            Err(e) => {
                tracing::warn!("cannot write the run log {}: {e}", path.display());
                None
            }
        }
    }

    /// Appends one event line.
    pub fn event(&mut self, kind: &str, message: Option<&str>) {
        if self.full {
            return;
        }
        let at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        let message = message
            .map(|m| self.redactor.text(m).replace('\n', "\n    "))
            .unwrap_or_default();
        let line = format!("{at} {kind} {message}\n");
        let line = if self.written + line.len() as u64 > MAX_RUN_LOG_BYTES {
            self.full = true;
            format!("{at} log_truncated the run log reached {MAX_RUN_LOG_BYTES} bytes\n")
        } else {
            line
        };
        if self.file.write_all(line.as_bytes()).is_err() {
            self.full = true;
        }
        self.written += line.len() as u64;
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
        drop(log);
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
