//! Which top-level keys a workflow may have: the core sections, those an extension registers,
//! and none else (a misspelling gets a suggestion, a known but unimplemented feature a reason).

use serde_json::{Map, Value};

use crate::error::ConfigError;

/// The sections the core owns (SPEC §5.3, plus durable `state`).
pub(crate) const CORE_SECTIONS: [&str; 7] = [
    "tracker",
    "polling",
    "workspace",
    "hooks",
    "agent",
    "codex",
    "state",
];

/// Sections of features this build knows of but does not implement: refused, never ignored,
/// unless an extension registers them.
const UNSUPPORTED_SECTIONS: [(&str, &str); 1] = [(
    "worker",
    "agents on SSH worker hosts (SPEC Appendix A) are not implemented, and ignoring the section \
     would run every agent on this machine instead; remove it to run agents locally",
)];

/// Refuses a top-level key nobody owns, suggesting the section it most resembles.
pub(crate) fn check_top_level_keys(
    map: &Map<String, Value>,
    known: &[&str],
) -> Result<(), ConfigError> {
    for key in map.keys() {
        if known.contains(&key.as_str()) {
            continue;
        }
        if let Some((_, reason)) = UNSUPPORTED_SECTIONS.iter().find(|(k, _)| k == key) {
            return Err(ConfigError::UnsupportedSection {
                key: key.clone(),
                reason: (*reason).to_owned(),
            });
        }
        return Err(ConfigError::UnknownSection {
            key: key.clone(),
            suggestion: closest(key, known).map(str::to_owned),
            known: known.join(", "),
        });
    }
    Ok(())
}

/// The candidate `word` is most likely a misspelling of, if any is close enough (for the
/// "did you mean" of every unknown-key error, sections' own included).
pub fn closest<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let word = word.trim().to_lowercase().replace(['-', ' '], "_");
    candidates
        .iter()
        .map(|c| (strsim::jaro_winkler(&word, c), *c))
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}
