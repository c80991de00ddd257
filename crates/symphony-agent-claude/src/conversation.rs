//! The stream-json conversation with one Claude Code process as a pure state machine (ADR
//! 0021): lines in, [`Action`]s out. It writes the user turns, answers permission requests by
//! the posture, serves Symphony's tools as the in-process MCP server, keeps the session's token
//! counts and cost, and says when and how a turn ended. No I/O: `session.rs` performs the
//! actions.

use serde_json::{json, Value};
use symphony_agent::{clip, AgentError, AgentEventKind, ToolDeclaration};

use crate::mcp::{self, Handled};
use crate::policy::{self, Decision, Posture, Refusal};
use symphony_core::Usage;

use crate::protocol::{self, ControlRequest, Incoming, TurnResult, TurnUsage};

/// What a conversation needs to know.
#[derive(Debug, Clone)]
pub struct Settings {
    /// What may run without asking.
    pub posture: Posture,
    /// Symphony's tools, served over MCP.
    pub tools: Vec<ToolDeclaration>,
}

/// Something for the session to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Write this line to the CLI's stdin.
    Write(String),
    /// Report this event.
    Emit(AgentEventKind),
    /// Run Symphony's tool `name`, then write [`Conversation::tool_reply`].
    CallTool {
        /// The control request to answer.
        request_id: String,
        /// The JSON-RPC request inside it.
        mcp_id: Value,
        /// The tool.
        name: String,
        /// Its arguments.
        arguments: Value,
    },
    /// The turn ended.
    TurnEnded(Result<(), AgentError>),
}

/// The conversation's state.
#[derive(Debug)]
pub struct Conversation {
    settings: Settings,
    session_id: String,
    version: Option<String>,
    turn: u32,
    /// What the posture refused during the turn: the turn fails with it.
    refused: Option<AgentError>,
    /// The turns' counts, summed (each `result` reports its own turn's).
    usage: TurnUsage,
    /// The CLI's price of the session so far: cumulative, across `--resume` processes too.
    cost_usd: Option<f64>,
}

fn control_success(request_id: &str, response: Value) -> String {
    json!({"type": "control_response", "response": {
        "subtype": "success", "request_id": request_id, "response": response}})
    .to_string()
}

fn control_error(request_id: &str, message: &str) -> String {
    json!({"type": "control_response", "response": {
        "subtype": "error", "request_id": request_id, "error": message}})
    .to_string()
}

impl Conversation {
    /// A conversation for session `session_id` (pre-assigned with `--session-id`).
    pub fn new(settings: Settings, session_id: impl Into<String>) -> Self {
        Self {
            settings,
            session_id: session_id.into(),
            version: None,
            turn: 0,
            refused: None,
            usage: TurnUsage::default(),
            cost_usd: None,
        }
    }

    /// The session id.
    pub fn session_id(&self) -> &str {
        &self.session_id
    }

    /// The CLI's version, once it said.
    pub fn version(&self) -> Option<&str> {
        self.version.as_deref()
    }

    /// Whether Symphony's MCP server has tools to offer.
    pub fn offers_tools(&self) -> bool {
        !self.settings.tools.is_empty()
    }

    /// Whether the session may only read.
    pub fn read_only(&self) -> bool {
        self.settings.posture.read_only
    }

    /// The current (or last) turn, from 1.
    pub fn turn(&self) -> u32 {
        self.turn
    }

    /// What the session used over its turns, with the CLI's cost once a turn ended.
    pub fn usage(&self) -> Usage {
        let usage = self.usage.to_usage();
        match self.cost_usd {
            Some(cost) => usage.with_cost_usd(cost),
            None => usage,
        }
    }

    /// Starts the next turn: the user line to write.
    pub fn start_turn(&mut self, prompt: &str) -> String {
        self.turn += 1;
        self.refused = None;
        json!({"type": "user", "message": {"role": "user", "content": prompt}}).to_string()
    }

    /// The answer to a tool call once the tool ran.
    pub fn tool_reply(request_id: &str, mcp_id: &Value, success: bool, output: &Value) -> String {
        control_success(
            request_id,
            json!({"mcp_response": mcp::call_result(mcp_id, success, output)}),
        )
    }

