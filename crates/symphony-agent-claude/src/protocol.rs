//! What Claude Code writes on stdout in stream-json mode (2.1.332), read into types: one JSON
//! object per line, dispatched on `type` (and `subtype` for `system`). Fields the backend does
//! not act on are left in the line; anything unknown is [`Incoming::Other`], never an error,
//! because new CLI versions add message types often. A line that is not a JSON object is
//! [`Malformed`].

use std::borrow::Cow;

use serde::Deserialize;
use serde_json::Value;

/// A line that is not a JSON object.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a JSON object: {preview}")]
pub struct Malformed {
    /// The start of the line.
    pub preview: String,
}

/// Token counts of a turn, as the `result` line reports them (summed over the turn's requests).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TurnUsage {
    /// Input tokens not read from or written to the cache.
    pub input: u64,
    /// Input tokens written to the cache.
    pub cache_creation: u64,
    /// Input tokens read from the cache.
    pub cache_read: u64,
    /// Output tokens.
    pub output: u64,
}

impl TurnUsage {
    fn from_json(usage: &Value) -> Self {
        let n = |key: &str| usage.get(key).and_then(Value::as_u64).unwrap_or(0);
        Self {
            input: n("input_tokens"),
            cache_creation: n("cache_creation_input_tokens"),
            cache_read: n("cache_read_input_tokens"),
            output: n("output_tokens"),
        }
    }

    /// Every input token, cached or not.
    pub fn all_input(&self) -> u64 {
        self.input + self.cache_creation + self.cache_read
    }

    /// Adds `other`.
    pub fn add(&mut self, other: &TurnUsage) {
        self.input += other.input;
        self.cache_creation += other.cache_creation;
        self.cache_read += other.cache_read;
        self.output += other.output;
    }

    /// In Symphony's terms: every input token counted as input, the cache's share noted.
    pub fn to_usage(&self) -> symphony_core::Usage {
        let input = self.all_input();
        symphony_core::Usage::tokens(input, self.output, input + self.output)
            .with_cache(self.cache_read, self.cache_creation)
    }
}

/// The end of a turn: the `result` line.
#[derive(Debug, Clone, PartialEq)]
pub struct TurnResult {
    /// Whether the turn failed. API errors keep `subtype: "success"`, so this is what tells.
    pub is_error: bool,
    /// `success`, `error_max_turns`, ...
    pub subtype: String,
    /// Why it ended (`completed`, `api_error`, `max_turns`, ...), when said.
    pub terminal_reason: Option<String>,
    /// The HTTP status of a failed API request, when that is why.
    pub api_error_status: Option<u16>,
    /// The final text (or the error's text).
    pub text: String,
    /// The session.
    pub session_id: Option<String>,
    /// Model round trips in the turn.
    pub num_turns: u64,
    /// The session's cost so far in US dollars, as the CLI prices it (cumulative).
    pub total_cost_usd: Option<f64>,
    /// The turn's token counts.
    pub usage: TurnUsage,
}

/// A request the CLI makes of its host over the control channel.
#[derive(Debug, Clone, PartialEq)]
pub enum ControlRequest {
    /// May the model use `tool_name` with `input`?
    CanUseTool {
        /// The tool.
        tool_name: String,
        /// Its input.
        input: Value,
        /// The path outside the allowed directories that made the CLI ask, when one did.
        blocked_path: Option<String>,
    },
    /// A JSON-RPC message for the in-process MCP server `server_name`.
    McpMessage {
        /// Which server.
        server_name: String,
        /// The JSON-RPC message.
        message: Value,
    },
    /// Anything else (`subtype` says what).
    Other {
        /// The request's subtype.
        subtype: String,
    },
}

/// One line of the CLI's output.
#[derive(Debug, Clone, PartialEq)]
pub enum Incoming {
    /// `system/init`: the session is ready (sent at the start of every turn).
    Init {
        /// The session id.
        session_id: String,
        /// The CLI's version.
        version: Option<String>,
    },
    /// Another `system` message (`api_retry`, `permission_denied`, `status`, ...).
    System {
        /// Which.
        subtype: String,
        /// The whole line.
        payload: Value,
    },
    /// A message of the model: its text blocks joined, and the tools it calls.
    Assistant {
        /// Text blocks.
        text: String,
        /// Names of the tools called.
        tool_uses: Vec<String>,
    },
    /// Tool results going back to the model.
    User {
        /// How many of them are errors.
        errors: usize,
    },
    /// The turn's end.
    Result(TurnResult),
    /// A request of the host, to answer with a control response.
    ControlRequest {
        /// Its id, echoed in the answer.
        request_id: String,
        /// What it asks.
        request: ControlRequest,
    },
    /// The CLI's answer to a request of the host.
    ControlResponse {
        /// The whole line.
        payload: Value,
    },
    /// A message type this build does not act on.
    Other {
        /// Its `type`.
        kind: String,
    },
}

