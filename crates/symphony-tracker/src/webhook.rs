//! The webhook seam: an adapter (tracker or code host) that can be told about changes offers a
//! [`WebhookReceiver`] for its kind; the server routes `POST /webhooks/<kind>` to whatever is
//! registered in [`WebhookReceivers`] and knows nothing of any provider. A receiver verifies
//! a delivery before it reads it, and reduces it to a [`WebhookHint`]: what to look at again.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::time::SystemTime;

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// One delivery as received: its headers (names compared case-insensitively) and raw body.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct WebhookRequest<'a> {
    headers: Vec<(String, String)>,
    /// The raw body, exactly as signed.
    pub body: &'a [u8],
    /// When the server received it (for providers that sign a timestamp).
    pub received_at: SystemTime,
}

impl<'a> WebhookRequest<'a> {
    /// A request with `headers` (name, value) and `body`, received at `received_at`.
    pub fn new(
        headers: impl IntoIterator<Item = (String, String)>,
        body: &'a [u8],
        received_at: SystemTime,
    ) -> Self {
        Self {
            headers: headers
                .into_iter()
                .map(|(name, value)| (name.to_ascii_lowercase(), value))
                .collect(),
            body,
            received_at,
        }
    }

    /// The first value of header `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// What a verified delivery asks Symphony to look at again.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct WebhookHint {
    /// Dispatch ids of issues that changed: read just these.
    pub issue_ids: Vec<String>,
    /// Something changed that may affect many issues (a label renamed, a change merged, an
    /// issue the delivery names only by number): poll the candidates now.
    pub poll: bool,
    /// A proposed change's review, comments, checks or state may have moved: the review watch
    /// looks now (ADR 0018).
    pub reviews: bool,
    /// The proposals (pull or merge request numbers) the delivery names; empty with `reviews`:
    /// every watched one.
    pub proposals: Vec<u64>,
}

impl WebhookHint {
    /// Nothing to look at.
    pub fn none() -> Self {
        Self::default()
    }

    /// Read these issues.
    pub fn issues(ids: impl IntoIterator<Item = String>) -> Self {
        Self {
            issue_ids: ids.into_iter().collect(),
            ..Self::default()
        }
    }

    /// Poll every candidate.
    pub fn poll() -> Self {
        Self {
            poll: true,
            ..Self::default()
        }
    }

    /// Wake the review watch for `proposals` (all watched ones when empty).
    pub fn reviews(proposals: impl IntoIterator<Item = u64>) -> Self {
        Self {
            reviews: true,
            proposals: proposals.into_iter().collect(),
            ..Self::default()
        }
    }

    /// Whether there is nothing to do.
    pub fn is_empty(&self) -> bool {
        self.issue_ids.is_empty() && !self.poll && !self.reviews
    }
}

/// A delivery that passed verification.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct WebhookDelivery {
    /// The provider's delivery id, when it sends one: a second delivery with the same id is
    /// a replay and changes nothing.
    pub id: Option<String>,
    /// The provider's event name (for logs and the response).
    pub event: String,
    /// What to look at again.
    pub hint: WebhookHint,
}

impl WebhookDelivery {
    /// A verified delivery of `event`.
    pub fn new(id: Option<String>, event: impl Into<String>, hint: WebhookHint) -> Self {
        Self {
            id: id.filter(|id| !id.is_empty()),
            event: event.into(),
            hint,
        }
    }
}

/// Why a delivery was refused. Nothing about its body is trusted before its signature is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WebhookRejection {
    /// The signature (or token) header is missing.
    #[error("the delivery has no {0} header")]
    MissingSignature(&'static str),
    /// The signature header is not in the provider's format.
    #[error("the {0} header is malformed")]
    MalformedSignature(&'static str),
    /// The signature does not match the body and the secret.
    #[error("the signature does not match the body")]
    BadSignature,
    /// Signed, but too old or from the future: a replay from outside the window.
    #[error("the delivery is stale: {0}")]
    Stale(String),
    /// Signed, but not the payload the provider sends.
    #[error("the body is not a delivery this receiver understands: {0}")]
    Malformed(String),
}

impl WebhookRejection {
    /// Whether the sender failed to authenticate (HTTP 401) rather than sent garbage (400).
    pub fn is_unauthenticated(&self) -> bool {
        !matches!(self, Self::Malformed(_))
    }

    /// A stable code for the error body and logs.
    pub fn code(&self) -> &'static str {
        match self {
            Self::MissingSignature(_) => "missing_signature",
            Self::MalformedSignature(_) | Self::BadSignature => "bad_signature",
            Self::Stale(_) => "stale_delivery",
            Self::Malformed(_) => "malformed_delivery",
        }
    }
}

/// Verifies and reads one kind of webhook delivery. Implementations hold their secret and
/// never log it; `receive` is pure apart from reading the clock in `request`.
pub trait WebhookReceiver: Send + Sync {
    /// The route segment: deliveries arrive at `POST /webhooks/<kind>`.
    fn kind(&self) -> &str;