    /// Handles one stdout line.
    pub fn handle_line(&mut self, line: &str, actions: &mut Vec<Action>) {
        let incoming = match protocol::parse(line) {
            Ok(incoming) => incoming,
            Err(e) => {
                actions.push(Action::Emit(AgentEventKind::Notification {
                    message: clip(&format!("malformed line from claude: {e}")),
                }));
                return;
            }
        };
        match incoming {
            Incoming::Init {
                session_id,
                version,
            } => {
                self.session_id = session_id;
                self.version = version.or(self.version.take());
                actions.push(activity("system/init"));
            }
            Incoming::System { subtype, payload } if subtype == "api_retry" => {
                actions.push(Action::Emit(AgentEventKind::Notification {
                    message: clip(&format!(
                        "model API retry {} of {} after {} ({})",
                        payload["attempt"],
                        payload["max_retries"],
                        payload["error_status"],
                        payload["error"].as_str().unwrap_or("error")
                    )),
                }));
            }
            Incoming::System { subtype, .. } => {
                actions.push(activity(&format!("system/{subtype}")))
            }
            Incoming::Assistant { text, tool_uses } => {
                if !text.trim().is_empty() {
                    actions.push(Action::Emit(AgentEventKind::Notification {
                        message: clip(text.trim()),
                    }));
                }
                for tool in tool_uses {
                    actions.push(activity(&format!("tool_use/{tool}")));
                }
            }
            Incoming::User { .. } => actions.push(activity("tool_result")),
            Incoming::Result(result) => self.ended(result, actions),
            Incoming::ControlRequest {
                request_id,
                request,
            } => self.control(&request_id, request, actions),
            Incoming::ControlResponse { .. } => actions.push(activity("control_response")),
            Incoming::Other { kind } => actions.push(activity(&kind)),
        }
    }

    fn control(&mut self, request_id: &str, request: ControlRequest, actions: &mut Vec<Action>) {
        match request {
            ControlRequest::CanUseTool {
                tool_name,
                input,
                blocked_path,
            } => {
                let decision = policy::decide(
                    &self.settings.posture,
                    &tool_name,
                    &input,
                    blocked_path.as_deref(),
                );
                let answer = match decision {
                    Decision::Allow => json!({"behavior": "allow", "updatedInput": input}),
                    Decision::Refuse { kind, message } => {
                        let turn = self.turn;
                        self.refused.get_or_insert(match kind {
                            Refusal::NeedsPerson => AgentError::TurnInputRequired {
                                turn,
                                message: message.clone(),
                            },
                            Refusal::Policy => AgentError::ApprovalRefused {
                                turn,
                                message: message.clone(),
                            },
                        });
                        // The turn stops here: the model does not carry on around a refusal.
                        json!({"behavior": "deny", "message": message, "interrupt": true})
                    }
                };
                actions.push(Action::Write(control_success(request_id, answer)));
            }
            ControlRequest::McpMessage {
                server_name,
                message,
            } if server_name == mcp::SERVER => match mcp::handle(&message, &self.settings.tools) {
                Handled::Reply(reply) => actions.push(Action::Write(control_success(
                    request_id,
                    json!({"mcp_response": reply}),
                ))),
                Handled::Call {
                    id,
                    name,
                    arguments,
                } => actions.push(Action::CallTool {
                    request_id: request_id.to_owned(),
                    mcp_id: id,
                    name,
                    arguments,
                }),
            },
            ControlRequest::McpMessage { server_name, .. } => actions.push(Action::Write(
                control_error(request_id, &format!("no MCP server {server_name:?} here")),
            )),
            ControlRequest::Other { subtype } => actions.push(Action::Write(control_error(
                request_id,
                &format!("Symphony does not answer {subtype:?} requests"),
            ))),
        }
    }

