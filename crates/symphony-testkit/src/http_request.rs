//! One HTTP/1.1 request read off a socket, as the loopback mocks need it: the request line,
//! the headers, and a `content-length` body (the agents' clients send no chunked bodies).

use std::io::{BufRead, BufReader, Read};
use std::net::TcpStream;

/// A request as read.
#[derive(Debug, Clone)]
pub(crate) struct Request {
    /// `POST`, `GET`, ...
    pub method: String,
    /// The path with its query.
    pub path: String,
    /// Header names (lowercase) and values, in order.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl Request {
    /// Reads one request from `stream`.
    pub fn read(stream: &TcpStream) -> std::io::Result<Self> {
        let mut reader = BufReader::new(stream.try_clone()?);
        let mut line = String::new();
        reader.read_line(&mut line)?;
        let mut parts = line.split_whitespace();
        let method = parts.next().unwrap_or_default().to_owned();
        let path = parts.next().unwrap_or_default().to_owned();
        let mut headers = Vec::new();
        let mut length = 0usize;
        loop {
            let mut header = String::new();
            if reader.read_line(&mut header)? == 0 || header == "\r\n" || header == "\n" {
                break;
            }
            if let Some((name, value)) = header.split_once(':') {
                let (name, value) = (name.trim().to_ascii_lowercase(), value.trim().to_owned());
                if name == "content-length" {
                    length = value.parse().unwrap_or(0);
                }
                headers.push((name, value));
            }
        }
        let mut body = vec![0u8; length];
        reader.read_exact(&mut body)?;
        Ok(Self {
            method,
            path,
            headers,
            body,
        })
    }
}
