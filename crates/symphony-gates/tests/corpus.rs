//! The built-in secret rules against the labelled corpus: recall 1.0 on the positives, no
//! finding on the negatives, and no finding ever carries its secret.

use std::collections::BTreeSet;
use std::path::Path;

use symphony_gates::SecretsGate;

struct Case {
    name: String,
    text: String,
    expected: BTreeSet<String>,
}

fn cases(folder: &str) -> Vec<Case> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/corpus")
        .join(folder);
    let mut cases: Vec<Case> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .map(|path| {
            let text = std::fs::read_to_string(&path).unwrap();
            let first = text.lines().next().unwrap_or_default();
            let label = first
                .strip_prefix("# expect: ")
                .unwrap_or_else(|| panic!("{} does not state its expectation", path.display()));
            let expected = if label == "none" {
                BTreeSet::new()
            } else {
                label.split(',').map(|r| r.trim().to_owned()).collect()
            };
            Case {
                name: path.file_name().unwrap().to_string_lossy().into_owned(),
                text,
                expected,
            }
        })
        .collect();
    cases.sort_by(|a, b| a.name.cmp(&b.name));
    cases
}

fn found(gate: &SecretsGate, case: &Case) -> BTreeSet<String> {
    gate.scan(&case.name, &case.text, |i| i as u32 + 1)
        .into_iter()
        .map(|f| f.rule)
        .collect()
}

#[test]
fn every_documented_format_is_found() {
    let gate = SecretsGate::builtin();
    let positives = cases("positive");
    let mut missed = Vec::new();
    let mut covered = BTreeSet::new();
    for case in &positives {
        let got = found(&gate, case);
        covered.extend(case.expected.iter().cloned());
        if !case.expected.is_subset(&got) || got.len() != case.expected.len() {
            missed.push(format!(
                "{}: expected {:?}, found {got:?}",
                case.name, case.expected
            ));
        }
    }
    let recall = 1.0 - missed.len() as f64 / positives.len() as f64;
    assert!(
        missed.is_empty(),
        "recall {recall:.2}:\n{}",
        missed.join("\n")
    );
    let rules: BTreeSet<String> = gate.rules().rules().iter().map(|r| r.id.clone()).collect();
    assert_eq!(covered, rules, "every built-in rule has a positive case");
}

#[test]
fn nothing_is_found_in_the_negatives() {
    let gate = SecretsGate::builtin();
    let noisy: Vec<String> = cases("negative")
        .iter()
        .filter_map(|case| {
            let got = found(&gate, case);
            (!got.is_empty()).then(|| format!("{}: {got:?}", case.name))
        })
        .collect();
    assert!(noisy.is_empty(), "false positives:\n{}", noisy.join("\n"));
}

#[test]
fn findings_never_contain_the_secret() {
    let gate = SecretsGate::builtin();
    for case in cases("positive") {
        let hits = gate.rules().scan(&case.name, &case.text);
        assert!(!hits.is_empty(), "{}", case.name);
        let findings = gate.scan(&case.name, &case.text, |i| i as u32 + 1);
        let shown = format!("{findings:?}{}", serde_json::to_string(&findings).unwrap());
        for hit in hits {
            // Any 8-character piece of the secret would be a leak.
            let secret: Vec<char> = hit.secret.chars().collect();
            for piece in secret.windows(8) {
                let piece: String = piece.iter().collect();
                assert!(
                    !shown.contains(&piece),
                    "{}: finding shows {piece:?}",
                    case.name
                );
            }
        }
    }
}