    /// Verifies `request` and reduces it to a delivery, or says why not.
    fn receive(&self, request: &WebhookRequest<'_>) -> Result<WebhookDelivery, WebhookRejection>;
}

/// The receivers a server routes to, by kind (one per kind; a later one replaces).
#[derive(Clone, Default)]
pub struct WebhookReceivers {
    by_kind: BTreeMap<String, Arc<dyn WebhookReceiver>>,
}

impl WebhookReceivers {
    /// None: every `/webhooks/<kind>` answers that webhooks are not configured.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `receiver` under its kind.
    pub fn register(&mut self, receiver: Arc<dyn WebhookReceiver>) {
        self.by_kind.insert(receiver.kind().to_owned(), receiver);
    }

    /// The same set with `receiver` added.
    pub fn with(mut self, receiver: Arc<dyn WebhookReceiver>) -> Self {
        self.register(receiver);
        self
    }

    /// The receiver of `kind`.
    pub fn get(&self, kind: &str) -> Option<&Arc<dyn WebhookReceiver>> {
        self.by_kind.get(kind)
    }

    /// The registered kinds, sorted.
    pub fn kinds(&self) -> Vec<&str> {
        self.by_kind.keys().map(String::as_str).collect()
    }
}

impl fmt::Debug for WebhookReceivers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookReceivers")
            .field("kinds", &self.kinds())
            .finish()
    }
}

/// HMAC-SHA256 of `body` under `secret`, as lowercase hex (how most providers sign).
pub fn hmac_sha256_hex(secret: &[u8], body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(body);
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Checks a hex HMAC-SHA256 `signature` of `body` under `secret`, in constant time. A
/// signature that is not 64 hex digits is malformed (named by `header`).
pub fn verify_hmac_sha256_hex(
    secret: &[u8],
    body: &[u8],
    signature: &str,
    header: &'static str,
) -> Result<(), WebhookRejection> {
    let hex = signature.trim();
    if hex.len() != 64 || !hex.is_ascii() {
        return Err(WebhookRejection::MalformedSignature(header));
    }
    let expected: Option<Vec<u8>> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).ok())
        .collect();
    let expected = expected.ok_or(WebhookRejection::MalformedSignature(header))?;
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret).map_err(|_| WebhookRejection::BadSignature)?;
    mac.update(body);
    // `verify_slice` compares in constant time.
    mac.verify_slice(&expected)
        .map_err(|_| WebhookRejection::BadSignature)
}

/// Compares a shared-token header (GitLab's `X-Gitlab-Token`) with `secret` in constant time.
pub fn verify_token(secret: &[u8], token: &str) -> Result<(), WebhookRejection> {
    // HMAC both sides under a fixed key: equal-length digests compared in constant time, so
    // neither the length nor a prefix of the secret leaks through timing.
    let digest = |bytes: &[u8]| hmac_sha256_hex(b"symphony-token-compare", bytes);
    verify_hmac_sha256_hex(
        b"symphony-token-compare",
        secret,
        &digest(token.as_bytes()),
        "token",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_a_published_vector_and_refuses_tampering() {
        // RFC 4231 test case 2.
        let digest = hmac_sha256_hex(b"Jefe", b"what do ya want for nothing?");
        assert_eq!(
            digest,
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert_eq!(
            verify_hmac_sha256_hex(b"Jefe", b"what do ya want for nothing?", &digest, "h"),
            Ok(())
        );
        assert_eq!(
            verify_hmac_sha256_hex(b"Jefe", b"what do ya want for nothing!", &digest, "h"),
            Err(WebhookRejection::BadSignature)
        );
        for bad in ["", "zz", &digest[..63], &format!("{digest}00")] {
            assert_eq!(
                verify_hmac_sha256_hex(b"Jefe", b"x", bad, "h"),
                Err(WebhookRejection::MalformedSignature("h"))
            );
        }
    }

    #[test]
    fn tokens_compare_exactly() {
        assert_eq!(verify_token(b"s3cret", "s3cret"), Ok(()));
        for wrong in ["", "s3cre", "s3cret ", "S3CRET"] {
            assert_eq!(
                verify_token(b"s3cret", wrong),
                Err(WebhookRejection::BadSignature),
                "{wrong:?}"
            );
        }
    }

    #[test]
    fn headers_are_found_in_any_case_and_receivers_by_kind() {
        let request = WebhookRequest::new(
            [("Linear-Signature".to_owned(), "abc".to_owned())],
            b"{}",
            SystemTime::UNIX_EPOCH,
        );
        assert_eq!(request.header("linear-signature"), Some("abc"));
        assert_eq!(request.header("LINEAR-SIGNATURE"), Some("abc"));
        assert_eq!(request.header("x"), None);

        struct Echo;
        impl WebhookReceiver for Echo {
            fn kind(&self) -> &str {
                "echo"
            }
            fn receive(&self, _: &WebhookRequest<'_>) -> Result<WebhookDelivery, WebhookRejection> {
                Ok(WebhookDelivery::new(
                    Some(String::new()),
                    "e",
                    WebhookHint::poll(),
                ))
            }
        }
        let receivers = WebhookReceivers::new().with(Arc::new(Echo));
        assert_eq!(receivers.kinds(), ["echo"]);
        let delivery = receivers.get("echo").unwrap().receive(&request).unwrap();
        assert_eq!(delivery.id, None, "an empty delivery id is no id");
        assert!(receivers.get("github").is_none());
        assert!(WebhookHint::none().is_empty() && !WebhookHint::reviews([]).is_empty());
    }
}
