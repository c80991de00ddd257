//! GitHub webhooks: signature verification (`X-Hub-Signature-256`, HMAC-SHA256 compared in
//! constant time) and the events Symphony cares about, reduced to "refresh these issues"
//! hints. The HTTP endpoint lives in the server; this is the part that needs no socket.

use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;
use symphony_tracker::{
    WebhookDelivery, WebhookHint, WebhookReceiver, WebhookRejection, WebhookRequest,
};

/// Why a delivery is rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    /// No `X-Hub-Signature-256` header.
    #[error("the delivery has no X-Hub-Signature-256 header")]
    MissingSignature,
    /// The header is not `sha256=<64 hex digits>`.
    #[error("the X-Hub-Signature-256 header is not `sha256=<hex>`")]
    MalformedSignature,
    /// The signature does not match the body and the secret.
    #[error("the signature does not match the body")]
    BadSignature,
    /// The body is not the JSON object GitHub sends.
    #[error("the body is not a JSON object: {0}")]
    MalformedBody(String),
}

/// Checks `X-Hub-Signature-256` against `body` signed with `secret`.
pub fn verify_signature(
    secret: &[u8],
    body: &[u8],
    signature: Option<&str>,
) -> Result<(), WebhookError> {
    let signature = signature.ok_or(WebhookError::MissingSignature)?;
    let hex = signature
        .trim()
        .strip_prefix("sha256=")
        .ok_or(WebhookError::MalformedSignature)?;
    let expected = decode_hex(hex).ok_or(WebhookError::MalformedSignature)?;
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).map_err(|_| WebhookError::BadSignature)?;
    mac.update(body);
    // `verify_slice` compares in constant time.
    mac.verify_slice(&expected)
        .map_err(|_| WebhookError::BadSignature)
}

/// The `X-Hub-Signature-256` value GitHub would send for `body` (for tests and tools).
pub fn sign(secret: &[u8], body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(body);
    let digest = mac.finalize().into_bytes();
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256={hex}")
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if text.len() != 64 || !text.is_ascii() {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).ok())
        .collect()
}

/// What a delivery asks the scheduler to look at again.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RefreshHint {
    /// `owner/name` of the repository the event is about, if it says.
    pub repository: Option<String>,
    /// Node ids (Symphony's dispatch ids) of issues that changed.
    pub issue_ids: Vec<String>,
    /// Issue numbers a pull request says it closes (their ids need a lookup).
    pub issue_numbers: Vec<u64>,
    /// Something changed that may affect many issues (a label renamed, a PR merged):
    /// poll candidates now.
    pub poll: bool,
    /// A pull request's review, comments, checks or state may have moved: the review watch
    /// looks now (ADR 0018).
    pub reviews: bool,
    /// The pull requests the event names, when it names them (the watch looks at those
    /// only); empty with `reviews`: every watched one (a commit status names none).
    pub pull_numbers: Vec<u64>,
}

impl RefreshHint {
    /// Whether there is nothing to do.
    pub fn is_empty(&self) -> bool {
        self.issue_ids.is_empty() && self.issue_numbers.is_empty() && !self.poll && !self.reviews
    }
}

