//! `tracker.provider`: the adapter's own settings, with secrets kept out of sight.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};
use serde_json::{Map, Value};

/// `tracker.provider` after resolution; secret values never appear in `Debug` or serialization.
#[derive(Clone, PartialEq, Default)]
pub struct ProviderConfig {
    values: Map<String, Value>,
    secret_keys: BTreeSet<String>,
    /// Secret key -> the environment variable its value came from.
    secret_variables: BTreeMap<String, String>,
}

impl ProviderConfig {
    /// A resolved provider block: `secret_keys` hold secrets, each read from the variable
    /// `secret_variables` names.
    pub(crate) fn resolved(
        values: Map<String, Value>,
        secret_keys: BTreeSet<String>,
        secret_variables: BTreeMap<String, String>,
    ) -> Self {
        Self {
            values,
            secret_keys,
            secret_variables,
        }
    }

    /// The same block with `key` marked secret, its value read from environment variable
    /// `variable` (masked in `Debug` and serialization, and hidden from child programs by
    /// whoever reads [`Self::secret_variable`]).
    pub fn with_secret(mut self, key: &str, variable: &str) -> Self {
        self.secret_keys.insert(key.to_owned());
        self.secret_variables
            .insert(key.to_owned(), variable.to_owned());
        self
    }

    /// A provider block from raw values, with no key marked secret.
    pub fn new(values: Map<String, Value>) -> Self {
        Self {
            values,
            secret_keys: BTreeSet::new(),
            secret_variables: BTreeMap::new(),
        }
    }

    /// The environment variable the secret `key` was read from (`$VAR` or a documented
    /// fallback), so adapters can keep it out of agent environments.
    pub fn secret_variable(&self, key: &str) -> Option<&str> {
        self.secret_variables.get(key).map(String::as_str)
    }

    /// The value of `key`, if set.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.values.get(key)
    }

    /// The string value of `key`, if set and a string.
    pub fn get_str(&self, key: &str) -> Option<&str> {
        self.values.get(key).and_then(Value::as_str)
    }

    /// Every key and value, secrets included: for the adapter only.
    pub fn values(&self) -> &Map<String, Value> {
        &self.values
    }

    /// Whether `key` holds a secret.
    pub fn is_secret(&self, key: &str) -> bool {
        self.secret_keys.contains(key)
    }

    /// The string of `key`, trimmed; `None` when unset, null or blank. Any other value is an
    /// error naming the key (and the value, unless the key holds a secret).
    pub fn optional_string(&self, key: &str) -> Result<Option<String>, String> {
        match self.values.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.trim().to_owned())),
            Some(other) => Err(format!("`{key}` must be a string{}", self.got(key, other))),
        }
    }

    /// The integer of `key` in `min..=max`, `default` when unset or null; anything else is an
    /// error naming the key and the range.
    pub fn bounded_integer(
        &self,
        key: &str,
        default: u64,
        min: u64,
        max: u64,
    ) -> Result<u64, String> {
        match self.values.get(key) {
            None | Some(Value::Null) => Ok(default),
            Some(value) => match value.as_u64() {
                Some(n) if (min..=max).contains(&n) => Ok(n),
                _ => Err(format!(
                    "`{key}` must be an integer from {min} to {max}{}",
                    self.got(key, value)
                )),
            },
        }
    }

    /// `; got <value>` for an error message, never for a secret.
    fn got(&self, key: &str, value: &Value) -> String {
        if self.is_secret(key) {
            String::new()
        } else {
            format!("; got {value}")
        }
    }

    fn masked(&self) -> impl Iterator<Item = (&String, Value)> {
        self.values.iter().map(|(k, v)| {
            if self.secret_keys.contains(k) {
                (k, Value::String("********".to_owned()))
            } else {
                (k, v.clone())
            }
        })
    }
}

impl Serialize for ProviderConfig {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.values.len()))?;
        for (k, v) in self.masked() {
            map.serialize_entry(k, &v)?;
        }
        map.end()
    }
}

impl fmt::Debug for ProviderConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.masked()).finish()
    }
}