fn text(value: &Value, key: &str) -> Option<String> {
    value.get(key).and_then(Value::as_str).map(str::to_owned)
}

/// Every field the backend acts on, of every line type it reads often, in one view: a line is
/// scanned once, the fields of other types are simply absent, and nothing else in the line is
/// built. A line whose fields have another shape than expected (a `message` that is a string,
/// say) does not fit the view and is read whole instead.
#[derive(Deserialize)]
struct View<'a> {
    #[serde(rename = "type", borrow, default)]
    kind: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    subtype: Option<Cow<'a, str>>,
    /// `assistant`, `user`.
    #[serde(default)]
    message: Option<SaidMessage>,
    /// `system/init`, `result`.
    #[serde(default)]
    session_id: Option<String>,
    /// `system/init`.
    #[serde(default)]
    claude_code_version: Option<String>,
    /// `control_request`.
    #[serde(default)]
    request_id: Option<String>,
    /// `control_request`.
    #[serde(default)]
    request: Option<RequestView>,
    /// `result`.
    #[serde(default)]
    is_error: Option<bool>,
    #[serde(default)]
    terminal_reason: Option<String>,
    #[serde(default)]
    api_error_status: Option<u64>,
    #[serde(default)]
    result: Option<String>,
    #[serde(default)]
    num_turns: Option<u64>,
    #[serde(default)]
    total_cost_usd: Option<f64>,
    #[serde(default)]
    usage: Option<UsageLine>,
}

/// A control request's fields.
#[derive(Deserialize)]
struct RequestView {
    #[serde(default)]
    subtype: Option<String>,
    #[serde(default)]
    tool_name: Option<String>,
    #[serde(default)]
    input: Option<Value>,
    #[serde(default)]
    blocked_path: Option<String>,
    #[serde(default)]
    server_name: Option<String>,
    #[serde(default)]
    message: Option<Value>,
}

#[derive(Deserialize)]
struct SaidMessage {
    #[serde(default)]
    content: Vec<Block>,
}

#[derive(Deserialize)]
struct Block {
    #[serde(rename = "type", default)]
    kind: String,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    is_error: Option<bool>,
}

#[derive(Deserialize, Default)]
struct UsageLine {
    #[serde(default)]
    input_tokens: u64,
    #[serde(default)]
    cache_creation_input_tokens: u64,
    #[serde(default)]
    cache_read_input_tokens: u64,
    #[serde(default)]
    output_tokens: u64,
}

impl View<'_> {
    /// What the line is, when it is one of the types read often and has their shape.
    fn into_incoming(self) -> Option<Incoming> {
        Some(match (self.kind.as_deref()?, self.subtype.as_deref()) {
            ("assistant", _) => {
                let mut text = Vec::new();
                let mut tool_uses = Vec::new();
                for block in self.message?.content {
                    match block.kind.as_str() {
                        "text" => text.extend(block.text),
                        "tool_use" => tool_uses.extend(block.name),
                        _ => {}
                    }
                }
                Incoming::Assistant {
                    text: text.join("\n"),
                    tool_uses,
                }
            }
            ("user", _) => Incoming::User {
                errors: self
                    .message?
                    .content
                    .iter()
                    .filter(|b| b.is_error == Some(true))
                    .count(),
            },
            ("result", subtype) => {
                let usage = self.usage.unwrap_or_default();
                Incoming::Result(TurnResult {
                    // A result that does not say it succeeded did not.
                    is_error: self.is_error.unwrap_or(true),
                    subtype: subtype.unwrap_or_default().to_owned(),
                    terminal_reason: self.terminal_reason,
                    api_error_status: self.api_error_status.and_then(|s| u16::try_from(s).ok()),
                    text: self.result.unwrap_or_default(),
                    session_id: self.session_id,
                    num_turns: self.num_turns.unwrap_or(0),
                    total_cost_usd: self.total_cost_usd,
                    usage: TurnUsage {
                        input: usage.input_tokens,
                        cache_creation: usage.cache_creation_input_tokens,
                        cache_read: usage.cache_read_input_tokens,
                        output: usage.output_tokens,
                    },
                })
            }
            ("system", Some("init")) => Incoming::Init {
                session_id: self.session_id?,
                version: self.claude_code_version,
            },
            ("control_request", _) => {
                let request = self.request?;
                let subtype = request.subtype.unwrap_or_default();
                let request = match subtype.as_str() {
                    "can_use_tool" => ControlRequest::CanUseTool {
                        tool_name: request.tool_name.unwrap_or_default(),
                        input: request.input.unwrap_or(Value::Null),
                        blocked_path: request.blocked_path,
                    },
                    "mcp_message" => ControlRequest::McpMessage {
                        server_name: request.server_name.unwrap_or_default(),
                        message: request.message.unwrap_or(Value::Null),
                    },
                    _ => ControlRequest::Other { subtype },
                };
                Incoming::ControlRequest {
                    request_id: self.request_id.unwrap_or_default(),
                    request,
                }
            }
            // The rest are rare, and some carry their whole line: read whole.
            _ => return None,
        })
    }
}

