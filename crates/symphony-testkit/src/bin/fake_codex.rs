//! A scripted stand-in for `codex app-server`, for the faults the real one cannot be made to
//! produce on demand. `symphony-fake-codex <mode>`; it answers the handshake like Codex 0.169
//! (unless the mode says otherwise), then misbehaves on `turn/start` as the mode says:
//!
//! - `silent-initialize`: never answers `initialize`;
//! - `refuse-thread`: answers `thread/start` with a JSON-RPC error;
//! - `silent-turn`: answers `turn/start`, then says nothing more;
//! - `garbage`: non-JSON, binary and half-JSON lines, then completes the turn;
//! - `huge-line`: a 20 MB line, then completes the turn;
//! - `crash`: writes to stderr and exits 3 mid-turn;
//! - `unknown-request`: asks something no client knows and completes the turn only once
//!   answered (exits 9 if not answered within 5 s);
//! - `user-input`: asks for user input, then waits;
//! - `env NAME`: reports whether the environment variable `NAME` is set, then completes;
//! - `complete`: a normal turn with token usage;
//! - `github-done <ms> <owner/repo>`: works `<ms>` milliseconds, then calls Symphony's
//!   `github_api` tool once to replace the labels of the issue its prompt names (`#<n>`) with
//!   `symphony:done`, and completes the turn when the call is answered (the dispatch bench's
//!   agent).

use std::io::{BufRead, Write};
use std::time::Duration;

use serde_json::{json, Value};

fn send(out: &mut impl Write, value: &Value) {
    let _ = writeln!(out, "{value}");
    let _ = out.flush();
}

fn complete_turn(out: &mut impl Write, turn: u64) {
    send(
        out,
        &json!({"method": "thread/tokenUsage/updated", "params": {"threadId": "thread-1",
        "turnId": format!("turn-{turn}"), "tokenUsage": {"total": {"inputTokens": 7 * turn,
        "outputTokens": 3 * turn, "totalTokens": 10 * turn, "cachedInputTokens": 0,
        "reasoningOutputTokens": 0}}}}),
    );
    send(
        out,
        &json!({"method": "turn/completed", "params": {"threadId": "thread-1",
        "turn": {"id": format!("turn-{turn}"), "status": "completed", "error": null}}}),
    );
}

fn main() {
    let mode = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "complete".to_owned());
    let stdin = std::io::stdin();
    let mut out = std::io::stdout().lock();
    let mut turn = 0u64;
    for line in stdin.lock().lines() {
        let Ok(line) = line else { return };
        let Ok(message) = serde_json::from_str::<Value>(&line) else {
            continue;
        };
        let id = message.get("id").cloned();
        match (message["method"].as_str(), id) {
            (Some("initialize"), Some(id)) => {
                if mode == "silent-initialize" {
                    continue;
                }
                send(
                    &mut out,
                    &json!({"id": id, "result": {"userAgent": "fake-codex/0.169.0"}}),
                );
            }
            (Some("thread/start"), Some(id)) if mode == "refuse-thread" => send(
                &mut out,
                &json!({"id": id, "error": {"code": -32600, "message": "Invalid request: sandbox mode not allowed"}}),
            ),
            (Some("thread/start"), Some(id)) => send(
                &mut out,
                &json!({"id": id, "result": {"thread": {"id": "thread-1"}}}),
            ),
            (Some("thread/name/set"), Some(id)) => send(&mut out, &json!({"id": id, "result": {}})),
            (Some("turn/start"), Some(id)) => {
                turn += 1;
                let prompt = message["params"]["input"][0]["text"]
                    .as_str()
                    .unwrap_or_default();
                send(
                    &mut out,
                    &json!({"id": id, "result": {"turn": {"id": format!("turn-{turn}"), "status": "inProgress"}}}),
                );
                send(
                    &mut out,
                    &json!({"method": "turn/started", "params": {"threadId": "thread-1",
                    "turn": {"id": format!("turn-{turn}")}}}),
                );
                on_turn(&mode, &mut out, turn, prompt);
            }
            (None, Some(id)) if id == json!(TOOL_CALL_ID) => complete_turn(&mut out, turn),
            (None, Some(id)) if id == json!(99) => {
                // The answer to our unknown request.
                let answered_with_error = message.get("error").is_some();
                send(
                    &mut out,
                    &json!({"method": "item/completed", "params": {"item": {
                    "type": "agentMessage", "text": format!("unknown request answered with an error: {answered_with_error}")}}}),
                );
                complete_turn(&mut out, turn);
            }
            _ => {}
        }
    }
}

/// The id of the `github-done` mode's tool call.
const TOOL_CALL_ID: u64 = 77;

/// The issue number a prompt names (`... #12 ...`).
fn issue_number(prompt: &str) -> Option<u64> {
    let at = prompt.find('#')?;
    let digits: String = prompt[at + 1..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

fn on_turn(mode: &str, out: &mut impl Write, turn: u64, prompt: &str) {
    match mode {
        "github-done" => {
            let arg = |n: usize| std::env::args().nth(n).unwrap_or_default();
            let work_ms: u64 = arg(2).parse().unwrap_or(200);
            let repo = arg(3);
            std::thread::sleep(Duration::from_millis(work_ms));
            let Some(number) = issue_number(prompt) else {
                eprintln!("fake codex: no issue number in the prompt");
                std::process::exit(4);
            };
            send(
                out,
                &json!({"id": TOOL_CALL_ID, "method": "item/tool/call", "params": {
                "threadId": "thread-1", "turnId": format!("turn-{turn}"), "callId": "call-1",
                "tool": "github_api", "arguments": {"method": "PUT",
                    "path": format!("/repos/{repo}/issues/{number}/labels"),
                    "body": {"labels": ["symphony:done"]}}}}),
            );
        }
        "silent-turn" | "user-input-silent" => {}
        "garbage" => {
            let _ = out.write_all(b"this is not json\n\xff\xfe\x00binary\n{\"half\": \n[1,2,3]\n{\"id\": \"strange\"}\n");
            let _ = out.flush();
            complete_turn(out, turn);
        }
        "huge-line" => {
            let huge = format!(
                "{{\"method\":\"item/completed\",\"params\":{{\"pad\":\"{}\"}}}}\n",
                "x".repeat(20 * 1024 * 1024)
            );
            let _ = out.write_all(huge.as_bytes());
            complete_turn(out, turn);
        }
        "crash" => {
            eprintln!("fake codex: simulated crash in the middle of turn {turn}");
            std::process::exit(3);
        }
        "unknown-request" => {
            send(
                out,
                &json!({"id": 99, "method": "something/nobody/knows", "params": {}}),
            );
            std::thread::spawn(|| {
                std::thread::sleep(Duration::from_secs(5));
                std::process::exit(9);
            });
        }
        "env" => {
            let name = std::env::args().nth(2).unwrap_or_default();
            let seen =
                std::env::var(&name).map_or_else(|_| "unset".to_owned(), |v| format!("set to {v}"));
            send(
                out,
                &json!({"method": "item/completed", "params": {"item": {
                "type": "agentMessage", "text": format!("{name} is {seen}")}}}),
            );
            complete_turn(out, turn);
        }
        "user-input" => send(
            out,
            &json!({"id": 5, "method": "item/tool/requestUserInput",
            "params": {"threadId": "thread-1", "turnId": format!("turn-{turn}"), "itemId": "call-1",
                "questions": [{"id": "confirm", "question": "Deploy to production?",
                    "options": [{"label": "Yes"}, {"label": "No"}]}]}}),
        ),
        _ => complete_turn(out, turn),
    }
}
