//! The built-in rules: documented provider key formats (with their checksums where the
//! provider has one), private keys, and quoted high-entropy values assigned to names that
//! say "secret". `docs/gates/secrets.md` lists them with their sources.

use regex::Regex;

use super::engine::{Allowlist, RegexTarget, Rule, Validator};

/// Values that are placeholders, not secrets (compared lowercase, as substrings).
pub const PLACEHOLDER_WORDS: &[&str] = &[
    "example",
    "changeme",
    "change_me",
    "placeholder",
    "your_",
    "your-",
    "xxxxxxxx",
    "dummy",
    "sample",
    "redacted",
    "${",
    "{{",
    "<",
    "fake",
    "not_a_real",
    "notreal",
    "insert",
];

struct Spec {
    id: &'static str,
    description: &'static str,
    regex: &'static str,
    keywords: &'static [&'static str],
    entropy: Option<f64>,
    validator: Option<Validator>,
    placeholder_stopwords: bool,
    multiline: bool,
}

const fn spec(
    id: &'static str,
    description: &'static str,
    regex: &'static str,
    keywords: &'static [&'static str],
) -> Spec {
    Spec {
        id,
        description,
        regex,
        keywords,
        entropy: None,
        validator: None,
        placeholder_stopwords: false,
        multiline: false,
    }
}

const SPECS: &[Spec] = &[
    Spec {
        // AWS documents its access key ids as 20 characters of base32 after a type prefix;
        // the documented example ends in EXAMPLE and is allowlisted.
        ..spec(
            "aws-access-key-id",
            "AWS access key ID",
            r"\b((?:AKIA|ASIA|ABIA|ACCA|A3T[A-Z0-9])[A-Z2-7]{16})\b",
            &["akia", "asia", "abia", "acca", "a3t"],
        )
    },
    Spec {
        entropy: Some(4.0),
        placeholder_stopwords: true,
        ..spec(
            "aws-secret-access-key",
            "AWS secret access key",
            r#"(?i)\baws_?(?:secret_?(?:access_?)?key|sk)\b["']?\s*(?::|=>?|:=)\s*["']?([A-Za-z0-9/+]{40})(?:["'\s]|$)"#,
            &["aws"],
        )
    },
    Spec {
        validator: Some(github_style_checksum),
        ..spec(
            "github-token",
            "GitHub token (classic PAT, OAuth, user-to-server, server-to-server or refresh)",
            r"\b(gh[pousr]_[A-Za-z0-9]{36})\b",
            &["ghp_", "gho_", "ghu_", "ghs_", "ghr_"],
        )
    },
    spec(
        "github-fine-grained-pat",
        "GitHub fine-grained personal access token",
        r"\b(github_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59})\b",
        &["github_pat_"],
    ),
    spec(
        "gitlab-pat",
        "GitLab personal access token",
        r"\b(glpat-[A-Za-z0-9_\-]{20})\b",
        &["glpat-"],
    ),
    spec(
        "slack-token",
        "Slack token",
        r"\b(xox[baprs]-[0-9]{10,13}-[0-9A-Za-z-]{10,60})\b",
        &["xoxb-", "xoxa-", "xoxp-", "xoxr-", "xoxs-"],
    ),
    spec(
        "slack-webhook-url",
        "Slack incoming webhook URL",
        r"(https://hooks\.slack\.com/services/T[A-Z0-9]{8,12}/B[A-Z0-9]{8,12}/[A-Za-z0-9]{24})",
        &["hooks.slack.com"],
    ),
    spec(
        "stripe-secret-key",
        "Stripe live secret or restricted key",
        r"\b((?:sk|rk)_live_[A-Za-z0-9]{24,99})\b",
        &["sk_live_", "rk_live_"],
    ),
    spec(
        "google-api-key",
        "Google API key",
        r"\b(AIza[0-9A-Za-z_\-]{35})(?:[^0-9A-Za-z_\-]|$)",
        &["aiza"],
    ),
    Spec {
        validator: Some(github_style_checksum),
        ..spec(
            "npm-token",
            "npm access token",
            r"\b(npm_[A-Za-z0-9]{36})\b",
            &["npm_"],
        )
    },
    spec(
        "pypi-token",
        "PyPI upload token",
        r"\b(pypi-AgEIcHlwaS5vcmc[A-Za-z0-9_\-]{50,})",
        &["pypi-ageichlwas5vcmc"],
    ),
    spec(
        "openai-api-key",
        "OpenAI API key",
        r"\b(sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_\-]{20,74}T3BlbkFJ[A-Za-z0-9_\-]{20,74})",
        &["t3blbkfj"],
    ),
    spec(
        "anthropic-api-key",
        "Anthropic API key",
        r"\b(sk-ant-(?:api03|admin01)-[A-Za-z0-9_\-]{80,120})",
        &["sk-ant-"],
    ),
    spec(
        "sendgrid-api-key",
        "SendGrid API key",
        r"\b(SG\.[A-Za-z0-9_\-]{22}\.[A-Za-z0-9_\-]{43})(?:[^A-Za-z0-9_\-]|$)",
        &["sg."],
    ),
    spec(
        "shopify-access-token",
        "Shopify access token",
        r"\b(shp(?:at|ca|pa|ss)_[a-fA-F0-9]{32})\b",
        &["shpat_", "shpca_", "shppa_", "shpss_"],
    ),
    spec(
        "huggingface-token",
        "Hugging Face access token",
        r"\b(hf_[A-Za-z]{34})\b",
        &["hf_"],
    ),
    spec(
        "azure-storage-account-key",
        "Azure storage account key",
        r"(?i)AccountKey=([A-Za-z0-9+/]{86}==)",
        &["accountkey="],
    ),
    Spec {
        multiline: true,
        ..spec(
            "private-key",
            "Private key",
            r"(-----BEGIN[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-----\s*\n(?:[A-Za-z0-9+/=:\- ]{16,}\s*\n){2,}[^\n]*-----END[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-----)",
            &["-----begin"],
        )
    },
    Spec {
        entropy: Some(3.5),
        placeholder_stopwords: true,
        ..spec(
            "generic-secret-assignment",
            "High-entropy value assigned to a secret-looking name",
            r#"(?i)(?:api[_.-]?key|apikey|secret|token|passw(?:or)?d|pwd|auth[_.-]?key|access[_.-]?key|private[_.-]?key|client[_.-]?secret)[\w.-]{0,20}["']?\s*(?::|=>?|:=)\s*["']([^"'\s]{16,128})["']"#,
            &["key", "secret", "token", "passw", "pwd"],
        )
    },
];