/// Turns a verified delivery (`X-GitHub-Event` and body) into a hint. Events Symphony does
/// not use give an empty hint, not an error.
pub fn parse_event(event: &str, body: &[u8]) -> Result<RefreshHint, WebhookError> {
    let payload: Value =
        serde_json::from_slice(body).map_err(|e| WebhookError::MalformedBody(e.to_string()))?;
    if !payload.is_object() {
        return Err(WebhookError::MalformedBody("expected an object".to_owned()));
    }
    let mut hint = RefreshHint {
        repository: payload
            .get("repository")
            .and_then(|r| r.get("full_name"))
            .and_then(Value::as_str)
            .map(str::to_owned),
        ..RefreshHint::default()
    };
    let issue_id = |key: &str| {
        payload
            .get(key)
            .and_then(|i| i.get("node_id"))
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    match event {
        "issues" | "issue_comment" | "issue_dependencies" | "sub_issues" => {
            // Comments on pull requests arrive as issue_comment with `issue.pull_request`.
            let on_pull = payload
                .get("issue")
                .is_some_and(crate::record::is_pull_request);
            if on_pull {
                // A conversation comment may address Symphony.
                hint.reviews = event == "issue_comment";
                hint.pull_numbers
                    .extend(payload.pointer("/issue/number").and_then(Value::as_u64));
            } else {
                hint.issue_ids.extend(issue_id("issue"));
            }
            for key in ["blocked_issue", "blocking_issue"] {
                hint.issue_ids.extend(issue_id(key));
            }
        }
        "label" => hint.poll = true,
        "projects_v2_item" => hint.poll = true,
        "pull_request" => {
            let pr = payload.get("pull_request");
            let body = pr
                .and_then(|p| p.get("body"))
                .and_then(Value::as_str)
                .unwrap_or_default();
            hint.issue_numbers = closing_references(body);
            hint.poll = payload.get("action").and_then(Value::as_str) == Some("closed");
            // Merged, closed, pushed to, mergeability computed: the watch looks.
            hint.reviews = true;
            hint.pull_numbers
                .extend(pr.and_then(|p| p.get("number")).and_then(Value::as_u64));
        }
        "pull_request_review" | "pull_request_review_comment" | "pull_request_review_thread" => {
            hint.reviews = true;
            hint.pull_numbers.extend(
                payload
                    .pointer("/pull_request/number")
                    .and_then(Value::as_u64),
            );
        }
        "check_run" | "check_suite" => {
            hint.reviews = true;
            let pulls = payload
                .pointer(&format!("/{event}/pull_requests"))
                .and_then(Value::as_array);
            hint.pull_numbers.extend(
                pulls
                    .into_iter()
                    .flatten()
                    .filter_map(|p| p.get("number").and_then(Value::as_u64)),
            );
        }
        // A commit status names a commit, not a pull request: every watch looks.
        "status" => hint.reviews = true,
        _ => {}
    }
    Ok(hint)
}

/// GitHub's deliveries through the webhook seam (`POST /webhooks/github`): verified with
/// `X-Hub-Signature-256`, identified by `X-GitHub-Delivery`, read by [`parse_event`]. It
/// serves both the tracker and the code host: one repository, one secret.
pub struct GithubWebhookReceiver {
    secret: Vec<u8>,
}

impl GithubWebhookReceiver {
    /// A receiver for deliveries signed with `secret`.
    pub fn new(secret: impl Into<Vec<u8>>) -> Self {
        Self {
            secret: secret.into(),
        }
    }
}

impl std::fmt::Debug for GithubWebhookReceiver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("GithubWebhookReceiver { secret: ******** }")
    }
}

impl WebhookReceiver for GithubWebhookReceiver {
    fn kind(&self) -> &str {
        crate::KIND
    }

    fn receive(&self, request: &WebhookRequest<'_>) -> Result<WebhookDelivery, WebhookRejection> {
        const HEADER: &str = "X-Hub-Signature-256";
        verify_signature(&self.secret, request.body, request.header(HEADER)).map_err(
            |e| match e {
                WebhookError::MissingSignature => WebhookRejection::MissingSignature(HEADER),
                WebhookError::MalformedSignature => WebhookRejection::MalformedSignature(HEADER),
                _ => WebhookRejection::BadSignature,
            },
        )?;
        let event = request.header("x-github-event").unwrap_or_default();
        let parsed = parse_event(event, request.body).map_err(|e| match e {
            WebhookError::MalformedBody(why) => WebhookRejection::Malformed(why),
            other => WebhookRejection::Malformed(other.to_string()),
        })?;
        // Issues a pull request names by number need the poll to find their ids.
        let mut hint = WebhookHint::issues(parsed.issue_ids);
        hint.poll = parsed.poll || !parsed.issue_numbers.is_empty();
        hint.reviews = parsed.reviews;
        hint.proposals = parsed.pull_numbers;
        Ok(WebhookDelivery::new(
            request.header("x-github-delivery").map(str::to_owned),
            event,
            hint,
        ))
    }
}

