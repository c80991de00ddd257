//! `cargo xtask bench gates`: the secrets gate's throughput on a generated 100 MB tree, and
//! in the same run the throughput of the secret scanners installed here (gitleaks,
//! kingfisher, ripsecrets; looked up on PATH), as ratios.
//!
//! Usage: bench_secrets [--mb N] [--threads N]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use symphony_gates::SecretsGate;

/// A deterministic generator (xorshift), so every run scans the same tree.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.next() % items.len() as u64) as usize]
    }
    fn chars(&mut self, alphabet: &[u8], n: usize) -> String {
        (0..n)
            .map(|_| alphabet[(self.next() % alphabet.len() as u64) as usize] as char)
            .collect()
    }
}

const WORDS: &[&str] = &[
    "let",
    "value",
    "config",
    "request",
    "handler",
    "user",
    "token_count",
    "map",
    "result",
    "buffer",
    "index",
    "session",
    "parse",
    "render",
    "client",
    "response",
    "items",
    "state",
    "keys",
    "secretary",
    "password_policy",
    "cache",
    "retry",
    "limit",
    "offset",
    "query",
];

/// Source-like text with the keywords scanners look for, and a real-shaped secret about
/// once per 2 MB.
fn generate(dir: &Path, megabytes: usize) -> usize {
    let mut rng = Rng(0x5eed_1234_abcd_ef01);
    let alnum = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let base32 = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let target = megabytes * 1024 * 1024;
    let mut written = 0;
    let mut file_index = 0;
    while written < target {
        let sub = dir.join(format!("pkg{:03}", file_index / 100));
        std::fs::create_dir_all(&sub).expect("mkdir");
        let mut text = String::with_capacity(52_000);
        while text.len() < 50_000 {
            let line = match rng.next() % 1000 {
                0..=599 => format!(
                    "    let {} = {}.{}({}, {});\n",
                    rng.pick(WORDS),
                    rng.pick(WORDS),
                    rng.pick(WORDS),
                    rng.pick(WORDS),
                    rng.next() % 10_000
                ),
                600..=849 => format!(
                    "    // {} {} {} the {} key\n",
                    rng.pick(WORDS),
                    rng.pick(WORDS),
                    rng.pick(WORDS),
                    rng.pick(WORDS)
                ),
                850..=979 => format!(
                    "    config.{} = \"{}\";\n",
                    rng.pick(WORDS),
                    rng.pick(WORDS)
                ),
                980..=998 => format!("    let token = fetch_token(\"{}\");\n", rng.pick(WORDS)),
                _ => {
                    if rng.next() % 40 == 0 {
                        format!(
                            "    const AWS_ID: &str = \"AKIA{}\";\n",
                            rng.chars(base32, 16)
                        )
                    } else {
                        format!("    let id = \"{}\";\n", rng.chars(alnum, 24))
                    }
                }
            };
            text.push_str(&line);
        }
        let path = sub.join(format!("file{file_index:05}.rs"));
        written += text.len();
        std::fs::write(path, text).expect("write");
        file_index += 1;
    }
    written
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("read_dir").flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

fn scan_tree(gate: &SecretsGate, paths: &[PathBuf], threads: usize) -> usize {
    let chunk = paths.len().div_ceil(threads).max(1);
    std::thread::scope(|scope| {
        let workers: Vec<_> = paths
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || {
                    part.iter()
                        .map(|p| {
                            let text = std::fs::read_to_string(p).unwrap_or_default();
                            gate.scan(&p.to_string_lossy(), &text, |i| i as u32 + 1)
                                .len()
                        })
                        .sum::<usize>()
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap_or(0)).sum()
    })
}

fn on_path(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join(name))
            .find(|p| p.is_file())
    })
}

/// Runs a scanner; its wall time in seconds, or why it could not run.
fn time_tool(program: &Path, args: &[String]) -> Result<f64, String> {
    let start = Instant::now();
    let output = Command::new(program)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| e.to_string())?;
    let seconds = start.elapsed().as_secs_f64();
    // Scanners exit non-zero when they find something; only a crash-like status is fatal.
    match output.status.code() {
        Some(0..=2) | Some(200) => Ok(seconds),
        other => Err(format!(
            "exit {other:?}: {}",
            String::from_utf8_lossy(&output.stderr)
                .lines()
                .last()
                .unwrap_or_default()
        )),
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let value = |flag: &str, default: usize| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let megabytes = value("--mb", 100);
    let threads = value(
        "--threads",
        std::thread::available_parallelism().map_or(2, |n| n.get()),
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let bytes = generate(dir.path(), megabytes);
    let paths = files(dir.path());
    let mb = bytes as f64 / (1024.0 * 1024.0);
    println!(
        "secrets scan of a generated tree: {mb:.1} MB in {} files, {threads} threads",
        paths.len()
    );

    let gate = SecretsGate::builtin();
    // Warm the page cache for everyone, then keep the best of three.
    scan_tree(&gate, &paths, threads);
    let mut best = f64::MAX;
    let mut findings = 0;
    for _ in 0..3 {
        let start = Instant::now();
        findings = scan_tree(&gate, &paths, threads);
        best = best.min(start.elapsed().as_secs_f64());
    }
    let ours = mb / best;
    println!(
        "{:<28} {:>10.1} MB/s   ({findings} findings)",
        "symphony secrets gate", ours
    );

    let root = dir.path().to_string_lossy().into_owned();
    let report = dir
        .path()
        .join("report.json")
        .to_string_lossy()
        .into_owned();
    let tools: Vec<(&str, Vec<String>)> = vec![
        (
            "gitleaks",
            vec![
                "dir".into(),
                root.clone(),
                "--no-banner".into(),
                "--exit-code".into(),
                "0".into(),
                "--report-path".into(),
                report.clone(),
            ],
        ),
        (
            "kingfisher",
            vec![
                "scan".into(),
                root.clone(),
                "--no-validate".into(),
                "--quiet".into(),
            ],
        ),
        ("ripsecrets", vec![root.clone()]),
    ];
    let mut fastest: Option<(&str, f64)> = None;
    for (name, tool_args) in &tools {
        let Some(program) = on_path(name) else {
            println!("{name:<28} not installed (cargo xtask bench gates installs what it can)");
            continue;
        };
        let mut best = f64::MAX;
        let mut failure = None;
        for _ in 0..3 {
            match time_tool(&program, tool_args) {
                Ok(seconds) => best = best.min(seconds),
                Err(e) => failure = Some(e),
            }
        }
        if best == f64::MAX {
            println!("{name:<28} failed: {}", failure.unwrap_or_default());
            continue;
        }
        let rate = mb / best;
        println!(
            "{name:<28} {rate:>10.1} MB/s   (ours is {:.2}x)",
            ours / rate
        );
        if fastest.is_none_or(|(_, r)| rate > r) {
            fastest = Some((name, rate));
        }
    }
    match fastest {
        Some((name, rate)) => println!(
            "target: at least as fast as the fastest scanner measured ({name}, {rate:.1} MB/s): {}",
            if ours >= rate { "met" } else { "NOT met" }
        ),
        None => println!("no other scanner ran; nothing to compare against"),
    }
}
