//! Child process groups: started, time-limited, stopped (SIGTERM, a grace, SIGKILL), killed
//! on drop, with a bounded tail of their output.

use std::collections::VecDeque;
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use nix::sys::signal::killpg;
pub use nix::sys::signal::Signal;
use nix::unistd::Pid;
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::process::Command;

/// How much of a child's combined output is kept: the last bytes, where errors usually are.
pub const OUTPUT_LIMIT: usize = 8 * 1024;

/// On timeout, how long the group gets between SIGTERM and SIGKILL. The pause lets shells run
/// their exit traps: a login shell killed outright in its profile can leave lock files behind
/// (pyenv's rehash lock, for one) that stall every later login shell.
pub const TERM_GRACE: Duration = Duration::from_secs(2);

/// After the child exits, how long to keep draining pipes that a background grandchild may
/// still hold open before that grandchild's group is killed.
const DRAIN_GRACE: Duration = Duration::from_secs(2);

/// A child that ran to completion.
#[derive(Debug)]
pub struct Finished {
    /// Its exit status.
    pub status: ExitStatus,
    /// The tail of its combined stdout and stderr.
    pub output: String,
}

/// A child that did not complete.
#[derive(Debug)]
pub enum RunError {
    /// It could not be started.
    Spawn(std::io::Error),
    /// It ran past the limit; its process group was killed.
    TimedOut {
        /// The tail of its output up to the kill.
        output: String,
    },
}

/// A running child that leads its own process group.
///
/// Dropping it while the child runs kills the whole group, so a cancelled task never leaks
/// processes.
#[derive(Debug)]
pub struct GroupChild {
    child: tokio::process::Child,
    group: Option<Pid>,
}

impl GroupChild {
    /// Spawns `command` as the leader of a new process group. Stdio is the caller's choice.
    pub fn spawn(mut command: Command) -> std::io::Result<Self> {
        command.process_group(0).kill_on_drop(true);
        let child = command.spawn()?;
        let group = child
            .id()
            .and_then(|id| i32::try_from(id).ok())
            .map(Pid::from_raw);
        Ok(Self { child, group })
    }

    /// The child, for its pipes and its exit status.
    pub fn child(&mut self) -> &mut tokio::process::Child {
        &mut self.child
    }

    /// The process-group id (the leader's pid).
    pub fn id(&self) -> Option<u32> {
        self.group.and_then(|g| u32::try_from(g.as_raw()).ok())
    }

    /// Sends `signal` to the whole group; a group that is already gone is not an error.
    pub fn signal(&self, signal: Signal) {
        if let Some(group) = self.group {
            let _ = killpg(group, signal);
        }
    }

    /// Whether any process of the group is still alive.
    pub fn group_alive(&self) -> bool {
        self.group.is_some_and(|group| killpg(group, None).is_ok())
    }

    /// Stops the group: SIGTERM, then up to [`TERM_GRACE`] for every member (not only the
    /// leader) to exit and run its exit traps, then SIGKILL for whatever is left. Returns the
    /// leader's exit status.
    pub async fn stop(&mut self) -> Option<ExitStatus> {
        self.signal(Signal::SIGTERM);
        let deadline = tokio::time::Instant::now() + TERM_GRACE;
        let status = tokio::time::timeout_at(deadline, self.child.wait())
            .await
            .ok()
            .and_then(Result::ok);
        // A shell that exits at once on SIGTERM can leave children finishing their own traps
        // (a login shell's `pyenv rehash` removing its lock file): wait for them too.
        while self.group_alive() && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        self.signal(Signal::SIGKILL);
        match status {
            Some(status) => Some(status),
            None => self.child.wait().await.ok(),
        }
    }
}

impl Drop for GroupChild {
    fn drop(&mut self) {
        // Only while the leader is unreaped: after that its group id may belong to someone else.
        if matches!(self.child.try_wait(), Ok(None)) {
            self.signal(Signal::SIGKILL);
        }
    }
}

/// Runs `command` to completion within `timeout`, stdin closed, capturing the tail of its output.
///
/// The child leads a new process group. On timeout the group is stopped with
/// [`GroupChild::stop`] (SIGTERM, then SIGKILL). After a normal exit, stragglers that keep the
/// output pipes open past a short grace are killed too, so a hook cannot leave processes
/// running that hold Symphony's pipes.
pub async fn run_bounded(mut command: Command, timeout: Duration) -> Result<Finished, RunError> {
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = GroupChild::spawn(command).map_err(RunError::Spawn)?;
    let stdout = child.child().stdout.take();
    let stderr = child.child().stderr.take();
    let mut collector = tokio::spawn(collect(stdout, stderr));

    let status = match tokio::time::timeout(timeout, child.child().wait()).await {
        Ok(status) => status.map_err(RunError::Spawn)?,
        Err(_) => {
            child.stop().await;
            let output = match tokio::time::timeout(DRAIN_GRACE, &mut collector).await {
                Ok(Ok(output)) => output.render(),
                _ => String::new(),
            };
            return Err(RunError::TimedOut { output });
        }
    };
    let output = match tokio::time::timeout(DRAIN_GRACE, &mut collector).await {
        Ok(Ok(output)) => output.render(),
        _ => {
            // Stragglers hold the pipes: stop them as a timeout would, traps included.
            child.stop().await;
            match collector.await {
                Ok(output) => output.render(),
                Err(_) => String::new(),
            }
        }
    };
    Ok(Finished { status, output })
}

