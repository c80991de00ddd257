//! The wire: one JSON object per line, routed by shape (the app-server omits `"jsonrpc"`).
//! A message with `method` and `id` is a server request, `id` alone a response, `method`
//! alone a notification.

use serde_json::{Map, Value};

/// A JSON-RPC error object.
#[derive(Debug, Clone, PartialEq)]
pub struct RpcError {
    /// Error code.
    pub code: i64,
    /// Message.
    pub message: String,
}

/// One line from the app-server, by shape.
#[derive(Debug, Clone, PartialEq)]
pub enum Incoming {
    /// The answer to one of our requests.
    Response {
        /// Our request id.
        id: i64,
        /// Its result or error.
        outcome: Result<Value, RpcError>,
    },
    /// Something the server tells us.
    Notification {
        /// Method name.
        method: String,
        /// Parameters (`null` when absent).
        params: Value,
    },
    /// Something the server asks us; it must be answered.
    Request {
        /// Its id, echoed in the answer (any JSON value).
        id: Value,
        /// Method name.
        method: String,
        /// Parameters.
        params: Value,
    },
}

/// A line (or an answer) that is not the protocol message expected: what is wrong, and a
/// bounded preview of what came.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{problem}: {preview}")]
#[non_exhaustive]
pub struct Malformed {
    /// What is wrong with it.
    pub problem: String,
    /// The start of what came (at most a few hundred characters).
    pub preview: String,
}

impl Malformed {
    pub(crate) fn new(problem: impl Into<String>, text: &str) -> Self {
        Self {
            problem: problem.into(),
            preview: preview(text),
        }
    }
}

/// Reads one line. `Err` says why it is not a protocol message.
pub fn parse(line: &str) -> Result<Incoming, Malformed> {
    let value: Value =
        serde_json::from_str(line).map_err(|e| Malformed::new(format!("not JSON ({e})"), line))?;
    let Value::Object(mut map) = value else {
        return Err(Malformed::new("not a JSON object", line));
    };
    let method = match map.remove("method") {
        Some(Value::String(method)) => Some(method),
        None => None,
        Some(_) => return Err(Malformed::new("`method` is not a string", line)),
    };
    let params = map.remove("params").unwrap_or(Value::Null);
    match (method, map.remove("id")) {
        (Some(method), Some(id)) => Ok(Incoming::Request { id, method, params }),
        (Some(method), None) => Ok(Incoming::Notification { method, params }),
        (None, Some(id)) => {
            let id = id
                .as_i64()
                .ok_or_else(|| Malformed::new("response id is not an integer", line))?;
            Ok(Incoming::Response {
                id,
                outcome: outcome(&mut map),
            })
        }
        (None, None) => Err(Malformed::new("neither `method` nor `id`", line)),
    }
}

fn outcome(map: &mut Map<String, Value>) -> Result<Value, RpcError> {
    match map.remove("error") {
        Some(error) => Err(RpcError {
            code: error.get("code").and_then(Value::as_i64).unwrap_or(0),
            message: error
                .get("message")
                .and_then(Value::as_str)
                .map_or_else(|| error.to_string(), str::to_owned),
        }),
        None => Ok(map.remove("result").unwrap_or(Value::Null)),
    }
}

/// The start of a line, for error messages.
pub fn preview(line: &str) -> String {
    const MAX: usize = 200;
    if line.len() <= MAX {
        return line.to_owned();
    }
    let mut end = MAX;
    while !line.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… ({} bytes)", &line[..end], line.len())
}

/// A request line.
pub fn request(id: i64, method: &str, params: Value) -> String {
    serde_json::json!({"id": id, "method": method, "params": params}).to_string()
}

/// A notification line.
pub fn notification(method: &str) -> String {
    serde_json::json!({ "method": method }).to_string()
}

/// The answer to a server request.
pub fn reply(id: &Value, result: Value) -> String {
    serde_json::json!({"id": id, "result": result}).to_string()
}

/// An error answer to a server request.
pub fn reply_error(id: &Value, code: i64, message: &str) -> String {
    serde_json::json!({"id": id, "error": {"code": code, "message": message}}).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_routed_by_shape() {
        assert_eq!(
            parse(r#"{"id":1,"result":{"ok":true}}"#),
            Ok(Incoming::Response {
                id: 1,
                outcome: Ok(serde_json::json!({"ok": true}))
            })
        );
        assert_eq!(
            parse(r#"{"error":{"code":-32600,"message":"Not initialized"},"id":1}"#),
            Ok(Incoming::Response {
                id: 1,
                outcome: Err(RpcError {
                    code: -32600,
                    message: "Not initialized".into()
                })
            })
        );
        assert!(matches!(
            parse(r#"{"method":"item/tool/call","id":0,"params":{}}"#),
            Ok(Incoming::Request { method, .. }) if method == "item/tool/call"
        ));
        assert!(matches!(
            parse(r#"{"method":"turn/started","params":{}}"#),
            Ok(Incoming::Notification { .. })
        ));
        for garbage in [
            "",
            "[1]",
            "{\"x\":1}",
            "{\"id\":\"a\"}",
            "not json",
            "{\"method\":3}",
        ] {
            assert!(parse(garbage).is_err(), "{garbage}");
        }
    }
}
