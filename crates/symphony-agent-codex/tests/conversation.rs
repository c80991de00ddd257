//! The protocol state machine against real app-server transcripts: the server's lines are
//! replayed, our requests are made at the points the recorded client made them, and what the
//! conversation answers and reports is checked.

use std::path::PathBuf;

use serde_json::{json, Value};
use symphony_agent::{AgentError, AgentEventKind, ToolDeclaration};
use symphony_agent_codex::{
    Action, ApprovalAnswer, Conversation, Purpose, Settings, UserInputAnswer,
};

fn transcript(name: &str) -> Vec<(String, Value)> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/transcripts")
        .join(format!("{name}.transcript.jsonl"));
    std::fs::read_to_string(&path)
        .unwrap()
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            (v["dir"].as_str().unwrap().to_owned(), v["msg"].clone())
        })
        .collect()
}

fn settings(approvals: ApprovalAnswer, user_input: UserInputAnswer, tools: &[&str]) -> Settings {
    Settings {
        workspace: PathBuf::from("/WORK_ROOT/workspace"),
        approvals,
        user_input,
        tools: tools
            .iter()
            .map(|name| ToolDeclaration {
                name: (*name).to_owned(),
                description: "test tool".into(),
                input_schema: json!({"type": "object"}),
            })
            .collect(),
    }
}

/// Everything the conversation did, and the replies it sent, over one transcript.
struct Replay {
    conversation: Conversation,
    actions: Vec<Action>,
}

fn replay(name: &str, settings: Settings) -> Replay {
    let mut conversation = Conversation::new(settings);
    let mut actions = Vec::new();
    for (dir, msg) in transcript(name) {
        if dir == "->" {
            match msg["method"].as_str() {
                Some("initialize") => {
                    conversation.initialize();
                }
                Some("thread/start") => {
                    conversation.thread_start(None, None);
                }
                Some("turn/start") => {
                    conversation.turn_start("prompt", None);
                }
                _ => {}
            }
            continue;
        }
        let before = actions.len();
        conversation.handle_line(&msg.to_string(), &mut actions);
        for action in &actions[before..] {
            match action {
                Action::Answered {
                    purpose: Purpose::ThreadStart,
                    outcome: Ok(result),
                } => {
                    conversation.thread_started(result).unwrap();
                }
                Action::Answered {
                    purpose: Purpose::TurnStart,
                    outcome: Ok(result),
                } => conversation.turn_started(result),
                _ => {}
            }
        }
    }
    Replay {
        conversation,
        actions,
    }
}

impl Replay {
    fn turn_ends(&self) -> Vec<&Result<(), AgentError>> {
        self.actions
            .iter()
            .filter_map(|a| match a {
                Action::TurnEnded(r) => Some(r),
                _ => None,
            })
            .collect()
    }

    fn sent(&self) -> Vec<Value> {
        self.actions
            .iter()
            .filter_map(|a| match a {
                Action::Send(line) => Some(serde_json::from_str(line).unwrap()),
                _ => None,
            })
            .collect()
    }

    fn tokens(&self) -> Vec<(u64, u64, u64)> {
        self.actions
            .iter()
            .filter_map(|a| match a {
                Action::Emit(AgentEventKind::TokenUsage(usage)) => {
                    assert_eq!(usage.cost_micros, None, "Codex prices nothing");
                    Some((usage.input_tokens, usage.output_tokens, usage.total_tokens))
                }
                _ => None,
            })
            .collect()
    }

    fn notes(&self) -> Vec<String> {
        self.actions
            .iter()
            .filter_map(|a| match a {
                Action::Emit(AgentEventKind::Notification { message }) => Some(message.clone()),
                _ => None,
            })
            .collect()
    }
}

#[test]
fn a_shell_turn_completes_with_thread_cumulative_token_totals() {
    let r = replay(
        "default",
        settings(ApprovalAnswer::Workspace, UserInputAnswer::Fail, &[]),
    );
    assert_eq!(r.turn_ends(), vec![&Ok(())]);
    assert_eq!(r.tokens(), vec![(10, 5, 15), (20, 10, 30)]);
    let session = r.conversation.session_id();
    let (thread, turn) = session.split_at(36);
    assert_eq!(thread, r.conversation.thread_id().unwrap());
    assert!(turn.starts_with('-') && turn.len() == 37, "{session}");
    assert!(r
        .notes()
        .iter()
        .any(|n| n.starts_with("ran /bin/bash -c 'echo hello > out.txt' (completed, exit 0)")));
    assert!(r.notes().iter().any(|n| n == "Done: created out.txt"));
    assert!(r.sent().is_empty(), "nothing to answer in a plain turn");
}

