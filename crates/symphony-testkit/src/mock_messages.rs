//! A scripted Anthropic Messages API on loopback, for the real Claude Code CLI: each
//! `POST /v1/messages` gets the next [`Reply`] as a server-sent event stream in the shape the
//! CLI requires (an `event:` line before every `data:` line), then the connection closes. What
//! the CLI sends is kept for assertions; any other request is answered 404 and recorded, so a
//! test can prove nothing else was asked.

use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};

use crate::http_request::Request;

/// What one model response does.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Reply {
    /// Say this and end the turn.
    Text(String),
    /// Call the `Bash` tool with this command.
    Bash(String),
    /// Call a tool (built-in or `mcp__<server>__<tool>`) with this input.
    Tool {
        /// The tool's name.
        name: String,
        /// Its input.
        input: Value,
    },
    /// Answer with an HTTP error in the API's error format (529: overloaded).
    Status(u16),
    /// Send the headers and `message_start`, then nothing until the mock is dropped.
    Hang,
    /// Send the headers and `message_start`, then an event whose data is not JSON, and close.
    Malformed,
}

/// Token usage reported with every response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MessagesUsage {
    /// Input tokens (not cached).
    pub input: u64,
    /// Input tokens written to the cache.
    pub cache_creation: u64,
    /// Input tokens read from the cache.
    pub cache_read: u64,
    /// Output tokens.
    pub output: u64,
}

impl Default for MessagesUsage {
    fn default() -> Self {
        Self {
            input: 10,
            cache_creation: 2,
            cache_read: 3,
            output: 5,
        }
    }
}

/// A request the CLI sent.
#[derive(Debug, Clone)]
pub struct Received {
    /// The path with its query.
    pub path: String,
    /// Header names (lowercase) and values.
    pub headers: Vec<(String, String)>,
    /// The JSON body (`null` when it was not JSON).
    pub body: Value,
}

struct State {
    script: Vec<Reply>,
    next: usize,
    messages: Vec<Received>,
    others: Vec<String>,
    /// Usage of the responses that ended normally.
    completed: Vec<MessagesUsage>,
}

/// The mock; stops (and releases hanging responses) when dropped.
pub struct MockMessages {
    addr: std::net::SocketAddr,
    state: Arc<Mutex<State>>,
    stopped: Arc<AtomicBool>,
}

impl MockMessages {
    /// Answers with `script` in order; past its end, every response is the text "done".
    pub fn start(script: Vec<Reply>) -> std::io::Result<Self> {
        Self::with_usage(script, MessagesUsage::default())
    }