    fn ended(&mut self, result: TurnResult, actions: &mut Vec<Action>) {
        self.usage.add(&result.usage);
        if let Some(cost) = result.total_cost_usd {
            self.cost_usd = Some(cost);
        }
        if let Some(id) = &result.session_id {
            self.session_id.clone_from(id);
        }
        actions.push(Action::Emit(AgentEventKind::TokenUsage(self.usage())));
        let turn = self.turn;
        let outcome = if let Some(refused) = self.refused.take() {
            Err(refused)
        } else if !result.is_error {
            Ok(())
        } else if result.subtype == "error_max_turns"
            || result.terminal_reason.as_deref() == Some("max_turns")
        {
            Err(AgentError::MaxTurns { turn })
        } else if result.api_error_status.is_some()
            || result.terminal_reason.as_deref() == Some("api_error")
        {
            Err(AgentError::ModelApi {
                turn,
                status: result.api_error_status,
                message: clip(&result.text),
            })
        } else {
            Err(AgentError::TurnFailed {
                turn,
                status: result
                    .terminal_reason
                    .clone()
                    .unwrap_or_else(|| result.subtype.clone()),
                output: clip(&result.text),
            })
        };
        actions.push(Action::TurnEnded(outcome));
    }
}

fn activity(what: &str) -> Action {
    Action::Emit(AgentEventKind::Activity {
        what: what.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn conversation() -> Conversation {
        Conversation::new(
            Settings {
                posture: Posture {
                    workspace: PathBuf::from("/ws/A-1"),
                    allow_network: false,
                    read_only: false,
                },
                tools: vec![ToolDeclaration {
                    name: "local_issue_comment".into(),
                    description: "Comment".into(),
                    input_schema: json!({"type": "object"}),
                }],
            },
            "11111111-2222-4333-8444-555555555555",
        )
    }

    fn feed(c: &mut Conversation, line: Value) -> Vec<Action> {
        let mut actions = Vec::new();
        c.handle_line(&line.to_string(), &mut actions);
        actions
    }

    fn written(actions: &[Action]) -> Vec<Value> {
        actions
            .iter()
            .filter_map(|a| match a {
                Action::Write(line) => Some(serde_json::from_str(line).unwrap()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn a_turn_is_a_user_line_and_ends_at_its_result_with_the_session_totals() {
        let mut c = conversation();
        let line: Value = serde_json::from_str(&c.start_turn("Fix it")).unwrap();
        assert_eq!(
            line,
            json!({"type": "user", "message": {"role": "user", "content": "Fix it"}})
        );
        feed(
            &mut c,
            json!({"type": "system", "subtype": "init", "session_id": "s-1", "claude_code_version": "2.1.332"}),
        );
        assert_eq!((c.session_id(), c.version()), ("s-1", Some("2.1.332")));
        let said = feed(
            &mut c,
            json!({"type": "assistant", "message": {"content": [{"type": "text", "text": "Done."}]}}),
        );
        assert_eq!(
            said,
            vec![Action::Emit(AgentEventKind::Notification {
                message: "Done.".into()
            })]
        );
        let result = json!({"type": "result", "subtype": "success", "is_error": false, "session_id": "s-1",
            "total_cost_usd": 0.5, "usage": {"input_tokens": 10, "cache_read_input_tokens": 3,
            "cache_creation_input_tokens": 2, "output_tokens": 5}});
        let end = feed(&mut c, result.clone());
        assert_eq!(
            end,
            vec![
                Action::Emit(AgentEventKind::TokenUsage(
                    Usage::tokens(15, 5, 20).with_cache(3, 2).with_cost_usd(0.5)
                )),
                Action::TurnEnded(Ok(())),
            ]
        );
        c.start_turn("Again");
        let mut second = result;
        second["total_cost_usd"] = json!(0.9);
        let end = feed(&mut c, second);
        assert_eq!(
            end[0],
            Action::Emit(AgentEventKind::TokenUsage(
                Usage::tokens(30, 10, 40)
                    .with_cache(6, 4)
                    .with_cost_usd(0.9)
            )),
            "tokens summed over the turns; the CLI's cost is already cumulative"
        );
        assert_eq!(c.turn(), 2);
    }

    #[test]
    fn permissions_are_answered_by_posture_and_a_refusal_fails_the_turn() {
        let mut c = conversation();
        c.start_turn("go");
        let ask = |tool: &str, input: Value| {
            json!({"type": "control_request", "request_id": "r1",
            "request": {"subtype": "can_use_tool", "tool_name": tool, "input": input}})
        };
        let allowed = written(&feed(&mut c, ask("Write", json!({"file_path": "out.txt"}))));
        assert_eq!(allowed[0]["response"]["request_id"], "r1");
        assert_eq!(allowed[0]["response"]["response"]["behavior"], "allow");
        assert_eq!(
            allowed[0]["response"]["response"]["updatedInput"]["file_path"],
            "out.txt"
        );
        let denied = written(&feed(&mut c, ask("Write", json!({"file_path": "/etc/x"}))));
        assert_eq!(denied[0]["response"]["response"]["behavior"], "deny");
        assert_eq!(denied[0]["response"]["response"]["interrupt"], true);
        let end = feed(
            &mut c,
            json!({"type": "result", "subtype": "success", "is_error": false}),
        );
        let Some(Action::TurnEnded(Err(e))) = end.last() else {
            panic!("{end:?}")
        };
        assert_eq!(e.category(), "approval_refused");
        c.start_turn("ask me");
        feed(&mut c, ask("AskUserQuestion", json!({})));
        let end = feed(
            &mut c,
            json!({"type": "result", "subtype": "success", "is_error": false}),
        );
        let Some(Action::TurnEnded(Err(e))) = end.last() else {
            panic!("{end:?}")
        };
        assert_eq!(e.category(), "turn_input_required");
        c.start_turn("fine");
        let end = feed(
            &mut c,
            json!({"type": "result", "subtype": "success", "is_error": false}),
        );
        assert_eq!(
            end.last(),
            Some(&Action::TurnEnded(Ok(()))),
            "a refusal is the turn's, not the session's"
        );
    }

    #[test]
    fn tools_are_served_over_mcp_and_other_requests_refused() {
        let mut c = conversation();
        c.start_turn("go");
        let mcp = |message: Value| {
            json!({"type": "control_request", "request_id": "m1",
            "request": {"subtype": "mcp_message", "server_name": "symphony", "message": message}})
        };
        let list = written(&feed(
            &mut c,
            mcp(json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"})),
        ));
        assert_eq!(
            list[0]["response"]["response"]["mcp_response"]["result"]["tools"][0]["name"],
            "local_issue_comment"
        );
        let call = feed(
            &mut c,
            mcp(json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call",
            "params": {"name": "local_issue_comment", "arguments": {"body": "hi"}}})),
        );
        assert_eq!(
            call,
            vec![Action::CallTool {
                request_id: "m1".into(),
                mcp_id: json!(2),
                name: "local_issue_comment".into(),
                arguments: json!({"body": "hi"})
            }]
        );
        let reply: Value = serde_json::from_str(&Conversation::tool_reply(
            "m1",
            &json!(2),
            true,
            &json!({"ok": 1}),
        ))
        .unwrap();
        assert_eq!(reply["response"]["response"]["mcp_response"]["id"], 2);
        let other = written(&feed(
            &mut c,
            json!({"type": "control_request", "request_id": "x",
            "request": {"subtype": "hook_callback"}}),
        ));
        assert_eq!(other[0]["response"]["subtype"], "error");
        let elsewhere = written(&feed(
            &mut c,
            json!({"type": "control_request", "request_id": "y",
            "request": {"subtype": "mcp_message", "server_name": "evil", "message": {}}}),
        ));
        assert_eq!(elsewhere[0]["response"]["subtype"], "error");
    }

    #[test]
    fn failed_turns_say_why_from_the_fields_not_the_text() {
        let mut c = conversation();
        for (result, category) in [
            (
                json!({"type": "result", "subtype": "success", "is_error": true, "api_error_status": 529, "result": "API Error: 529"}),
                "model_api_error",
            ),
            (
                json!({"type": "result", "subtype": "error_max_turns", "is_error": true, "terminal_reason": "max_turns"}),
                "turn_max_turns",
            ),
            (
                json!({"type": "result", "subtype": "success", "is_error": true, "terminal_reason": "api_error", "result": "Request timed out"}),
                "model_api_error",
            ),
            (
                json!({"type": "result", "subtype": "error_during_execution", "is_error": true}),
                "turn_failed",
            ),
        ] {
            c.start_turn("go");
            let end = feed(&mut c, result);
            let Some(Action::TurnEnded(Err(e))) = end.last() else {
                panic!("{end:?}")
            };
            assert_eq!(e.category(), category, "{e}");
        }
        let garbage = {
            let mut a = Vec::new();
            c.handle_line("{oops", &mut a);
            a
        };
        assert!(
            matches!(&garbage[0], Action::Emit(AgentEventKind::Notification { message }) if message.contains("malformed"))
        );
    }
}
