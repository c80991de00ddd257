//! Recognising a process again after a restart: a pid alone is reused by the kernel, a pid
//! with its start time is not. Durable state records both so that a restarted orchestrator
//! kills the agents its previous life left behind, and nothing else.

use std::time::{Duration, Instant};

use nix::sys::signal::{killpg, Signal};
use nix::unistd::Pid;

use crate::TERM_GRACE;

/// A process as recorded for later: its pid and when it started (clock ticks since boot,
/// from `/proc/<pid>/stat`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProcessIdentity {
    /// Process id.
    pub pid: u32,
    /// Start time in clock ticks since boot; differs for a later process with the same pid.
    pub start_ticks: u64,
}

/// The fields of `/proc/<pid>/stat` identity needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stat {
    /// Exited but not yet reaped by its parent (`Z`) or dead (`X`).
    exited: bool,
    start_ticks: u64,
}

fn stat(pid: u32) -> Option<Stat> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    parse_stat(&text)
}

/// Parses `/proc/<pid>/stat`. The command name (field 2) may hold spaces and parentheses, so
/// fields are counted from its last `)`.
fn parse_stat(text: &str) -> Option<Stat> {
    let rest = &text[text.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // `rest` starts at field 3 (state); starttime is field 22.
    Some(Stat {
        exited: matches!(*fields.first()?, "Z" | "X" | "x"),
        start_ticks: fields.get(19)?.parse().ok()?,
    })
}

impl ProcessIdentity {
    /// The identity of the running process `pid`, if there is one.
    pub fn of(pid: u32) -> Option<Self> {
        stat(pid).map(|s| Self {
            pid,
            start_ticks: s.start_ticks,
        })
    }

    /// This process.
    pub fn current() -> Option<Self> {
        Self::of(std::process::id())
    }

    /// Whether this very process is still running (not merely some process with its pid,
    /// and not a zombie waiting for its parent).
    pub fn is_alive(&self) -> bool {
        stat(self.pid).is_some_and(|s| s.start_ticks == self.start_ticks && !s.exited)
    }
}

/// What [`kill_orphaned_group`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrphanOutcome {
    /// Nothing of the group is left.
    Gone,
    /// The group was running and has been killed.
    Killed,
    /// The pid now belongs to an unrelated process; nothing was signalled.
    PidReused,
}

/// Stops the process group that `leader` led, if any of it is still running: SIGTERM, up to
/// [`TERM_GRACE`] for it to exit, then SIGKILL. Blocks; call it off the async runtime.
///
/// The group is signalled only when it is provably the recorded one: its leader is alive with
/// the recorded start time, or the leader is gone and members of its group remain (the kernel
/// does not hand out a pid while a group of that id exists).
pub fn kill_orphaned_group(leader: ProcessIdentity) -> OrphanOutcome {
    let Ok(raw) = i32::try_from(leader.pid) else {
        return OrphanOutcome::Gone;
    };
    let group = Pid::from_raw(raw);
    match stat(leader.pid) {
        Some(s) if s.start_ticks != leader.start_ticks => return OrphanOutcome::PidReused,
        Some(_) => {}
        None => {
            if killpg(group, None).is_err() {
                return OrphanOutcome::Gone;
            }
        }
    }
    let _ = killpg(group, Signal::SIGTERM);
    let deadline = Instant::now() + TERM_GRACE;
    while killpg(group, None).is_ok() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = killpg(group, Signal::SIGKILL);
    OrphanOutcome::Killed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_fields_are_counted_after_the_last_parenthesis() {
        let line = "4242 (we (ird) name) S 1 4240 4240 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 1000 10";
        assert_eq!(
            parse_stat(line),
            Some(Stat {
                exited: false,
                start_ticks: 987654
            })
        );
        assert_eq!(parse_stat("garbage"), None);
    }

    #[test]
    fn the_current_process_is_alive_and_a_different_start_time_is_not() {
        let me = ProcessIdentity::current().expect("procfs");
        assert!(me.is_alive());
        let impostor = ProcessIdentity {
            start_ticks: me.start_ticks + 1,
            ..me
        };
        assert!(!impostor.is_alive());
        assert_eq!(kill_orphaned_group(impostor), OrphanOutcome::PidReused);
    }

    #[test]
    fn an_orphaned_group_is_killed_with_its_members() {
        use std::os::unix::process::CommandExt;
        // A leader that starts a member of its group, as an agent's shell starts its tools.
        let mut leader = std::process::Command::new("bash")
            .args(["-c", "sleep 60 & wait"])
            .process_group(0)
            .spawn()
            .expect("bash");
        let identity = ProcessIdentity::of(leader.id()).expect("procfs");
        assert_eq!(kill_orphaned_group(identity), OrphanOutcome::Killed);
        let status = leader.wait().expect("wait");
        assert!(!status.success(), "the leader was signalled: {status:?}");
        let group = Pid::from_raw(i32::try_from(identity.pid).expect("pid"));
        assert!(
            killpg(group, None).is_err(),
            "no member of the group is left"
        );
        assert_eq!(kill_orphaned_group(identity), OrphanOutcome::Gone);
    }
}
