//! The scanning engine: one Aho-Corasick pass finds every rule keyword in a text (ASCII
//! case-insensitively); only the lines holding a keyword are then matched, and only against
//! the rules that keyword belongs to. Rules without keywords run over the whole text.

use std::collections::BTreeSet;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use regex::Regex;

use crate::error::GateError;

/// What an allowlist regex is matched against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegexTarget {
    /// The secret (the rule's secret group).
    Secret,
    /// The whole rule match.
    Match,
    /// The whole line.
    Line,
}

/// Matches that are not secrets (gitleaks' `[[rules.allowlists]]` / `[allowlist]`).
#[derive(Debug, Clone)]
pub struct Allowlist {
    /// Regexes over [`Allowlist::regex_target`].
    pub regexes: Vec<Regex>,
    /// What the regexes look at.
    pub regex_target: RegexTarget,
    /// File paths that are never scanned by the rule.
    pub paths: Vec<Regex>,
    /// Substrings of a secret that mark it as a placeholder (lowercase).
    pub stopwords: Vec<String>,
    /// `true`: every configured check must hit (gitleaks `condition = "AND"`).
    pub all: bool,
}

impl Allowlist {
    fn allows(&self, path: &str, secret: &str, matched: &str, line: &str) -> bool {
        let target = match self.regex_target {
            RegexTarget::Secret => secret,
            RegexTarget::Match => matched,
            RegexTarget::Line => line,
        };
        let secret_lower = secret.to_lowercase();
        let checks = [
            (!self.regexes.is_empty()).then(|| self.regexes.iter().any(|r| r.is_match(target))),
            (!self.paths.is_empty()).then(|| self.paths.iter().any(|r| r.is_match(path))),
            (!self.stopwords.is_empty()).then(|| {
                self.stopwords
                    .iter()
                    .any(|w| secret_lower.contains(w.as_str()))
            }),
        ];
        let mut configured = checks.iter().flatten().peekable();
        if configured.peek().is_none() {
            return false;
        }
        if self.all {
            configured.all(|hit| *hit)
        } else {
            configured.any(|hit| *hit)
        }
    }
}

/// A second opinion on a candidate secret (a checksum, a structure check).
pub type Validator = fn(&str) -> bool;

/// One detection rule.
#[derive(Debug, Clone)]
pub struct Rule {
    /// Stable id (`aws-access-key-id`).
    pub id: String,
    /// What it finds, for people.
    pub description: String,
    /// The pattern.
    pub regex: Regex,
    /// Lowercase keywords, one of which must occur on the line; empty: always run.
    pub keywords: Vec<String>,
    /// Capture group holding the secret; 0 for the whole match (gitleaks picks the first
    /// group when unset and the regex has one).
    pub secret_group: Option<usize>,
    /// Minimum Shannon entropy (bits per character) of the secret.
    pub entropy: Option<f64>,
    /// The rule only applies to paths matching this.
    pub path: Option<Regex>,
    /// Rule-specific allowlists.
    pub allowlists: Vec<Allowlist>,
    /// Checksum or structure check.
    pub validator: Option<Validator>,
    /// The match may span lines (a PEM block): it is sought from the keyword's line on,
    /// within [`MULTILINE_WINDOW`] bytes, and must start on that line.
    pub multiline: bool,
}

/// How far a multi-line rule looks past its keyword's line.
pub const MULTILINE_WINDOW: usize = 64 * 1024;

/// A secret found in a text.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    /// The rule that found it.
    pub rule: usize,
    /// 0-based line index within the scanned text.
    pub line_index: usize,
    /// The secret itself (never reported; used for fingerprints and tests).
    pub secret: String,
}

/// Compiled rules, ready to scan.
#[derive(Debug, Clone)]
pub struct RuleSet {
    rules: Vec<Rule>,
    global: Vec<Allowlist>,
    keywords: AhoCorasick,
    /// Keyword pattern id → rules using it.
    keyword_rules: Vec<Vec<usize>>,
    keywordless: Vec<usize>,
}

