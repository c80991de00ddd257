//! Symphony's tools as an in-process MCP server (`"type": "sdk"` in the CLI's MCP
//! configuration): the CLI tunnels JSON-RPC through `mcp_message` control requests, and the
//! host answers. Four methods are enough for tools: `initialize`, notifications (acknowledged),
//! `tools/list` and `tools/call`; anything else is JSON-RPC's "method not found". The protocol is
//! small and the CLI is its only client here, so it is written out rather than taken from an MCP
//! crate (ADR 0021 says why).

use serde_json::{json, Value};
use symphony_agent::ToolDeclaration;

/// The server's name in the CLI's configuration (its tools are `mcp__symphony__<name>`).
pub const SERVER: &str = "symphony";
/// The protocol version answered when the client names none.
const PROTOCOL_VERSION: &str = "2025-11-25";
/// The longest tool output sent back to the model; longer output is cut, with a note.
pub const MAX_TOOL_OUTPUT: usize = 256 * 1024;

/// What the server does with one message.
#[derive(Debug, Clone, PartialEq)]
pub enum Handled {
    /// Answer with this JSON-RPC message.
    Reply(Value),
    /// Run tool `name` host-side, then answer request `id` with [`call_result`].
    Call {
        /// The request's id.
        id: Value,
        /// The tool.
        name: String,
        /// Its arguments.
        arguments: Value,
    },
}

fn result(id: &Value, result: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "result": result})
}

fn error(id: &Value, code: i64, message: String) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message}})
}

/// Handles one JSON-RPC message sent to the server offering `tools`.
pub fn handle(message: &Value, tools: &[ToolDeclaration]) -> Handled {
    let id = message.get("id").cloned().unwrap_or(Value::Null);
    let method = message.get("method").and_then(Value::as_str).unwrap_or("");
    if id.is_null() {
        // A notification (`notifications/initialized`, ...): acknowledged, nothing to do.
        return Handled::Reply(json!({"jsonrpc": "2.0", "result": {}}));
    }
    match method {
        "initialize" => {
            let version = message["params"]["protocolVersion"]
                .as_str()
                .unwrap_or(PROTOCOL_VERSION);
            Handled::Reply(result(
                &id,
                json!({
                    "protocolVersion": version,
                    "capabilities": {"tools": {}},
                    "serverInfo": {"name": SERVER, "version": env!("CARGO_PKG_VERSION")},
                }),
            ))
        }
        "tools/list" => Handled::Reply(result(
            &id,
            json!({"tools": tools.iter().map(|t| json!({
                "name": t.name, "description": t.description, "inputSchema": t.input_schema,
            })).collect::<Vec<_>>()}),
        )),
        "tools/call" => {
            let name = message["params"]["name"].as_str().unwrap_or("");
            if !tools.iter().any(|t| t.name == name) {
                let known: Vec<&str> = tools.iter().map(|t| t.name.as_str()).collect();
                return Handled::Reply(result(
                    &id,
                    tool_content(
                        false,
                        &json!({"error": format!("unknown tool {name:?}; this session has: {}", known.join(", "))}),
                    ),
                ));
            }
            let arguments = message["params"]
                .get("arguments")
                .cloned()
                .unwrap_or_else(|| json!({}));
            Handled::Call {
                id,
                name: name.to_owned(),
                arguments,
            }
        }
        other => Handled::Reply(error(&id, -32601, format!("method not found: {other}"))),
    }
}

/// A tool's outcome as MCP content: its JSON output as text, cut to [`MAX_TOOL_OUTPUT`].
fn tool_content(success: bool, output: &Value) -> Value {
    let mut text = match output {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    };
    if text.len() > MAX_TOOL_OUTPUT {
        let mut end = MAX_TOOL_OUTPUT;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
        text.push_str("\n… (output cut by Symphony)");
    }
    json!({"content": [{"type": "text", "text": text}], "isError": !success})
}

/// The answer to `tools/call` request `id` once the tool ran.
pub fn call_result(id: &Value, success: bool, output: &Value) -> Value {
    result(id, tool_content(success, output))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tools() -> Vec<ToolDeclaration> {
        vec![ToolDeclaration {
            name: "local_issue_comment".into(),
            description: "Comment on the issue".into(),
            input_schema: json!({"type": "object"}),
        }]
    }

    #[test]
    fn the_handshake_the_list_and_a_call() {
        let init = json!({"jsonrpc": "2.0", "id": 0, "method": "initialize",
                          "params": {"protocolVersion": "2025-11-25"}});
        let Handled::Reply(reply) = handle(&init, &tools()) else {
            panic!("answered")
        };
        assert_eq!(reply["result"]["protocolVersion"], "2025-11-25");
        assert_eq!(reply["result"]["serverInfo"]["name"], "symphony");
        assert_eq!(
            handle(
                &json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
                &tools()
            ),
            Handled::Reply(json!({"jsonrpc": "2.0", "result": {}}))
        );
        let Handled::Reply(list) = handle(
            &json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}),
            &tools(),
        ) else {
            panic!("answered")
        };
        assert_eq!(list["result"]["tools"][0]["name"], "local_issue_comment");
        assert_eq!(list["result"]["tools"][0]["inputSchema"]["type"], "object");
        let call = json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call",
                          "params": {"name": "local_issue_comment", "arguments": {"body": "hi"}}});
        assert_eq!(
            handle(&call, &tools()),
            Handled::Call {
                id: json!(2),
                name: "local_issue_comment".into(),
                arguments: json!({"body": "hi"})
            }
        );
        let answer = call_result(&json!(2), true, &json!({"ok": true}));
        assert_eq!(answer["result"]["content"][0]["text"], "{\"ok\":true}");
        assert_eq!(answer["result"]["isError"], false);
    }

    #[test]
    fn unknown_tools_and_methods_get_structured_errors_and_output_is_bounded() {
        let call =
            json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"name": "rm_rf"}});
        let Handled::Reply(reply) = handle(&call, &tools()) else {
            panic!("answered without running anything")
        };
        assert_eq!(reply["result"]["isError"], true);
        assert!(reply["result"]["content"][0]["text"]
            .as_str()
            .unwrap()
            .contains("unknown tool \\\"rm_rf\\\""));
        let Handled::Reply(reply) = handle(
            &json!({"jsonrpc": "2.0", "id": 4, "method": "resources/list"}),
            &tools(),
        ) else {
            panic!("answered")
        };
        assert_eq!(reply["error"]["code"], -32601);
        let big = call_result(&json!(5), true, &Value::String("é".repeat(MAX_TOOL_OUTPUT)));
        let text = big["result"]["content"][0]["text"].as_str().unwrap();
        assert!(text.len() < MAX_TOOL_OUTPUT + 64 && text.ends_with("(output cut by Symphony)"));
    }
}
