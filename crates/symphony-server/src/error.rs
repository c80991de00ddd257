//! Why the server could not start.

use std::net::SocketAddr;

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// The address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
}

impl ServerError {
    /// The error's category name.
    pub fn category(&self) -> &'static str {
        "server_bind_failed"
    }
}
