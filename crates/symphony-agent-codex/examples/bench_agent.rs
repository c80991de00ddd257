//! Run by `cargo xtask bench agent` (release): the recorded app-server streams of
//! `tests/transcripts` (real Codex 0.169 output), repeated, pushed through the client's line
//! reader, parser and event mapping on one thread. Prints lines per second; target: at least
//! 200,000 lines/s on one core.

use std::path::PathBuf;
use std::time::Instant;

use serde_json::Value;
use symphony_agent::ToolDeclaration;
use symphony_agent_codex::{
    Action, ApprovalAnswer, Conversation, Line, LineReader, Purpose, Settings, UserInputAnswer,
};

/// One transcript: the server's lines, and where our requests went in between.
enum Step {
    Request(String),
    Line(String),
}

fn load() -> Vec<Vec<Step>> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/transcripts");
    let mut names: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("transcripts")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
        .collect();
    names.sort();
    names
        .iter()
        .map(|path| {
            std::fs::read_to_string(path)
                .expect("read")
                .lines()
                .filter_map(|l| {
                    let v: Value = serde_json::from_str(l).ok()?;
                    let msg = v["msg"].clone();
                    Some(if v["dir"] == "->" {
                        Step::Request(msg["method"].as_str().unwrap_or("").to_owned())
                    } else {
                        Step::Line(msg.to_string())
                    })
                })
                .collect()
        })
        .collect()
}

fn settings() -> Settings {
    Settings {
        workspace: PathBuf::from("/WORK_ROOT/workspace"),
        approvals: ApprovalAnswer::Workspace,
        user_input: UserInputAnswer::FirstOption,
        tools: vec![ToolDeclaration {
            name: "lookup_ticket".into(),
            description: "bench".into(),
            input_schema: serde_json::json!({"type": "object"}),
        }],
    }
}

fn main() {
    let transcripts = load();
    let per_round: usize = transcripts
        .iter()
        .flatten()
        .filter(|s| matches!(s, Step::Line(_)))
        .count();
    let rounds = (1_000_000 / per_round.max(1)).max(1);
    // The byte stream the reader sees, built before the clock starts.
    let mut stream = Vec::new();
    for _ in 0..rounds {
        for transcript in &transcripts {
            for step in transcript {
                if let Step::Line(line) = step {
                    stream.extend_from_slice(line.as_bytes());
                    stream.push(b'\n');
                }
            }
        }
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let started = Instant::now();
    let (lines, events) = runtime.block_on(async {
        let mut reader = LineReader::new(tokio::io::BufReader::new(&stream[..]));
        let mut lines = 0usize;
        let mut events = 0usize;
        let mut actions = Vec::new();
        for _ in 0..rounds {
            for transcript in &transcripts {
                let mut conversation = Conversation::new(settings());
                for step in transcript {
                    match step {
                        Step::Request(method) => match method.as_str() {
                            "initialize" => drop(conversation.initialize()),
                            "thread/start" => drop(conversation.thread_start(None, None)),
                            "turn/start" => drop(conversation.turn_start("bench", None)),
                            _ => {}
                        },
                        Step::Line(_) => {
                            let Ok(Some(Line::Text(line))) = reader.next().await else {
                                panic!("stream ended early");
                            };
                            lines += 1;
                            actions.clear();
                            conversation.handle_line(&line, &mut actions);
                            for action in &actions {
                                match action {
                                    Action::Answered {
                                        purpose: Purpose::ThreadStart,
                                        outcome: Ok(result),
                                    } => drop(conversation.thread_started(result)),
                                    Action::Answered {
                                        purpose: Purpose::TurnStart,
                                        outcome: Ok(result),
                                    } => conversation.turn_started(result),
                                    Action::Emit(_) | Action::TurnEnded(_) => events += 1,
                                    _ => {}
                                }
                            }
                        }
                    }
                }
            }
        }
        (lines, events)
    });
    let secs = started.elapsed().as_secs_f64();
    let rate = lines as f64 / secs;
    println!(
        "agent stream: {lines} recorded app-server lines ({:.1} MB, {} transcripts x {rounds}) \
         read, parsed and mapped in {secs:.2} s on one thread",
        stream.len() as f64 / 1e6,
        transcripts.len()
    );
    println!(
        "  {rate:.0} lines/s, {:.0} MB/s, {events} events and turn ends (target: >= 200000 lines/s: {})",
        stream.len() as f64 / 1e6 / secs,
        if rate >= 200_000.0 { "met" } else { "NOT met" }
    );
}