/// Shannon entropy in bits per character.
pub fn shannon_entropy(text: &str) -> f64 {
    if text.is_empty() {
        return 0.0;
    }
    let mut counts = [0usize; 256];
    for b in text.bytes() {
        counts[b as usize] += 1;
    }
    let len = text.len() as f64;
    counts
        .iter()
        .filter(|c| **c > 0)
        .map(|c| {
            let p = *c as f64 / len;
            -p * p.log2()
        })
        .sum()
}

impl RuleSet {
    /// Compiles `rules` with global allowlists.
    pub fn new(rules: Vec<Rule>, global: Vec<Allowlist>) -> Result<Self, GateError> {
        let mut words: Vec<String> = Vec::new();
        let mut keyword_rules: Vec<Vec<usize>> = Vec::new();
        let mut keywordless = Vec::new();
        for (index, rule) in rules.iter().enumerate() {
            if rule.keywords.is_empty() {
                keywordless.push(index);
            }
            for keyword in &rule.keywords {
                let keyword = keyword.to_lowercase();
                match words.iter().position(|w| *w == keyword) {
                    Some(at) => keyword_rules[at].push(index),
                    None => {
                        words.push(keyword);
                        keyword_rules.push(vec![index]);
                    }
                }
            }
        }
        let keywords = AhoCorasickBuilder::new()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::Standard)
            .build(&words)
            .map_err(|e| GateError::Config(format!("keywords: {e}")))?;
        Ok(Self {
            rules,
            global,
            keywords,
            keyword_rules,
            keywordless,
        })
    }

    /// The rules.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// Every secret in `text` (the contents of `path`, or the lines a change adds to it).
    pub fn scan(&self, path: &str, text: &str) -> Vec<Hit> {
        let applicable = |rule: &Rule| rule.path.as_ref().is_none_or(|p| p.is_match(path));
        let mut candidates: BTreeSet<(usize, usize)> = BTreeSet::new(); // (line start, rule)
        for hit in self.keywords.find_overlapping_iter(text) {
            let start = text[..hit.start()].rfind('\n').map_or(0, |i| i + 1);
            for &rule in &self.keyword_rules[hit.pattern().as_usize()] {
                candidates.insert((start, rule));
            }
        }
        let mut hits = Vec::new();
        let mut line_starts: Option<Vec<usize>> = None;
        for (start, rule_index) in candidates {
            let rule = &self.rules[rule_index];
            if !applicable(rule) {
                continue;
            }
            let end = text[start..].find('\n').map_or(text.len(), |i| start + i);
            let line = &text[start..end];
            let haystack = if rule.multiline {
                let mut window_end = (start + MULTILINE_WINDOW).min(text.len());
                while !text.is_char_boundary(window_end) {
                    window_end -= 1;
                }
                &text[start..window_end]
            } else {
                line
            };
            let starts = line_starts.get_or_insert_with(|| line_offsets(text));
            let line_index = starts.partition_point(|s| *s <= start) - 1;
            self.match_rule(rule_index, path, haystack, line, line.len(), |secret| {
                hits.push(Hit {
                    rule: rule_index,
                    line_index,
                    secret,
                });
            });
        }
        for &rule_index in &self.keywordless {
            let rule = &self.rules[rule_index];
            if !applicable(rule) {
                continue;
            }
            let starts = line_starts.get_or_insert_with(|| line_offsets(text));
            for found in rule.regex.find_iter(text) {
                let line_index = starts.partition_point(|s| *s <= found.start()) - 1;
                let line_start = starts[line_index];
                let line_end = text[line_start..]
                    .find('\n')
                    .map_or(text.len(), |i| line_start + i);
                let line = &text[line_start..line_end.max(found.end().min(text.len()))];
                self.match_rule(
                    rule_index,
                    path,
                    found.as_str(),
                    line,
                    usize::MAX,
                    |secret| {
                        hits.push(Hit {
                            rule: rule_index,
                            line_index,
                            secret,
                        });
                    },
                );
            }
        }
        hits.sort_by_key(|h| (h.line_index, h.rule));
        hits.dedup_by(|a, b| {
            a.line_index == b.line_index && a.rule == b.rule && a.secret == b.secret
        });
        // The same secret found by two rules is reported once, by the rule listed first
        // (built-in provider formats come before the generic assignment rule).
        let mut kept: Vec<Hit> = Vec::with_capacity(hits.len());
        for hit in hits {
            let shadowed = kept.iter().any(|k| {
                k.line_index == hit.line_index
                    && k.rule < hit.rule
                    && (k.secret.contains(&hit.secret) || hit.secret.contains(&k.secret))
            });
            if !shadowed {
                kept.push(hit);
            }
        }
        kept
    }

    /// Runs one rule over `haystack` (a line, a multi-line window, or one keywordless
    /// match), reporting secrets that start by `max_start` and pass entropy, validation and
    /// allowlists.
    fn match_rule(
        &self,
        rule_index: usize,
        path: &str,
        haystack: &str,
        line: &str,
        max_start: usize,
        mut found: impl FnMut(String),
    ) {
        let rule = &self.rules[rule_index];
        for captures in rule.regex.captures_iter(haystack) {
            let Some(whole) = captures.get(0) else {
                continue;
            };
            if whole.start() > max_start {
                break;
            }
            let whole = whole.as_str();
            let group = rule
                .secret_group
                .unwrap_or(if captures.len() > 1 { 1 } else { 0 });
            let secret = captures.get(group).map_or(whole, |m| m.as_str());
            if secret.is_empty() {
                continue;
            }
            if rule
                .entropy
                .is_some_and(|min| shannon_entropy(secret) < min)
            {
                continue;
            }
            if rule.validator.is_some_and(|valid| !valid(secret)) {
                continue;
            }
            if self
                .global
                .iter()
                .chain(&rule.allowlists)
                .any(|a| a.allows(path, secret, whole, line))
            {
                continue;
            }
            found(secret.to_owned());
        }
    }
}