/// SPEC 8.5 counts every event against a stall: items starting, turns starting and status
/// changes in the real transcript are signs of life, not silence (they used to be dropped).
#[test]
fn every_notification_is_a_sign_of_life() {
    let r = replay(
        "default",
        settings(ApprovalAnswer::Workspace, UserInputAnswer::Fail, &[]),
    );
    let activity: Vec<&str> = r
        .actions
        .iter()
        .filter_map(|a| match a {
            Action::Emit(AgentEventKind::Activity { what }) => Some(what.as_str()),
            _ => None,
        })
        .collect();
    for method in ["turn/started", "item/started", "thread/status/changed"] {
        assert!(
            activity.contains(&method),
            "{method} missing from {activity:?}"
        );
    }
    // A streamed delta (not in this short transcript) is one too.
    let mut conversation = Conversation::new(settings(
        ApprovalAnswer::Workspace,
        UserInputAnswer::Fail,
        &[],
    ));
    let mut actions = Vec::new();
    conversation.handle_line(
        r#"{"method":"item/agentMessage/delta","params":{"delta":"wor"}}"#,
        &mut actions,
    );
    assert_eq!(
        actions,
        [Action::Emit(AgentEventKind::Activity {
            what: "item/agentMessage/delta".into()
        })]
    );
}

#[test]
fn continuation_turns_reuse_the_thread_and_get_new_session_ids() {
    let mut conversation = Conversation::new(settings(
        ApprovalAnswer::Workspace,
        UserInputAnswer::Fail,
        &[],
    ));
    let mut actions = Vec::new();
    let mut sessions = Vec::new();
    for (dir, msg) in transcript("multi_turn") {
        if dir == "->" {
            match msg["method"].as_str() {
                Some("initialize") => drop(conversation.initialize()),
                Some("thread/start") => drop(conversation.thread_start(None, None)),
                Some("turn/start") => {
                    let (_, line) = conversation.turn_start("again", None);
                    let sent: Value = serde_json::from_str(&line).unwrap();
                    if let Some(thread) = conversation.thread_id() {
                        assert_eq!(sent["params"]["threadId"], thread);
                    }
                }
                _ => {}
            }
            continue;
        }
        let before = actions.len();
        conversation.handle_line(&msg.to_string(), &mut actions);
        for action in actions[before..].iter().cloned() {
            match action {
                Action::Answered {
                    purpose: Purpose::ThreadStart,
                    outcome: Ok(result),
                } => drop(conversation.thread_started(&result)),
                Action::TurnEnded(result) => {
                    assert_eq!(result, Ok(()));
                    sessions.push(conversation.session_id());
                }
                _ => {}
            }
        }
    }
    assert_eq!(sessions.len(), 3, "three turns on one thread");
    let thread = conversation.thread_id().unwrap().to_owned();
    assert!(sessions.iter().all(|s| s.starts_with(&thread)));
    assert_ne!(sessions[0], sessions[1]);
    assert_ne!(sessions[1], sessions[2]);
}

#[test]
fn a_command_approval_inside_the_workspace_is_accepted() {
    let r = replay(
        "cmd_approval",
        settings(ApprovalAnswer::Workspace, UserInputAnswer::Fail, &[]),
    );
    assert_eq!(
        r.sent(),
        vec![json!({"id": 0, "result": {"decision": "accept"}})]
    );
    assert_eq!(r.turn_ends(), vec![&Ok(())]);
    assert!(r
        .notes()
        .iter()
        .any(|n| n.starts_with("approval_auto_approved")));
}

#[test]
fn a_refused_approval_is_answered_and_fails_the_attempt() {
    let r = replay(
        "cmd_approval",
        settings(ApprovalAnswer::Fail, UserInputAnswer::Fail, &[]),
    );
    assert_eq!(
        r.sent(),
        vec![json!({"id": 0, "result": {"decision": "cancel"}})]
    );
    let ends = r.turn_ends();
    assert!(
        matches!(ends[0], Err(e @ AgentError::ApprovalRefused { .. }) if e.category() == "approval_refused"),
        "{ends:?}"
    );
    // The later turn/completed of the abandoned turn does not end anything twice.
    assert_eq!(ends.len(), 1);
}

#[test]
fn high_trust_accepts_approvals_for_the_session() {
    let r = replay(
        "apply_patch_approval",
        settings(ApprovalAnswer::Accept, UserInputAnswer::Fail, &[]),
    );
    assert_eq!(
        r.sent(),
        vec![json!({"id": 0, "result": {"decision": "acceptForSession"}})]
    );
}

#[test]
fn user_input_fails_the_attempt_by_default_and_is_still_answered() {
    let r = replay(
        "user_input_plan",
        settings(ApprovalAnswer::Workspace, UserInputAnswer::Fail, &[]),
    );
    let sent = r.sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0]["id"], 0);
    assert!(sent[0]["error"]["message"]
        .as_str()
        .unwrap()
        .contains("unattended"));
    let ends = r.turn_ends();
    assert!(
        matches!(ends[0], Err(e @ AgentError::TurnInputRequired { .. }) if e.category() == "turn_input_required"),
        "{ends:?}"
    );
}

