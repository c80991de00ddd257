//! The client's protocol logic as a pure state machine: lines in, actions out. No I/O, no
//! clock: the session (`session.rs`) reads and writes the pipes and keeps the timeouts, so
//! every routing and policy rule here is tested with recorded lines.

use std::collections::HashMap;

use serde_json::{json, Value};
use symphony_agent::{clip, AgentError, AgentEventKind};
use symphony_core::Usage;

pub use crate::conversation_vocabulary::{Action, Purpose, Settings};
use crate::items::{describe_item, str_at, u64_at};
use crate::policy::{inside, ApprovalAnswer, UserInputAnswer};
use crate::protocol::{self, Incoming};

/// Protocol state of one app-server session.
#[derive(Debug)]
pub struct Conversation {
    settings: Settings,
    next_id: i64,
    waiting: HashMap<i64, Purpose>,
    thread_id: Option<String>,
    turn_id: Option<String>,
    turn: u32,
    in_turn: bool,
    /// The last non-retried error the server reported in this turn, for the failure text.
    last_error: Option<String>,
}

fn activity(method: &str) -> Action {
    Action::Emit(AgentEventKind::Activity { what: clip(method) })
}

impl Conversation {
    /// A conversation that has sent nothing yet.
    pub fn new(settings: Settings) -> Self {
        Self {
            settings,
            next_id: 1,
            waiting: HashMap::new(),
            thread_id: None,
            turn_id: None,
            turn: 0,
            in_turn: false,
            last_error: None,
        }
    }

    /// `<thread_id>-<turn_id>` once a turn started, else the thread id or `""`.
    pub fn session_id(&self) -> String {
        match (&self.thread_id, &self.turn_id) {
            (Some(thread), Some(turn)) => format!("{thread}-{turn}"),
            (Some(thread), None) => thread.clone(),
            _ => String::new(),
        }
    }

    /// The current (or last) turn number, from 1.
    pub fn turn(&self) -> u32 {
        self.turn
    }

    /// Whether a turn is in progress.
    pub fn in_turn(&self) -> bool {
        self.in_turn
    }

    /// The thread id, once the thread started.
    pub fn thread_id(&self) -> Option<&str> {
        self.thread_id.as_deref()
    }

    fn send(&mut self, purpose: Purpose, params: Value) -> (i64, String) {
        let id = self.next_id;
        self.next_id += 1;
        self.waiting.insert(id, purpose);
        (id, protocol::request(id, purpose.method(), params))
    }

    /// The `initialize` request. `experimentalApi` is asked for only when tools are
    /// advertised (dynamic tools are experimental in Codex 0.169).
    pub fn initialize(&mut self) -> (i64, String) {
        let mut capabilities = json!({});
        if !self.settings.tools.is_empty() {
            capabilities["experimentalApi"] = json!(true);
        }
        self.send(
            Purpose::Initialize,
            json!({
                "clientInfo": {
                    "name": "symphony",
                    "title": "Symphony",
                    "version": env!("CARGO_PKG_VERSION"),
                },
                "capabilities": capabilities,
            }),
        )
    }

    /// The `initialized` notification, sent after `initialize` is answered.
    pub fn initialized(&self) -> String {
        protocol::notification("initialized")
    }

    /// The `thread/start` request: workspace as cwd, the policies, the tools.
    pub fn thread_start(
        &mut self,
        approval_policy: Option<&Value>,
        sandbox: Option<&Value>,
    ) -> (i64, String) {
        let mut params = json!({
            "cwd": self.settings.workspace.display().to_string(),
            "approvalPolicy": approval_policy.cloned().unwrap_or_else(|| json!("never")),
            "sandbox": sandbox.cloned().unwrap_or_else(|| json!("workspace-write")),
        });
        if !self.settings.tools.is_empty() {
            params["dynamicTools"] = Value::Array(
                self.settings
                    .tools
                    .iter()
                    .map(|t| {
                        json!({"type": "function", "name": t.name,
                               "description": t.description, "inputSchema": t.input_schema})
                    })
                    .collect(),
            );
        }
        self.send(Purpose::ThreadStart, params)
    }

    /// Records the thread id from the `thread/start` answer.
    pub fn thread_started(&mut self, result: &Value) -> Result<String, protocol::Malformed> {
        let id = str_at(result, "/thread/id")
            .ok_or_else(|| protocol::Malformed::new("no thread id", &result.to_string()))?
            .to_owned();
        self.thread_id = Some(id.clone());
        Ok(id)
    }

    /// Names the thread `<identifier>: <title>` (Codex has no title field on turns).
    pub fn set_name(&mut self, name: &str) -> Option<(i64, String)> {
        let thread = self.thread_id.clone()?;
        Some(self.send(Purpose::SetName, json!({"threadId": thread, "name": name})))
    }