/// Placeholder values in documentation: `AKIAIOSFODNN7EXAMPLE` and the like.
fn documented_examples() -> Allowlist {
    Allowlist {
        regexes: vec![Regex::new(r"EXAMPLE$").expect("static regex")],
        regex_target: RegexTarget::Secret,
        paths: Vec::new(),
        stopwords: Vec::new(),
        all: false,
    }
}

fn placeholders() -> Allowlist {
    Allowlist {
        regexes: Vec::new(),
        regex_target: RegexTarget::Secret,
        paths: Vec::new(),
        stopwords: PLACEHOLDER_WORDS.iter().map(|w| (*w).to_owned()).collect(),
        all: false,
    }
}

/// The built-in rules, compiled.
pub fn builtin() -> Vec<Rule> {
    SPECS
        .iter()
        .map(|s| {
            let mut allowlists = Vec::new();
            if s.id == "aws-access-key-id" {
                allowlists.push(documented_examples());
            }
            if s.placeholder_stopwords {
                allowlists.push(placeholders());
            }
            Rule {
                id: s.id.to_owned(),
                description: s.description.to_owned(),
                regex: Regex::new(s.regex).expect("built-in rules compile"),
                keywords: s.keywords.iter().map(|k| (*k).to_owned()).collect(),
                secret_group: None,
                entropy: s.entropy,
                path: None,
                allowlists,
                validator: s.validator,
                multiline: s.multiline,
            }
        })
        .collect()
}

/// CRC-32 (IEEE), as zlib computes it.
pub fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &byte in data {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            let mask = (crc & 1).wrapping_neg();
            crc = (crc >> 1) ^ (0xEDB8_8320 & mask);
        }
    }
    !crc
}

const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// `n` in base 62, left-padded with `0` to `width`.
pub fn base62(mut n: u32, width: usize) -> String {
    let mut digits = Vec::new();
    while n > 0 {
        digits.push(BASE62[(n % 62) as usize]);
        n /= 62;
    }
    while digits.len() < width {
        digits.push(b'0');
    }
    digits.reverse();
    String::from_utf8(digits).unwrap_or_default()
}

/// GitHub's (and npm's) token format: `<prefix>_` + 30 random characters + the base62
/// CRC-32 of those 30, in 6 characters.
pub fn github_style_checksum(token: &str) -> bool {
    let Some((_, body)) = token.rsplit_once('_') else {
        return false;
    };
    if body.len() != 36 || !body.is_ascii() {
        return false;
    }
    let (random, checksum) = body.split_at(30);
    base62(crc32(random.as_bytes()), 6) == checksum
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_matches_zlib() {
        assert_eq!(crc32(b""), 0);
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    }

    #[test]
    fn github_checksums_are_checked() {
        let random = "aB3dE5fG7hJ9kL1mN2pQ4rS6tU8vW0";
        let token = format!("ghp_{random}{}", base62(crc32(random.as_bytes()), 6));
        assert!(github_style_checksum(&token), "{token}");
        let mut broken = token.clone();
        broken.replace_range(10..11, "Z");
        assert!(!github_style_checksum(&broken));
        assert!(!github_style_checksum("ghp_short"));
    }

    #[test]
    fn every_builtin_rule_compiles_with_keywords() {
        let rules = builtin();
        assert!(rules.len() >= 15);
        assert!(rules.iter().all(|r| !r.keywords.is_empty()));
    }
}