#[test]
fn user_input_can_be_answered_with_the_first_option() {
    let r = replay(
        "user_input_plan",
        settings(ApprovalAnswer::Workspace, UserInputAnswer::FirstOption, &[]),
    );
    // Exactly what the recorded client answered.
    assert_eq!(
        r.sent(),
        vec![
            json!({"id": 0, "result": {"answers": {"confirm": {"answers": ["Yes (Recommended)"]}}}})
        ]
    );
    assert_eq!(r.turn_ends(), vec![&Ok(())]);
}

#[test]
fn an_advertised_dynamic_tool_is_called_host_side() {
    let r = replay(
        "dynamic_tool",
        settings(
            ApprovalAnswer::Workspace,
            UserInputAnswer::Fail,
            &["lookup_ticket"],
        ),
    );
    let calls: Vec<_> = r
        .actions
        .iter()
        .filter_map(|a| match a {
            Action::CallTool {
                request_id,
                tool,
                arguments,
            } => Some((request_id.clone(), tool.clone(), arguments.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(
        calls,
        vec![(json!(0), "lookup_ticket".into(), json!({"id": "ABC-1"}))]
    );
    assert_eq!(
        serde_json::from_str::<Value>(&Conversation::tool_reply(
            &json!(0),
            true,
            &json!("dynamic tool ok")
        ))
        .unwrap(),
        json!({"id": 0, "result": {"success": true, "contentItems": [{"type": "inputText", "text": "dynamic tool ok"}]}})
    );
}

#[test]
fn an_unknown_tool_gets_a_structured_failure_and_the_turn_goes_on() {
    let r = replay(
        "dynamic_tool",
        settings(ApprovalAnswer::Workspace, UserInputAnswer::Fail, &[]),
    );
    let sent = r.sent();
    assert_eq!(sent[0]["result"]["success"], false);
    assert!(sent[0]["result"]["contentItems"][0]["text"]
        .as_str()
        .unwrap()
        .contains("unsupported tool"));
    assert!(r
        .notes()
        .iter()
        .any(|n| n == "unsupported_tool_call: lookup_ticket"));
    assert_eq!(r.turn_ends(), vec![&Ok(())]);
}

#[test]
fn an_unreachable_model_fails_the_turn_with_the_servers_error() {
    let r = replay(
        "mock_unreachable_failfast",
        settings(ApprovalAnswer::Workspace, UserInputAnswer::Fail, &[]),
    );
    match r.turn_ends()[..] {
        [Err(AgentError::TurnFailed { status, output, .. })] => {
            assert_eq!(status, "failed");
            assert!(output.contains("Connection failed"), "{output}");
        }
        ref other => panic!("{other:?}"),
    }
}

#[test]
fn cached_input_counts_are_reported_as_part_of_the_input() {
    let mut c = Conversation::new(settings(ApprovalAnswer::Accept, UserInputAnswer::Fail, &[]));
    let mut actions = Vec::new();
    c.handle_line(
        r#"{"method":"thread/tokenUsage/updated","params":{"tokenUsage":{"total":{"totalTokens":130,"inputTokens":100,"cachedInputTokens":60,"cacheWriteInputTokens":25,"outputTokens":30,"reasoningOutputTokens":4}}}}"#,
        &mut actions,
    );
    assert_eq!(
        actions,
        [Action::Emit(AgentEventKind::TokenUsage(
            symphony_core::Usage::tokens(100, 30, 130).with_cache(60, 25)
        ))]
    );
}

#[test]
fn other_server_requests_get_a_json_rpc_error() {
    let mut c = Conversation::new(settings(ApprovalAnswer::Accept, UserInputAnswer::Fail, &[]));
    let mut actions = Vec::new();
    c.handle_line(
        r#"{"id":7,"method":"mcpServer/elicitation/request","params":{}}"#,
        &mut actions,
    );
    match &actions[0] {
        Action::Send(line) => {
            let v: Value = serde_json::from_str(line).unwrap();
            assert_eq!(v["id"], 7);
            assert_eq!(v["error"]["code"], -32601);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn garbage_lines_are_reported_not_fatal() {
    let mut c = Conversation::new(settings(ApprovalAnswer::Accept, UserInputAnswer::Fail, &[]));
    let mut actions = Vec::new();
    for line in ["", "}{", "[1,2]", "\u{0}\u{1}", "{\"id\":\"x\"}"] {
        c.handle_line(line, &mut actions);
    }
    assert_eq!(actions.len(), 5);
    assert!(actions.iter().all(|a| matches!(a, Action::Emit(AgentEventKind::Notification { message }) if message.starts_with("malformed"))));
}
