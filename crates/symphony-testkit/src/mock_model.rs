//! A scripted Responses API: each `POST /v1/responses` gets the next [`Step`] as an SSE
//! stream, then the connection closes (what Codex 0.169 accepts; see the offline recipe).

use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

use serde_json::{json, Value};

/// What one model response does.
#[derive(Debug, Clone)]
pub enum Step {
    /// Call `exec_command` with this shell command (no login shell).
    Shell(String),
    /// Call `exec_command` asking to run outside the sandbox, with a justification (this is
    /// what makes Codex ask for approval under `on-request`).
    EscalatedShell {
        /// The command.
        command: String,
        /// Why, as the model says.
        justification: String,
    },
    /// Call a (dynamic) tool.
    Call {
        /// Tool name.
        name: String,
        /// Its arguments.
        arguments: Value,
    },
    /// Say this and end the turn.
    Message(String),
    /// Say these parts one at a time, `interval` apart (the model visibly working for a
    /// while: Codex reports each part as a message delta), then end the turn.
    Streamed {
        /// The parts, in order.
        parts: Vec<String>,
        /// The pause before each part.
        interval: std::time::Duration,
    },
    /// Fail the response (`response.failed`).
    Failed(String),
}

/// Token usage reported with every response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Usage {
    /// Input tokens.
    pub input: u64,
    /// Output tokens.
    pub output: u64,
}

impl Usage {
    /// Their sum.
    pub fn total(self) -> u64 {
        self.input + self.output
    }
}

struct State {
    script: Vec<Step>,
    next: usize,
    requests: Vec<Value>,
    served: Vec<Usage>,
    /// Usage of responses whose last byte was sent (the agent can know of it only then).
    completed: Vec<Usage>,
}

/// The mock server; stops when dropped.
pub struct MockModel {
    addr: std::net::SocketAddr,
    state: Arc<Mutex<State>>,
    usage: Usage,
}

impl MockModel {
    /// Starts a server that answers with `script` in order; past its end, every response is
    /// the message "done".
    pub fn start(script: Vec<Step>) -> std::io::Result<Self> {
        Self::with_usage(
            script,
            Usage {
                input: 10,
                output: 5,
            },
        )
    }

    /// Like [`MockModel::start`], reporting `usage` with every response.
    pub fn with_usage(script: Vec<Step>, usage: Usage) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let state = Arc::new(Mutex::new(State {
            script,
            next: 0,
            requests: Vec::new(),
            served: Vec::new(),
            completed: Vec::new(),
        }));
        let shared = Arc::clone(&state);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let state = Arc::clone(&shared);
                std::thread::spawn(move || {
                    let _ = serve(stream, &state, usage);
                });
            }
        });
        Ok(Self { addr, state, usage })
    }

    /// The `base_url` for a Codex model provider.
    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// Request bodies received so far.
    pub fn requests(&self) -> Vec<Value> {
        self.lock().requests.clone()
    }

    /// Usage reported over all responses served so far.
    pub fn usage_served(&self) -> Usage {
        let state = self.lock();
        Usage {
            input: state.served.iter().map(|u| u.input).sum(),
            output: state.served.iter().map(|u| u.output).sum(),
        }
    }

    /// Usage reported over the responses sent to their end: an agent cannot have seen more
    /// (a streamed response counts in [`MockModel::usage_served`] from its first byte).
    pub fn usage_completed(&self) -> Usage {
        let state = self.lock();
        Usage {
            input: state.completed.iter().map(|u| u.input).sum(),
            output: state.completed.iter().map(|u| u.output).sum(),
        }
    }

    /// The usage each response reports.
    pub fn usage(&self) -> Usage {
        self.usage
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn serve(stream: TcpStream, state: &Mutex<State>, usage: Usage) -> std::io::Result<()> {
    let request = crate::http_request::Request::read(&stream)?;
    let mut out = stream;
    if request.method != "POST" || !request.path.contains("/responses") {
        out.write_all(b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")?;
        return Ok(());
    }
    let body = request.body;
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let step = {
        let mut state = state.lock().unwrap_or_else(|p| p.into_inner());
        state.requests.push(body);
        let step = state.script.get(state.next).cloned();
        state.next += 1;
        if !matches!(step, Some(Step::Failed(_))) {
            state.served.push(usage);
        }
        step.unwrap_or_else(|| Step::Message("done".to_owned()))
    };
    let n = {
        let state = state.lock().unwrap_or_else(|p| p.into_inner());
        state.next
    };
    let id = format!("resp-{n}");
    let mut events = vec![json!({"type": "response.created", "response": {"id": id}})];
    // Events sent after a pause (a streamed message), each with its delay.
    let mut paced: Vec<(Value, std::time::Duration)> = Vec::new();
    let call = |name: &str, arguments: String| {
        json!({"type": "response.output_item.done", "item": {
            "type": "function_call", "call_id": format!("call-{n}"), "name": name,
            "arguments": arguments}})
    };
    match step {
        Step::Shell(command) => events.push(call(
            "exec_command",
            json!({"cmd": command, "yield_time_ms": 1000, "login": false}).to_string(),
        )),
        Step::EscalatedShell {
            command,
            justification,
        } => events.push(call(
            "exec_command",
            json!({"cmd": command, "yield_time_ms": 1000, "login": false,
                   "sandbox_permissions": "require_escalated", "justification": justification})
            .to_string(),
        )),
        Step::Call { name, arguments } => events.push(call(&name, arguments.to_string())),
        Step::Message(text) => events.push(json!({"type": "response.output_item.done", "item": {
            "type": "message", "role": "assistant", "id": format!("msg-{n}"),
            "content": [{"type": "output_text", "text": text}]}})),
        Step::Streamed { parts, interval } => {
            let item = format!("msg-{n}");
            events.push(
                json!({"type": "response.output_item.added", "output_index": 0,
                "item": {"type": "message", "role": "assistant", "id": item, "content": []}}),
            );
            for part in &parts {
                paced.push((
                    json!({"type": "response.output_text.delta", "item_id": item,
                           "output_index": 0, "content_index": 0, "delta": part}),
                    interval,
                ));
            }
            paced.push((
                json!({"type": "response.output_item.done", "output_index": 0, "item": {
                    "type": "message", "role": "assistant", "id": item,
                    "content": [{"type": "output_text", "text": parts.concat()}]}}),
                std::time::Duration::ZERO,
            ));
        }
        Step::Failed(message) => {
            events.push(json!({"type": "response.failed", "response": {"id": id,
                "error": {"code": "server_error", "message": message}}}));
        }
    }
    let failed = matches!(events.last(), Some(e) if e["type"] == "response.failed");
    if !failed {
        paced.push((
            json!({"type": "response.completed", "response": {"id": id, "usage": {
            "input_tokens": usage.input, "input_tokens_details": null,
            "output_tokens": usage.output, "output_tokens_details": null,
            "total_tokens": usage.total()}}}),
            std::time::Duration::ZERO,
        ));
    }
    let sse = |event: &Value| {
        format!(
            "event: {}\ndata: {event}\n\n",
            event["type"].as_str().unwrap_or("")
        )
    };
    // What is not paced goes in one write, as a real server's first chunk would.
    let mut response = String::from(
        "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n\r\n",
    );
    for event in &events {
        response.push_str(&sse(event));
    }
    out.write_all(response.as_bytes())?;
    out.flush()?;
    for (event, delay) in paced {
        if !delay.is_zero() {
            std::thread::sleep(delay);
        }
        out.write_all(sse(&event).as_bytes())?;
        out.flush()?;
    }
    if !failed {
        state
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .completed
            .push(usage);
    }
    Ok(())
}
