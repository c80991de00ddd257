//! Workspace keys: the directory name of an issue's workspace (SPEC §4.2, §9.5).

use std::fmt;

use sha2::{Digest, Sha256};

/// The longest key [`WorkspaceKey::from_identifier`] produces, in bytes.
///
/// Far below the 255-byte file-name limit of common file systems, so any identifier — even a
/// 10 kB one — gives a usable directory name.
pub const MAX_KEY_LEN: usize = SANITIZED_PREFIX_MAX + 1 + HASH_HEX_LEN;

/// How much of the sanitized identifier a key keeps before the hash suffix.
const SANITIZED_PREFIX_MAX: usize = 100;
/// Hex digits of the SHA-256 of the original identifier: 80 bits, above the spec's 64.
const HASH_HEX_LEN: usize = 20;

/// A sanitized, collision-resistant directory name for one issue identifier.
///
/// Invariants: non-empty, only `[A-Za-z0-9._-]`, never starts with `.` (so it is never `.`, `..`
/// or a hidden name; dot-names under the workspace root belong to Symphony itself), and at most
/// [`MAX_KEY_LEN`] bytes.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct WorkspaceKey(String);

/// Why a string is not a valid [`WorkspaceKey`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkspaceKeyError {
    /// The rejected text, lossily shortened for messages.
    pub key: String,
    /// What rule it breaks.
    pub reason: &'static str,
}

impl fmt::Display for WorkspaceKeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid workspace key {:?}: {}", self.key, self.reason)
    }
}

impl std::error::Error for WorkspaceKeyError {}

fn is_allowed(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')
}

impl WorkspaceKey {
    /// Derives the key for an issue identifier.
    ///
    /// Allowed characters are kept and every other character becomes `_`. An identifier that
    /// passes through unchanged is its own key. Whenever the key would differ from the
    /// identifier — a character was replaced, a leading `.` was neutralized, the identifier was
    /// empty or too long — a suffix of 80 bits of the SHA-256 of the original identifier is
    /// appended, so distinct identifiers that sanitize alike still get distinct keys.
    pub fn from_identifier(identifier: &str) -> Self {
        let mut sanitized: String = identifier
            .chars()
            .map(|c| if is_allowed(c) { c } else { '_' })
            .collect();
        // A leading dot would make `.`, `..` or a hidden directory; dot-names are reserved.
        let leading_dots = sanitized.len() - sanitized.trim_start_matches('.').len();
        sanitized.replace_range(..leading_dots, &"_".repeat(leading_dots));

        let unchanged = sanitized == identifier
            && !sanitized.is_empty()
            && sanitized.len() <= SANITIZED_PREFIX_MAX;
        if unchanged {
            return Self(sanitized);
        }
        // Sanitized text is ASCII, so truncating by bytes cannot split a character.
        sanitized.truncate(SANITIZED_PREFIX_MAX);
        let digest = Sha256::digest(identifier.as_bytes());
        let mut key = sanitized;
        key.push('-');
        for byte in &digest[..HASH_HEX_LEN / 2] {
            key.push_str(&format!("{byte:02x}"));
        }
        Self(key)
    }

    /// Accepts text that already is a key (read back from disk or a store), checking the invariants.
    pub fn parse(text: &str) -> Result<Self, WorkspaceKeyError> {
        let reason = if text.is_empty() {
            Some("it is empty")
        } else if text.len() > MAX_KEY_LEN {
            Some("it is longer than the maximum key length")
        } else if text.starts_with('.') {
            Some("it starts with '.'")
        } else if !text.chars().all(is_allowed) {
            Some("it contains characters outside [A-Za-z0-9._-]")
        } else {
            None
        };
        match reason {
            Some(reason) => Err(WorkspaceKeyError {
                key: text.chars().take(80).collect(),
                reason,
            }),
            None => Ok(Self(text.to_owned())),
        }
    }

    /// The key as a directory name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for WorkspaceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for WorkspaceKey {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn clean_identifier_is_its_own_key() {
        assert_eq!(WorkspaceKey::from_identifier("ABC-123").as_str(), "ABC-123");
        assert_eq!(WorkspaceKey::from_identifier("a.b_c-1").as_str(), "a.b_c-1");
    }

    #[test]
    fn replaced_characters_get_a_stable_hash_suffix() {
        let key = WorkspaceKey::from_identifier("owner/repo#12");
        assert_eq!(key, WorkspaceKey::from_identifier("owner/repo#12"));
        assert!(key.as_str().starts_with("owner_repo_12-"), "{key}");
        assert_eq!(key.as_str().len(), "owner_repo_12-".len() + HASH_HEX_LEN);
    }

    #[test]
    fn dot_names_never_become_keys() {
        for hostile in [".", "..", ".git", ".symphony", "...."] {
            let key = WorkspaceKey::from_identifier(hostile);
            assert!(!key.as_str().starts_with('.'), "{hostile:?} -> {key}");
            assert!(WorkspaceKey::parse(key.as_str()).is_ok());
        }
    }

    #[test]
    fn parse_rejects_what_from_identifier_never_makes() {
        for bad in [
            "",
            ".",
            "..",
            "a/b",
            "a b",
            ".hidden",
            &"x".repeat(MAX_KEY_LEN + 1),
        ] {
            assert!(WorkspaceKey::parse(bad).is_err(), "{bad:?}");
        }
    }

    fn hostile_identifier() -> impl Strategy<Value = String> {
        prop_oneof![
            any::<String>(),
            "[A-Za-z0-9._/ -]{0,40}",
            Just("..".to_owned()),
            Just("../../etc/passwd".to_owned()),
            Just("a\0b".to_owned()),
            "\\PC{0,20}",
            proptest::collection::vec(any::<char>(), 9_000..10_500)
                .prop_map(|chars| chars.into_iter().collect::<String>()),
        ]
    }

    proptest! {
        #[test]
        fn key_only_contains_allowed_characters(id in hostile_identifier()) {
            let key = WorkspaceKey::from_identifier(&id);
            prop_assert!(!key.as_str().is_empty());
            prop_assert!(key.as_str().chars().all(is_allowed), "{}", key);
            prop_assert!(!key.as_str().starts_with('.'));
            prop_assert!(key.as_str().len() <= MAX_KEY_LEN);
            prop_assert_eq!(WorkspaceKey::parse(key.as_str()), Ok(key.clone()));
        }

        #[test]
        fn distinct_identifiers_give_distinct_keys(a in hostile_identifier(), b in hostile_identifier()) {
            prop_assume!(a != b);
            prop_assert_ne!(WorkspaceKey::from_identifier(&a), WorkspaceKey::from_identifier(&b));
        }

        #[test]
        fn identifiers_that_sanitize_alike_get_distinct_keys(
            stem in "[A-Za-z0-9]{1,12}",
            left in "[^A-Za-z0-9._-]",
            right in "[^A-Za-z0-9._-]",
        ) {
            prop_assume!(left != right);
            let a = format!("{stem}{left}x");
            let b = format!("{stem}{right}x");
            prop_assert_ne!(WorkspaceKey::from_identifier(&a), WorkspaceKey::from_identifier(&b));
        }
    }
}