/// `#N` after GitHub's closing keywords (`fixes #12`, `Closes: #3`).
pub fn closing_references(text: &str) -> Vec<u64> {
    const KEYWORDS: [&str; 9] = [
        "close", "closes", "closed", "fix", "fixes", "fixed", "resolve", "resolves", "resolved",
    ];
    let words: Vec<&str> = text.split_whitespace().collect();
    let mut numbers = Vec::new();
    for pair in words.windows(2) {
        let keyword = pair[0].trim_end_matches(':').to_ascii_lowercase();
        if !KEYWORDS.contains(&keyword.as_str()) {
            continue;
        }
        let reference = pair[1].trim_end_matches(['.', ',', ';', ')']);
        if let Some(n) = reference.strip_prefix('#').and_then(|n| n.parse().ok()) {
            if !numbers.contains(&n) {
                numbers.push(n);
            }
        }
    }
    numbers
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"It's a Secret to Everybody";

    #[test]
    fn github_documented_example_verifies() {
        // The example from GitHub's "Validating webhook deliveries" documentation.
        let signature = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
        assert_eq!(sign(SECRET, b"Hello, World!"), signature);
        assert_eq!(
            verify_signature(SECRET, b"Hello, World!", Some(signature)),
            Ok(())
        );
    }

    #[test]
    fn wrong_missing_and_malformed_signatures_are_rejected() {
        let body = b"{\"action\":\"opened\"}";
        let good = sign(SECRET, body);
        assert_eq!(
            verify_signature(b"other", body, Some(&good)),
            Err(WebhookError::BadSignature)
        );
        assert_eq!(
            verify_signature(SECRET, b"{\"action\":\"closed\"}", Some(&good)),
            Err(WebhookError::BadSignature)
        );
        assert_eq!(
            verify_signature(SECRET, body, None),
            Err(WebhookError::MissingSignature)
        );
        for bad in ["sha1=abc", "sha256=zz", "sha256=", &good[..good.len() - 1]] {
            assert_eq!(
                verify_signature(SECRET, body, Some(bad)),
                Err(WebhookError::MalformedSignature),
                "{bad}"
            );
        }
    }

    #[test]
    fn issue_events_become_id_hints() {
        let body = br#"{"action":"labeled","issue":{"node_id":"I_1","number":1},"repository":{"full_name":"acme/widgets"}}"#;
        let hint = parse_event("issues", body).unwrap();
        assert_eq!(hint.issue_ids, ["I_1"]);
        assert_eq!(hint.repository.as_deref(), Some("acme/widgets"));
        let comment =
            br#"{"action":"created","issue":{"node_id":"I_2","pull_request":{"url":"x"}}}"#;
        let on_pull = parse_event("issue_comment", comment).unwrap();
        assert!(
            on_pull.issue_ids.is_empty() && on_pull.reviews,
            "a comment on a pull request is for the review watch: {on_pull:?}"
        );
        assert!(parse_event("label", b"{}").unwrap().poll);
        assert!(parse_event("star", b"{}").unwrap().is_empty());
        assert!(matches!(
            parse_event("issues", b"[1]"),
            Err(WebhookError::MalformedBody(_))
        ));
        assert!(matches!(
            parse_event("issues", b"nope"),
            Err(WebhookError::MalformedBody(_))
        ));
    }

    #[test]
    fn pull_requests_hint_the_issues_they_close() {
        let body = br#"{"action":"closed","pull_request":{"body":"Fixes #12, closes: #3 and mentions #9"}}"#;
        let hint = parse_event("pull_request", body).unwrap();
        assert_eq!(hint.issue_numbers, [12, 3]);
        assert!(hint.poll);
        assert!(
            hint.reviews,
            "a closed pull request may be a merged, watched one"
        );
        assert_eq!(closing_references("Closes #3. Resolves #4"), [3, 4]);
    }

    #[test]
    fn review_events_wake_the_review_watch_only() {
        for event in [
            "pull_request_review",
            "pull_request_review_comment",
            "pull_request_review_thread",
            "check_run",
            "check_suite",
            "status",
        ] {
            let hint = parse_event(event, br#"{"action":"submitted"}"#).unwrap();
            assert!(hint.reviews && !hint.is_empty(), "{event}: {hint:?}");
            assert!(hint.issue_ids.is_empty() && !hint.poll, "{event}: {hint:?}");
        }
        let review = br#"{"action":"submitted","pull_request":{"number":7}}"#;
        assert_eq!(
            parse_event("pull_request_review", review)
                .unwrap()
                .pull_numbers,
            [7]
        );
        let check =
            br#"{"action":"completed","check_run":{"pull_requests":[{"number":7},{"number":9}]}}"#;
        assert_eq!(
            parse_event("check_run", check).unwrap().pull_numbers,
            [7, 9]
        );
        assert!(parse_event("status", b"{}")
            .unwrap()
            .pull_numbers
            .is_empty());
    }
}