    /// Like [`MockMessages::start`], reporting `usage` with every response.
    pub fn with_usage(script: Vec<Reply>, usage: MessagesUsage) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let state = Arc::new(Mutex::new(State {
            script,
            next: 0,
            messages: Vec::new(),
            others: Vec::new(),
            completed: Vec::new(),
        }));
        let stopped = Arc::new(AtomicBool::new(false));
        let (shared, stop) = (Arc::clone(&state), Arc::clone(&stopped));
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                let (state, stop) = (Arc::clone(&shared), Arc::clone(&stop));
                std::thread::spawn(move || {
                    let _ = serve(stream, &state, &stop, usage);
                });
            }
        });
        Ok(Self {
            addr,
            state,
            stopped,
        })
    }

    /// The `ANTHROPIC_BASE_URL` that reaches it.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The `/v1/messages` requests received so far, oldest first.
    pub fn messages(&self) -> Vec<Received> {
        self.lock().messages.clone()
    }

    /// Every other request (method and path): a test of an offline run expects none.
    pub fn others(&self) -> Vec<String> {
        self.lock().others.clone()
    }

    /// Usage over the responses that ended normally.
    pub fn usage_completed(&self) -> MessagesUsage {
        let state = self.lock();
        let sum = |f: fn(&MessagesUsage) -> u64| state.completed.iter().map(f).sum();
        MessagesUsage {
            input: sum(|u| u.input),
            cache_creation: sum(|u| u.cache_creation),
            cache_read: sum(|u| u.cache_read),
            output: sum(|u| u.output),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Drop for MockMessages {
    fn drop(&mut self) {
        self.stopped.store(true, Ordering::Relaxed);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(self.addr);
    }
}

fn serve(
    stream: TcpStream,
    state: &Mutex<State>,
    stopped: &AtomicBool,
    usage: MessagesUsage,
) -> std::io::Result<()> {
    let request = Request::read(&stream)?;
    let mut out = stream;
    let lock = || state.lock().unwrap_or_else(|p| p.into_inner());
    if request.method != "POST" || !request.path.starts_with("/v1/messages") {
        lock()
            .others
            .push(format!("{} {}", request.method, request.path));
        return out.write_all(
            b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
        );
    }
    let body: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
    let model = body["model"].as_str().unwrap_or("mock-model").to_owned();
    let (reply, n) = {
        let mut state = lock();
        state.messages.push(Received {
            path: request.path.clone(),
            headers: request.headers.clone(),
            body,
        });
        let reply = state.script.get(state.next).cloned();
        state.next += 1;
        (
            reply.unwrap_or_else(|| Reply::Text("done".to_owned())),
            state.next,
        )
    };
    if let Reply::Status(code) = reply {
        let kind = if code == 529 {
            "overloaded_error"
        } else {
            "api_error"
        };
        let body =
            json!({"type": "error", "error": {"type": kind, "message": format!("mock {code}")}})
                .to_string();
        return out.write_all(
            format!(
                "HTTP/1.1 {code} Mock\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            )
            .as_bytes(),
        );
    }
    let start = json!({"type": "message_start", "message": {
        "id": format!("msg_mock_{n}"), "type": "message", "role": "assistant", "model": model,
        "content": [], "stop_reason": null, "stop_sequence": null,
        "usage": {"input_tokens": usage.input, "output_tokens": 1,
                  "cache_creation_input_tokens": usage.cache_creation,
                  "cache_read_input_tokens": usage.cache_read}}});
    let mut events = vec![start];
    let tool = |name: &str, input: &Value| {
        vec![
            json!({"type": "content_block_start", "index": 0, "content_block":
                {"type": "tool_use", "id": format!("toolu_mock_{n}"), "name": name, "input": {}}}),
            json!({"type": "content_block_delta", "index": 0, "delta":
                {"type": "input_json_delta", "partial_json": input.to_string()}}),
            json!({"type": "content_block_stop", "index": 0}),
        ]
    };
    let stop_reason = match &reply {
        Reply::Text(text) => {
            events.push(json!({"type": "content_block_start", "index": 0,
                "content_block": {"type": "text", "text": ""}}));
            events.push(json!({"type": "content_block_delta", "index": 0,
                "delta": {"type": "text_delta", "text": text}}));
            events.push(json!({"type": "content_block_stop", "index": 0}));
            "end_turn"
        }
        Reply::Bash(command) => {
            events.extend(tool(
                "Bash",
                &json!({"command": command, "description": "Run the mock's command"}),
            ));
            "tool_use"
        }
        Reply::Tool { name, input } => {
            events.extend(tool(name, input));
            "tool_use"
        }
        Reply::Hang | Reply::Malformed => "",
        // Answered above, before any event.
        Reply::Status(_) => return Ok(()),
    };
    let sse = |event: &Value| {
        format!(
            "event: {}\ndata: {event}\n\n",
            event["type"].as_str().unwrap_or("")
        )
    };
    let mut response = String::from(
        "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n\r\n",
    );
    if matches!(reply, Reply::Malformed) {
        response.push_str(&sse(&events[0]));
        response.push_str("event: content_block_start\ndata: {\"type\": \"content_blo\n\n");
        return out.write_all(response.as_bytes());
    }
    if matches!(reply, Reply::Hang) {
        response.push_str(&sse(&events[0]));
        out.write_all(response.as_bytes())?;
        out.flush()?;
        while !stopped.load(Ordering::Relaxed) {
            std::thread::sleep(Duration::from_millis(100));
        }
        return Ok(());
    }
    events.push(json!({"type": "message_delta",
        "delta": {"stop_reason": stop_reason, "stop_sequence": null},
        "usage": {"output_tokens": usage.output}}));
    events.push(json!({"type": "message_stop"}));
    for event in &events {
        response.push_str(&sse(event));
    }
    out.write_all(response.as_bytes())?;
    out.flush()?;
    lock().completed.push(usage);
    Ok(())
}
