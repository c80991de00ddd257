//! Keeps secrets out of durable state: the audit log and event history outlive the process
//! and are read by people who should not see tracker tokens.

/// Replaces known secret values with `[redacted]`.
#[derive(Debug, Clone, Default)]
pub struct Redactor {
    secrets: Vec<String>,
}

/// Values shorter than this are not treated as secrets: replacing `"1"` everywhere would
/// destroy the record and protect nothing.
const MIN_SECRET_LEN: usize = 6;

impl Redactor {
    /// A redactor for these secret values (short and empty ones are ignored).
    pub fn new(secrets: impl IntoIterator<Item = String>) -> Self {
        let mut secrets: Vec<String> = secrets
            .into_iter()
            .filter(|s| s.len() >= MIN_SECRET_LEN)
            .collect();
        // Longest first, so a secret containing another is replaced whole.
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        secrets.dedup();
        Self { secrets }
    }

    /// A redactor for the values of these environment variables.
    pub fn from_env_names(names: &[String]) -> Self {
        Self::new(names.iter().filter_map(|name| std::env::var(name).ok()))
    }

    /// Whether there is anything to redact.
    pub fn is_empty(&self) -> bool {
        self.secrets.is_empty()
    }

    /// `text` with every secret replaced.
    pub fn text(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for secret in &self.secrets {
            if out.contains(secret.as_str()) {
                out = out.replace(secret.as_str(), "[redacted]");
            }
        }
        out
    }

    /// `value` with every secret replaced in every string, key or value.
    pub fn json(&self, value: &serde_json::Value) -> serde_json::Value {
        use serde_json::Value;
        if self.is_empty() {
            return value.clone();
        }
        match value {
            Value::String(s) => Value::String(self.text(s)),
            Value::Array(items) => Value::Array(items.iter().map(|v| self.json(v)).collect()),
            Value::Object(map) => Value::Object(
                map.iter()
                    .map(|(k, v)| (self.text(k), self.json(v)))
                    .collect(),
            ),
            other => other.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_replaced_everywhere_and_short_values_are_left_alone() {
        let redactor = Redactor::new(["ghp_secret123".to_owned(), "abc".to_owned()]);
        assert_eq!(
            redactor.text("token ghp_secret123 and abc"),
            "token [redacted] and abc"
        );
        let value = serde_json::json!({"ghp_secret123": ["x ghp_secret123 y", 3]});
        assert_eq!(
            redactor.json(&value),
            serde_json::json!({"[redacted]": ["x [redacted] y", 3]})
        );
    }
}