    /// The `turn/start` request for the next turn.
    pub fn turn_start(&mut self, prompt: &str, sandbox_policy: Option<&Value>) -> (i64, String) {
        self.turn += 1;
        self.turn_id = None;
        self.in_turn = true;
        self.last_error = None;
        let workspace = self.settings.workspace.display().to_string();
        let policy = sandbox_policy.cloned().unwrap_or_else(|| {
            json!({"type": "workspaceWrite", "writableRoots": [workspace], "networkAccess": false})
        });
        let params = json!({
            "threadId": self.thread_id,
            "input": [{"type": "text", "text": prompt}],
            "cwd": workspace,
            "sandboxPolicy": policy,
        });
        self.send(Purpose::TurnStart, params)
    }

    /// Records the turn id from the `turn/start` answer.
    pub fn turn_started(&mut self, result: &Value) {
        if let Some(id) = str_at(result, "/turn/id") {
            self.turn_id = Some(id.to_owned());
        }
    }

    /// The `turn/interrupt` request for the turn in progress, if any.
    pub fn interrupt(&mut self) -> Option<(i64, String)> {
        let (thread, turn) = (self.thread_id.clone()?, self.turn_id.clone()?);
        Some(self.send(
            Purpose::Interrupt,
            json!({"threadId": thread, "turnId": turn}),
        ))
    }

    /// The turn is over from the session's side (timeout, stop, exit).
    pub fn abandon_turn(&mut self) {
        self.in_turn = false;
    }

