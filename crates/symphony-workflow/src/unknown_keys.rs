//! The "did you mean" of a section's nested settings: a value is walked against the section's
//! own JSON Schema, and the first key no `properties` list allows is reported with the name it
//! most resembles. Serde's own message (`unknown field`) names the expected keys but guesses
//! nothing; sections that derive their schema use this first.

use serde_json::Value;

use crate::top_level::closest;

/// The first key of `value` that `schema` (JSON Schema 2020-12, subschemas inlined) does not
/// allow, as an error naming it under `path` with a suggestion; `None` when every key is known.
pub fn unknown_key(value: &Value, schema: &Value, path: &str) -> Option<String> {
    match value {
        Value::Object(map) => {
            if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
                let closed = schema.get("additionalProperties") == Some(&Value::Bool(false));
                for (key, child) in map {
                    match properties.get(key) {
                        Some(sub) => {
                            if let Some(found) = unknown_key(child, sub, &format!("{path}.{key}")) {
                                return Some(found);
                            }
                        }
                        None if closed => {
                            let known: Vec<&str> = properties.keys().map(String::as_str).collect();
                            let hint = closest(key, &known)
                                .map(|k| format!("did you mean `{k}`? "))
                                .unwrap_or_default();
                            return Some(format!(
                                "{path}.{key} is not a setting ({hint}settings: {})",
                                known.join(", ")
                            ));
                        }
                        None => {}
                    }
                }
                return None;
            }
            if let Some(values) = schema.get("additionalProperties").filter(|s| s.is_object()) {
                return map
                    .iter()
                    .find_map(|(key, child)| unknown_key(child, values, &format!("{path}.{key}")));
            }
            // A map that one alternative describes (`Option<T>` nests them): its verdict.
            variants(schema).find_map(|variant| unknown_key(value, variant, path))
        }
        Value::Array(items) => {
            let item_schema = schema.get("items")?;
            items
                .iter()
                .enumerate()
                .find_map(|(n, item)| unknown_key(item, item_schema, &format!("{path}[{n}]")))
        }
        _ => None,
    }
}

/// The alternatives of an `anyOf`/`oneOf` schema (a number or a map, say).
fn variants(schema: &Value) -> impl Iterator<Item = &Value> {
    ["anyOf", "oneOf"]
        .into_iter()
        .filter_map(|k| schema.get(k).and_then(Value::as_array))
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn nested_maps_lists_and_alternatives_are_walked() {
        let limit = json!({"anyOf": [
            {"type": "number"},
            {"type": "object", "properties": {"soft": {}, "hard": {}}, "additionalProperties": false},
        ]});
        let schema = json!({
            "type": "object",
            "properties": {
                "per_issue": {"type": "object", "properties": {"tokens": limit}, "additionalProperties": false},
                "overrides": {"type": "array", "items": {"type": "object", "properties": {"labels": {}}, "additionalProperties": false}},
                "models": {"type": "object", "additionalProperties": {"type": "object", "properties": {"input": {}}, "additionalProperties": false}},
            },
            "additionalProperties": false,
        });
        let check = |value: Value| unknown_key(&value, &schema, "budgets");
        assert_eq!(check(json!({"per_issue": {"tokens": {"hard": 5}}})), None);
        assert_eq!(check(json!({"per_issue": {"tokens": 5}})), None);
        assert_eq!(
            check(json!({"per_issue": {"tokens": {"hrad": 5}}})).unwrap(),
            "budgets.per_issue.tokens.hrad is not a setting (did you mean `hard`? settings: hard, soft)"
        );
        assert!(check(json!({"per_issue": {"token": 5}}))
            .unwrap()
            .contains("did you mean `tokens`?"));
        assert!(check(json!({"overrides": [{"label": []}]}))
            .unwrap()
            .starts_with("budgets.overrides[0].label"));
        assert!(check(json!({"models": {"m": {"inptu": 1}}}))
            .unwrap()
            .contains("did you mean `input`?"));
    }
}
