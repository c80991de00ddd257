//! An HTTP(S) proxy on loopback that refuses every request and records what was asked: point
//! an agent's `HTTPS_PROXY`/`HTTP_PROXY` at it (with `NO_PROXY` for the loopback mocks), and
//! any attempt to reach the network shows up in [`RefusingProxy::attempts`].

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

/// The proxy; it keeps listening until the test process ends.
pub struct RefusingProxy {
    addr: std::net::SocketAddr,
    attempts: Arc<Mutex<Vec<String>>>,
}

impl RefusingProxy {
    /// Starts one on a free loopback port.
    pub fn start() -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let attempts = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&attempts);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let mut line = String::new();
                let Ok(reader) = stream.try_clone() else {
                    continue;
                };
                if BufReader::new(reader).read_line(&mut line).is_ok() && !line.trim().is_empty() {
                    seen.lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .push(line.trim().to_owned());
                }
                let mut stream = stream;
                let _ = stream.write_all(
                    b"HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
                );
            }
        });
        Ok(Self { addr, attempts })
    }

    /// Its URL, for `HTTPS_PROXY` and `HTTP_PROXY`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The first line of every request it refused (`CONNECT host:443 HTTP/1.1`, ...).
    pub fn attempts(&self) -> Vec<String> {
        self.attempts
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}
