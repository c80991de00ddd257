//! Rules files in gitleaks' TOML format, read as they are: `[[rules]]` with `id`, `regex`,
//! `keywords`, `entropy`, `secretGroup`, `path` and allowlists (`[rules.allowlist]` or
//! `[[rules.allowlists]]`), global `[allowlist]` / `[[allowlists]]`, and
//! `[extend] useDefault = true` (which here means: keep Symphony's built-in rules).

use regex::Regex;
use serde::Deserialize;

use super::engine::{Allowlist, RegexTarget, Rule};

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct File {
    #[serde(default)]
    extend: Option<Extend>,
    #[serde(default)]
    rules: Vec<RawRule>,
    #[serde(default)]
    allowlist: Option<RawAllowlist>,
    #[serde(default)]
    allowlists: Vec<RawAllowlist>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Extend {
    #[serde(default)]
    use_default: bool,
    #[serde(default)]
    disabled_rules: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawRule {
    id: String,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    regex: Option<String>,
    #[serde(default)]
    secret_group: Option<usize>,
    #[serde(default)]
    entropy: Option<f64>,
    #[serde(default)]
    path: Option<String>,
    #[serde(default)]
    keywords: Vec<String>,
    #[serde(default)]
    allowlist: Option<RawAllowlist>,
    #[serde(default)]
    allowlists: Vec<RawAllowlist>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawAllowlist {
    #[serde(default)]
    condition: Option<String>,
    #[serde(default)]
    regex_target: Option<String>,
    #[serde(default)]
    regexes: Vec<String>,
    #[serde(default)]
    paths: Vec<String>,
    #[serde(default)]
    stopwords: Vec<String>,
    /// Global allowlists may name the rules they apply to (gitleaks 8.25+).
    #[serde(default)]
    target_rules: Vec<String>,
}

/// A parsed rules file.
#[derive(Debug)]
pub struct RulesFile {
    /// Its rules.
    pub rules: Vec<Rule>,
    /// Allowlists for every rule.
    pub global: Vec<Allowlist>,
    /// Whether the built-in rules stay on (`[extend] useDefault = true`).
    pub use_default: bool,
    /// Built-in rules to turn off (`[extend] disabledRules`).
    pub disabled: Vec<String>,
}

fn compile(what: &str, pattern: &str) -> Result<Regex, String> {
    Regex::new(pattern).map_err(|e| format!("{what}: the regex does not compile: {e}"))
}

fn allowlist(raw: &RawAllowlist, what: &str) -> Result<Allowlist, String> {
    Ok(Allowlist {
        regexes: raw
            .regexes
            .iter()
            .map(|r| compile(&format!("{what} allowlist"), r))
            .collect::<Result<_, _>>()?,
        regex_target: match raw.regex_target.as_deref() {
            None | Some("secret") => RegexTarget::Secret,
            Some("match") => RegexTarget::Match,
            Some("line") => RegexTarget::Line,
            Some(other) => {
                return Err(format!(
                    "{what} allowlist: regexTarget {other:?} is not secret, match or line"
                ))
            }
        },
        paths: raw
            .paths
            .iter()
            .map(|r| compile(&format!("{what} allowlist path"), r))
            .collect::<Result<_, _>>()?,
        stopwords: raw.stopwords.iter().map(|w| w.to_lowercase()).collect(),
        all: raw
            .condition
            .as_deref()
            .is_some_and(|c| c.eq_ignore_ascii_case("and")),
    })
}

/// Parses a gitleaks rules file; errors name the rule and what is wrong.
pub fn parse(text: &str) -> Result<RulesFile, String> {
    let file: File = toml::from_str(text).map_err(|e| format!("not a gitleaks TOML file: {e}"))?;
    let mut rules = Vec::new();
    let mut targeted: Vec<(Vec<String>, Allowlist)> = Vec::new();
    let mut global = Vec::new();
    for raw in file.allowlist.iter().chain(&file.allowlists) {
        let list = allowlist(raw, "global")?;
        if raw.target_rules.is_empty() {
            global.push(list);
        } else {
            targeted.push((raw.target_rules.clone(), list));
        }
    }
    for raw in file.rules {
        let what = format!("rule {:?}", raw.id);
        let Some(pattern) = raw.regex.as_deref() else {
            // Path-only rules (a file that must not exist) have no place in a line scan.
            return Err(format!(
                "{what}: has no `regex`; path-only rules are not supported"
            ));
        };
        let mut allowlists: Vec<Allowlist> = raw
            .allowlist
            .iter()
            .chain(&raw.allowlists)
            .map(|a| allowlist(a, &what))
            .collect::<Result<_, _>>()?;
        allowlists.extend(
            targeted
                .iter()
                .filter(|(ids, _)| ids.contains(&raw.id))
                .map(|(_, list)| list.clone()),
        );
        rules.push(Rule {
            description: raw.description.clone().unwrap_or_else(|| raw.id.clone()),
            regex: compile(&what, pattern)?,
            keywords: raw.keywords.iter().map(|k| k.to_lowercase()).collect(),
            secret_group: raw.secret_group,
            entropy: raw.entropy,
            path: raw.path.as_deref().map(|p| compile(&what, p)).transpose()?,
            allowlists,
            validator: None,
            multiline: pattern.contains("\\n") || pattern.contains("(?s"),
            id: raw.id,
        });
    }
    let extend = file.extend.unwrap_or_default();
    Ok(RulesFile {
        rules,
        global,
        use_default: extend.use_default,
        disabled: extend.disabled_rules,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const GITLEAKS: &str = r#"
title = "team rules"

[extend]
useDefault = true
disabledRules = ["generic-secret-assignment"]

[[rules]]
id = "acme-internal-token"
description = "ACME internal token"
regex = '''\b(acme_[a-z0-9]{24})\b'''
secretGroup = 1
entropy = 3.0
keywords = ["ACME_"]
tags = ["internal"]

[[rules.allowlists]]
description = "test fixtures"
paths = ['''(^|/)testdata/''']
stopwords = ["acme_000000"]

[allowlist]
description = "global"
regexes = ['''acme_deadbeef''']
"#;

    #[test]
    fn a_gitleaks_file_loads_as_is() {
        let file = parse(GITLEAKS).unwrap();
        assert!(file.use_default);
        assert_eq!(file.disabled, ["generic-secret-assignment"]);
        let rule = &file.rules[0];
        assert_eq!(rule.id, "acme-internal-token");
        assert_eq!(rule.keywords, ["acme_"]);
        assert_eq!(rule.secret_group, Some(1));
        assert_eq!(rule.allowlists.len(), 1);
        assert_eq!(file.global.len(), 1);
    }

    #[test]
    fn broken_files_say_what_is_wrong() {
        assert!(parse("[[rules]]\nid = 1")
            .unwrap_err()
            .contains("not a gitleaks TOML file"));
        let err = parse("[[rules]]\nid = \"x\"\nregex = '''(unclosed'''").unwrap_err();
        assert!(
            err.contains("rule \"x\"") && err.contains("does not compile"),
            "{err}"
        );
        let err = parse("[[rules]]\nid = \"p\"\npath = '''\\.pem$'''").unwrap_err();
        assert!(err.contains("path-only"), "{err}");
    }
}
