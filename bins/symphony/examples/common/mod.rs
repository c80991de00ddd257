//! What the binary's benchmarks share.

use std::process::{Child, Command};

/// A running `symphony`, stopped as an operator would (SIGTERM, then waited for) when dropped.
pub struct Service(pub Child);

impl Drop for Service {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.0.id().to_string()])
            .status();
        let _ = self.0.wait();
    }
}
