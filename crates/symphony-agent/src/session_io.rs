//! What every line-protocol session shell shares (the Codex and Claude Code backends): the
//! next line read against a silence deadline and a stop signal, and signs of life paced so a
//! streaming agent does not flood the orchestrator.

use std::time::Duration;

use tokio::io::AsyncBufRead;
use tokio::time::Instant;

use crate::backend::StopSignal;
use crate::event::AgentEventKind;
use crate::lines::{Line, LineReader};

/// Why reading gave no line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interrupted {
    /// The output ended (the process exited or closed it).
    Exited,
    /// The deadline passed.
    TimedOut,
    /// A stop was asked for.
    Stopped,
}

/// What one read gave.
#[derive(Debug, PartialEq, Eq)]
pub enum Read {
    /// A whole line.
    Line(String),
    /// A line over the reader's cap, skipped: its length in bytes.
    TooLong(usize),
    /// No line.
    Interrupted(Interrupted),
}

/// The next line of `lines`, unless `deadline` passes, `stop` is raised or the output ends.
pub async fn read_until<R: AsyncBufRead + Unpin>(
    lines: &mut LineReader<R>,
    stop: &StopSignal,
    deadline: Instant,
) -> Read {
    let mut stop = stop.clone();
    let line = tokio::select! {
        biased;
        () = stop.raised() => return Read::Interrupted(Interrupted::Stopped),
        () = tokio::time::sleep_until(deadline) => return Read::Interrupted(Interrupted::TimedOut),
        line = lines.next() => line,
    };
    match line {
        Ok(Some(Line::Text(text))) => Read::Line(text),
        Ok(Some(Line::TooLong { len, .. })) => Read::TooLong(len),
        Ok(None) | Err(_) => Read::Interrupted(Interrupted::Exited),
    }
}

/// The event reporting a line that was skipped for its size.
pub fn too_long(bytes: usize) -> AgentEventKind {
    AgentEventKind::Notification {
        message: format!("malformed: a {bytes}-byte line exceeded the 10 MB cap and was dropped"),
    }
}

/// Paces [`AgentEventKind::Activity`]: one per `spacing` at most (any other event counts as a
/// sign of life too). A streaming agent reports hundreds of deltas a second, and one per half
/// second keeps the stall clock reset just the same.
#[derive(Debug, Clone)]
pub struct Pacer {
    spacing: Duration,
    last: Option<Instant>,
}

impl Pacer {
    /// A pacer letting one sign of life through per `spacing`.
    pub fn new(spacing: Duration) -> Self {
        Self {
            spacing,
            last: None,
        }
    }

    /// Whether `kind` is sent now.
    pub fn admit(&mut self, kind: &AgentEventKind) -> bool {
        let now = Instant::now();
        if matches!(kind, AgentEventKind::Activity { .. })
            && self
                .last
                .is_some_and(|at| now.duration_since(at) < self.spacing)
        {
            return false;
        }
        self.last = Some(now);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_read_ends_with_a_line_a_deadline_a_stop_or_the_end() {
        let (raise, stop) = StopSignal::new();
        let mut lines = LineReader::with_cap(&b"one\n0123456789ABCDEF\n"[..], 8);
        let soon = Instant::now() + Duration::from_secs(5);
        assert_eq!(
            read_until(&mut lines, &stop, soon).await,
            Read::Line("one".into())
        );
        assert_eq!(read_until(&mut lines, &stop, soon).await, Read::TooLong(16));
        assert_eq!(
            read_until(&mut lines, &stop, soon).await,
            Read::Interrupted(Interrupted::Exited)
        );
        let (_writer, reader) = tokio::io::duplex(64);
        let mut silent = LineReader::new(tokio::io::BufReader::new(reader));
        assert_eq!(
            read_until(
                &mut silent,
                &stop,
                Instant::now() + Duration::from_millis(20)
            )
            .await,
            Read::Interrupted(Interrupted::TimedOut)
        );
        raise.send(true).unwrap();
        assert_eq!(
            read_until(&mut silent, &stop, soon).await,
            Read::Interrupted(Interrupted::Stopped)
        );
    }

    #[test]
    fn activity_is_paced_and_everything_else_passes() {
        let mut pacer = Pacer::new(Duration::from_secs(60));
        let activity = AgentEventKind::Activity { what: "x".into() };
        assert!(pacer.admit(&activity));
        assert!(!pacer.admit(&activity));
        assert!(pacer.admit(&AgentEventKind::SessionStarted));
        assert!(!pacer.admit(&activity));
    }
}