/// The last [`OUTPUT_LIMIT`] bytes of a stream, and how many came before them.
#[derive(Default)]
struct Tail {
    bytes: VecDeque<u8>,
    dropped: u64,
}

impl Tail {
    fn push(&mut self, chunk: &[u8]) {
        self.bytes.extend(chunk);
        let excess = self.bytes.len().saturating_sub(OUTPUT_LIMIT);
        if excess > 0 {
            self.bytes.drain(..excess);
            self.dropped += excess as u64;
        }
    }

    fn render(self) -> String {
        let (a, b) = self.bytes.as_slices();
        let text = String::from_utf8_lossy(&[a, b].concat())
            .trim_end()
            .to_owned();
        if self.dropped > 0 {
            format!("[{} earlier bytes not shown]\n{text}", self.dropped)
        } else {
            text
        }
    }
}

async fn collect(
    stdout: Option<impl AsyncRead + Unpin>,
    stderr: Option<impl AsyncRead + Unpin>,
) -> Tail {
    let mut tail = Tail::default();
    let (mut out, mut err) = (stdout, stderr);
    let (mut out_buf, mut err_buf) = ([0u8; 4096], [0u8; 4096]);
    while out.is_some() || err.is_some() {
        tokio::select! {
            n = read_some(&mut out, &mut out_buf), if out.is_some() => match n {
                Some(n) => tail.push(&out_buf[..n]),
                None => out = None,
            },
            n = read_some(&mut err, &mut err_buf), if err.is_some() => match n {
                Some(n) => tail.push(&err_buf[..n]),
                None => err = None,
            },
        }
    }
    tail
}

/// Reads once; `None` at end of stream or on error.
async fn read_some(stream: &mut Option<impl AsyncRead + Unpin>, buf: &mut [u8]) -> Option<usize> {
    let stream = stream.as_mut()?;
    match stream.read(buf).await {
        Ok(0) | Err(_) => None,
        Ok(n) => Some(n),
    }
}

/// Describes an exit status in words ("exit code 3", "killed by signal 9").
pub fn describe_status(status: &ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exit code {code}"),
        (None, Some(signal)) => format!("killed by signal {signal}"),
        _ => "unknown exit status".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bash(script: &str) -> Command {
        let mut c = Command::new("bash");
        c.arg("-c").arg(script);
        c
    }

    #[tokio::test]
    async fn output_of_both_streams_is_captured() {
        let done = run_bounded(
            bash("echo out; echo err >&2; exit 3"),
            Duration::from_secs(30),
        )
        .await
        .unwrap();
        assert_eq!(done.status.code(), Some(3));
        assert!(
            done.output.contains("out") && done.output.contains("err"),
            "{}",
            done.output
        );
    }

    #[tokio::test]
    async fn floods_are_truncated_to_the_tail() {
        let done = run_bounded(
            bash("head -c 1000000 /dev/zero | tr '\\0' a; echo END"),
            Duration::from_secs(30),
        )
        .await
        .unwrap();
        assert!(done.output.len() < OUTPUT_LIMIT + 100);
        assert!(done.output.ends_with("END"));
        assert!(done.output.starts_with("[991"), "{}", &done.output[..40]);
    }

    #[tokio::test]
    async fn timeout_kills_the_whole_process_group() {
        let dir = tempfile::tempdir().unwrap();
        let marker = dir.path().join("grandchild-survived");
        // The grandchild would write the marker after 3 s unless the group kill reaches it.
        let script = format!("(sleep 3; touch {}) & sleep 60", marker.display());
        let err = run_bounded(bash(&script), Duration::from_millis(300))
            .await
            .unwrap_err();
        assert!(matches!(err, RunError::TimedOut { .. }));
        tokio::time::sleep(Duration::from_secs(4)).await;
        assert!(
            !marker.exists(),
            "a process of the timed-out group survived"
        );
    }

    #[tokio::test]
    async fn timeout_lets_the_shell_run_its_exit_trap_before_the_kill() {
        let dir = tempfile::tempdir().unwrap();
        let lock = dir.path().join("lock");
        let script = format!("touch {0}; trap 'rm -f {0}' EXIT; sleep 60", lock.display());
        let err = run_bounded(bash(&script), Duration::from_millis(500))
            .await
            .unwrap_err();
        assert!(matches!(err, RunError::TimedOut { .. }));
        assert!(!lock.exists(), "the EXIT trap did not run");
    }

    #[tokio::test]
    async fn a_child_that_ignores_sigterm_is_killed_after_the_grace() {
        let err = run_bounded(bash("trap '' TERM; sleep 60"), Duration::from_millis(200))
            .await
            .unwrap_err();
        assert!(matches!(err, RunError::TimedOut { .. }));
    }

    #[tokio::test]
    async fn background_stragglers_holding_the_pipes_do_not_block_completion() {
        let done = run_bounded(bash("sleep 600 & echo started"), Duration::from_secs(60))
            .await
            .unwrap();
        assert!(done.status.success());
        assert_eq!(done.output, "started");
    }

    #[tokio::test]
    async fn missing_program_is_a_spawn_error() {
        let err = run_bounded(Command::new("/nonexistent/program"), Duration::from_secs(5))
            .await
            .unwrap_err();
        assert!(matches!(err, RunError::Spawn(_)));
    }
}
