//! Normalization rules every adapter applies (SPEC §11.3).

use chrono::{DateTime, Utc};
use symphony_core::{normalize_state, Issue};

/// Trims and lowercases labels, drops blank ones and duplicates, keeping first-seen order.
pub fn normalize_labels<I, S>(labels: I) -> Vec<String>
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    let mut out: Vec<String> = Vec::new();
    for label in labels {
        let label = label.as_ref().trim().to_lowercase();
        if !label.is_empty() && !out.contains(&label) {
            out.push(label);
        }
    }
    out
}

/// Parses an RFC 3339 timestamp; anything else is `None` (an unusable optional value).
pub fn parse_timestamp(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text.trim())
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// Whether `state` is one of `wanted`, compared trimmed and case-insensitively.
pub fn state_in(state: &str, wanted: &[String]) -> bool {
    let state = normalize_state(state);
    wanted.iter().any(|w| normalize_state(w) == state)
}

/// An invariant of a normalized issue that an issue breaks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NotNormalized {
    /// A required field (`id`, `identifier`, `title`, `state`) is blank.
    #[error("issue {identifier:?}: `{field}` is empty")]
    BlankField {
        /// The issue's key.
        identifier: String,
        /// The blank field.
        field: &'static str,
    },
    /// Labels are not trimmed, lowercased and unique.
    #[error("issue {identifier:?}: labels {labels:?} are not trimmed, lowercased and unique")]
    Labels {
        /// The issue's key.
        identifier: String,
        /// The labels as given.
        labels: Vec<String>,
    },
    /// `native_ref` is neither an object nor absent.
    #[error("issue {identifier:?}: native_ref must be an object or null")]
    NativeRef {
        /// The issue's key.
        identifier: String,
    },
}

/// Checks the invariants of a normalized issue; the error names the first one broken.
pub fn check_normalized(issue: &Issue) -> Result<(), NotNormalized> {
    let identifier = || issue.identifier.clone();
    if let Some(field) = issue.blank_required_field() {
        return Err(NotNormalized::BlankField {
            identifier: identifier(),
            field,
        });
    }
    if normalize_labels(&issue.labels) != issue.labels {
        return Err(NotNormalized::Labels {
            identifier: identifier(),
            labels: issue.labels.clone(),
        });
    }
    if issue.native_ref.as_ref().is_some_and(|n| !n.is_object()) {
        return Err(NotNormalized::NativeRef {
            identifier: identifier(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_normalized_to_lowercase_without_blanks_or_duplicates() {
        assert_eq!(
            normalize_labels(["Bug", " P1 ", "bug", "", "  "]),
            ["bug", "p1"]
        );
    }

    #[test]
    fn timestamps_parse_rfc3339_or_become_null() {
        assert!(parse_timestamp("2026-11-24T01:02:03Z").is_some());
        assert!(parse_timestamp("2026-11-24T01:02:03+02:00").is_some());
        assert_eq!(parse_timestamp("yesterday"), None);
        assert_eq!(parse_timestamp(""), None);
    }

    #[test]
    fn states_compare_trimmed_and_case_insensitively() {
        let wanted = vec!["Todo".to_owned(), "In Progress".to_owned()];
        assert!(state_in(" todo ", &wanted));
        assert!(state_in("IN PROGRESS", &wanted));
        assert!(!state_in("done", &wanted));
    }
}
