//! Run by `cargo xtask bench agent` (release), beside the Codex figure: the recorded
//! stream-json output of the real Claude Code CLI (`tests/transcripts`, written by the
//! `record_transcripts` example), repeated, pushed through the backend's line reader, parser
//! and conversation (events, permission answers, MCP replies) on one thread. Prints lines per
//! second; target: at least 200,000 lines/s on one core.

use std::path::PathBuf;
use std::time::Instant;

use symphony_agent::lines::{Line, LineReader};
use symphony_agent::ToolDeclaration;
use symphony_agent_claude::policy::Posture;
use symphony_agent_claude::{Action, Conversation, Settings};

fn load() -> Vec<Vec<String>> {
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
                .map(str::to_owned)
                .collect()
        })
        .collect()
}

fn settings() -> Settings {
    Settings {
        posture: Posture {
            workspace: PathBuf::from("/WORK_ROOT/REC-1"),
            allow_network: false,
            read_only: false,
        },
        tools: ["local_issue_comment", "local_issue_set_state"]
            .map(|name| ToolDeclaration {
                name: name.to_owned(),
                description: "bench".to_owned(),
                input_schema: serde_json::json!({"type": "object"}),
            })
            .to_vec(),
    }
}

fn main() {
    let transcripts = load();
    let per_round: usize = transcripts.iter().map(Vec::len).sum();
    let rounds = (1_000_000 / per_round.max(1)).max(1);
    let mut stream = Vec::new();
    for _ in 0..rounds {
        for transcript in &transcripts {
            for line in transcript {
                stream.extend_from_slice(line.as_bytes());
                stream.push(b'\n');
            }
        }
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let started = Instant::now();
    let (lines, actions_seen) = runtime.block_on(async {
        let mut reader = LineReader::new(tokio::io::BufReader::new(&stream[..]));
        let (mut lines, mut seen) = (0usize, 0usize);
        let mut actions = Vec::new();
        for _ in 0..rounds {
            for transcript in &transcripts {
                let mut conversation = Conversation::new(settings(), "bench");
                conversation.start_turn("bench");
                for _ in transcript {
                    let Ok(Some(Line::Text(line))) = reader.next().await else {
                        panic!("stream ended early");
                    };
                    lines += 1;
                    actions.clear();
                    conversation.handle_line(&line, &mut actions);
                    for action in &actions {
                        seen += 1;
                        if matches!(action, Action::TurnEnded(_)) {
                            conversation.start_turn("bench");
                        }
                    }
                }
            }
        }
        (lines, seen)
    });
    let elapsed = started.elapsed();
    let rate = lines as f64 / elapsed.as_secs_f64();
    println!(
        "claude stream-json: {lines} lines ({} transcripts x {rounds}), {actions_seen} actions, \
         {:.0} ms: {:.0} lines/s on one thread (target >= 200000)",
        transcripts.len(),
        elapsed.as_secs_f64() * 1000.0,
        rate
    );
}