fn line_offsets(text: &str) -> Vec<usize> {
    std::iter::once(0)
        .chain(text.match_indices('\n').map(|(i, _)| i + 1))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(id: &str, regex: &str, keywords: &[&str]) -> Rule {
        Rule {
            id: id.into(),
            description: id.into(),
            regex: Regex::new(regex).unwrap(),
            keywords: keywords.iter().map(|k| (*k).to_owned()).collect(),
            secret_group: None,
            entropy: None,
            path: None,
            allowlists: Vec::new(),
            validator: None,
            multiline: false,
        }
    }

    #[test]
    fn keywords_select_lines_and_rules() {
        let set = RuleSet::new(
            vec![
                rule("a", r"tok_[a-z]{4}", &["tok_"]),
                rule("b", r"zz[0-9]+", &[]),
            ],
            Vec::new(),
        )
        .unwrap();
        let hits = set.scan("f", "nothing here\nx = TOK_abcd tok_wxyz\nzz42\n");
        let got: Vec<(usize, usize, &str)> = hits
            .iter()
            .map(|h| (h.rule, h.line_index, h.secret.as_str()))
            .collect();
        assert_eq!(got, [(0, 1, "tok_wxyz"), (1, 2, "zz42")]);
    }

    #[test]
    fn entropy_allowlists_and_stopwords_drop_candidates() {
        let mut r = rule("gen", r"key = (\S+)", &["key"]);
        r.entropy = Some(3.0);
        r.allowlists.push(Allowlist {
            regexes: Vec::new(),
            regex_target: RegexTarget::Secret,
            paths: Vec::new(),
            stopwords: vec!["example".into()],
            all: false,
        });
        let set = RuleSet::new(vec![r], Vec::new()).unwrap();
        assert!(set.scan("f", "key = aaaaaaaa").is_empty(), "low entropy");
        assert!(set.scan("f", "key = Xk9EXAMPLEq2Lm").is_empty(), "stopword");
        assert_eq!(set.scan("f", "key = Xk9vQ2Lm7Pz").len(), 1);
        assert!((shannon_entropy("abcd") - 2.0).abs() < 1e-9);
    }
}
