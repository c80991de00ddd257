//! Reading the app-server's items: typed fields by JSON pointer, and a one-line account of a
//! finished item for people.

use serde_json::Value;

pub(crate) fn str_at<'a>(value: &'a Value, pointer: &str) -> Option<&'a str> {
    value.pointer(pointer).and_then(Value::as_str)
}

pub(crate) fn u64_at(value: &Value, pointer: &str) -> u64 {
    value.pointer(pointer).and_then(Value::as_u64).unwrap_or(0)
}

/// A one-line account of a finished item worth showing people.
pub(crate) fn describe_item(item: &Value) -> Option<String> {
    match item.get("type").and_then(Value::as_str)? {
        "agentMessage" => str_at(item, "/text").map(str::to_owned),
        "commandExecution" => Some(format!(
            "ran {} ({}, exit {})",
            str_at(item, "/command").unwrap_or("?"),
            str_at(item, "/status").unwrap_or("?"),
            item.get("exitCode")
                .and_then(Value::as_i64)
                .map_or_else(|| "none".to_owned(), |c| c.to_string())
        )),
        "fileChange" => Some(format!(
            "changed {} file(s) ({})",
            item.get("changes")
                .and_then(Value::as_array)
                .map_or(0, Vec::len),
            str_at(item, "/status").unwrap_or("?")
        )),
        "dynamicToolCall" => Some(format!(
            "called tool {} ({})",
            str_at(item, "/tool").unwrap_or("?"),
            str_at(item, "/status").unwrap_or("?")
        )),
        _ => None,
    }
}
