//! What no child program inherits. Tracker secrets (`GITHUB_TOKEN`, the variable a `$VAR`
//! reference named) stay in Symphony's own process: hooks, agents, gates and git all start
//! through [`child_command`], which removes every name handed to [`hide_from_children`]. One
//! place, so no new kind of child can be forgotten (a test in `tests/` checks that no
//! library code builds a `Command` another way).

use std::collections::BTreeSet;
use std::ffi::OsStr;
use std::sync::RwLock;

static HIDDEN: RwLock<BTreeSet<String>> = RwLock::new(BTreeSet::new());

/// Keeps these environment variables from every child started from now on, in this process.
/// Names only accumulate: a service that reloads to another tracker keeps hiding the old
/// tracker's secrets too.
pub fn hide_from_children<I, S>(names: I)
where
    I: IntoIterator<Item = S>,
    S: Into<String>,
{
    let mut hidden = HIDDEN.write().unwrap_or_else(|p| p.into_inner());
    hidden.extend(
        names
            .into_iter()
            .map(Into::into)
            .filter(|name: &String| !name.is_empty()),
    );
}

/// The variables hidden from children so far.
pub fn hidden_from_children() -> Vec<String> {
    HIDDEN
        .read()
        .unwrap_or_else(|p| p.into_inner())
        .iter()
        .cloned()
        .collect()
}

/// A command for `program` that will not inherit any hidden variable.
pub fn child_command(program: impl AsRef<OsStr>) -> tokio::process::Command {
    let mut command = tokio::process::Command::new(program);
    for name in hidden_from_children() {
        command.env_remove(name);
    }
    command
}

/// [`child_command`] for the blocking `std::process` API.
pub fn std_child_command(program: impl AsRef<OsStr>) -> std::process::Command {
    let mut command = std::process::Command::new(program);
    for name in hidden_from_children() {
        command.env_remove(name);
    }
    command
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hidden_variable_never_reaches_a_child() {
        // Set in this test process only; every child below must go without it.
        let name = "SYMPHONY_PROCESS_TEST_CANARY";
        std::env::set_var(name, "canary-value");
        hide_from_children([name]);
        let output = child_command("env").output().await.unwrap();
        let text = String::from_utf8_lossy(&output.stdout);
        assert!(!text.contains("canary-value"), "{text}");
        assert!(text.contains("PATH="), "the rest of the environment stays");
        let output = std_child_command("env").output().unwrap();
        assert!(!String::from_utf8_lossy(&output.stdout).contains("canary-value"));
        assert!(hidden_from_children().contains(&name.to_owned()));
    }
}