    /// The answer to a host-side tool call.
    pub fn tool_reply(request_id: &Value, success: bool, output: &Value) -> String {
        let text = match output {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        protocol::reply(
            request_id,
            json!({"success": success, "contentItems": [{"type": "inputText", "text": text}]}),
        )
    }

    /// Handles one line from the app-server.
    pub fn handle_line(&mut self, line: &str, out: &mut Vec<Action>) {
        match protocol::parse(line) {
            Ok(Incoming::Response { id, outcome }) => {
                if let Some(purpose) = self.waiting.remove(&id) {
                    out.push(Action::Answered { purpose, outcome });
                }
            }
            Ok(Incoming::Notification { method, params }) => {
                self.notification(&method, &params, out)
            }
            Ok(Incoming::Request { id, method, params }) => {
                self.server_request(id, &method, &params, out)
            }
            Err(why) => out.push(Action::Emit(AgentEventKind::Notification {
                message: clip(&format!("malformed: {why}")),
            })),
        }
    }

    fn notification(&mut self, method: &str, params: &Value, out: &mut Vec<Action>) {
        match method {
            "turn/started" => {
                if let Some(id) = str_at(params, "/turn/id") {
                    self.turn_id = Some(id.to_owned());
                }
                out.push(activity(method));
            }
            "turn/completed" => {
                if !self.in_turn {
                    return;
                }
                if let Some(id) = str_at(params, "/turn/id") {
                    self.turn_id = Some(id.to_owned());
                }
                self.in_turn = false;
                let turn = self.turn;
                let status = str_at(params, "/turn/status").unwrap_or("unknown");
                let result = match status {
                    "completed" => Ok(()),
                    other => {
                        let message = str_at(params, "/turn/error/message")
                            .map(str::to_owned)
                            .or_else(|| self.last_error.clone())
                            .unwrap_or_else(|| "no error message".to_owned());
                        Err(AgentError::TurnFailed {
                            turn,
                            status: other.to_owned(),
                            output: clip(&message),
                        })
                    }
                };
                out.push(Action::TurnEnded(result));
            }
            "error" => {
                let message = str_at(params, "/error/message").unwrap_or("unknown error");
                let will_retry = params
                    .get("willRetry")
                    .and_then(Value::as_bool)
                    .unwrap_or(false);
                if !will_retry {
                    self.last_error = Some(message.to_owned());
                }
                out.push(Action::Emit(AgentEventKind::Notification {
                    message: clip(&format!(
                        "error{}: {message}",
                        if will_retry { " (retrying)" } else { "" }
                    )),
                }));
            }
            "thread/tokenUsage/updated" => {
                let total = params
                    .pointer("/tokenUsage/total")
                    .cloned()
                    .unwrap_or(Value::Null);
                // Codex's `inputTokens` already counts the cached ones (OpenAI's convention,
                // which `Usage` follows); Codex prices nothing, so there is no cost.
                out.push(Action::Emit(AgentEventKind::TokenUsage(
                    Usage::tokens(
                        u64_at(&total, "/inputTokens"),
                        u64_at(&total, "/outputTokens"),
                        u64_at(&total, "/totalTokens"),
                    )
                    .with_cache(
                        u64_at(&total, "/cachedInputTokens"),
                        u64_at(&total, "/cacheWriteInputTokens"),
                    ),
                )));
            }
            "account/rateLimits/updated" => {
                if let Some(limits) = params.get("rateLimits") {
                    out.push(Action::Emit(AgentEventKind::RateLimits {
                        payload: limits.clone(),
                    }));
                }
            }
            "item/completed" => match describe_item(params.get("item").unwrap_or(&Value::Null)) {
                Some(message) => out.push(Action::Emit(AgentEventKind::Notification {
                    message: clip(&message),
                })),
                None => out.push(activity(method)),
            },
            // Everything else the agent says (items starting, output and reasoning deltas,
            // status changes) is work in progress: SPEC 8.5 counts any event against a stall.
            _ => out.push(activity(method)),
        }
    }

    fn server_request(&mut self, id: Value, method: &str, params: &Value, out: &mut Vec<Action>) {
        match method {
            "item/commandExecution/requestApproval" | "item/fileChange/requestApproval" => {
                self.approval(id, method, params, out)
            }
            "item/tool/call" => {
                let tool = str_at(params, "/tool").unwrap_or("").to_owned();
                if self.settings.tools.iter().any(|t| t.name == tool) {
                    out.push(Action::CallTool {
                        request_id: id,
                        tool,
                        arguments: params.get("arguments").cloned().unwrap_or(Value::Null),
                    });
                } else {
                    out.push(Action::Send(Self::tool_reply(
                        &id,
                        false,
                        &json!({"error": format!("unsupported tool {tool:?}")}),
                    )));
                    out.push(Action::Emit(AgentEventKind::Notification {
                        message: clip(&format!("unsupported_tool_call: {tool}")),
                    }));
                }
            }
            "item/tool/requestUserInput" => self.user_input(id, params, out),
            other => {
                out.push(Action::Send(protocol::reply_error(
                    &id,
                    -32601,
                    &format!("{other} is not supported by Symphony (unattended runs)"),
                )));
                out.push(Action::Emit(AgentEventKind::Notification {
                    message: clip(&format!("refused server request {other}")),
                }));
            }
        }
    }

    fn approval(&mut self, id: Value, method: &str, params: &Value, out: &mut Vec<Action>) {
        let command = method.contains("commandExecution");
        let what = if command {
            format!(
                "command {:?} in {}",
                str_at(params, "/command").unwrap_or("?"),
                str_at(params, "/cwd").unwrap_or("?")
            )
        } else {
            match str_at(params, "/grantRoot") {
                Some(root) => format!("file changes with write access to {root}"),
                None => "file changes".to_owned(),
            }
        };
        let workspace = &self.settings.workspace;
        let contained = if command {
            str_at(params, "/cwd").is_some_and(|cwd| inside(workspace, std::path::Path::new(cwd)))
        } else {
            str_at(params, "/grantRoot")
                .is_none_or(|root| inside(workspace, std::path::Path::new(root)))
        };
        let decision = match self.settings.approvals {
            ApprovalAnswer::Accept => Some("acceptForSession"),
            ApprovalAnswer::Workspace if contained => Some("accept"),
            ApprovalAnswer::Workspace | ApprovalAnswer::Fail => None,
        };
        match decision {
            Some(decision) => {
                out.push(Action::Send(protocol::reply(
                    &id,
                    json!({ "decision": decision }),
                )));
                out.push(Action::Emit(AgentEventKind::Notification {
                    message: clip(&format!("approval_auto_approved: {what}")),
                }));
            }
            None => {
                out.push(Action::Send(protocol::reply(
                    &id,
                    json!({"decision": "cancel"}),
                )));
                self.in_turn = false;
                out.push(Action::TurnEnded(Err(AgentError::ApprovalRefused {
                    turn: self.turn,
                    message: clip(&match self.settings.approvals {
                        ApprovalAnswer::Fail => format!("{what} (codex.approvals: fail)"),
                        _ => {
                            format!("{what} is outside the workspace (codex.approvals: workspace)")
                        }
                    }),
                })));
            }
        }
    }

    fn user_input(&mut self, id: Value, params: &Value, out: &mut Vec<Action>) {
        let questions = params
            .get("questions")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        match self.settings.user_input {
            UserInputAnswer::FirstOption => {
                let mut answers = serde_json::Map::new();
                for question in &questions {
                    let Some(qid) = question.get("id").and_then(Value::as_str) else {
                        continue;
                    };
                    let first = str_at(question, "/options/0/label").unwrap_or("yes");
                    answers.insert(qid.to_owned(), json!({ "answers": [first] }));
                }
                out.push(Action::Send(protocol::reply(
                    &id,
                    json!({ "answers": answers }),
                )));
            }
            UserInputAnswer::Fail => {
                let asked: Vec<&str> = questions
                    .iter()
                    .filter_map(|q| q.get("question").and_then(Value::as_str))
                    .collect();
                out.push(Action::Send(protocol::reply_error(
                    &id,
                    -32000,
                    "no user input is available: Symphony runs unattended",
                )));
                self.in_turn = false;
                out.push(Action::TurnEnded(Err(AgentError::TurnInputRequired {
                    turn: self.turn,
                    message: clip(&asked.join(" / ")),
                })));
            }
        }
    }
}