/// Reads one stdout line. The common lines (model messages, tool results, turn starts and
/// ends, control requests) are read in one pass into a typed view, skipping the rest of the
/// line without building it; the rare ones, and any line whose shape is not the expected one,
/// are read whole.
pub fn parse(line: &str) -> Result<Incoming, Malformed> {
    let fast = serde_json::from_str::<View<'_>>(line)
        .ok()
        .and_then(View::into_incoming);
    match fast {
        Some(incoming) => Ok(incoming),
        None => parse_whole(line).ok_or_else(|| Malformed {
            preview: line.chars().take(120).collect(),
        }),
    }
}

/// Reads a line into a JSON value, then into what it is.
fn parse_whole(line: &str) -> Option<Incoming> {
    let value: Value = serde_json::from_str(line).ok()?;
    if !value.is_object() {
        return None;
    }
    let kind = text(&value, "type").unwrap_or_default();
    Some(match kind.as_str() {
        "system" => {
            let subtype = text(&value, "subtype").unwrap_or_default();
            match (subtype.as_str(), text(&value, "session_id")) {
                ("init", Some(session_id)) => Incoming::Init {
                    session_id,
                    version: text(&value, "claude_code_version"),
                },
                _ => Incoming::System {
                    subtype,
                    payload: value,
                },
            }
        }
        "assistant" => {
            let blocks = value["message"]["content"].as_array().cloned();
            let blocks = blocks.unwrap_or_default();
            let mut said = Vec::new();
            let mut tool_uses = Vec::new();
            for block in &blocks {
                match block["type"].as_str() {
                    Some("text") => said.extend(text(block, "text")),
                    Some("tool_use") => tool_uses.extend(text(block, "name")),
                    _ => {}
                }
            }
            Incoming::Assistant {
                text: said.join("\n"),
                tool_uses,
            }
        }
        "user" => Incoming::User {
            errors: value["message"]["content"].as_array().map_or(0, |blocks| {
                blocks
                    .iter()
                    .filter(|b| b["is_error"].as_bool() == Some(true))
                    .count()
            }),
        },
        "result" => Incoming::Result(TurnResult {
            is_error: value["is_error"].as_bool().unwrap_or(true),
            subtype: text(&value, "subtype").unwrap_or_default(),
            terminal_reason: text(&value, "terminal_reason"),
            api_error_status: value["api_error_status"]
                .as_u64()
                .and_then(|s| u16::try_from(s).ok()),
            text: text(&value, "result").unwrap_or_default(),
            session_id: text(&value, "session_id"),
            num_turns: value["num_turns"].as_u64().unwrap_or(0),
            total_cost_usd: value["total_cost_usd"].as_f64(),
            usage: TurnUsage::from_json(&value["usage"]),
        }),
        "control_request" => {
            let request = &value["request"];
            let subtype = text(request, "subtype").unwrap_or_default();
            let request = match subtype.as_str() {
                "can_use_tool" => ControlRequest::CanUseTool {
                    tool_name: text(request, "tool_name").unwrap_or_default(),
                    input: request["input"].clone(),
                    blocked_path: text(request, "blocked_path"),
                },
                "mcp_message" => ControlRequest::McpMessage {
                    server_name: text(request, "server_name").unwrap_or_default(),
                    message: request["message"].clone(),
                },
                _ => ControlRequest::Other { subtype },
            };
            Incoming::ControlRequest {
                request_id: text(&value, "request_id").unwrap_or_default(),
                request,
            }
        }
        "control_response" => Incoming::ControlResponse { payload: value },
        _ => Incoming::Other { kind },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lines_of_a_real_turn_read_as_what_they_are() {
        // Abridged from the offline recipe's transcript of 2.1.332.
        let init = r#"{"type":"system","subtype":"init","cwd":"/w","session_id":"9bdd","tools":["Bash"],"claude_code_version":"2.1.332"}"#;
        assert_eq!(
            parse(init).unwrap(),
            Incoming::Init {
                session_id: "9bdd".into(),
                version: Some("2.1.332".into())
            }
        );
        let assistant = r#"{"type":"assistant","message":{"content":[{"type":"tool_use","id":"t1","name":"Bash","input":{"command":"ls"}},{"type":"text","text":"Listing."}]}}"#;
        assert_eq!(
            parse(assistant).unwrap(),
            Incoming::Assistant {
                text: "Listing.".into(),
                tool_uses: vec!["Bash".into()]
            }
        );
        let user = r#"{"type":"user","message":{"role":"user","content":[{"tool_use_id":"t1","type":"tool_result","content":"denied","is_error":true}]}}"#;
        assert_eq!(parse(user).unwrap(), Incoming::User { errors: 1 });
        let result = r#"{"type":"result","subtype":"success","is_error":false,"terminal_reason":"completed","api_error_status":null,"result":"Done","session_id":"9bdd","num_turns":2,"total_cost_usd":0.00028,"usage":{"input_tokens":20,"output_tokens":10,"cache_creation_input_tokens":4,"cache_read_input_tokens":6}}"#;
        let Incoming::Result(result) = parse(result).unwrap() else {
            panic!("a result");
        };
        assert!(!result.is_error);
        assert_eq!(result.num_turns, 2);
        assert_eq!(result.total_cost_usd, Some(0.00028));
        assert_eq!(
            result.usage,
            TurnUsage {
                input: 20,
                cache_creation: 4,
                cache_read: 6,
                output: 10
            }
        );
        assert_eq!(result.usage.all_input(), 30);
        let failed = r#"{"type":"result","subtype":"success","is_error":true,"terminal_reason":"api_error","api_error_status":529,"result":"API Error: 529"}"#;
        let Incoming::Result(failed) = parse(failed).unwrap() else {
            panic!("a result");
        };
        assert!(failed.is_error && failed.api_error_status == Some(529));
    }

    #[test]
    fn control_requests_and_the_unknown() {
        let ask = r#"{"type":"control_request","request_id":"r1","request":{"subtype":"can_use_tool","tool_name":"Bash","input":{"command":"echo > /etc/x"},"blocked_path":"/etc/x"}}"#;
        assert_eq!(
            parse(ask).unwrap(),
            Incoming::ControlRequest {
                request_id: "r1".into(),
                request: ControlRequest::CanUseTool {
                    tool_name: "Bash".into(),
                    input: serde_json::json!({"command": "echo > /etc/x"}),
                    blocked_path: Some("/etc/x".into()),
                }
            }
        );
        let mcp = r#"{"type":"control_request","request_id":"r2","request":{"subtype":"mcp_message","server_name":"symphony","message":{"jsonrpc":"2.0","id":1,"method":"tools/list"}}}"#;
        assert!(matches!(
            parse(mcp).unwrap(),
            Incoming::ControlRequest { request: ControlRequest::McpMessage { ref server_name, .. }, .. } if server_name == "symphony"
        ));
        assert_eq!(
            parse(r#"{"type":"stream_event","event":{}}"#).unwrap(),
            Incoming::Other {
                kind: "stream_event".into()
            }
        );
        assert!(parse("{not json").is_err());
        assert!(parse("[1]").is_err());
        let result_without_flag = r#"{"type":"result","subtype":"success"}"#;
        assert!(
            matches!(parse(result_without_flag).unwrap(), Incoming::Result(r) if r.is_error),
            "a result that does not say it succeeded did not"
        );
    }

    #[test]
    fn a_known_type_in_an_unexpected_shape_is_read_whole_not_refused() {
        assert_eq!(
            parse(r#"{"type":"assistant","message":"a string, not a message"}"#).unwrap(),
            Incoming::Assistant {
                text: String::new(),
                tool_uses: Vec::new()
            }
        );
        let denied = r#"{"type":"system","subtype":"permission_denied","tool_name":"Bash","message":"needs approval"}"#;
        assert!(matches!(
            parse(denied).unwrap(),
            Incoming::System { ref subtype, ref payload } if subtype == "permission_denied" && payload["message"] == "needs approval"
        ));
        assert!(
            matches!(
                parse(r#"{"type":"system","subtype":"init"}"#).unwrap(),
                Incoming::System { .. }
            ),
            "an init without a session is not a session start"
        );
    }

    #[test]
    fn the_one_pass_view_reads_every_recorded_line_as_the_whole_reading_does() {
        let recorded = [
            include_str!("../tests/transcripts/shell_and_edit_two_turns.jsonl"),
            include_str!("../tests/transcripts/tracker_tools_over_mcp.jsonl"),
        ];
        let mut fast = 0;
        for line in recorded.iter().flat_map(|t| t.lines()) {
            let view = serde_json::from_str::<View<'_>>(line)
                .ok()
                .and_then(View::into_incoming);
            if let Some(view) = view {
                fast += 1;
                assert_eq!(Some(view), parse_whole(line), "{line}");
            }
        }
        assert_eq!(fast, 30, "every recorded line takes the one-pass path");
    }

    proptest::proptest! {
        #[test]
        fn no_line_panics(line in ".{0,300}") {
            let _ = parse(&line);
        }
    }
}
